"""NumPy peers of the MLP benchmark: hand-written NumPy (the floor any NumPy framework can
reach) and HIPS ``autograd`` with a hand-written Adam."""

from __future__ import annotations

import numpy as np

SIZES = (784, 512, 256, 10)


def init_params(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return params


class Adam:
    """Adam with bias correction, updating the arrays in place."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads) -> None:
        self.t += 1
        c1, c2 = 1 - self.b1**self.t, 1 - self.b2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            denom = np.sqrt(v / c2)
            denom += self.eps
            p -= (self.lr / c1) * m / denom


def numpy_step(x, y, seed: int = 0):
    """Explicit forward, backward and in-place Adam for the 784-512-256-10 ReLU MLP."""
    params = init_params(seed)
    opt = Adam(params)
    onehot = np.eye(10, dtype=np.float32)[y]
    n = len(x)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = x @ w1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3
        z += b3
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        dz = (z - onehot) / n
        dh2 = dz @ w3.T
        dh2 *= h2 > 0
        dh1 = dh2 @ w2.T
        dh1 *= h1 > 0
        opt.step([x.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dz, dz.sum(0)])

    return step


def autograd_step(x, y, seed: int = 0):
    """The same MLP differentiated by HIPS autograd, with the same hand-written Adam."""
    import autograd.numpy as anp
    from autograd import grad

    params = init_params(seed)
    opt = Adam(params)

    def loss(ps):
        w1, b1, w2, b2, w3, b3 = ps
        h = anp.maximum(anp.dot(x, w1) + b1, 0)
        h = anp.maximum(anp.dot(h, w2) + b2, 0)
        z = anp.dot(h, w3) + b3
        z = z - anp.max(z, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(logp[anp.arange(len(y)), y])

    loss_grad = grad(loss)

    def step():
        opt.step(loss_grad(params))

    return step
