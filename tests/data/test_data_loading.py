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


def test_drop_last_and_unbatched_samples():
    X, y = _data(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [b[0].shape[0] for b in loader] == [4, 4]
    samples = list(DataLoader(TensorDataset(X, y), batch_size=None))
    assert len(samples) == 10 and samples[3][0].shape == (3,) and samples[3][1].shape == ()
    np.testing.assert_array_equal(np.asarray(samples[3][0]), X[3])


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


# ----- PyTorch's data semantics -------------------------------------------------------------------
def test_tensor_dataset_items_are_tensors_like_torch():
    torch = pytest.importorskip("torch")
    X, y = _data(5)
    ours, theirs = TensorDataset(X, y)[2], torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y))[2]
    assert all(isinstance(t, sj.Tensor) for t in ours)
    assert [t.shape for t in ours] == [tuple(t.shape) for t in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(a), b.numpy())
    assert int(ours[1]) == int(theirs[1]) and TensorDataset(X, y)[1:3][0].shape == (2, 3)
    ds = TensorDataset(X, y)
    assert ds[sj.tensor([0, 4])][1].tolist() == y[[0, 4]].tolist() and int(ds[sj.tensor(2)][1]) == y[2]


def test_unbatched_loader_matches_torch():
    torch = pytest.importorskip("torch")
    X, y = _data(6)
    ours = list(DataLoader(ListDataset(X, y), batch_size=None))
    theirs = list(torch.utils.data.DataLoader(ListDataset(X, y), batch_size=None))
    assert len(ours) == len(theirs) == 6
    for (xa, ya), (xb, yb) in zip(ours, theirs):
        assert isinstance(xa, sj.Tensor) and type(ya) is type(yb) is int
        np.testing.assert_array_equal(np.asarray(xa), xb.numpy())
        assert ya == yb and str(xa.dtype) == str(xb.dtype).removeprefix("torch.")


class Named(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float64), "name": f"item{i}", "label": i}


def test_default_collate_keeps_strings_as_lists_and_collates_dicts_like_torch():
    torch = pytest.importorskip("torch")
    ours = next(iter(DataLoader(Named(), batch_size=3)))
    theirs = next(iter(torch.utils.data.DataLoader(Named(), batch_size=3)))
    assert ours["name"] == theirs["name"] == ["item0", "item1", "item2"]
    np.testing.assert_array_equal(np.asarray(ours["x"]), theirs["x"].numpy())
    assert ours["x"].dtype == np.float64 and ours["label"].dtype == np.int64
    assert ours["label"].tolist() == theirs["label"].tolist()


def test_subset_and_concat_dataset_index_like_torch():
    torch = pytest.importorskip("torch")
    from shenjing.data import ConcatDataset, Subset

    X, y = _data(7)
    a, b = ListDataset(X[:3], y[:3]), ListDataset(X[3:], y[3:])
    ours, theirs = ConcatDataset([a, b]), torch.utils.data.ConcatDataset([a, b])
    assert len(ours) == len(theirs) == 7 and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in [0, 2, 3, 6, -1, -7]:
        np.testing.assert_array_equal(ours[i][0], theirs[i][0])
    with pytest.raises(IndexError):
        ours[7]
    sub = Subset(ours, [6, 0, 4])
    assert len(sub) == 3 and sub[0][1] == torch.utils.data.Subset(theirs, [6, 0, 4])[0][1] == y[6]
    batch = next(iter(DataLoader(sub, batch_size=3)))
    np.testing.assert_array_equal(np.asarray(batch[0]), X[[6, 0, 4]])


@pytest.mark.parametrize("lengths", [[0.5, 0.3, 0.2], [0.34, 0.33, 0.33], [3, 4], [0.2, 0.8]])
def test_random_split_lengths_follow_torch(lengths):
    torch = pytest.importorskip("torch")
    from shenjing.data import random_split

    ds = ListDataset(*_data(7))
    ours, theirs = random_split(ds, lengths), torch.utils.data.random_split(ds, lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s.indices) == list(range(7))


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [-1, 8]])
def test_random_split_rejects_lengths_that_do_not_cover_the_dataset(lengths):
    from shenjing.data import random_split

    with pytest.raises(ValueError, match="lengths must be"):
        random_split(ListDataset(*_data(7)), lengths)


def test_iterable_dataset_batches_like_torch_and_refuses_a_sampler():
    torch = pytest.importorskip("torch")
    from shenjing.data import IterableDataset

    class Stream(IterableDataset, torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    ours = [t.tolist() for t in DataLoader(Stream(), batch_size=3)]
    theirs = [t.tolist() for t in torch.utils.data.DataLoader(Stream(), batch_size=3)]
    assert ours == theirs
    assert [t.tolist() for t in DataLoader(Stream(), batch_size=3, drop_last=True)] == theirs[:2]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError, match="no __len__"):
        len(DataLoader(Stream()))


def test_trainer_still_fits_a_tensor_dataset_and_full_batch():
    from shenjing import nn
    from shenjing.train import Trainer

    sj.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Linear(3, 2)
    trainer = Trainer(model, nn.CrossEntropyLoss(), sj.optim.SGD(model.parameters(), lr=0.5))
    history = trainer.fit(TensorDataset(X, y), epochs=15, batch_size=None)
    assert len(history["loss"]) == 15 and history["loss"][-1] < history["loss"][0]
    assert trainer.evaluate((X, y))["loss"] == pytest.approx(history["loss"][-1], rel=0.2)


def test_batch_sampler_and_torchs_positional_order(torch):
    from shenjing.data import BatchSampler

    X, y = _data(10)
    batches = [[3, 1], [0, 4, 9], [7]]
    ours = [b[1].tolist() for b in DataLoader(ListDataset(X, y), batch_sampler=batches)]
    theirs = [b[1].tolist() for b in torch.utils.data.DataLoader(ListDataset(X, y), batch_sampler=batches)]
    assert ours == theirs and len(DataLoader(ListDataset(X, y), batch_sampler=batches)) == 3
    sampler = BatchSampler(SequentialSampler(10), 4, drop_last=True)
    assert list(sampler) == list(torch.utils.data.BatchSampler(range(10), 4, True)) and len(sampler) == 2
    positional = DataLoader(TensorDataset(X, y), 4, False, None, None, 0, None, False, True)
    assert positional.drop_last and len(positional) == len(torch.utils.data.DataLoader(
        ListDataset(X, y), 4, False, None, None, 0, None, False, True)) == 2
    for loader in (DataLoader, torch.utils.data.DataLoader):
        with pytest.raises(ValueError, match="mutually exclusive"):
            loader(ListDataset(X, y), batch_size=2, batch_sampler=batches)



def test_subset_random_sampler_shuffles_only_its_indices():
    from shenjing.data import SubsetRandomSampler

    sampler = SubsetRandomSampler(sj.tensor([1, 5, 6, 8]), generator=sj.Generator().manual_seed(0))
    orders = [list(sampler) for _ in range(3)]
    assert all(sorted(o) == [1, 5, 6, 8] for o in orders) and len(sampler) == 4 and len({tuple(o) for o in orders}) > 1
    X, y = _data(10)
    labels = np.concatenate([np.asarray(b[1]) for b in DataLoader(TensorDataset(X, y), batch_size=3, sampler=sampler)])
    assert sorted(labels.tolist()) == sorted(y[[1, 5, 6, 8]].tolist())


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


@pytest.mark.parametrize("n, batch_size, drop_last", [(23, 5, False), (23, 5, True), (8, 8, False), (9, 1, False)])
def test_any_position_resumes_with_the_same_batches(n, batch_size, drop_last):
    X, y = _data(n)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, seed=3, drop_last=drop_last)
    epoch = [b[1].numpy() for b in loader]
    for k in range(len(epoch) + 1):
        loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, seed=3, drop_last=drop_last)
        batches = iter(loader)
        for _ in range(k):
            next(batches)
        other = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, seed=0, drop_last=drop_last)
        other.load_state_dict(loader.state_dict())
        rest = [b[1].numpy() for b in other]
        assert len(rest) == len(epoch) - k
        for a, b in zip(rest, epoch[k:]):
            np.testing.assert_array_equal(a, b)
