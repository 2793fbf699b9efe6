"""Streaming accumulators equal the one-shot metrics on the concatenated batches."""

import numpy as np
import pytest

import shenjing
from shenjing import metrics as M


def _batches(n_classes, seed, n_batches=4, size=25):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        y = rng.integers(0, n_classes, size)
        logits = rng.normal(size=(size, n_classes)) + 2 * np.eye(n_classes)[y]
        prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        out.append((y, prob))
    return out


def test_mean_is_weighted_running_mean():
    m = M.Mean()
    m.update(2.0, weight=3)
    m.update(shenjing.tensor(5.0))
    m.update(np.array([1.0, 3.0]), weight=2)
    assert m.compute() == pytest.approx((2 * 3 + 5 + 2 * 1 + 2 * 3) / (3 + 1 + 4))
    m.reset()
    with pytest.raises(ValueError, match="before any update"):
        m.compute()


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "macro_pr"])
def test_classification_accumulator_matches_one_shot(average):
    batches = _batches(5, 0)
    # class 4 never predicted, class 3 never true: both count as in scikit-learn
    acc = M.ClassificationAccumulator(num_classes=6, average=average, zero_division=0)
    for y, prob in batches:
        y = np.where(y == 3, 2, y)
        prob = np.concatenate([prob, np.zeros((prob.shape[0], 1))], axis=1)
        prob[:, 4] = 0
        acc.update(shenjing.tensor(y), shenjing.tensor(prob))
    y_all = np.concatenate([np.where(y == 3, 2, y) for y, _ in batches])
    prob_all = np.concatenate([p for _, p in batches])
    prob_all[:, 4] = 0
    pred = prob_all.argmax(axis=1)
    result = acc.compute()
    assert result["accuracy"] == pytest.approx(M.accuracy(y_all, pred))
    for name, fn in (("precision", M.precision), ("recall", M.recall), ("f1", M.f1_score)):
        assert result[name] == pytest.approx(fn(y_all, pred, average=average, zero_division=0), rel=1e-12)
    np.testing.assert_array_equal(acc.confusion_matrix[:5, :5], M.confusion_matrix(y_all, pred, labels=range(5)))


def test_classification_accumulator_binary_and_sequences():
    acc = M.ClassificationAccumulator(num_classes=2, average="binary")
    y = np.array([[1, 0, 1], [0, 0, 1]])
    pred = np.array([[1, 1, 0], [0, 0, 1]])
    acc.update(y, pred)
    result = acc.compute()
    assert result["precision"] == pytest.approx(M.precision(y.ravel(), pred.ravel()))
    assert result["recall"] == pytest.approx(M.recall(y.ravel(), pred.ravel()))
    with pytest.raises(ValueError, match="class indices"):
        acc.update([0, 2], [0, 1])
    with pytest.raises(ValueError, match="binary"):
        M.ClassificationAccumulator(num_classes=3, average="binary")


@pytest.mark.parametrize("n_classes", [2, 5])
def test_ranking_accumulator_matches_one_shot_and_keeps_one_copy(n_classes):
    batches = _batches(n_classes, 1)
    acc = M.RankingAccumulator(average="macro")
    for y, prob in batches:
        acc.update(y, prob[:, 1] if n_classes == 2 else prob)
    y_all = np.concatenate([y for y, _ in batches])
    s_all = np.concatenate([p for _, p in batches])
    s_all = s_all[:, 1] if n_classes == 2 else s_all
    result = acc.compute()
    assert result["roc_auc"] == pytest.approx(M.roc_auc_score(y_all, s_all, multi_class="ovr"), rel=1e-12)
    assert result["average_precision"] == pytest.approx(M.average_precision(y_all, s_all), rel=1e-12)
    assert [len(v) for v in acc.batches.values()] == [1, 1]
    assert acc.compute() == result


def test_detection_accumulator_matches_one_shot():
    rng = np.random.default_rng(2)
    preds, gts = [], []
    for _ in range(6):
        gt = rng.uniform(0, 50, (3, 2))
        gt = np.c_[gt, gt + rng.uniform(5, 40, (3, 2))]
        pred = gt + rng.normal(0, 3, gt.shape)
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 1)
        preds.append({"boxes": pred, "scores": rng.random(3), "labels": rng.integers(0, 2, 3)})
        gts.append({"boxes": gt, "labels": rng.integers(0, 2, 3)})
    acc = M.DetectionAccumulator(iou_thresholds=[0.5, 0.7], max_detections=(1, 100))
    acc.update(preds[:2], gts[:2])
    acc.update([{k: shenjing.tensor(v) for k, v in p.items()} for p in preds[2:]], gts[2:])
    assert acc.compute() == M.mean_average_precision(preds, gts, iou_thresholds=[0.5, 0.7], max_detections=(1, 100))


def test_perplexity_accumulator_matches_one_shot():
    batches = _batches(7, 3)
    acc = M.PerplexityAccumulator()
    for y, prob in batches:
        acc.update(y, prob)
    y_all = np.concatenate([y for y, _ in batches])
    p_all = np.concatenate([p for _, p in batches])
    assert acc.compute() == pytest.approx(M.perplexity(y_all, p_all), rel=1e-12)


@pytest.mark.gpu
@pytest.mark.skipif(not shenjing.cuda_available(), reason="needs CuPy and an NVIDIA GPU")
def test_cupy_arrays_and_cuda_tensors_are_accepted():
    cp = shenjing._backend.cupy()
    y, prob = _batches(5, 4)[0]
    assert M.f1_score(cp.asarray(y), cp.asarray(prob.argmax(1)), average="macro") == M.f1_score(
        y, prob.argmax(1), average="macro")
    assert M.roc_auc_score(cp.asarray(y), cp.asarray(prob), multi_class="ovr") == M.roc_auc_score(
        y, prob, multi_class="ovr")
    assert M.perplexity(y, shenjing.Tensor(cp.asarray(prob))) == M.perplexity(y, prob)
    acc = M.ClassificationAccumulator(5)
    acc.update(cp.asarray(y), cp.asarray(prob))
    assert acc.compute()["accuracy"] == M.accuracy(y, prob.argmax(1))
