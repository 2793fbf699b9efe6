"""Dropout: both scaling conventions, mask statistics, gradients and seeding."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
import shenjing.nn.functional as F


def test_inverted_dropout_scales_kept_units_in_training():
    sj.manual_seed(0)
    x = sj.ones(200, 100, requires_grad=True)
    out = F.dropout(x, p=0.3, training=True)
    values = np.unique(out.numpy())
    assert_close(values, np.array([0.0, 1 / 0.7], dtype=np.float32))
    assert (out.numpy() == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert out.numpy().mean() == pytest.approx(1.0, abs=0.02)
    out.sum().backward()
    assert_close(x.grad, out.numpy())


def test_inverted_dropout_is_identity_in_eval():
    x = sj.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x


def test_test_time_scaling_variant():
    sj.manual_seed(1)
    x = sj.ones(100, 100)
    train = F.dropout(x, 0.4, training=True, scale="test").numpy()
    assert set(np.unique(train)) == {0.0, 1.0}
    assert_close(F.dropout(x, 0.4, training=False, scale="test"), np.full((100, 100), 0.6, dtype=np.float32))


def test_expected_output_matches_between_conventions():
    sj.manual_seed(2)
    x = sj.ones(400, 400)
    inverted = F.dropout(x, 0.5, training=True).numpy().mean()
    plain = F.dropout(x, 0.5, training=True, scale="test").numpy().mean()
    assert inverted == pytest.approx(F.dropout(x, 0.5, training=False).numpy().mean(), abs=0.01)
    assert plain == pytest.approx(F.dropout(x, 0.5, training=False, scale="test").numpy().mean(), abs=0.01)


def test_edge_probabilities_and_seeding():
    x = sj.randn(3, 4)
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    sj.manual_seed(5)
    a = F.dropout(x, 0.5).numpy()
    sj.manual_seed(5)
    assert_close(F.dropout(x, 0.5), a)
    with pytest.raises(ValueError, match="p must be"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="scale"):
        F.dropout(x, 0.5, scale="both")


def test_dropout_keeps_dtype():
    assert F.dropout(sj.randn(3, 3, dtype="float64"), 0.5).dtype == np.float64
    assert F.dropout(sj.randn(3, 3), 0.5).dtype == np.float32


@pytest.mark.parametrize("fn, shape, drawn", [(F.dropout1d, (40, 30, 7), 2), (F.dropout1d, (30, 7), 1),
                                              (F.dropout2d, (40, 30, 3, 4), 2), (F.dropout2d, (30, 20, 4), 2)])
def test_channel_dropout_drops_whole_channels_and_rescales(fn, shape, drawn):
    sj.manual_seed(0)
    x = sj.ones(*shape, dtype=sj.float64)
    y = fn(x, p=0.25).numpy().reshape(shape[:drawn] + (-1,))
    assert set(np.unique(y).tolist()) == {0.0, 1 / 0.75}
    assert (y == y[..., :1]).all()  # one value per channel
    assert abs((y[..., 0] == 0).mean() - 0.25) < 0.05
    np.testing.assert_array_equal(fn(x, p=0.25, training=False).numpy(), x.numpy())
    assert not fn(x, p=1.0).numpy().any()


@pytest.mark.parametrize("fn, shape", [(F.dropout1d, (3, 4, 5)), (F.dropout2d, (2, 3, 4, 2))])
def test_channel_dropout_gradcheck_with_a_fixed_mask(fn, shape):
    def seeded(x):
        sj.manual_seed(5)
        return fn(x, p=0.4)

    x = sj.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    assert sj.autograd.gradcheck(seeded, [x])


def test_channel_dropout_layers_match_torch_in_eval_and_reject_bad_shapes(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    for ours, theirs, data in [(sj.nn.Dropout2d(0.3), torch.nn.Dropout2d(0.3), x),
                               (sj.nn.Dropout1d(0.3), torch.nn.Dropout1d(0.3), x[0])]:
        ours.eval(), theirs.eval()
        assert_close(ours(sj.tensor(data)), theirs(torch.tensor(data)), "float64")
        assert repr(ours) == repr(theirs).replace(", inplace=False", "")
    with pytest.raises(ValueError, match=r"dropout2d: input must be \(N, C, H, W\)"):
        F.dropout2d(sj.ones(2, 3))
    with pytest.raises(ValueError, match="p must be in"):
        sj.nn.Dropout1d(1.5)
