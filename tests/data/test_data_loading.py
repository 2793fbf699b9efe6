"""Dataset, DataLoader, samplers and check_finite."""

import numpy as np
import pytest

import shenjing as sj
from shenjing.data import (
    ClassBalancedSampler, DataLoader, Dataset, RandomSampler, SequentialSampler, TensorDataset,
    WeightedRandomSampler, check_finite,
)


def _data(n=10):
    return np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n) % 3


class ListDataset(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])


def test_sequential_batches_cover_the_data_in_order_with_dtypes():
    X, y = _data(10)
    batches = list(DataLoader(TensorDataset(X, y.astype(np.int32)), batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(t, sj.Tensor) for b in batches for t in b)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), X)
    assert len(DataLoader(TensorDataset(X, y), batch_size=4)) == 3


def test_drop_last_and_full_batch():
    X, y = _data(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [b[0].shape[0] for b in loader] == [4, 4]
    (xb, yb), = list(DataLoader(TensorDataset(X, y), batch_size=None))
    assert xb.shape == (10, 3)


def test_shuffle_is_a_permutation_seeded_and_changes_each_epoch():
    X, y = _data(50)
    loader = DataLoader(TensorDataset(X, y), batch_size=7, shuffle=True, seed=3)
    epoch1 = np.concatenate([b[1].numpy() for b in loader])
    epoch2 = np.concatenate([b[1].numpy() for b in loader])
    assert sorted(epoch1.tolist()) == sorted(y.tolist())
    assert not np.array_equal(epoch1, epoch2)
    again = DataLoader(TensorDataset(X, y), batch_size=7, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in again]), epoch1)


def test_generic_dataset_goes_through_collate_and_matches_fast_path():
    X, y = _data(9)
    slow = list(DataLoader(ListDataset(X, y), batch_size=4, shuffle=True, seed=1))
    fast = list(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=1))
    for (a, b), (c, d) in zip(slow, fast):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert b.dtype == np.int64


def test_custom_collate_fn_gets_the_samples():
    X, y = _data(6)
    loader = DataLoader(TensorDataset(X, y), batch_size=3, collate_fn=lambda s: len(s))
    assert list(loader) == [3, 3]


def test_loader_state_dict_restores_the_shuffle_sequence():
    X, y = _data(30)
    loader = DataLoader(TensorDataset(X, y), batch_size=30, shuffle=True, seed=5)
    list(loader)
    state = loader.state_dict()
    expected = next(iter(loader))[1].numpy()
    other = DataLoader(TensorDataset(X, y), batch_size=30, shuffle=True, seed=99)
    other.load_state_dict(state)
    np.testing.assert_array_equal(next(iter(other))[1].numpy(), expected)


def test_global_seed_controls_unseeded_loaders():
    X, y = _data(40)
    orders = []
    for _ in range(2):
        sj.manual_seed(11)
        orders.append(next(iter(DataLoader(TensorDataset(X, y), batch_size=40, shuffle=True)))[1].numpy())
    np.testing.assert_array_equal(*orders)


@pytest.mark.parametrize("kw, match", [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(shuffle=True, sampler=SequentialSampler(4)), "not both"),
    (dict(collate_fn=3), "collate_fn"),
])
def test_loader_rejects_bad_options(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DataLoader(TensorDataset(*_data(4)), **kw)


def test_tensor_dataset_checks_lengths_and_applies_transform():
    X, y = _data(5)
    with pytest.raises(ValueError, match="rows"):
        TensorDataset(X, y[:4])
    ds = TensorDataset(X, y, transform=lambda a: a * 2)
    np.testing.assert_array_equal(ds[1][0], X[1] * 2)
    np.testing.assert_array_equal(ds.__getitems__(np.array([0, 2]))[0], X[[0, 2]] * 2)
    assert len(ds) == 5


def test_random_sampler_with_replacement_and_length():
    s = RandomSampler(5, replacement=True, num_samples=100, seed=0)
    idx = s.indices()
    assert len(s) == 100 and idx.shape == (100,) and idx.min() >= 0 and idx.max() < 5
    assert sorted(RandomSampler(5, seed=0).indices().tolist()) == [0, 1, 2, 3, 4]
    assert list(SequentialSampler(3)) == [0, 1, 2]


def test_weighted_sampler_follows_weights():
    s = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=40000, seed=0)
    freq = np.bincount(s.indices(), minlength=3) / 40000
    assert freq[0] == 0
    np.testing.assert_allclose(freq[1:], [0.25, 0.75], atol=0.01)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 3)


def _chi_square(counts, expected):
    return float(((counts - expected) ** 2 / expected).sum())


def test_class_balanced_sampler_q0_draws_classes_uniformly():
    # seed 004 §4.3.1: p_c ∝ n_c^q; q = 0 gives each class the same share
    labels = np.repeat([0, 1, 2, 3], [1000, 300, 50, 10])
    n = 20000
    drawn = labels[ClassBalancedSampler(labels, q=0.0, num_samples=n, seed=0).indices()]
    counts = np.bincount(drawn, minlength=4)
    # chi-square goodness of fit against uniform, 3 degrees of freedom: the 0.999 quantile is 16.27
    assert _chi_square(counts, np.full(4, n / 4)) < 16.27
    # plain uniform instance sampling on the same labels is grossly non-uniform over classes
    plain = labels[RandomSampler(labels.size, replacement=True, num_samples=n, seed=0).indices()]
    assert _chi_square(np.bincount(plain, minlength=4), np.full(4, n / 4)) > 1000


def test_class_balanced_sampler_q1_is_instance_sampling_and_uniform_within_class():
    labels = np.repeat([0, 1], [300, 100])
    s = ClassBalancedSampler(labels, q=1.0, num_samples=40000, seed=1)
    np.testing.assert_allclose(s.class_probabilities, [0.75, 0.25])
    idx = s.indices()
    np.testing.assert_allclose(np.mean(labels[idx] == 0), 0.75, atol=0.01)
    within = np.bincount(idx[labels[idx] == 1] - 300, minlength=100)
    assert _chi_square(within, np.full(100, within.sum() / 100)) < 148.2  # 0.999 quantile, 99 dof
    half = ClassBalancedSampler(labels, q=0.5)
    np.testing.assert_allclose(half.class_probabilities, np.sqrt([300, 100]) / np.sqrt([300, 100]).sum())
    assert len(half) == 400


def test_class_balanced_sampler_rejects_bad_input():
    with pytest.raises(ValueError, match="labels"):
        ClassBalancedSampler(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="q"):
        ClassBalancedSampler(np.array([0, 1]), q=-1)


def test_check_finite_names_the_first_bad_index():
    X = np.zeros((5, 4), dtype=np.float32)
    X[3, 2] = np.nan
    X[4, 0] = np.inf
    with pytest.raises(ValueError, match=r"index \(3, 2\) \(sample 3\)"):
        check_finite(X)
    with pytest.raises(ValueError, match="features"):
        check_finite(sj.tensor(np.array([1.0, -np.inf])), name="features")
    assert check_finite(np.ones(3)) is not None
    assert check_finite(np.array([1, 2])) is not None


def test_mid_epoch_state_goes_on_with_the_next_batch():
    X, y = _data(23)
    loader = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, seed=2)
    list(loader)  # a first epoch, so the generator is not at its seed
    batches = iter(loader)
    head = [next(batches) for _ in range(2)]
    state = loader.state_dict()
    tail = [b[1].numpy() for b in batches] + [b[1].numpy() for b in loader]  # the epoch's rest and the next epoch
    assert state["batches_yielded"] == 2 and len(head) == 2
    other = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, seed=99)
    other.load_state_dict(state)
    assert other.state_dict()["batches_yielded"] == 2  # saved again before it resumes: the same position
    resumed = [b[1].numpy() for b in other] + [b[1].numpy() for b in other]
    assert len(resumed) == len(tail) == 3 + 5
    for a, b in zip(resumed, tail):
        np.testing.assert_array_equal(a, b)


def test_a_left_epoch_is_not_resumed_by_the_next_iter():
    X, y = _data(20)
    loader = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=True, seed=4)
    for _ in loader:
        break
    assert loader.state_dict()["batches_yielded"] == 0
    assert len(list(loader)) == 4
    with pytest.raises(ValueError, match=r"batches_yielded must be an int in \[0, 4\]"):
        loader.load_state_dict({"generator": None, "batches_yielded": 5, "transforms": []})
