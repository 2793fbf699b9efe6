"""One table of core ops, used by both the gradcheck and the PyTorch parity tests.

Each case: (id, shenjing fn, torch fn, input shapes, input domain). ``domain='pos'``
draws inputs in (0.5, 2) for ops like log and sqrt; 'distinct' avoids ties for max/min.
"""

import numpy as np

import shenjing as sj
import shenjing.nn.functional as F

IDX = np.array([0, 2, 2, 1])  # repeated indices on purpose
MASK = np.array([True, False, True])


GATHER = np.array([[0, 0, 3], [2, 1, 1], [3, 3, 0]])
SCATTER = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])  # (2, 4) into a (3, 4) tensor along dim 0
SELECT = np.array([2, 0, 2])
FILL_MASK = np.array([[True, False, False, True]])


def _assign(x, row):
    x[1] = row * 3.0
    return x


def _iadd(x, row):
    x += row
    return x


def _t(np_index):
    """The same index for torch (a torch tensor instead of a NumPy array)."""
    import torch

    if isinstance(np_index, tuple):
        return tuple(_t(i) for i in np_index)
    return torch.as_tensor(np.ascontiguousarray(np_index)) if isinstance(np_index, np.ndarray) else np_index


CASES = [
    # element-wise, with broadcasting
    ("add_bcast_3d_2d", lambda a, b: a + b, lambda a, b: a + b, [(2, 4, 6), (4, 6)], None),
    ("mul_bcast_col_row", lambda a, b: a * b, lambda a, b: a * b, [(3, 1), (1, 5)], None),
    ("sub_bcast", lambda a, b: a - b, lambda a, b: a - b, [(3, 4), (4,)], None),
    ("div_bcast", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (3, 1)], "pos"),
    ("rsub_scalar", lambda a: 2.0 - a, lambda a: 2.0 - a, [(3, 4)], None),
    ("rdiv_scalar", lambda a: 1.5 / a, lambda a: 1.5 / a, [(3, 4)], "pos"),
    ("pow_scalar", lambda a: a**3, lambda a: a**3, [(3, 4)], None),
    ("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, [(3, 4), (4,)], "pos"),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [(5,)], None),
    ("remainder", lambda a, b: a % b, lambda a, b: a % b, [(3, 4), (4,)], "pos"),
    ("mod_scalar", lambda a: a % 0.7, lambda a: a % 0.7, [(3, 4)], None),
    ("fmod", lambda a, b: sj.fmod(-a, b), lambda a, b: __import__("torch").fmod(-a, b), [(3, 4), (3, 1)], "pos"),
    ("neg", lambda a: -a, lambda a: -a, [(3, 4)], None),
    ("abs", lambda a: abs(a), lambda a: abs(a), [(3, 4)], None),
    ("exp", sj.exp, lambda a: a.exp(), [(3, 4)], None),
    ("log", sj.log, lambda a: a.log(), [(3, 4)], "pos"),
    ("log1p", sj.log1p, lambda a: a.log1p(), [(3, 4)], "pos"),
    ("sqrt", sj.sqrt, lambda a: a.sqrt(), [(3, 4)], "pos"),
    ("sin", sj.sin, lambda a: a.sin(), [(3, 4)], None),
    ("cos", sj.cos, lambda a: a.cos(), [(3, 4)], None),
    ("tanh", sj.tanh, lambda a: a.tanh(), [(3, 4)], None),
    ("sigmoid", sj.sigmoid, lambda a: a.sigmoid(), [(3, 4)], None),
    ("relu", sj.relu, lambda a: a.relu(), [(3, 4)], None),
    ("clip", lambda a: sj.clip(a, -0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [(4, 5)], None),
    ("maximum", sj.maximum, lambda a, b: a.maximum(b), [(3, 4), (4,)], None),
    ("minimum", sj.minimum, lambda a, b: a.minimum(b), [(3, 4), (3, 1)], None),
    ("where", lambda a, b: sj.where(a > b, a, b), lambda a, b: a.where(a > b, b), [(3, 4), (4,)], None),
    ("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)], None),
    ("matmul_batch_bcast", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], None),
    ("matmul_batch_both", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], None),
    ("matmul_vec_mat", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 5)], None),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)], None),
    ("matmul_vec_vec", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4,)], None),
    ("dot_3d_2d", sj.dot, lambda a, b: (a.unsqueeze(-1) * b).sum(-2), [(2, 4, 6), (6, 2)], None),
    ("tensordot_2", lambda a, b: sj.tensordot(a, b, 2), lambda a, b: __import__("torch").tensordot(a, b, 2),
     [(2, 3, 4), (3, 4, 5)], None),
    ("tensordot_axes", lambda a, b: sj.tensordot(a, b, ([2, 0], [0, 1])),
     lambda a, b: __import__("torch").tensordot(a, b, ([2, 0], [0, 1])), [(2, 3, 4), (4, 2, 5)], None),
    ("einsum_bmm", lambda a, b: sj.einsum("bij,bjk->bik", a, b),
     lambda a, b: __import__("torch").einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)], None),
    ("einsum_ellipsis_sum", lambda a, b: sj.einsum("...i,i->...", a, b),
     lambda a, b: __import__("torch").einsum("...i,i->...", a, b), [(2, 3, 4), (4,)], None),
    ("einsum_trace", lambda a: sj.einsum("ii->", a), lambda a: __import__("torch").einsum("ii->", a),
     [(4, 4)], None),
    ("einsum_outer_implicit", lambda a, b: sj.einsum("i,j", a, b),
     lambda a, b: __import__("torch").einsum("i,j", a, b), [(3,), (4,)], None),
    ("einsum_sum_only_one", lambda a, b: sj.einsum("ij,k->i", a, b),
     lambda a, b: __import__("torch").einsum("ij,k->i", a, b), [(3, 4), (2,)], None),
    # reductions
    ("sum_all", lambda a: a.sum(), lambda a: a.sum(), [(3, 4)], None),
    ("sum_axis_keepdims", lambda a: a.sum(axis=1, keepdims=True), lambda a: a.sum(1, keepdim=True),
     [(3, 4, 2)], None),
    ("sum_dims", lambda a: a.sum(dim=(0, 2)), lambda a: a.sum((0, 2)), [(3, 4, 2)], None),
    ("mean_neg_dim", lambda a: a.mean(-1), lambda a: a.mean(-1), [(3, 4)], None),
    ("mean_keepdim", lambda a: a.mean(0, keepdim=True), lambda a: a.mean(0, keepdim=True), [(3, 4)], None),
    ("var_unbiased", lambda a: a.var(1), lambda a: a.var(1), [(3, 5)], None),
    ("var_all_biased", lambda a: a.var(correction=0), lambda a: a.var(correction=0), [(3, 5)], None),
    ("std", lambda a: a.std(0, keepdim=True), lambda a: a.std(0, keepdim=True), [(4, 3)], None),
    ("prod", lambda a: a.prod(1), lambda a: a.prod(1), [(3, 4)], None),
    ("prod_all", lambda a: a.prod(), lambda a: a.prod(), [(2, 3)], None),
    ("logsumexp", lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), [(3, 4)], None),
    ("logsumexp_keep", lambda a: sj.logsumexp(a, dim=0, keepdim=True), lambda a: a.logsumexp(0, keepdim=True),
     [(3, 4)], None),
    ("max_all", lambda a: a.max(), lambda a: a.max(), [(3, 4)], "distinct"),
    ("max_dim_values", lambda a: a.max(1).values, lambda a: a.max(1).values, [(3, 4)], "distinct"),
    ("min_dim_keepdim", lambda a: a.min(0, keepdim=True)[0], lambda a: a.min(0, keepdim=True)[0],
     [(3, 4)], "distinct"),
    ("amax_axes", lambda a: a.amax((0, 1)), lambda a: a.amax((0, 1)), [(2, 3, 4)], "distinct"),
    # shape ops
    ("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), [(2, 3, 4)], None),
    ("view_tuple", lambda a: a.view((6, 4)), lambda a: a.view((6, 4)), [(2, 3, 4)], None),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [(2, 3, 4)], None),
    ("permute", lambda a: a.permute(1, 2, 0), lambda a: a.permute(1, 2, 0), [(2, 3, 4)], None),
    ("T", lambda a: a.T, lambda a: a.T, [(3, 4)], None),
    ("squeeze", lambda a: a.squeeze(1), lambda a: a.squeeze(1), [(3, 1, 4)], None),
    ("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [(3, 4)], None),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4), [(3, 1)], None),
    ("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), [(2, 3, 4)], None),
    ("cat", lambda a, b: sj.cat([a, b], 1), lambda a, b: __import__("torch").cat([a, b], 1),
     [(2, 3), (2, 5)], None),
    ("stack", lambda a, b: sj.stack([a, b], -1), lambda a, b: __import__("torch").stack([a, b], -1),
     [(2, 3), (2, 3)], None),
    ("split_sizes", lambda a: sj.split(a, [1, 3], 1)[1] * 2, lambda a: a.split([1, 3], 1)[1] * 2,
     [(2, 4)], None),
    ("split_int", lambda a: sj.cat(sj.split(a, 2, 0)[::-1]), lambda a: __import__("torch").cat(a.split(2, 0)[::-1]),
     [(5, 2)], None),
    ("chunk", lambda a: a.chunk(3, 1)[2], lambda a: a.chunk(3, 1)[2], [(2, 7)], None),
    ("pad_constant", lambda a: sj.nn.functional.pad(a, (1, 2, 0, 1), value=0.5),
     lambda a: __import__("torch").nn.functional.pad(a, (1, 2, 0, 1), value=0.5), [(2, 3, 4)], None),
    ("pad_reflect", lambda a: sj.nn.functional.pad(a, (2, 1), mode="reflect"),
     lambda a: __import__("torch").nn.functional.pad(a, (2, 1), mode="reflect"), [(2, 3, 4)], None),
    ("pad_replicate", lambda a: sj.nn.functional.pad(a, (1, 2, 2, 1), mode="replicate"),
     lambda a: __import__("torch").nn.functional.pad(a, (1, 2, 2, 1), mode="replicate"), [(1, 2, 3, 4)], None),
    ("pad_circular", lambda a: sj.nn.functional.pad(a, (1, 2), mode="circular"),
     lambda a: __import__("torch").nn.functional.pad(a, (1, 2), mode="circular"), [(1, 2, 4)], None),
    ("repeat", lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [(2, 3)], None),
    # indexing
    ("index_basic", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 5)], None),
    ("index_int_neg", lambda a: a[-1, 2], lambda a: a[-1, 2], [(3, 5)], None),
    ("index_newaxis_ellipsis", lambda a: a[None, ..., 1], lambda a: a[None, ..., 1], [(3, 4, 2)], None),
    ("index_int_array_repeated", lambda a: a[IDX], lambda a: a[_t(IDX)], [(3, 4)], None),
    ("index_int_array_pair", lambda a: a[IDX, IDX[::-1]], lambda a: a[_t(IDX), _t(IDX[::-1])], [(3, 4)], None),
    ("index_bool", lambda a: a[MASK], lambda a: a[_t(MASK)], [(3, 4)], None),
    ("index_bool_tensor_cond", lambda a: a[a > 0], lambda a: a[a > 0], [(3, 4)], None),
    ("index_mixed", lambda a: a[1:, IDX], lambda a: a[1:, _t(IDX)], [(3, 4)], None),
    ("clone", lambda a: a.clone() * a, lambda a: a.clone() * a, [(3,)], None),
    ("cumsum", lambda a: a.cumsum(1), lambda a: a.cumsum(1), [(3, 4)], None),
    ("gather", lambda a: a.gather(1, GATHER), lambda a: a.gather(1, _t(GATHER)), [(3, 4)], None),
    ("topk", lambda a: a.topk(2, dim=0).values, lambda a: a.topk(2, dim=0).values, [(3, 4)], "distinct"),
    ("flip", lambda a: a.flip(0, 1), lambda a: a.flip(0, 1), [(3, 4)], None),
    ("norm", lambda a: a.norm(dim=1), lambda a: a.norm(dim=1), [(3, 4)], None),
    ("norm_p1_all", lambda a: a.norm(1), lambda a: a.norm(1), [(3, 4)], None),
    ("norm_p3_keepdim", lambda a: a.norm(3, 0, True), lambda a: a.norm(3, 0, True), [(3, 4)], None),
    ("norm_inf", lambda a: a.norm(float("inf"), dim=1), lambda a: a.norm(float("inf"), dim=1), [(3, 4)], "distinct"),
    ("dist", lambda a, b: sj.dist(a, b), lambda a, b: __import__("torch").dist(a, b), [(3, 4), (4,)], None),
    ("normalize", lambda a: sj.nn.functional.normalize(a, dim=1),
     lambda a: __import__("torch").nn.functional.normalize(a, dim=1), [(3, 4)], None),
    # the everyday tensor API
    ("add_alpha", lambda a, b: a.add(b, alpha=2.5), lambda a, b: a.add(b, alpha=2.5), [(3, 4), (4,)], None),
    ("sub_alpha", lambda a, b: sj.sub(a, b, alpha=0.5), lambda a, b: __import__("torch").sub(a, b, alpha=0.5),
     [(3, 4), (3, 4)], None),
    ("mm", sj.mm, lambda a, b: a.mm(b), [(3, 4), (4, 2)], None),
    ("bmm", sj.bmm, lambda a, b: a.bmm(b), [(2, 3, 4), (2, 4, 5)], None),
    ("outer", sj.outer, lambda a, b: a.outer(b), [(3,), (4,)], None),
    ("diag_of_matrix", lambda a: sj.diag(a, 1), lambda a: a.diag(1), [(3, 4)], None),
    ("diag_below", lambda a: a.diag(-1), lambda a: a.diag(-1), [(4, 3)], None),
    ("diag_from_vector", lambda a: sj.diag(a, -2), lambda a: a.diag(-2), [(3,)], None),
    ("tril", lambda a: sj.tril(a), lambda a: a.tril(), [(2, 3, 4)], None),
    ("triu_offset", lambda a: a.triu(1), lambda a: a.triu(1), [(4, 3)], None),
    ("roll_flat", lambda a: sj.roll(a, 2), lambda a: a.roll(2), [(3, 4)], None),
    ("roll_dims", lambda a: a.roll((1, -2), (0, 1)), lambda a: a.roll((1, -2), (0, 1)), [(3, 4)], None),
    ("tile", lambda a: sj.tile(a, (2,)), lambda a: a.tile((2,)), [(2, 3)], None),
    ("cumprod", lambda a: sj.cumprod(a, 1), lambda a: a.cumprod(1), [(3, 4)], None),
    ("median_all", lambda a: a.median(), lambda a: a.median(), [(3, 5)], "distinct"),
    ("median_dim", lambda a: sj.median(a, 0).values, lambda a: a.median(0).values, [(4, 3)], "distinct"),
    ("floor_round", lambda a: a.floor() * a + a.round() * a, lambda a: a.floor() * a + a.round() * a, [(3, 4)], None),
    ("repeat_interleave", lambda a: a.repeat_interleave(2, dim=1), lambda a: a.repeat_interleave(2, dim=1),
     [(2, 3)], None),
    ("repeat_interleave_flat", lambda a: sj.repeat_interleave(a, 3), lambda a: a.repeat_interleave(3), [(2, 2)],
     None),
    ("unflatten", lambda a: a.unflatten(1, (2, -1)), lambda a: a.unflatten(1, (2, -1)), [(3, 6)], None),
    ("movedim", lambda a: a.movedim(0, -1), lambda a: a.movedim(0, -1), [(2, 3, 4)], None),
    ("narrow", lambda a: a.narrow(1, -3, 2), lambda a: a.narrow(1, -3, 2), [(3, 5)], None),
    ("index_select", lambda a: a.index_select(0, SELECT), lambda a: a.index_select(0, _t(SELECT)), [(3, 4)], None),
    ("masked_fill", lambda a: a.masked_fill(FILL_MASK, -1.5), lambda a: a.masked_fill(_t(FILL_MASK), -1.5),
     [(3, 4)], None),
    ("masked_fill_", lambda a: (a * 1.0).masked_fill_(FILL_MASK, 0.5) * a,
     lambda a: (a * 1.0).masked_fill_(_t(FILL_MASK), 0.5) * a, [(3, 4)], None),
    ("scatter", lambda a, b: a.scatter(0, SCATTER, b), lambda a, b: a.scatter(0, _t(SCATTER), b),
     [(3, 4), (2, 4)], None),
    ("scatter_", lambda a, b: (a * 1.0).scatter_(0, SCATTER, b), lambda a, b: (a * 1.0).scatter_(0, _t(SCATTER), b),
     [(3, 4), (2, 4)], None),
    ("scatter_add", lambda a, b: a.scatter_add(0, SCATTER, b), lambda a, b: a.scatter_add(0, _t(SCATTER), b),
     [(3, 4), (2, 4)], None),
    ("scatter_add_", lambda a, b: (a * 2.0).scatter_add_(0, SCATTER, b),
     lambda a, b: (a * 2.0).scatter_add_(0, _t(SCATTER), b), [(3, 4), (2, 4)], None),
    ("index_add", lambda a, b: a.index_add(1, SELECT, b, alpha=2.0),
     lambda a, b: a.index_add(1, _t(SELECT), b, alpha=2.0), [(2, 4), (2, 3)], None),
    ("index_add_", lambda a, b: (a * 1.0).index_add_(0, SELECT, b),
     lambda a, b: (a * 1.0).index_add_(0, _t(SELECT), b), [(3, 2), (3, 2)], None),
    # distances and similarities
    ("cosine_similarity", lambda a, b: sj.nn.functional.cosine_similarity(a, b),
     lambda a, b: __import__("torch").nn.functional.cosine_similarity(a, b), [(3, 4), (3, 4)], None),
    ("cosine_similarity_bcast_last", lambda a, b: sj.nn.functional.cosine_similarity(a, b, dim=-1),
     lambda a, b: __import__("torch").nn.functional.cosine_similarity(a, b, dim=-1), [(2, 3, 4), (4,)], None),
    ("cdist_p2", sj.cdist, lambda a, b: __import__("torch").cdist(a, b), [(4, 3), (5, 3)], None),
    ("cdist_p1_batch", lambda a, b: sj.cdist(a, b, p=1), lambda a, b: __import__("torch").cdist(a, b, p=1),
     [(2, 4, 3), (2, 5, 3)], None),
    ("cdist_p3_bcast", lambda a, b: sj.cdist(a, b, p=3), lambda a, b: __import__("torch").cdist(a, b, p=3),
     [(2, 4, 3), (5, 3)], None),
    ("cdist_pinf", lambda a, b: sj.cdist(a, b, p=float("inf")),
     lambda a, b: __import__("torch").cdist(a, b, p=float("inf")), [(4, 3), (2, 3)], None),
    # transposed convolutions
    ("conv_transpose2d_stride_pad_outpad", lambda x, w, b: sj.nn.functional.conv_transpose2d(x, w, b, 2, 1, 1),
     lambda x, w, b: __import__("torch").nn.functional.conv_transpose2d(x, w, b, 2, 1, 1),
     [(2, 4, 3, 4), (4, 3, 3, 2), (3,)], None),
    ("conv_transpose2d_groups_dilation", lambda x, w: sj.nn.functional.conv_transpose2d(
        x, w, stride=(1, 2), padding=(2, 0), groups=2, dilation=2),
     lambda x, w: __import__("torch").nn.functional.conv_transpose2d(x, w, stride=(1, 2), padding=(2, 0), groups=2,
                                                                     dilation=2), [(1, 4, 4, 3), (4, 1, 3, 3)], None),
    ("conv_transpose1d", lambda x, w, b: sj.nn.functional.conv_transpose1d(x, w, b, 3, 1, 2, 1, 2),
     lambda x, w, b: __import__("torch").nn.functional.conv_transpose1d(x, w, b, 3, 1, 2, 1, 2),
     [(2, 3, 5), (3, 2, 3), (2,)], None),
    # resizing
    ("interpolate_nearest_2d", lambda a: sj.nn.functional.interpolate(a, size=(5, 7)),
     lambda a: __import__("torch").nn.functional.interpolate(a, size=(5, 7)), [(2, 3, 3, 4)], None),
    ("interpolate_nearest_exact_1d", lambda a: sj.nn.functional.interpolate(a, scale_factor=1.7, mode="nearest-exact"),
     lambda a: __import__("torch").nn.functional.interpolate(a, scale_factor=1.7, mode="nearest-exact"),
     [(2, 3, 5)], None),
    ("interpolate_bilinear", lambda a: sj.nn.functional.interpolate(a, scale_factor=(2, 1.5), mode="bilinear"),
     lambda a: __import__("torch").nn.functional.interpolate(a, scale_factor=(2, 1.5), mode="bilinear"),
     [(2, 2, 4, 4)], None),
    ("interpolate_bilinear_align_corners", lambda a: sj.nn.functional.interpolate(
        a, size=(3, 9), mode="bilinear", align_corners=True),
     lambda a: __import__("torch").nn.functional.interpolate(a, size=(3, 9), mode="bilinear", align_corners=True),
     [(1, 2, 5, 4)], None),
    ("interpolate_linear_down", lambda a: sj.nn.functional.interpolate(a, size=4, mode="linear"),
     lambda a: __import__("torch").nn.functional.interpolate(a, size=4, mode="linear"), [(2, 3, 9)], None),
    ("setitem_in_graph", lambda a, b: _assign(a * 1.0, b), lambda a, b: _assign(a * 1.0, b), [(3, 4), (4,)], None),
    ("iadd_in_graph", lambda a, b: _iadd(a * 2.0, b), lambda a, b: _iadd(a * 2.0, b), [(3, 4), (4,)], None),
]


def _tf():
    import torch

    return torch.nn.functional


def _torch_lstm(x, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's own LSTM layer run with the given weights (differentiable in them)."""
    import torch

    layer = torch.nn.LSTM(x.shape[-1], w_hh.shape[1], batch_first=True).to(x.dtype)
    params = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    out, (h, c) = torch.func.functional_call(layer, params, (x,))
    return out.sum(-1) + h.sum() * c.sum()


def _lstm(x, w_ih, w_hh, b_ih, b_hh):
    out, (h, c) = sj.nn.functional.recurrent_layers(x, None, [w_ih, w_hh, b_ih, b_hh], mode="lstm", batch_first=True)
    return out.sum(-1) + h.sum() * c.sum()


TARGET = np.array([0, 3, 1, 3])
CLASS_WEIGHT = np.array([1.0, 2.0, 0.5, 1.5])
PROBS = np.random.default_rng(5).dirichlet(np.ones(4), 4)
TOKENS = np.array([[0, 4, 4], [2, 1, 0]])

# the layers' functions (torch.nn.functional), twice differentiable like the core ops
NN_CASES = [
    ("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: _tf().linear(x, w, b), [(5, 3), (4, 3), (4,)], None),
    ("softmax", lambda a: F.softmax(a, 1), lambda a: a.softmax(1), [(3, 4)], None),
    ("log_softmax_temperature", lambda a: F.log_softmax(a, 0, temperature=2.0), lambda a: (a / 2).log_softmax(0),
     [(3, 4)], None),
    ("gelu", F.gelu, lambda a: _tf().gelu(a), [(3, 4)], None),
    ("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), lambda a: _tf().gelu(a, approximate="tanh"), [(3, 4)], None),
    ("elu", lambda a: F.elu(a, 0.7), lambda a: _tf().elu(a, 0.7), [(3, 4)], None),
    ("selu", F.selu, lambda a: _tf().selu(a), [(3, 4)], None),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.1) ** 2, lambda a: _tf().leaky_relu(a, 0.1) ** 2, [(3, 4)], None),
    ("softplus", lambda a: F.softplus(a, beta=2.0), lambda a: _tf().softplus(a, beta=2.0), [(3, 4)], None),
    ("silu", F.silu, lambda a: _tf().silu(a), [(3, 4)], None),
    ("mish", F.mish, lambda a: _tf().mish(a), [(3, 4)], None),
    ("logsigmoid", F.logsigmoid, lambda a: _tf().logsigmoid(a), [(3, 4)], None),
    ("softsign", F.softsign, lambda a: _tf().softsign(a), [(3, 4)], None),
    ("hardtanh", lambda a: F.hardtanh(a * 2) ** 2, lambda a: _tf().hardtanh(a * 2) ** 2, [(3, 4)], None),
    ("hardswish", lambda a: F.hardswish(a * 3), lambda a: _tf().hardswish(a * 3), [(3, 4)], None),
    ("prelu", lambda a, w: F.prelu(a, w) ** 2, lambda a, w: _tf().prelu(a, w) ** 2, [(2, 3, 4), (3,)], None),
    ("conv1d_stride_pad_dilation", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2) ** 2,
     lambda x, w, b: _tf().conv1d(x, w, b, stride=2, padding=2, dilation=2) ** 2, [(2, 3, 9), (4, 3, 3), (4,)], None),
    ("conv2d_groups", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2) ** 2,
     lambda x, w, b: _tf().conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2) ** 2,
     [(2, 4, 5, 6), (6, 2, 3, 2), (6,)], None),
    ("max_pool2d_overlap", lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True) ** 2,
     lambda x: _tf().max_pool2d(x, 3, 2, padding=1, ceil_mode=True) ** 2, [(2, 2, 5, 6)], "distinct"),
    ("max_pool1d", lambda x: F.max_pool1d(x, 2) ** 2, lambda x: _tf().max_pool1d(x, 2) ** 2, [(2, 3, 6)], "distinct"),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, (2, 3), padding=1, count_include_pad=False) ** 2,
     lambda x: _tf().avg_pool2d(x, (2, 3), padding=1, count_include_pad=False) ** 2, [(2, 2, 5, 6)], None),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)) ** 2,
     lambda x: _tf().adaptive_avg_pool2d(x, (2, 3)) ** 2, [(1, 2, 5, 7)], None),
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2,
     lambda x, w, b: _tf().batch_norm(x, None, None, w, b, training=True) ** 2, [(4, 3, 5), (3,), (3,)], None),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (5,), w, b) ** 2,
     lambda x, w, b: _tf().layer_norm(x, (5,), w, b) ** 2, [(4, 3, 5), (5,), (5,)], None),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b) ** 2,
     lambda x, w, b: _tf().group_norm(x, 2, w, b) ** 2, [(3, 4, 5), (4,), (4,)], None),
    ("instance_norm", lambda x: F.instance_norm(x) ** 2, lambda x: _tf().instance_norm(x) ** 2, [(2, 3, 5)], None),
    ("embedding", lambda w: F.embedding(TOKENS, w) ** 2,
     lambda w: _tf().embedding(_t(TOKENS), w) ** 2, [(5, 3)], None),
    ("mse_loss", lambda a, b: F.mse_loss(a, b), lambda a, b: _tf().mse_loss(a, b), [(3, 4), (3, 4)], None),
    ("smooth_l1_loss", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), lambda a, b: _tf().smooth_l1_loss(a, b, beta=0.5),
     [(3, 4), (3, 4)], None),
    ("cross_entropy", lambda a: F.cross_entropy(a, TARGET, CLASS_WEIGHT, label_smoothing=0.1),
     lambda a: _tf().cross_entropy(a, _t(TARGET), _t(CLASS_WEIGHT).to(a.dtype), label_smoothing=0.1), [(4, 4)], None),
    ("cross_entropy_probabilities", lambda a: F.cross_entropy(a, PROBS.astype(a.dtype), reduction="sum"),
     lambda a: _tf().cross_entropy(a, _t(PROBS).to(a.dtype), reduction="sum"), [(4, 4)], None),
    ("nll_loss", lambda a: F.nll_loss(a.log_softmax(1), TARGET, CLASS_WEIGHT),
     lambda a: _tf().nll_loss(a.log_softmax(1), _t(TARGET), _t(CLASS_WEIGHT).to(a.dtype)), [(4, 4)], None),
    ("binary_cross_entropy", lambda a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid()),
     lambda a, b: _tf().binary_cross_entropy(a.sigmoid(), b.sigmoid()), [(3, 4), (3, 4)], None),
    ("bce_with_logits", lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=CLASS_WEIGHT),
     lambda a, b: _tf().binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=_t(CLASS_WEIGHT).to(a.dtype)),
     [(3, 4), (3, 4)], None),
    ("kl_div", lambda a, b: F.kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean"),
     lambda a, b: _tf().kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean"), [(3, 4), (3, 4)], None),
    ("attention", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     lambda q, k, v: _tf().scaled_dot_product_attention(q, k, v, is_causal=True), [(2, 3, 4), (2, 3, 4), (2, 3, 5)],
     None),
    ("squash", lambda a: F.squash(a), lambda a: a * a.norm(dim=-1, keepdim=True) / (1 + (a * a).sum(-1, keepdim=True)),
     [(3, 4)], None),
    ("lstm", _lstm, _torch_lstm, [(2, 3, 2), (8, 2), (8, 2), (8,), (8,)], None),
]
CASES += NN_CASES


def make_inputs(shapes, domain, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        if domain == "pos":
            arr = rng.uniform(0.5, 2.0, shape)
        elif domain == "distinct":
            arr = rng.permutation(int(np.prod(shape))).reshape(shape) / 3.0 + rng.uniform(0, 0.01, shape)
        else:
            arr = rng.standard_normal(shape)
        arrays.append(arr.astype(dtype))
    return arrays
