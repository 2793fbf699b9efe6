"""Entropy, cross-entropy, KL, mutual information and perplexity: scipy / scikit-learn / PyTorch parity."""

import numpy as np
import pytest

import shenjing
from helpers import assert_close
from shenjing import metrics as M


def _distributions(seed):
    rng = np.random.default_rng(seed)
    p, q = rng.random((4, 6)), rng.random((4, 6))
    p[0, 2] = 0.0
    q[1, 3] = 0.0
    return p, q


@pytest.mark.parametrize("base", [None, 2])
@pytest.mark.parametrize("axis", [-1, 0])
def test_entropy_kl_cross_entropy_match_scipy(base, axis):
    stats = pytest.importorskip("scipy.stats")
    p, q = _distributions(0)
    assert_close(M.entropy(p, axis=axis, base=base), stats.entropy(p, axis=axis, base=base))
    q_pos = q + 0.1
    assert_close(M.kl_divergence(p, q_pos, axis=axis, base=base), stats.entropy(p, q_pos, axis=axis, base=base))
    assert_close(M.cross_entropy(p, q_pos, axis=axis, base=base),
                 stats.entropy(p, axis=axis, base=base) + stats.entropy(p, q_pos, axis=axis, base=base))
    # q(x) = 0 < p(x) makes both infinite, as in scipy
    assert_close(M.kl_divergence(p, q), stats.entropy(p, q, axis=-1))
    assert np.isinf(M.cross_entropy(p, q)[1])


def test_entropy_hand_computed_and_1d_floats():
    assert M.entropy([0.25] * 4) == pytest.approx(np.log(4))
    assert M.entropy([1, 0, 0]) == 0.0
    assert M.entropy([1, 1], base=2) == pytest.approx(1.0)
    assert isinstance(M.kl_divergence([0.5, 0.5], [0.9, 0.1]), float)
    assert M.kl_divergence([0.2, 0.8], [0.2, 0.8]) == 0.0
    # D_KL(p || q) = H(p, q) - H(p)
    p, q = [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]
    assert M.kl_divergence(p, q) == pytest.approx(M.cross_entropy(p, q) - M.entropy(p), rel=1e-12)
    assert M.entropy(shenjing.tensor([0.5, 0.5])) == pytest.approx(np.log(2))


@pytest.mark.parametrize("seed", range(6))
def test_joint_measures_match_sklearn_and_scipy(seed):
    skm = pytest.importorskip("sklearn.metrics")
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 80))
    a = rng.integers(0, 1 + seed % 4, n)
    b = np.where(rng.random(n) < 0.5, a, rng.integers(0, 4, n))
    counts = skm.cluster.contingency_matrix(a, b)
    assert_close(M.mutual_information(a, b), skm.mutual_info_score(a, b))
    h_ab = stats.entropy(counts.ravel())
    h_a, h_b = stats.entropy(counts.sum(axis=1)), stats.entropy(counts.sum(axis=0))
    assert_close(M.joint_entropy(a, b), h_ab)
    assert M.conditional_entropy(a, b) == pytest.approx(h_ab - h_b, rel=1e-10, abs=1e-12)
    # the notes' identities: I = H(A) - H(A|B) = H(A) + H(B) - H(A, B)
    assert M.mutual_information(a, b) == pytest.approx(h_a - M.conditional_entropy(a, b), rel=1e-10, abs=1e-12)
    assert M.mutual_information(a, b) == pytest.approx(h_a + h_b - M.joint_entropy(a, b), rel=1e-10, abs=1e-12)


def test_mutual_information_string_labels_and_symmetry():
    a = ["x", "x", "y", "y", "z"]
    b = [1, 1, 2, 2, 2]
    assert M.mutual_information(a, b) == pytest.approx(M.mutual_information(b, a))
    assert M.mutual_information(a, a) == pytest.approx(M.joint_entropy(a, a))
    assert M.mutual_information([0, 0, 0], [1, 2, 3]) == 0.0


def test_perplexity_hand_computed_and_sequences():
    # uniform over C classes -> perplexity C
    assert M.perplexity([0, 3, 2], np.full((3, 4), 0.25)) == pytest.approx(4.0)
    # exp(-(log .5 + log .25) / 2) = sqrt(8)
    assert M.perplexity([0, 1], [[0.5, 0.5], [0.75, 0.25]]) == pytest.approx(np.sqrt(8))
    rng = np.random.default_rng(5)
    prob = rng.random((3, 4, 6))
    prob /= prob.sum(axis=-1, keepdims=True)
    target = rng.integers(0, 6, (3, 4))
    assert M.perplexity(target, prob) == pytest.approx(M.perplexity(target.ravel(), prob.reshape(12, 6)))
    assert M.perplexity([0], [[0.0, 1.0]]) == np.inf


def test_perplexity_matches_torch_cross_entropy(torch):
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(20, 7))
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    target = rng.integers(0, 7, 20)
    expected = torch.exp(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target)))
    assert_close(np.float64(M.perplexity(target, prob)), expected.numpy())
    assert M.perplexity(target, prob.astype(np.float32)) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: M.entropy([-0.1, 1.1]), "non-negative"),
    (lambda: M.entropy([0.0, 0.0]), "sum to 0"),
    (lambda: M.kl_divergence([0.5, 0.5], [1 / 3] * 3), "same shape"),
    (lambda: M.mutual_information([0, 1], [0, 1, 1]), "inconsistent"),
    (lambda: M.perplexity([0, 1], np.full((3, 2), 0.5)), "y_prob"),
    (lambda: M.perplexity([0, 2], np.full((2, 2), 0.5)), r"\[0, 2\)"),
    (lambda: M.perplexity([0, 1], [[1.5, 0.5], [0.5, 0.5]]), "probabilities"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
