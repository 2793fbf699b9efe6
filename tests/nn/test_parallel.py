"""DistributedDataParallel on real MPI ranks: two ranks on two halves of each batch take the steps one
process takes on the whole batch."""

import numpy as np
import pytest
from mpirun import run_ranks

import shenjing as sj

pytest.importorskip("mpi4py")

MODELS = """
def mlp():
    return sj.nn.Sequential(sj.nn.Linear(6, 16), sj.nn.Tanh(), sj.nn.Linear(16, 8), sj.nn.ReLU(), sj.nn.Linear(8, 3))

def cnn():
    return sj.nn.Sequential(sj.nn.Conv2d(1, 4, 3, padding=1), sj.nn.ReLU(), sj.nn.MaxPool2d(2),
                            sj.nn.Conv2d(4, 6, 3), sj.nn.Tanh(), sj.nn.Flatten(), sj.nn.Linear(6, 3))

def batches(kind, dtype, steps=20, size=8):
    rng = np.random.default_rng(7)
    shape = (size, 6) if kind == "mlp" else (size, 1, 6, 6)
    return [(rng.standard_normal(shape).astype(dtype), rng.integers(0, 3, size)) for _ in range(steps)]

def build(kind, dtype, seed=0):
    sj.manual_seed(seed)
    return (mlp if kind == "mlp" else cnn)().to(dtype=dtype)

def train(model, optimizer, data, part=slice(None)):
    loss_fn = sj.nn.CrossEntropyLoss()
    for x, y in data:
        optimizer.zero_grad()
        loss_fn(model(sj.tensor(x[part])), sj.tensor(y[part])).backward()
        optimizer.step()
    return model
"""

TRAIN_ON_HALVES = MODELS + """
from shenjing.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group()
rank = dist.get_rank()
results = {}
for kind in ("mlp", "cnn"):
    for dtype in ("float32", "float64"):
        data = batches(kind, dtype)
        reference = build(kind, dtype)
        train(reference, sj.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9), data)
        # rank 1 starts from other weights: DDP must overwrite them with rank 0's
        own = build(kind, dtype, seed=rank)
        results[f"{kind}_{dtype}_own_start"] = own[0].weight.numpy().copy()
        model = DDP(own, bucket_cap_mb=0.0005)
        results[f"{kind}_{dtype}_synced_start"] = own[0].weight.numpy().copy()
        train(model, sj.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), data, slice(4 * rank, 4 * rank + 4))
        for name, p in model.module.named_parameters():
            results[f"{kind}_{dtype}_{name}"] = p.numpy()
            results[f"{kind}_{dtype}_{name}_reference"] = dict(reference.named_parameters())[name].numpy()
        results[f"{kind}_buckets"] = len(model._buckets)
save(**results)
"""


def test_two_ranks_on_halves_equal_one_process_on_the_whole_batch(tmp_path):
    ranks = run_ranks(TRAIN_ON_HALVES, tmp_path)
    assert int(ranks[0]["mlp_buckets"]) > 1 and int(ranks[0]["cnn_buckets"]) > 1   # several buckets in flight
    for key in ("mlp_float64", "cnn_float32"):
        assert not np.array_equal(ranks[1][key + "_own_start"], ranks[0][key + "_own_start"])
        np.testing.assert_array_equal(ranks[1][key + "_synced_start"], ranks[0][key + "_own_start"])
    names = [k for k in ranks[0] if not k.endswith(("_reference", "_buckets", "_start"))]
    assert len(names) == 2 * 2 * 6   # 6 parameters in the MLP and 6 in the CNN, in two dtypes
    for name in names:
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name])   # identical across ranks
        tol = dict(rtol=1e-10, atol=1e-12) if "float64" in name else dict(rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ranks[0][name], ranks[0][name + "_reference"], **tol)


NO_SYNC = MODELS + """
from shenjing.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group()
rank = dist.get_rank()
(x, y), = batches("mlp", "float64", steps=1, size=8)
loss_fn = sj.nn.CrossEntropyLoss()
model = DDP(build("mlp", "float64"))
with model.no_sync():                                       # first micro-batch: local only
    (loss_fn(model(sj.tensor(x[rank * 4:rank * 4 + 2])), sj.tensor(y[rank * 4:rank * 4 + 2])) / 2).backward()
local = {n: p.grad.numpy().copy() for n, p in model.module.named_parameters()}
(loss_fn(model(sj.tensor(x[rank * 4 + 2:rank * 4 + 4])), sj.tensor(y[rank * 4 + 2:rank * 4 + 4])) / 2).backward()
reference = build("mlp", "float64")
loss_fn(reference(sj.tensor(x)), sj.tensor(y)).backward()
results = {}
for name, p in model.module.named_parameters():
    results[name] = p.grad.numpy()
    results[name + "_reference"] = dict(reference.named_parameters())[name].grad.numpy()
    results[name + "_local"] = local[name]
save(**results)
"""


def test_no_sync_accumulation_equals_one_synchronised_step(tmp_path):
    ranks = run_ranks(NO_SYNC, tmp_path)
    names = [k for k in ranks[0] if not k.endswith(("_reference", "_local"))]
    assert names
    for name in names:
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name])
        np.testing.assert_allclose(ranks[0][name], ranks[0][name + "_reference"], rtol=1e-10, atol=1e-12)
    assert any(not np.allclose(ranks[0][n + "_local"], ranks[1][n + "_local"]) for n in names)   # no_sync: local


BUFFERS = """
from shenjing.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group()
rank = dist.get_rank()
sj.manual_seed(0)
model = DDP(sj.nn.Sequential(sj.nn.Linear(3, 4), sj.nn.BatchNorm1d(4)))
x = np.random.default_rng(rank).standard_normal((5, 3))   # each rank its own batch
model(sj.tensor(x, dtype=sj.float32)).sum().backward()
mean_after_one = model.module[1].running_mean.numpy().copy()
model.eval()
model(sj.tensor(x, dtype=sj.float32))                     # the next forward starts from rank 0's statistics
save(after_one=mean_after_one, after_two=model.module[1].running_mean.numpy())
"""


def test_broadcast_buffers_gives_every_rank_rank_zeros_running_statistics(tmp_path):
    ranks = run_ranks(BUFFERS, tmp_path)
    assert not np.allclose(ranks[0]["after_one"], ranks[1]["after_one"])   # each rank updated its own
    for rank in ranks:
        np.testing.assert_array_equal(rank["after_two"], ranks[0]["after_one"])


def test_one_rank_ddp_gives_the_plain_gradient():
    dist = pytest.importorskip("shenjing.distributed")
    from shenjing.nn.parallel import DistributedDataParallel

    dist.init_process_group()
    try:
        sj.manual_seed(0)
        model = DistributedDataParallel(sj.nn.Sequential(sj.nn.Linear(3, 5), sj.nn.Tanh(), sj.nn.Linear(5, 2)),
                                        bucket_cap_mb=1e-5)
        x = sj.randn(4, 3)
        model(x).pow(2).sum().backward()
        ddp = [p.grad.numpy().copy() for p in model.parameters()]
        model.zero_grad()
        model.module(x).pow(2).sum().backward()
        for a, b in zip(ddp, model.parameters()):
            np.testing.assert_array_equal(a, b.grad.numpy())
        assert list(model.state_dict())[0].startswith("module.")
        with pytest.raises(ValueError, match="bucket_cap_mb"):
            DistributedDataParallel(sj.nn.Linear(2, 2), bucket_cap_mb=0)
        with pytest.raises(TypeError, match="module"):
            DistributedDataParallel(lambda x: x)
    finally:
        dist.destroy_process_group()


def test_ddp_needs_an_initialised_group():
    from shenjing.nn.parallel import DistributedDataParallel

    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(sj.nn.Linear(2, 2))
