"""shenjing.Generator: an independent, seedable random stream accepted wherever torch takes ``generator=``."""

import json

import numpy as np
import pytest

import shenjing as sj
from shenjing.data import DataLoader, RandomSampler, TensorDataset, random_split


def test_manual_seed_repeats_the_stream_and_leaves_the_global_one_alone():
    sj.manual_seed(0)
    expected_global = sj.randn(4).numpy()
    sj.manual_seed(0)
    g = sj.Generator().manual_seed(7)
    first = [sj.randn(3, generator=g).numpy(), sj.rand(2, generator=g).numpy(),
             sj.randperm(6, generator=g).numpy(), sj.randint(0, 9, (4,), generator=g).numpy()]
    np.testing.assert_array_equal(sj.randn(4).numpy(), expected_global)
    g.manual_seed(7)
    again = [sj.randn(3, generator=g).numpy(), sj.rand(2, generator=g).numpy(),
             sj.randperm(6, generator=g).numpy(), sj.randint(0, 9, (4,), generator=g).numpy()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert first[2].dtype == np.int64 and sorted(first[2].tolist()) == list(range(6))


def test_state_round_trips_through_json_and_fresh_generators_agree():
    g = sj.Generator()
    assert g.initial_seed() == sj.Generator().initial_seed()
    np.testing.assert_array_equal(sj.randn(5, generator=g).numpy(), sj.randn(5, generator=sj.Generator()).numpy())
    state = json.loads(json.dumps(g.get_state()))
    ahead = sj.randn(5, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(sj.randn(5, generator=g).numpy(), ahead)


def test_seed_picks_a_new_seed_and_reports_it():
    g = sj.Generator()
    seed = g.seed()
    assert g.initial_seed() == seed
    np.testing.assert_array_equal(sj.rand(3, generator=g).numpy(),
                                  sj.rand(3, generator=sj.Generator().manual_seed(seed)).numpy())


def test_loader_sampler_and_split_take_a_generator():
    ds = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))

    def order(gen):
        return np.concatenate([np.asarray(b[1]) for b in DataLoader(ds, batch_size=3, shuffle=True, generator=gen)])

    np.testing.assert_array_equal(order(sj.Generator().manual_seed(1)), order(sj.Generator().manual_seed(1)))
    assert sorted(RandomSampler(ds, generator=sj.Generator().manual_seed(2))) == list(range(10))
    a = random_split(ds, [6, 4], generator=sj.Generator().manual_seed(3))
    b = random_split(ds, [6, 4], generator=sj.Generator().manual_seed(3))
    assert a[0].indices == b[0].indices and a[1].indices == b[1].indices


@pytest.mark.parametrize("seed", [1.5, "3"])
def test_bad_seed_names_the_argument_with_torchs_exception_class(torch, seed):
    with pytest.raises(RuntimeError, match="seed must be an integer"):
        sj.Generator().manual_seed(seed)
    with pytest.raises((RuntimeError, TypeError)):
        torch.Generator().manual_seed(seed)


def test_negative_seeds_wrap_modulo_two_to_the_64_like_torch(torch):
    assert sj.Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    np.testing.assert_array_equal(sj.rand(3, generator=sj.Generator().manual_seed(-1)).numpy(),
                                  sj.rand(3, generator=sj.Generator().manual_seed(2**64 - 1)).numpy())


def test_bad_generator_and_bad_state_raise_type_errors():
    with pytest.raises(TypeError, match="generator must be"):
        sj.randn(2, generator=3)
    with pytest.raises(TypeError, match="state must be a dict"):
        sj.Generator().set_state([1, 2])


def test_global_stream_state_round_trips_at_the_top_level():
    sj.manual_seed(1)
    state = json.loads(json.dumps(sj.get_rng_state()))
    ahead = sj.randn(4).numpy()
    sj.set_rng_state(state)
    np.testing.assert_array_equal(sj.randn(4).numpy(), ahead)
