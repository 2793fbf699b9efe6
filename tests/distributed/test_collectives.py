"""Collectives on real MPI ranks (mpiexec -n 2), and the process group's errors in one process."""

import numpy as np
import pytest
from mpirun import launch, run_ranks

import shenjing as sj

dist = pytest.importorskip("shenjing.distributed")
pytest.importorskip("mpi4py")

COLLECTIVES = """
dist.init_process_group()
rank, size = dist.get_rank(), dist.get_world_size()
results = {"rank": rank, "size": size}
for dtype in ("float32", "float64"):
    x = np.arange(6, dtype=dtype).reshape(2, 3) * (rank + 1) + 0.25
    for op in ("SUM", "AVG", "MAX", "MIN"):
        t = sj.tensor(x)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        results[f"{op}_{dtype}"] = t.numpy()
        results[f"{op}_{dtype}_dtype"] = str(t.dtype)
    t = sj.tensor(x)
    work = dist.all_reduce(t, op=dist.ReduceOp.SUM, async_op=True)
    work.wait()
    results[f"async_{dtype}"] = t.numpy()
    t = sj.tensor(x)
    dist.broadcast(t, src=1)
    results[f"broadcast_{dtype}"] = t.numpy()
    gathered = [sj.zeros(2, 3, dtype=dtype) for _ in range(size)]
    dist.all_gather(gathered, sj.tensor(x))
    results[f"gather_{dtype}"] = np.stack([g.numpy() for g in gathered])
strided = sj.tensor(np.arange(12.0).reshape(3, 4) + rank)[:, ::2]   # not contiguous: staged through a copy
dist.all_reduce(strided)
results["strided"] = strided.numpy()
counts = sj.tensor(np.array([rank + 1, 10], dtype=np.int64))
dist.all_reduce(counts)
results["int64"] = counts.numpy()
dist.barrier()
sampler = sj.data.DistributedSampler(range(7), shuffle=False)
results["sampler"] = list(sampler)
save(**results)
dist.destroy_process_group()
"""


def test_collectives_on_two_ranks(tmp_path):
    ranks = run_ranks(COLLECTIVES, tmp_path)
    x = [np.arange(6, dtype=np.float64).reshape(2, 3) * (r + 1) + 0.25 for r in range(2)]
    expected = {"SUM": x[0] + x[1], "AVG": (x[0] + x[1]) / 2, "MAX": np.maximum(*x), "MIN": np.minimum(*x)}
    for r, res in enumerate(ranks):
        assert int(res["rank"]) == r and int(res["size"]) == 2
        for dtype in ("float32", "float64"):
            for op, value in expected.items():
                np.testing.assert_array_equal(res[f"{op}_{dtype}"], value.astype(dtype))
                assert str(res[f"{op}_{dtype}_dtype"]) == dtype
            np.testing.assert_array_equal(res[f"async_{dtype}"], expected["SUM"].astype(dtype))
            np.testing.assert_array_equal(res[f"broadcast_{dtype}"], x[1].astype(dtype))
            np.testing.assert_array_equal(res[f"gather_{dtype}"], np.stack(x).astype(dtype))
        base = np.arange(12.0).reshape(3, 4)[:, ::2]
        np.testing.assert_array_equal(res["strided"], 2 * base + 1)
        np.testing.assert_array_equal(res["int64"], [3, 20])
        assert res["sampler"].tolist() == [[0, 2, 4, 6], [1, 3, 5, 0]][r]


FAILING_RANK = """
import time
dist.init_process_group()
if dist.get_rank() == 1:
    raise RuntimeError("rank 1 broke on purpose")
dist.all_reduce(sj.ones(3))   # rank 0 would wait here forever without the abort
time.sleep(600)
"""


def test_a_failing_rank_ends_the_job_with_its_error(tmp_path):
    done = launch(FAILING_RANK, tmp_path)   # fails the test if the job outlives the timeout
    assert done.returncode != 0
    assert "rank 1 broke on purpose" in done.stderr


@pytest.fixture
def group():
    dist.init_process_group()
    yield
    dist.destroy_process_group()


def test_one_process_is_a_group_of_one(group):
    assert dist.is_available() and dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    t = sj.tensor([1.5, -2.0], dtype=sj.float64)
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    np.testing.assert_array_equal(np.asarray(t), [1.5, -2.0])


def test_bad_arguments_raise_naming_them(group):
    with pytest.raises(TypeError, match="ReduceOp"):
        dist.all_reduce(sj.ones(2), op="sum")
    with pytest.raises(TypeError, match="AVG needs a floating"):
        dist.all_reduce(sj.tensor(np.array([1, 2])), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="shenjing Tensor"):
        dist.broadcast(np.ones(2))
    with pytest.raises(ValueError, match="src"):
        dist.broadcast(sj.ones(2), src=3)
    with pytest.raises(ValueError, match="world_size"):
        dist.all_gather([sj.ones(2), sj.ones(2)], sj.ones(2))
    with pytest.raises(RuntimeError, match="already initialised"):
        dist.init_process_group()


def test_queries_before_init_raise_naming_the_call():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend"):
        dist.init_process_group(backend="gloo")


def test_the_excepthook_is_installed_then_restored():
    import sys

    before = sys.excepthook
    dist.init_process_group()
    assert sys.excepthook is not before
    dist.destroy_process_group()
    assert sys.excepthook is before


@pytest.mark.gpu
@pytest.mark.parametrize("backend", ["nccl", "mpi"])
def test_gpu_tensors_on_one_rank(backend):
    """The NCCL path (and MPI staging through host memory) on CuPy arrays; skipped without a GPU."""
    if not sj.cuda_available():
        pytest.skip("needs CuPy and an NVIDIA GPU")
    from shenjing.nn.parallel import DistributedDataParallel

    dist.init_process_group(backend)
    try:
        for dtype in (sj.float32, sj.float64):
            t = sj.tensor([[1.0, -2.0], [3.0, 4.5]], dtype=dtype, device="cuda")
            dist.all_reduce(t, op=dist.ReduceOp.AVG)
            dist.all_reduce(t[:, 1], op=dist.ReduceOp.MAX)   # not contiguous
            dist.broadcast(t, src=0)
            gathered = [sj.zeros(2, 2, dtype=dtype, device="cuda")]
            dist.all_gather(gathered, t)
            np.testing.assert_array_equal(np.asarray(gathered[0].cpu()), [[1.0, -2.0], [3.0, 4.5]])
            assert dist.all_reduce(t, async_op=True).wait()
        sj.manual_seed(0)
        model = DistributedDataParallel(sj.nn.Linear(3, 2).to(device="cuda"), bucket_cap_mb=1e-5)
        model(sj.ones(4, 3, device="cuda")).sum().backward()
        np.testing.assert_allclose(np.asarray(model.module.weight.grad.cpu()), np.full((2, 3), 4.0))
    finally:
        dist.destroy_process_group()
