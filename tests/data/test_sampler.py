"""DistributedSampler against torch.utils.data.DistributedSampler, index for index."""

import numpy as np
import pytest

from shenjing.data import DataLoader, DistributedSampler, TensorDataset
from shenjing.data.sampler import torch_randperm


@pytest.mark.parametrize("n", [1, 2, 7, 10, 64, 101, 1000, 4099])
@pytest.mark.parametrize("seed", [0, 1, 12345, 2**32 + 5])
def test_randperm_equals_torchs(torch, n, seed):
    expected = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    np.testing.assert_array_equal(torch_randperm(n, seed), expected)


@pytest.mark.parametrize("n", [1, 5, 10, 17, 100, 333])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [False, True])
def test_partition_equals_torchs(torch, n, replicas, shuffle, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler

    if drop_last and n < replicas:
        return   # torch gives every rank nothing; covered by test_drop_last_on_a_tiny_dataset
    for seed in (0, 3):
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            theirs = TorchSampler(range(n), replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            for epoch in (0, 1, 5):
                ours.set_epoch(epoch)
                theirs.set_epoch(epoch)
                assert list(ours) == list(theirs), (seed, rank, epoch)
                assert len(ours) == len(theirs)


def test_drop_last_on_a_tiny_dataset():
    assert list(DistributedSampler(range(2), num_replicas=3, rank=0, drop_last=True)) == []


def test_ranks_cover_the_dataset_and_epochs_reshuffle():
    samplers = [DistributedSampler(range(11), num_replicas=3, rank=r, seed=4) for r in range(3)]
    first = np.concatenate([list(s) for s in samplers])
    assert set(first.tolist()) == set(range(11)) and len(first) == 12   # one index repeated to pad
    for s in samplers:
        s.set_epoch(1)
    assert np.concatenate([list(s) for s in samplers]).tolist() != first.tolist()


def test_a_data_loader_reads_its_ranks_share():
    data = TensorDataset(np.arange(10.0).reshape(10, 1), np.arange(10))
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, 2, 1, shuffle=False))
    assert [b[1].tolist() for b in loader] == [[1, 3], [5, 7], [9]]


def test_bad_arguments_raise_naming_them():
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="seed"):
        DistributedSampler(range(4), num_replicas=2, rank=0, seed=-1)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
