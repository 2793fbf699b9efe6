"""Classification metrics: hand-computed values, parity with scikit-learn, F1 = Dice."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import shenjing
from shenjing import metrics as M
from shenjing.metrics import UndefinedMetricWarning

AVERAGES = [None, "micro", "macro", "weighted", "binary"]
ZERO_DIVISIONS = ["warn", 0, 1, np.nan]


def _data(n_classes, seed, n=60, missing_pred=True):
    """Random labels; with ``missing_pred`` the last class is never predicted (a 0/0 precision)."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, n_classes, n))
    if missing_pred:
        y_pred[y_pred == n_classes - 1] = 0
    return y_true, y_pred


DATASETS = {
    "binary": _data(2, 0),
    "binary-never-positive": (np.array([0, 1, 1, 0, 1]), np.zeros(5, dtype=int)),
    "5-class": _data(5, 1),
    "5-class-all-predicted": _data(5, 2, missing_pred=False),
    "5-class-absent": (np.array([0, 1, 1, 2, 3, 3]), np.array([0, 1, 3, 2, 3, 0])),
}


def _call(fn, *args, **kw):
    """fn's result, or the exception class it raised; warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kw)
        except ValueError:
            return ValueError


def _same(actual, expected):
    if expected is ValueError or actual is ValueError:
        assert actual is expected
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0)
        assert np.shape(actual) == np.shape(expected)


def test_hand_computed_binary_counts():
    # TP = 1 (index 0), FP = 1 (index 3), FN = 2 (indices 1, 2), TN = 1 (index 4)
    y_true = [1, 1, 1, 0, 0]
    y_pred = [1, 0, 0, 1, 0]
    assert M.precision(y_true, y_pred) == pytest.approx(1 / 2)
    assert M.recall(y_true, y_pred) == pytest.approx(1 / 3)
    assert M.fpr(y_true, y_pred) == pytest.approx(1 / 2)
    assert M.accuracy(y_true, y_pred) == pytest.approx(2 / 5)
    assert M.accuracy(y_true, y_pred, normalize=False) == 2.0
    assert M.f1_score(y_true, y_pred) == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert M.fbeta_score(y_true, y_pred, beta=2) == pytest.approx(5 * (1 / 6) / (4 * (1 / 2) + 1 / 3))
    np.testing.assert_array_equal(M.confusion_matrix(y_true, y_pred), [[1, 1], [2, 1]])


def test_macro_f1_two_definitions_of_the_notes():
    # per class (0, 1, 2): P = (1/2, 0/0 -> 0, 1/2), R = (1/2, 0, 1)
    y_true = [0, 0, 1, 2, 2]
    y_pred = [0, 2, 0, 2, 2]
    p, r = np.array([1 / 2, 0, 2 / 3]), np.array([1 / 2, 0, 1])
    f1 = np.array([1 / 2, 0, 2 * (2 / 3) / (2 / 3 + 1)])
    kw = dict(zero_division=0)
    assert M.f1_score(y_true, y_pred, average="macro", **kw) == pytest.approx(f1.mean())
    assert M.f1_score(y_true, y_pred, average="macro_pr", **kw) == pytest.approx(
        2 * p.mean() * r.mean() / (p.mean() + r.mean()))
    beta2 = 0.25
    expected = (1 + beta2) * p.mean() * r.mean() / (beta2 * p.mean() + r.mean())
    assert M.fbeta_score(y_true, y_pred, beta=0.5, average="macro_pr", **kw) == pytest.approx(expected)
    assert M.precision(y_true, y_pred, average="macro_pr", **kw) == pytest.approx(p.mean())
    # micro-F1 pools the counts: TP = 3, FP = FN = 2
    assert M.f1_score(y_true, y_pred, average="micro") == pytest.approx(3 / 5)


@pytest.mark.parametrize("data", list(DATASETS))
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
def test_prf_match_sklearn(data, average, zero_division):
    skm = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = DATASETS[data]
    pairs = [(M.precision, skm.precision_score, {}), (M.recall, skm.recall_score, {}),
             (M.f1_score, skm.f1_score, {}), (M.fbeta_score, skm.fbeta_score, {"beta": 0.5}),
             (M.fbeta_score, skm.fbeta_score, {"beta": 3.0})]
    for ours, theirs, kw in pairs:
        for labels in (None, [4, 0, 2]):
            kw2 = dict(kw, average=average, zero_division=zero_division, labels=labels)
            _same(_call(ours, y_true, y_pred, **kw2), _call(theirs, y_true, y_pred, **kw2))
        kw2 = dict(kw, average=average, zero_division=zero_division, pos_label=0)
        _same(_call(ours, y_true, y_pred, **kw2), _call(theirs, y_true, y_pred, **kw2))


@pytest.mark.parametrize("data", list(DATASETS))
@pytest.mark.parametrize("average", AVERAGES)
def test_fpr_matches_sklearn_confusion_counts(data, average):
    skm = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = DATASETS[data]
    present = np.union1d(y_true, y_pred)
    if average == "binary" and present.size > 2:
        with pytest.raises(ValueError, match="average='binary'"):
            M.fpr(y_true, y_pred, average=average)
        return
    (tn, fp), (_, _) = np.moveaxis(skm.multilabel_confusion_matrix(y_true, y_pred, labels=present), 0, -1)
    support = np.bincount(np.searchsorted(present, y_true), minlength=present.size)
    with np.errstate(invalid="ignore"):
        per_class = fp / (fp + tn)
    expected = {None: per_class, "binary": per_class[present == 1][0], "macro": per_class.mean(),
                "weighted": np.average(per_class, weights=support), "micro": fp.sum() / (fp + tn).sum()}[average]
    _same(M.fpr(y_true, y_pred, average=average, zero_division=np.nan), expected)


@pytest.mark.parametrize("data", list(DATASETS))
def test_accuracy_and_confusion_matrix_match_sklearn(data):
    skm = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = DATASETS[data]
    _same(M.accuracy(y_true, y_pred), skm.accuracy_score(y_true, y_pred))
    _same(M.accuracy(y_true, y_pred, normalize=False), skm.accuracy_score(y_true, y_pred, normalize=False))
    for labels in (None, [3, 0, 1], [4, 1], [7]):
        for normalize in (None, "true", "pred", "all"):
            ours = _call(M.confusion_matrix, y_true, y_pred, labels=labels, normalize=normalize)
            _same(ours, _call(skm.confusion_matrix, y_true, y_pred, labels=labels, normalize=normalize))
            if normalize is None and ours is not ValueError:
                assert ours.dtype == np.int64


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("ties", [False, True])
def test_top_k_accuracy_matches_sklearn(k, ties):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 5, 80)
    y_score = rng.random((80, 5))
    if ties:
        y_score = np.round(y_score * 2) / 2
    _same(M.top_k_accuracy(y_true, y_score, k=k), skm.top_k_accuracy_score(y_true, y_score, k=k))
    _same(M.top_k_accuracy(y_true, y_score, k=k, normalize=False),
          skm.top_k_accuracy_score(y_true, y_score, k=k, normalize=False))
    # a class missing from y_true needs labels=
    y_true[y_true == 4] = 0
    _same(_call(M.top_k_accuracy, y_true, y_score, k=k), ValueError)
    _same(M.top_k_accuracy(y_true, y_score, k=k, labels=range(5)),
          skm.top_k_accuracy_score(y_true, y_score, k=k, labels=range(5)))
    # binary: scores of the positive class, probabilities and decision values
    yb = rng.integers(0, 2, 50)
    for sb in (rng.random(50), rng.normal(size=50)):
        _same(_call(M.top_k_accuracy, yb, sb, k=k), _call(skm.top_k_accuracy_score, yb, sb, k=k))


def test_top_k_hand_computed_ties_rank_the_later_class_first():
    y_score = [[0.4, 0.4, 0.2]]
    assert M.top_k_accuracy([1], y_score, k=1, labels=[0, 1, 2]) == 1.0
    assert M.top_k_accuracy([0], y_score, k=1, labels=[0, 1, 2]) == 0.0
    assert M.top_k_accuracy([0], y_score, k=2, labels=[0, 1, 2]) == 1.0


def test_string_labels_and_tensors():
    skm = pytest.importorskip("sklearn.metrics")
    y_true = np.array(["cat", "dog", "pig", "cat", "dog", "pig"])
    y_pred = np.array(["cat", "pig", "dog", "cat", "cat", "dog"])
    for average in ("macro", "micro", "weighted"):
        _same(M.f1_score(y_true, y_pred, average=average), skm.f1_score(y_true, y_pred, average=average))
    _same(M.precision(y_true, y_pred, average=None, labels=["pig", "dog", "cat"]),
          skm.precision_score(y_true, y_pred, average=None, labels=["pig", "dog", "cat"]))
    yt, yp = DATASETS["5-class"]
    assert M.f1_score(shenjing.tensor(yt), shenjing.tensor(yp), average="macro") == M.f1_score(yt, yp, average="macro")
    assert M.accuracy(shenjing.tensor(yt.astype(np.float32)), yp) == M.accuracy(yt, yp)


def test_zero_division_warns_only_with_warn():
    y_true, y_pred = DATASETS["binary-never-positive"]
    with pytest.warns(UndefinedMetricWarning, match="Precision"):
        assert M.precision(y_true, y_pred) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.precision(y_true, y_pred, zero_division=1) == 1.0
        assert np.isnan(M.precision(y_true, y_pred, zero_division=np.nan))


@pytest.mark.parametrize("call, match", [
    (lambda: M.precision([0, 1, 2], [0, 1, 1]), "multiclass"),
    (lambda: M.recall([0, 1], [0, 1], average="samples"), "average"),
    (lambda: M.f1_score(["a", "b"], ["a", "b"]), "pos_label"),
    (lambda: M.f1_score([0, 1], [0, 1], zero_division=2), "zero_division"),
    (lambda: M.accuracy([0, 1], [0, 1, 1]), "inconsistent"),
    (lambda: M.accuracy([0.5, 1.0], [0, 1]), "continuous"),
    (lambda: M.accuracy([], []), "empty"),
    (lambda: M.accuracy([[0, 1], [1, 0]], [[0, 1], [1, 0]]), "1-D"),
    (lambda: M.confusion_matrix([0, 1], [0, 1], normalize="rows"), "normalize"),
    (lambda: M.fbeta_score([0, 1], [0, 1], beta=-1), "beta"),
    (lambda: M.dice_coefficient(np.ones((2, 2)), np.ones(4)), "shape"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mixed_string_and_numeric_labels_raise_type_error():
    with pytest.raises(TypeError, match="mix"):
        M.accuracy(["a", "b"], [0, 1])


def test_dice_hand_computed():
    a = np.array([[1, 1, 0], [0, 1, 0]])
    b = np.array([[1, 0, 0], [1, 1, 1]])
    # |A| = 3, |B| = 4, |A ∩ B| = 2
    assert M.dice_coefficient(a, b) == pytest.approx(4 / 7)
    assert M.dice_coefficient(np.zeros(3), np.zeros(3), zero_division=1) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(lambda h: st.tuples(
    arrays(bool, (h, 5)), arrays(bool, (h, 5)))))
def test_f1_equals_dice_on_binary_masks(masks):
    """Seed 004 §1.4 注2: DSC = 2TP / ((TP + FP) + (TP + FN)) = F1."""
    true_mask, pred_mask = masks
    dice = M.dice_coefficient(true_mask, pred_mask, zero_division=1)
    f1 = M.f1_score(true_mask.ravel(), pred_mask.ravel(), pos_label=True, zero_division=1)
    assert dice == pytest.approx(f1, rel=1e-12)
