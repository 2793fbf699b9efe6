"""DataLoader(num_workers=N): real worker processes, seeded per worker, batches in order."""

import multiprocessing
import os
import random

import numpy as np
import pytest

import shenjing as sj
from shenjing.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from shenjing.data.transforms import GaussianNoise


class Pids(Dataset):
    """Each sample records the process that loaded it."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return np.float64(i), os.getpid()


def _as_lists(loader):
    return [[np.asarray(t).tolist() for t in batch] for batch in loader]


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_with_workers_equal_the_in_process_batches(shuffle):
    X = np.arange(66, dtype=np.float32).reshape(22, 3)
    ds = TensorDataset(X, np.arange(22))
    base = _as_lists(DataLoader(ds, batch_size=4, shuffle=shuffle, seed=5))
    assert _as_lists(DataLoader(ds, batch_size=4, shuffle=shuffle, seed=5, num_workers=3)) == base
    assert len(base) == 6


def test_batch_k_is_loaded_by_worker_k_mod_n_in_other_processes():
    batches = list(DataLoader(Pids(), batch_size=2, num_workers=2))
    assert [b[0].tolist() for b in batches] == [[2.0 * k, 2.0 * k + 1] for k in range(6)]
    pids = [set(b[1].tolist()) for b in batches]
    assert all(len(p) == 1 for p in pids) and os.getpid() not in set.union(*pids)
    assert pids[0] == pids[2] == pids[4] and pids[1] == pids[3] == pids[5] and pids[0] != pids[1]


class Seeds(IterableDataset):
    """Yields what each worker sees: its info, the draws of its random streams."""

    def __iter__(self):
        info = get_worker_info()
        yield {"id": info.id, "n": info.num_workers, "seed": info.seed, "sj": float(sj.rand(1)),
               "random": random.random(), "init": os.environ.get("SHENJING_TEST_INIT", "")}


def _mark(worker_id):
    os.environ["SHENJING_TEST_INIT"] = f"ran {worker_id}"


def test_workers_are_seeded_base_plus_id_and_run_worker_init_fn():
    seen = list(DataLoader(Seeds(), batch_size=None, num_workers=3, worker_init_fn=_mark))
    assert [s["id"] for s in seen] == [0, 1, 2] and {s["n"] for s in seen} == {3}
    base = seen[0]["seed"]
    assert [s["seed"] for s in seen] == [base, base + 1, base + 2]
    assert len({s["sj"] for s in seen}) == 3 and len({s["random"] for s in seen}) == 3
    assert [s["init"] for s in seen] == ["ran 0", "ran 1", "ran 2"]
    sj.manual_seed(4)
    first = [s["sj"] for s in DataLoader(Seeds(), batch_size=None, num_workers=2)]
    sj.manual_seed(4)
    assert [s["sj"] for s in DataLoader(Seeds(), batch_size=None, num_workers=2)] == first
    assert get_worker_info() is None


class Shards(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_iterable_dataset_with_workers_follows_torch():
    torch = pytest.importorskip("torch")

    class TorchShards(Shards, torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            return iter(range(info.id, self.n, info.num_workers))

    ours = [t.tolist() for t in DataLoader(Shards(11), batch_size=2, num_workers=3)]
    theirs = [t.tolist() for t in torch.utils.data.DataLoader(TorchShards(11), batch_size=2, num_workers=3)]
    assert ours == theirs


def test_each_worker_gets_its_own_augmentation_stream():
    ds = TensorDataset(np.zeros((8, 2)), np.zeros(8), transform=GaussianNoise(1.0, seed=0))
    noise = [np.asarray(b[0]) for b in DataLoader(ds, batch_size=2, num_workers=2)]
    assert not np.allclose(noise[0], noise[1])


class Broken(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 3:
            raise KeyError(f"sample {i} is missing")
        return np.float64(i)


def test_a_worker_error_reaches_the_caller_with_its_class():
    with pytest.raises(KeyError, match="sample 3 is missing") as info:
        list(DataLoader(Broken(), batch_size=1, num_workers=2))
    assert "DataLoader worker process 1" in str(info.value.__cause__)


def test_stopping_early_ends_the_workers():
    loader = iter(DataLoader(Pids(), batch_size=1, num_workers=2))
    assert next(loader)[0].tolist() == [0.0]
    loader.close()
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("kwargs, match", [({"num_workers": -1}, "num_workers"), ({"num_workers": 1.5}, "num_workers"),
                                           ({"prefetch_factor": 2}, "num_workers > 0"),
                                           ({"num_workers": 1, "prefetch_factor": 0}, "prefetch_factor")])
def test_bad_worker_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Pids(), **kwargs)


class Stuck(Dataset):
    """Its samples never arrive (the worker waits on an event nobody sets)."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        multiprocessing.Event().wait()


def test_a_worker_past_the_timeout_raises():
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        next(iter(DataLoader(Stuck(), num_workers=1, timeout=0.5)))
    assert multiprocessing.active_children() == []


def test_spawned_workers_give_the_same_batches():
    ds = TensorDataset(np.arange(16.0).reshape(8, 2), np.arange(8))
    spawned = _as_lists(DataLoader(ds, batch_size=3, num_workers=2, multiprocessing_context="spawn"))
    assert spawned == _as_lists(DataLoader(ds, batch_size=3))


def test_a_mid_epoch_state_resumes_with_workers():
    ds = TensorDataset(np.arange(40.0).reshape(20, 2), np.arange(20))
    loader = DataLoader(ds, batch_size=3, shuffle=True, seed=1, num_workers=2)
    batches = iter(loader)
    seen = [next(batches)[1].tolist() for _ in range(3)]
    state = loader.state_dict()
    rest = [b[1].tolist() for b in batches]
    resumed = DataLoader(ds, batch_size=3, shuffle=True, seed=99, num_workers=2)
    resumed.load_state_dict(state)
    assert [b[1].tolist() for b in resumed] == rest and len(seen) + len(rest) == 7
