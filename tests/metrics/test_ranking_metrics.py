"""ROC / PR curves, AUC and AP: parity with scikit-learn, VOC2007 and VOC2010 worked examples."""

import warnings

import numpy as np
import pytest

import shenjing
from shenjing import metrics as M
from shenjing.metrics import UndefinedMetricWarning


def _binary(seed, ties):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 70)
    s = rng.random(70) + 0.3 * y
    return y, (np.round(s * 4) / 4 if ties else s)


def _multiclass(seed, ties, k=5, n=90):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    p = rng.random((n, k)) + np.eye(k)[y]
    if ties:
        p = np.round(p * 2) / 2 + 0.1
    return y, p / p.sum(axis=1, keepdims=True)


def _close(actual, expected):
    if isinstance(expected, tuple):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _close(a, e)
        return
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("drop", [True, False])
def test_curves_match_sklearn(ties, drop):
    skm = pytest.importorskip("sklearn.metrics")
    y, s = _binary(0, ties)
    _close(M.roc_curve(y, s, drop_intermediate=drop), skm.roc_curve(y, s, drop_intermediate=drop))
    _close(M.precision_recall_curve(y, s, drop_intermediate=drop),
           skm.precision_recall_curve(y, s, drop_intermediate=drop))
    labels = np.where(y == 1, "spam", "ham")
    _close(M.roc_curve(labels, s, pos_label="ham", drop_intermediate=drop),
           skm.roc_curve(labels, s, pos_label="ham", drop_intermediate=drop))


@pytest.mark.parametrize("ties", [False, True])
def test_binary_auc_and_ap_match_sklearn(ties):
    skm = pytest.importorskip("sklearn.metrics")
    y, s = _binary(1, ties)
    _close(M.roc_auc_score(y, s), skm.roc_auc_score(y, s))
    _close(M.roc_auc_score(y * 5 + 2, s), skm.roc_auc_score(y * 5 + 2, s))
    _close(M.average_precision(y, s), skm.average_precision_score(y, s))
    _close(M.average_precision(y, s, pos_label=0), skm.average_precision_score(y, s, pos_label=0))
    fpr, tpr, _ = M.roc_curve(y, s)
    _close(M.auc(fpr, tpr), skm.auc(fpr, tpr))
    _close(M.auc(fpr[::-1], tpr[::-1]), skm.auc(fpr[::-1], tpr[::-1]))
    _close(M.roc_auc_score(shenjing.tensor(y), shenjing.tensor(s.astype(np.float32))),
           skm.roc_auc_score(y, s.astype(np.float32)))


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_multiclass_auc_and_ap_match_sklearn(ties, average):
    skm = pytest.importorskip("sklearn.metrics")
    y, p = _multiclass(2, ties)
    for multi_class in ("ovr", "ovo"):
        if multi_class == "ovo" and average in ("micro", None):
            with pytest.raises(ValueError, match="average"):
                M.roc_auc_score(y, p, multi_class=multi_class, average=average)
            continue
        _close(M.roc_auc_score(y, p, multi_class=multi_class, average=average),
               skm.roc_auc_score(y, p, multi_class=multi_class, average=average))
    _close(M.average_precision(y, p, average=average), skm.average_precision_score(y, p, average=average))
    # a class absent from y_true, named by labels: its one-vs-rest AUC is undefined
    y_absent = np.where(y == 4, 0, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = skm.roc_auc_score(y_absent, p, multi_class="ovr", average=average, labels=range(5))
        _close(M.roc_auc_score(y_absent, p, multi_class="ovr", average=average, labels=range(5)), expected)


def test_auc_hand_computed():
    # positives (0.35, 0.8) against negatives (0.1, 0.4): 3 of the 4 pairs ranked right
    assert M.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half
    assert M.roc_auc_score([0, 1], [0.5, 0.5]) == pytest.approx(0.5)


def _voc_ap(rec, prec, use_07_metric):
    """The VOC devkit's ``voc_ap`` (py-faster-rcnn), written out as the reference."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0.0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


# Worked example (VOC2007, 11-point): 14 ranked samples, 7 positives.
#   rank   1    2    3    4    5    6    7    8    9    10   11   12   13   14
#   label  1    1    0    1    0    1    0    0    1    0    1    0    0    1
#   TP     1    2    2    3    3    4    4    4    5    5    6    6    6    7
#   prec   1    1   2/3  3/4  3/5  2/3  4/7  1/2  5/9  1/2  6/11 1/2  6/13 1/2
#   rec   1/7  2/7  2/7  3/7  3/7  4/7  4/7  4/7  5/7  5/7  6/7  6/7  6/7   1
# p_interp(r) = max precision at recall >= r:
#   r = 0, .1, .2 -> 1;  r = .3, .4 -> 3/4;  r = .5 -> 2/3;  r = .6, .7 -> 5/9;  r = .8 -> 6/11;  r = .9, 1 -> 1/2
WORKED_LABELS = np.array([1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1])
WORKED_11POINT = (3 * 1 + 2 * 3 / 4 + 2 / 3 + 2 * 5 / 9 + 6 / 11 + 2 * 1 / 2) / 11


def test_11point_ap_worked_example():
    scores = np.linspace(1.0, 0.1, 14)
    tp = np.cumsum(WORKED_LABELS)
    prec, rec = tp / np.arange(1, 15), tp / 7
    assert _voc_ap(rec, prec, use_07_metric=True) == pytest.approx(WORKED_11POINT, rel=1e-12)
    assert M.average_precision(WORKED_LABELS, scores, interpolation="11point") == pytest.approx(WORKED_11POINT,
                                                                                                rel=1e-12)


def test_all_point_and_step_ap_match_the_references():
    skm = pytest.importorskip("sklearn.metrics")
    scores = np.linspace(1.0, 0.1, 14)
    tp = np.cumsum(WORKED_LABELS)
    prec, rec = tp / np.arange(1, 15), tp / 7
    expected = _voc_ap(rec, prec, use_07_metric=False)
    assert M.average_precision(WORKED_LABELS, scores, interpolation="all") == pytest.approx(expected, rel=1e-12)
    assert M.average_precision(WORKED_LABELS, scores) == pytest.approx(
        skm.average_precision_score(WORKED_LABELS, scores), rel=1e-12)
    # the envelope only raises precision: step <= all-point
    assert M.average_precision(WORKED_LABELS, scores) <= expected


@pytest.mark.parametrize("interpolation", ["11point", "all"])
def test_interpolated_ap_on_random_rankings_matches_voc(interpolation):
    rng = np.random.default_rng(4)
    for _ in range(20):
        y = rng.integers(0, 2, 40)
        y[0] = 1
        s = rng.random(40)
        order = np.argsort(-s)
        tp = np.cumsum(y[order])
        expected = _voc_ap(tp / y.sum(), tp / np.arange(1, 41), use_07_metric=interpolation == "11point")
        assert M.average_precision(y, s, interpolation=interpolation) == pytest.approx(expected, rel=1e-12)


def test_undefined_cases_warn():
    with pytest.warns(UndefinedMetricWarning, match="one class"):
        assert np.isnan(M.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))
    with pytest.warns(UndefinedMetricWarning, match="negative"):
        fpr, _, _ = M.roc_curve([1, 1], [0.1, 0.2])
    assert np.all(np.isnan(fpr))


@pytest.mark.parametrize("call, match", [
    (lambda: M.roc_curve([0, 1, 2], [0.1, 0.2, 0.3]), "pos_label"),
    (lambda: M.roc_curve([0, 1], [0.1, np.nan]), "NaN"),
    (lambda: M.roc_auc_score([0, 1, 2], np.full((3, 3), 1 / 3)), "multi_class"),
    (lambda: M.roc_auc_score([0, 1, 2], np.ones((3, 3)), multi_class="ovr"), "sum"),
    (lambda: M.roc_auc_score([0, 1, 2], np.full((3, 4), 0.25), multi_class="ovr"), "columns"),
    (lambda: M.average_precision([0, 1], [0.1, 0.2], interpolation="voc"), "interpolation"),
    (lambda: M.average_precision([0, 1, 2], np.full((3, 2), 0.5)), "n_classes"),
    (lambda: M.average_precision(["a", "b"], [0.1, 0.2]), "pos_label"),
    (lambda: M.auc([0, 1, 0.5], [0, 1, 1]), "increasing"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
