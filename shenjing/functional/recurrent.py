"""Recurrent nets: Elman RNN, LSTM and GRU cells and whole layers (seed 002 循环神经网络).

Seed 000 §1.1 lays sequences out as (samples, timesteps, features); seed 002 runs
one cell over the time steps, ``a_t = σ(W x_t + V a_{t-1})``, and gives the LSTM's
gates (forget, input, output) that decide what the cell state keeps, adds and
shows. The formulas, gate order and parameter shapes are PyTorch's, so weights
move between the two unchanged:

- RNN:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu
- LSTM: [i, f, g, o] = [σ, σ, tanh, σ](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
- GRU:  [r, z] = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})
        n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn)),  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

A whole layer (one direction or both) is one autograd node, ``RecurrentLayer``:
the input projection of every time step is one matrix product up front, each
step is one product with W_hh plus a few in-place array ops, and the backward
pass is back-propagation through time written out by hand (one product per step
for the gradient of h_{t-1}; the weight gradients are one product over all steps
at the end). Gates are laid out gate-major (each gate's (N, H) block contiguous), and
sigmoids are computed as ½ + ½·tanh(x/2) with the halving folded into working copies of
the weights, so one tanh pass serves every gate of a step.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from .. import _backend as B
from ..autograd import Function
from ..tensor import Tensor
from .dropout import dropout as apply_dropout
from .shape import getitem, reshape, stack, transpose, unsqueeze

__all__ = ["rnn_cell", "lstm_cell", "gru_cell", "recurrent_layers"]

#: Number of gate blocks stacked in W_ih / W_hh for each mode.
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


# ----- scratch memory -----------------------------------------------------------------------------

class _Pool:
    """Hands the large scratch arrays of the recurrent ops back out between calls.

    A fresh array's pages each cost a page fault on first write; a training loop asks
    for the same shapes every step and gets warm buffers instead. Only NumPy arrays
    are kept (CuPy has its own memory pool), at most ``max_bytes``, oldest dropped first.
    """

    def __init__(self, max_bytes: int = 256 << 20):
        self.max_bytes, self.nbytes, self.free = max_bytes, 0, OrderedDict()

    def take(self, xp, shape: tuple, dtype):
        key = (np.dtype(dtype).str, math.prod(shape))
        stack = self.free.get(key) if xp is np else None
        if not stack:
            return xp.empty(shape, dtype)
        buf = stack.pop()
        if not stack:
            del self.free[key]
        self.nbytes -= buf.nbytes
        return buf.reshape(shape)

    def give(self, *arrays) -> None:
        for a in arrays:
            if type(a) is not np.ndarray:
                continue
            key = (a.dtype.str, a.size)
            self.free.setdefault(key, []).append(a)
            self.free.move_to_end(key)
            self.nbytes += a.nbytes
        while self.nbytes > self.max_bytes:
            key, stack = next(iter(self.free.items()))
            self.nbytes -= stack.pop().nbytes
            if not stack:
                del self.free[key]


_POOL = _Pool()

#: Scratch blocks (input projections, gate gradients) cover as many steps as fit in about this many bytes.
BLOCK_BYTES = 1 << 20


# ----- gate layouts -------------------------------------------------------------------------------

def _swap_go(w, hidden: int):
    """LSTM rows [i, f, g, o] <-> [i, f, o, g] (its own inverse): the three sigmoid gates become contiguous."""
    xp = B.xp_of(w)
    return xp.concatenate([w[: 2 * hidden], w[3 * hidden:], w[2 * hidden: 3 * hidden]])


def _halve_rows(w, rows: int):
    """A copy of ``w`` with its first ``rows`` rows halved (exact in binary floating point)."""
    out = w.copy()
    out[:rows] *= 0.5
    return out


def _sigmoid_from_tanh(a) -> None:
    """In place: a <- ½ + ½·a, i.e. σ(x) for a = tanh(x/2).

    One tanh pass over all the gates and this affine map cost less than exp, add and reciprocal. The
    absolute error is about an ulp of 1 (1e-16 in float64, 6e-8 in float32), like that of 1 - σ in
    any form; only gates smaller than that lose their relative precision.
    """
    a *= 0.5
    a += 0.5


def _flat(a):
    return a.reshape(-1, a.shape[-1])


def _gate_rows(block):
    """Gate-major (gates, steps, N, H) as (gates, steps·N, H): one row per sample and step."""
    return block.reshape(block.shape[0], -1, block.shape[-1])


# ----- one direction of one layer -----------------------------------------------------------------

class _Direction:
    """One direction of one layer: working weights, saved activations, the time loop and BPTT.

    Subclasses give the per-step kernels. Working layout: gate-major, each gate's (N, H) block
    contiguous (element-wise steps on a column slice of an (N, G·H) array cost about three times
    as much). The gates that go through a sigmoid come first (``sigmoid_gates``); the forward
    copies of their weights are halved, since σ(x) = ½ + ½·tanh(x/2) lets one tanh pass serve
    every gate.
    """

    gates = 1
    sigmoid_gates = 0

    def __init__(self, mode, x2, weights, h0, c0, Yd, Cn, reverse: bool):
        w_ih, w_hh, b_ih, b_hh = weights
        self.mode, self.x2, self.h0, self.c0, self.Yd, self.Cn, self.reverse = mode, x2, h0, c0, Yd, Cn, reverse
        self.has_bias = (b_ih is not None, b_hh is not None)
        self.T, self.N, self.H = Yd.shape
        self.G = w_hh.shape[0]
        self.xp, self.dtype = B.xp_of(x2), x2.dtype
        bias = self._input_bias(b_ih, b_hh)
        w_ih, w_hh, bias = self._to_working(w_ih), self._to_working(w_hh), self._to_working(bias)
        rows = self.sigmoid_gates * self.H
        self.w_ih, self.w_hh = w_ih, w_hh
        # per gate k: x_t W_ih[k]ᵀ and h_{t-1} W_hh[k]ᵀ as products with contiguous (in, H) matrices
        self.w_ih_f, self.w_hh_f = (self.xp.ascontiguousarray(self._by_gate(_halve_rows(w, rows)).transpose(0, 2, 1))
                                    for w in (w_ih, w_hh))
        self.bias_f = _halve_rows(bias, rows).reshape(self.gates, 1, self.H)
        self.block = max(1, min(self.T, BLOCK_BYTES // (self.N * self.G * self.dtype.itemsize)))
        self.saved = {name: _POOL.take(self.xp, shape, self.dtype) for name, shape in self.saved_shapes().items()}

    def _by_gate(self, w):
        """A (gates·H, ...) array as (gates, H, ...), one block per gate (a view)."""
        return w.reshape(self.gates, self.H, *w.shape[1:])

    # -- layout hooks
    def saved_shapes(self) -> dict:
        return {}

    def _to_working(self, w):
        return w

    def _from_working(self, g):
        return g

    def _input_bias(self, b_ih, b_hh):
        bias = self.xp.zeros(self.G, self.dtype)
        for b in (b_ih, b_hh):
            if b is not None:
                bias += b
        return bias

    def input_blocks(self, dG, dN) -> list:
        """(gradient block (gates, steps, N, H), gate slice) pairs: the input-side pre-activations' gradients."""
        return [(dG, slice(None))]

    # -- time loop
    def _blocks(self, backward: bool) -> list:
        blocks = [(s, min(s + self.block, self.T)) for s in range(0, self.T, self.block)]
        return blocks if self.reverse == backward else blocks[::-1]

    def _steps(self, s: int, e: int, backward: bool):
        return range(e - 1, s - 1, -1) if self.reverse != backward else range(s, e)

    def prev(self, seq, init, t: int):
        """The state before step t: ``init`` at the direction's first step, else the neighbouring step's."""
        if t == (self.T - 1 if self.reverse else 0):
            return init
        return seq[t + 1] if self.reverse else seq[t - 1]

    def forward(self) -> None:
        N, H, gates = self.N, self.H, self.gates
        buffer = _POOL.take(self.xp, (gates * self.block * N * H,), self.dtype)
        for s, e in self._blocks(backward=False):
            gx = buffer[: gates * (e - s) * N * H].reshape(gates, (e - s) * N, H)  # contiguous for out=
            xb = self.x2[s * N: e * N]
            if xb.shape[1] == 1:
                np.multiply(xb, self.w_ih_f, out=gx)
            else:
                np.matmul(xb, self.w_ih_f, out=gx)
            gx += self.bias_f
            gx = gx.reshape(gates, e - s, N, H)
            for t in self._steps(s, e, backward=False):
                self.step(t, gx[:, t - s], self.prev(self.Yd, self.h0, t))
        _POOL.give(buffer)

    def backward(self, dY, dCn, dx2):
        """BPTT over the saved steps; adds into ``dx2`` (when given) and returns the other gradients."""
        xp, N, H, G, dtype = self.xp, self.N, self.H, self.G, self.dtype
        dW_ih, db_ih = xp.zeros(self.w_ih.shape, dtype), xp.zeros(G, dtype)
        dW_hh, db_hh = xp.zeros(self.w_hh.shape, dtype), xp.zeros(G, dtype)
        dG = _POOL.take(xp, (self.gates, self.block, N, H), dtype)
        dN = _POOL.take(xp, (self.block, N, H), dtype)
        dh, carry = xp.empty((N, H), dtype), xp.zeros((N, H), dtype)
        self.carry_parts = xp.empty((self.gates, N, H), dtype)
        self.begin_backward(dCn)
        w_ih = self._by_gate(self.w_ih)
        for s, e in self._blocks(backward=True):
            for t in self._steps(s, e, backward=True):
                np.add(dY[t], carry, out=dh)
                self.backward_step(t, dh, dG[:, t - s], dN[t - s], carry)
            dGb = dG[:, : e - s]
            xb = self.x2[s * N: e * N]
            for block, gates in self.input_blocks(dGb, dN[None, : e - s]):
                rows = _gate_rows(block)
                self._by_gate(dW_ih)[gates] += np.matmul(rows.transpose(0, 2, 1), xb)
                self._by_gate(db_ih)[gates] += rows.sum(axis=1)
                if dx2 is not None:
                    dx2[s * N: e * N] += np.matmul(rows, w_ih[gates]).sum(axis=0)
            self._hidden_weight_grad(self._by_gate(dW_hh), dGb, s, e)
            db_hh += _gate_rows(dGb).sum(axis=1).reshape(G)
        _POOL.give(dG, dN)
        grads = [self._from_working(g) for g in (dW_ih, dW_hh, db_ih, db_hh)]
        return carry, self.end_backward(), grads

    def _hidden_weight_grad(self, dW_hh, dGb, s: int, e: int) -> None:
        """dW_hh[k] += Σ_{t in [s, e)} dG_t[k]ᵀ h_{t-1}, one product per gate for the block (plus h0's term
        at the first step)."""
        first = e - 1 if self.reverse else s
        if first == (self.T - 1 if self.reverse else 0):
            dW_hh += np.matmul(dGb[:, first - s].transpose(0, 2, 1), self.h0)
            dGb = dGb[:, :-1] if self.reverse else dGb[:, 1:]
            s, e = (s, e - 1) if self.reverse else (s + 1, e)
        if e > s:
            h_prev = self.Yd[s + 1: e + 1] if self.reverse else self.Yd[s - 1: e - 1]
            dW_hh += np.matmul(_gate_rows(dGb).transpose(0, 2, 1), _flat(h_prev))

    def _recurrent_grad(self, d, carry) -> None:
        """carry ← Σ_k d[k] W_hh[k], the gradient reaching h_{t-1} through the gates' pre-activations."""
        np.matmul(d, self._by_gate(self.w_hh), out=self.carry_parts)
        self.carry_parts.sum(axis=0, out=carry)

    def begin_backward(self, dCn) -> None:
        pass

    def end_backward(self):
        return None

    def free(self) -> None:
        _POOL.give(*self.saved.values())
        self.saved = {}


class _Elman(_Direction):
    """h_t = act(a_t), a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh; act' = 1 - h² (tanh) or [h > 0] (relu)."""

    def step(self, t, gx_t, h_prev) -> None:
        y = self.Yd[t]
        np.matmul(h_prev, self.w_hh_f[0], out=y)
        y += gx_t[0]
        if self.mode == "rnn_relu":
            np.maximum(y, 0, out=y)
        else:
            np.tanh(y, out=y)

    def backward_step(self, t, dh, d, dn, carry) -> None:
        y, d = self.Yd[t], d[0]
        if self.mode == "rnn_relu":
            np.multiply(dh, y > 0, out=d)
        else:
            np.multiply(y, y, out=d)
            np.subtract(1, d, out=d)
            d *= dh
        np.matmul(d, self.w_hh, out=carry)


class _LSTM(_Direction):
    """Working gate order [i, f, o, g]; saves the gates, c_t and tanh(c_t)."""

    gates, sigmoid_gates = 4, 3

    def saved_shapes(self) -> dict:
        T, N, H = self.T, self.N, self.H
        return {"A": (T, 4, N, H), "C": (T, N, H), "TC": (T, N, H)}

    def _to_working(self, w):
        return _swap_go(w, self.H)

    _from_working = _to_working

    def forward(self) -> None:
        self.tmp = self.xp.empty((self.N, self.H), self.dtype)
        super().forward()
        self.Cn[...] = self.saved["C"][0 if self.reverse else self.T - 1]

    def step(self, t, gx_t, h_prev) -> None:
        A, C, TC = self.saved["A"], self.saved["C"], self.saved["TC"]
        a = A[t]
        np.matmul(h_prev, self.w_hh_f, out=a)
        a += gx_t
        np.tanh(a, out=a)
        _sigmoid_from_tanh(a[:3])
        i, f, o, g = a
        c = C[t]
        np.multiply(f, self.prev(C, self.c0, t), out=c)
        np.multiply(i, g, out=self.tmp)
        c += self.tmp
        np.tanh(c, out=TC[t])
        np.multiply(o, TC[t], out=self.Yd[t])

    def begin_backward(self, dCn) -> None:
        self.dc = dCn.copy()
        self.tmp3 = self.xp.empty((3, self.N, self.H), self.dtype)

    def end_backward(self):
        return self.dc

    def backward_step(self, t, dh, d, dn, carry) -> None:
        A, C, TC, tmp, tmp3, dc = self.saved["A"], self.saved["C"], self.saved["TC"], dn, self.tmp3, self.dc
        a, tc = A[t], TC[t]
        i, f, o, g = a
        np.multiply(tc, tc, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp
        np.multiply(dc, g, out=d[0])
        np.multiply(dc, self.prev(C, self.c0, t), out=d[1])
        np.multiply(dh, tc, out=d[2])
        np.subtract(1, a[:3], out=tmp3)
        tmp3 *= a[:3]
        d[:3] *= tmp3
        np.multiply(g, g, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= i
        np.multiply(dc, tmp, out=d[3])
        dc *= f
        self._recurrent_grad(d, carry)


class _GRU(_Direction):
    """Gate order [r, z, n]; saves the gates and W_hn h_{t-1} + b_hn (r multiplies it)."""

    gates, sigmoid_gates = 3, 2

    def saved_shapes(self) -> dict:
        T, N, H = self.T, self.N, self.H
        return {"A": (T, 3, N, H), "GHN": (T, N, H)}

    def _input_bias(self, b_ih, b_hh):
        H = self.H
        bias = self.xp.zeros(self.G, self.dtype) if b_ih is None else b_ih.copy()
        if b_hh is not None:
            bias[: 2 * H] += b_hh[: 2 * H]
        self.b_hn = self.xp.zeros(H, self.dtype) if b_hh is None else b_hh[2 * H:]
        return bias

    def input_blocks(self, dG, dN) -> list:
        return [(dG[:2], slice(0, 2)), (dN, slice(2, 3))]

    def forward(self) -> None:
        self.gh = self.xp.empty((3, self.N, self.H), self.dtype)
        super().forward()

    def step(self, t, gx_t, h_prev) -> None:
        gh = self.gh
        a, ghn = self.saved["A"][t], self.saved["GHN"][t]
        np.matmul(h_prev, self.w_hh_f, out=gh)
        rz = a[:2]
        np.add(gh[:2], gx_t[:2], out=rz)
        np.tanh(rz, out=rz)
        _sigmoid_from_tanh(rz)
        r, z, n = a
        np.add(gh[2], self.b_hn, out=ghn)
        np.multiply(r, ghn, out=n)
        n += gx_t[2]
        np.tanh(n, out=n)
        y = self.Yd[t]
        np.subtract(h_prev, n, out=y)
        y *= z
        y += n

    def begin_backward(self, dCn) -> None:
        self.tmp = self.xp.empty((self.N, self.H), self.dtype)
        self.tmp2 = self.xp.empty((2, self.N, self.H), self.dtype)

    def backward_step(self, t, dh, d, dan, carry) -> None:
        tmp, tmp2 = self.tmp, self.tmp2
        a, ghn = self.saved["A"][t], self.saved["GHN"][t]
        r, z, n = a
        dz = d[1]
        np.subtract(self.prev(self.Yd, self.h0, t), n, out=dz)
        dz *= dh
        np.multiply(n, n, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= dh
        np.subtract(1, z, out=dan)
        dan *= tmp
        np.multiply(dan, ghn, out=d[0])
        np.subtract(1, a[:2], out=tmp2)
        tmp2 *= a[:2]
        d[:2] *= tmp2
        np.multiply(dan, r, out=d[2])
        self._recurrent_grad(d, carry)
        dh *= z
        carry += dh


_DIRECTIONS = {"rnn_tanh": _Elman, "rnn_relu": _Elman, "lstm": _LSTM, "gru": _GRU}


class RecurrentLayer(Function):
    """One recurrent layer, one or two directions, over a whole time-major sequence.

    Inputs: x (T, N, I), h0 (D, N, H) or None, c0 (D, N, H) or None (LSTM), then per
    direction ``w_ih (G·H, I), w_hh (G·H, H), b_ih (G·H,) | None, b_hh (G·H,) | None``.
    Output Y (T + [LSTM], N, D·H): rows 0..T-1 are the hidden states h_t of every
    step (direction d in columns d·H..(d+1)·H); for the LSTM, row T holds each
    direction's final cell state.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, *weights, mode: str, num_directions: int):
        T, N, n_in = x.shape
        H = weights[1].shape[1]
        xp = B.xp_of(x)
        lstm = mode == "lstm"
        x2 = xp.ascontiguousarray(x).reshape(T * N, n_in)
        Y = xp.empty((T + lstm, N, num_directions * H), x.dtype)
        zeros = xp.zeros((num_directions, N, H), x.dtype)
        h0 = zeros if h0 is None else h0
        c0 = zeros if c0 is None else c0
        ctx.dirs = []
        with np.errstate(under="ignore"):
            for d in range(num_directions):
                cols = slice(d * H, (d + 1) * H)
                direction = _DIRECTIONS[mode](mode, x2, weights[4 * d: 4 * d + 4], h0[d], c0[d], Y[:T, :, cols],
                                              Y[T, :, cols] if lstm else None, reverse=d == 1)
                direction.forward()
                ctx.dirs.append(direction)
        if not any(ctx.needs_input_grad):
            ctx.release()
        ctx.x_shape = x.shape
        return Y

    @staticmethod
    def backward(ctx, grad):
        T, N, n_in = ctx.x_shape
        xp = B.xp_of(grad)
        need = ctx.needs_input_grad
        dx2 = xp.zeros((T * N, n_in), grad.dtype) if need[0] else None
        dh0, dc0, dweights = [], [], []
        for d, direction in enumerate(ctx.dirs):
            cols = slice(d * direction.H, (d + 1) * direction.H)
            dCn = grad[T, :, cols] if direction.mode == "lstm" else None
            dh, dc, grads = direction.backward(grad[:T, :, cols], dCn, dx2)
            dh0.append(dh)
            dc0.append(dc)
            has_bias = direction.has_bias
            dweights += [grads[0], grads[1], grads[2] if has_bias[0] else None, grads[3] if has_bias[1] else None]
        dh0 = xp.stack(dh0) if need[1] else None
        dc0 = xp.stack(dc0) if need[2] else None
        return (None if dx2 is None else dx2.reshape(T, N, n_in), dh0, dc0, *dweights)

    def release(self) -> None:
        for direction in self.__dict__.get("dirs", ()):
            direction.free()
        super().release()


def _recurrent_composite(x, h0, c0, *weights, mode: str, num_directions: int):
    """:class:`RecurrentLayer` written with differentiable ops (its composite): the module docstring's
    formulas step by step, so that back-propagation through time can itself be differentiated."""
    from . import elementwise as E
    from .linalg import linear
    from .shape import concatenate

    x = x if isinstance(x, Tensor) else Tensor._wrap(x)
    T, N = x.shape[:2]
    H = weights[1].shape[1]
    lstm = mode == "lstm"
    zeros = Tensor._wrap(B.xp_of(x.data).zeros((N, H), dtype=x.dtype))
    outputs, cells = [], []
    for d in range(num_directions):
        w_ih, w_hh, b_ih, b_hh = weights[4 * d: 4 * d + 4]
        h = zeros if h0 is None else h0[d]
        c = zeros if c0 is None else c0[d]
        hs = [None] * T
        for t in (reversed(range(T)) if d == 1 else range(T)):
            gi, gh = linear(x[t], w_ih, b_ih), linear(h, w_hh, b_hh)
            if lstm:
                i, f, g, o = (gi[:, k * H:(k + 1) * H] + gh[:, k * H:(k + 1) * H] for k in range(4))
                c = E.sigmoid(f) * c + E.sigmoid(i) * E.tanh(g)
                h = E.sigmoid(o) * E.tanh(c)
            elif mode == "gru":
                r = E.sigmoid(gi[:, :H] + gh[:, :H])
                z = E.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                n = E.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                h = (1 - z) * n + z * h
            else:
                h = (E.tanh if mode == "rnn_tanh" else E.relu)(gi + gh)
            hs[t] = h
        outputs.append(stack(hs))
        cells.append(c)
    Y = concatenate(outputs, 2)
    return concatenate([Y, reshape(concatenate(cells, 1), (1, N, num_directions * H))]) if lstm else Y


RecurrentLayer.composite = staticmethod(_recurrent_composite)


# ----- public API ---------------------------------------------------------------------------------

def _check_mode(mode: str) -> int:
    if mode not in GATES:
        raise ValueError(f"mode must be one of {sorted(GATES)}, got {mode!r}")
    return GATES[mode]


def _check_weights(weights, gates: int, input_size: int, hidden: int, where: str) -> None:
    w_ih, w_hh, b_ih, b_hh = weights
    expected = {"w_ih": (gates * hidden, input_size), "w_hh": (gates * hidden, hidden),
                "b_ih": (gates * hidden,), "b_hh": (gates * hidden,)}
    for name, w in zip(expected, (w_ih, w_hh, b_ih, b_hh)):
        if w is None:
            if name.startswith("w"):
                raise TypeError(f"{where}: {name} must be a Tensor, got None")
            continue
        if not isinstance(w, Tensor):
            raise TypeError(f"{where}: {name} must be a Tensor, got {type(w).__name__}")
        if w.shape != expected[name]:
            raise ValueError(f"{where}: {name} has shape {w.shape}, expected {expected[name]}")


def _check_state(h, shape: tuple, name: str, where: str) -> None:
    if h is not None and (not isinstance(h, Tensor) or h.shape != shape):
        got = h.shape if isinstance(h, Tensor) else type(h).__name__
        raise ValueError(f"{where}: {name} must be a Tensor of shape {shape}, got {got}")


def _check_dtypes(tensors, where: str) -> None:
    dtypes = {t.dtype for t in tensors if isinstance(t, Tensor)}
    if len(dtypes) > 1:
        raise TypeError(f"{where}: input, states and weights must share one dtype, got {sorted(map(str, dtypes))}")


def recurrent_layers(input: Tensor, hx, weights, mode: str = "gru", num_layers: int = 1, bidirectional: bool = False,
                     dropout: float = 0.0, training: bool = False, batch_first: bool = False):
    """A stack of recurrent layers over a whole sequence (seed 002 循环神经网络; seed 000 §1.1 layout).

    ``mode`` is ``'rnn_tanh'``, ``'rnn_relu'``, ``'lstm'`` or ``'gru'`` (formulas in the module
    docstring). ``input`` is (L, N, I) (PyTorch's layout; (N, L, I) with ``batch_first=True``); ``hx`` is None
    (zeros), h0 of shape (layers·D, N, H), or for the LSTM a pair (h0, c0); D = 2 when
    bidirectional. ``weights`` lists, layer by layer and direction by direction,
    ``w_ih (G·H, in), w_hh (G·H, H), b_ih, b_hh`` (biases may be None), G = 1, 4, 3 gates.
    Layer l > 0 reads the D·H-wide output of layer l - 1, with dropout(p=dropout)
    applied to it while ``training``.

    Returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``): output (L, N, D·H) (or
    (N, L, D·H)) holds the last layer's h_t; h_n and c_n are (layers·D, N, H) whatever
    ``batch_first`` is, the reverse direction's final state being its state after t = 0.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> w = [sj.randn(3 * 4, 2) * 0.1, sj.randn(3 * 4, 4) * 0.1, None, None]
    >>> output, h_n = F.recurrent_layers(sj.randn(5, 7, 2), None, w, mode="gru")
    >>> output.shape, h_n.shape
    ((5, 7, 4), (1, 7, 4))
    """
    gates = _check_mode(mode)
    where = f"recurrent_layers(mode={mode!r})"
    D = 2 if bidirectional else 1
    if not isinstance(input, Tensor) or input.ndim != 3:
        raise ValueError(f"{where}: input must be a 3-d Tensor (seq, batch, feature), or (batch, seq, feature) "
                         f"with batch_first=True, got {getattr(input, 'shape', type(input).__name__)}")
    if len(weights) != 4 * num_layers * D:
        raise ValueError(f"{where}: expected {4 * num_layers * D} weights (4 per layer and direction), "
                         f"got {len(weights)}")
    x = transpose(input, 0, 1) if batch_first else input
    T, N = x.shape[:2]
    if T == 0:
        raise ValueError(f"{where}: the sequence is empty (input shape {input.shape})")
    H = weights[1].shape[1]
    h0, c0 = (hx if hx is not None else (None, None)) if mode == "lstm" else (hx, None)
    state_shape = (num_layers * D, N, H)
    _check_state(h0, state_shape, "h0", where)
    _check_state(c0, state_shape, "c0", where)
    _check_dtypes([input, h0, c0, *weights], where)
    h_n, c_n = [], []
    for layer in range(num_layers):
        layer_weights = weights[4 * D * layer: 4 * D * (layer + 1)]
        for d in range(D):
            _check_weights(layer_weights[4 * d: 4 * d + 4], gates, x.shape[2], H, f"{where} layer {layer}")
        if layer > 0 and dropout > 0 and training:
            x = apply_dropout(x, dropout, training=True)
        states = [None if s is None else (s if num_layers == 1 else getitem(s, slice(layer * D, (layer + 1) * D)))
                  for s in (h0, c0)]
        Y = RecurrentLayer.apply(x, *states, *layer_weights, mode=mode, num_directions=D)
        last = -2 if mode == "lstm" else -1  # the LSTM's row T holds c_n; counted from the end, T may vary
        for d in range(D):
            cols = slice(d * H, (d + 1) * H)
            h_n.append(getitem(Y, (0 if d == 1 else last, slice(None), cols)))
            if mode == "lstm":
                c_n.append(getitem(Y, (-1, slice(None), cols)))
        x = getitem(Y, slice(0, -1)) if mode == "lstm" else Y
    output = transpose(x, 0, 1) if batch_first else x
    h_n = stack(h_n) if len(h_n) > 1 else unsqueeze(h_n[0], 0)
    if mode == "lstm":
        c_n = stack(c_n) if len(c_n) > 1 else unsqueeze(c_n[0], 0)
        return output, (h_n, c_n)
    return output, h_n


def _cell(mode: str, input: Tensor, states, w_ih, w_hh, b_ih, b_hh):
    """One step of a cell: a length-1 sequence through the layer op. Returns Y of shape (1 + [LSTM], N, H)."""
    where = f"{mode}_cell" if not mode.startswith("rnn") else "rnn_cell"
    if not isinstance(input, Tensor) or input.ndim not in (1, 2):
        raise ValueError(f"{where}: input must be a Tensor of shape (N, input_size) or (input_size,), "
                         f"got {getattr(input, 'shape', type(input).__name__)}")
    batched = input.ndim == 2
    x = unsqueeze(input, 0) if batched else reshape(input, (1, 1, input.shape[-1]))
    N, H = x.shape[1], w_hh.shape[1] if isinstance(w_hh, Tensor) else 0
    _check_weights((w_ih, w_hh, b_ih, b_hh), GATES[mode], x.shape[2], H, where)
    shape = (N, H) if batched else (H,)
    for name, s in zip(("h", "c"), states):
        _check_state(s, shape, name, where)
    _check_dtypes([input, *states, w_ih, w_hh, b_ih, b_hh], where)
    states = [None if s is None else unsqueeze(s, 0) if batched else reshape(s, (1, 1, H)) for s in states]
    Y = RecurrentLayer.apply(x, *states, w_ih, w_hh, b_ih, b_hh, mode=mode, num_directions=1)
    return Y, shape


def rnn_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, nonlinearity: str = "tanh") -> Tensor:
    """One Elman RNN step (seed 002): h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act = tanh or relu.

    input (N, I) or (I,); hx (N, H) or (H,) or None (zeros); w_ih (H, I), w_hh (H, H),
    biases (H,). Returns h' with hx's shape.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x, h = sj.ones(2, 3), sj.zeros(2, 4)
    >>> F.rnn_cell(x, h, sj.ones(4, 3) * 0.1, sj.ones(4, 4)).shape
    (2, 4)
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    Y, shape = _cell(f"rnn_{nonlinearity}", input, (hx, None), w_ih, w_hh, b_ih, b_hh)
    return reshape(getitem(Y, 0), shape)


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple:
    """One LSTM step (seed 002 LSTM: forget, input and output gates), PyTorch's gate order [i, f, g, o].

    [i, f, g, o] = [σ, σ, tanh, σ](x W_ihᵀ + b_ih + h W_hhᵀ + b_hh);
    c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c'). input (N, I) or (I,); hx a pair (h, c) of shape
    (N, H) (or (H,)), or None for zeros; w_ih (4H, I), w_hh (4H, H), biases (4H,).
    Returns (h', c').

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> x, h, c = sj.ones(2, 3), sj.zeros(2, 4), sj.zeros(2, 4)
    >>> h1, c1 = F.lstm_cell(x, (h, c), sj.ones(16, 3) * 0.1, sj.ones(16, 4))
    >>> h1.shape, c1.shape
    ((2, 4), (2, 4))
    """
    h, c = (None, None) if hx is None else hx
    Y, shape = _cell("lstm", input, (h, c), w_ih, w_hh, b_ih, b_hh)
    return reshape(getitem(Y, 0), shape), reshape(getitem(Y, 1), shape)


def gru_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step, PyTorch's form with gate order [r, z, n]:

    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 - z) ⊙ n + z ⊙ h.
    input (N, I) or (I,); hx (N, H) or (H,) or None (zeros); w_ih (3H, I), w_hh (3H, H),
    biases (3H,). Returns h'.

    >>> import shenjing as sj
    >>> import shenjing.nn.functional as F
    >>> F.gru_cell(sj.ones(2, 3), sj.zeros(2, 4), sj.ones(12, 3) * 0.1, sj.ones(12, 4)).shape
    (2, 4)
    """
    Y, shape = _cell("gru", input, (hx, None), w_ih, w_hh, b_ih, b_hh)
    return reshape(getitem(Y, 0), shape)
