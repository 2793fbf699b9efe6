"""Probability averaging, rank averaging and voting (seed 004 §7) on toy data with known answers."""

import numpy as np
import pytest

import shenjing as sj
from shenjing.ensemble import average, rank_average, vote


def test_average_plain_and_weighted():
    p1 = np.array([[0.9, 0.1], [0.2, 0.8]])
    p2 = np.array([[0.5, 0.5], [0.6, 0.4]])
    np.testing.assert_allclose(average([p1, p2]), [[0.7, 0.3], [0.4, 0.6]])
    np.testing.assert_allclose(average(np.stack([p1, p2]), weights=[3, 1]), 0.75 * p1 + 0.25 * p2)
    # the notes' H = (1/T) Σ w_i h_i with weights of mean 1
    np.testing.assert_allclose(average([p1, p2], weights=[1.5, 0.5]), (1.5 * p1 + 0.5 * p2) / 2)
    np.testing.assert_allclose(average([p1, p2], weights=[1, 0]), p1)


def test_average_keeps_float32_and_takes_tensors():
    p = [sj.Tensor(np.full((3, 2), 0.5, np.float32)), np.full((3, 2), 0.25, np.float32)]
    out = average(p, weights=[1, 1])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 0.375)
    assert average(p).dtype == np.float32


@pytest.mark.parametrize(
    "probs, weights, match",
    [
        ([], None, "at least one"),
        ([np.zeros((2, 3)), np.zeros((3, 3))], None, "same shape"),
        (np.zeros(4), None, "at least 2 dims"),
        (np.zeros((2, 3, 2)), [1.0], r"weights must have shape \(2,\)"),
        (np.zeros((2, 3, 2)), [1.0, -1.0], "non-negative"),
        (np.zeros((2, 3, 2)), [0.0, 0.0], "positive sum"),
    ],
)
def test_average_bad_input(probs, weights, match):
    with pytest.raises(ValueError, match=match):
        average(probs, weights)


def test_rank_average_known_answer():
    # model 1 on a probability scale, model 2 on a logit scale: ranks make them comparable
    s1 = np.array([0.1, 0.4, 0.35, 0.8])
    s2 = np.array([-3.0, 10.0, 2.0, 1.0])
    # ranks 1..4: s1 -> [1, 3, 2, 4], s2 -> [1, 4, 3, 2]; mean [1, 3.5, 2.5, 3], divided by N=4
    np.testing.assert_allclose(rank_average([s1, s2]), [0.25, 0.875, 0.625, 0.75])


def test_rank_average_ties_and_classes():
    scores = np.array([[[0.2, 0.8], [0.2, 0.1], [0.9, 0.5]]])  # (T=1, N=3, C=2)
    # class 0: ranks of [0.2, 0.2, 0.9] = [1.5, 1.5, 3]; class 1: ranks of [0.8, 0.1, 0.5] = [3, 1, 2]
    np.testing.assert_allclose(rank_average(scores), np.array([[1.5, 3], [1.5, 1], [3, 2]]) / 3)


def test_rank_average_is_invariant_to_monotone_transforms():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(3, 20))
    np.testing.assert_allclose(rank_average(s), rank_average([np.exp(s[0]), s[1] * 5 + 2, s[2] ** 3]))


def test_vote_majority():
    labels = np.array([[0, 1, 2, 2], [0, 2, 2, 1], [1, 2, 0, 1]])
    np.testing.assert_array_equal(vote(labels), [0, 2, 2, 1])


def test_vote_tie_broken_by_mean_probability():
    labels = np.array([[0, 1], [1, 0]])  # each sample: one vote for 0, one for 1
    probs = np.array([
        [[0.55, 0.45], [0.3, 0.7]],
        [[0.1, 0.9], [0.6, 0.4]],
    ])
    # mean probabilities: sample 0 -> [0.325, 0.675] (class 1), sample 1 -> [0.45, 0.55] (class 1)
    np.testing.assert_array_equal(vote(labels, probs), [1, 1])
    np.testing.assert_array_equal(vote(labels), [0, 0])  # without probs: smallest index


def test_vote_probability_never_overrides_a_majority():
    labels = np.array([[0], [0], [1]])
    probs = np.array([[[0.51, 0.49]], [[0.51, 0.49]], [[0.0, 1.0]]])
    assert average(probs)[0].argmax() == 1
    np.testing.assert_array_equal(vote(labels, probs), [0])


def test_vote_bad_input():
    with pytest.raises(ValueError, match="integer class indices"):
        vote(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\)"):
        vote(np.array([[0, 2]]), np.full((1, 2, 2), 0.5))
    with pytest.raises(ValueError, match="to match labels"):
        vote(np.array([[0, 1]]), np.full((2, 2, 2), 0.5))
