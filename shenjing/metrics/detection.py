"""Object-detection metrics: IoU, matching, AP per class, COCO-style mAP and the notes' Average Recall.

Seed 004 §1.1 (IoU = area(B_p ∩ B_gt) / area(B_p ∪ B_gt)), §1.2 (TP/FP/FN in detection: a predicted
box is a TP when it overlaps a ground truth above the IoU threshold), §1.5 (AP with 11-point or
all-point interpolation, AP@50, AP@75, AP@[.5:.95], mAP, COCO's table, AR).

Input format (one entry per image, in the same order in both lists)::

    preds = [{"boxes": (K, 4) array, "scores": (K,) array, "labels": (K,) array}, ...]
    gts   = [{"boxes": (G, 4) array, "labels": (G,) array}, ...]

Boxes are (x1, y1, x2, y2) with x2 >= x1, y2 >= y1, no +1 pixel convention; the area of a box is
(x2 − x1)(y2 − y1). Arrays may be NumPy arrays, lists or shenjing Tensors.

Matching (per image and class, COCO's rule): detections are taken in decreasing score order (ties
keep their input order); each takes the not yet matched ground truth of highest IoU among those with
IoU >= threshold and becomes a TP, else it is a FP; each ground truth is matched at most once.
Undefined values (a class without ground truth) are reported as -1, as COCO does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._util import as_labels, as_scores, to_numpy
from .ranking import check_interpolation, interpolated_ap

__all__ = ["COCO_AREA_RANGES", "COCO_IOU_THRESHOLDS", "box_iou", "match_detections", "detection_ap",
           "mean_average_precision", "average_recall"]

#: AP@[.5:.95]'s thresholds 0.50, 0.55, ..., 0.95 (``np.arange(0.5, 1.0, 0.05)`` rounded).
COCO_IOU_THRESHOLDS = tuple(np.round(np.arange(0.5, 1.0, 0.05), 2).tolist())
#: COCO's object sizes by box area: small < 32², medium 32²..96², large > 96² (seed 004 §1.5).
COCO_AREA_RANGES = {"all": (0.0, np.inf), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2),
                    "large": (96.0**2, np.inf)}


def _boxes(x, name: str) -> np.ndarray:
    arr = to_numpy(x, name)
    if arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must be (K, 4) boxes (x1, y1, x2, y2), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)) or np.any(arr[:, 2:] < arr[:, :2]):
        raise ValueError(f"{name} must hold finite boxes with x2 >= x1 and y2 >= y1")
    return arr


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(a, b) -> np.ndarray:
    """Pairwise IoU(a_i, b_j) = area(a_i ∩ b_j) / area(a_i ∪ b_j) (seed 004 §1.1); 0 where the union is empty.

    a: (N, 4), b: (M, 4) boxes (x1, y1, x2, y2) -> (N, M), computed and returned in float64 whatever the
    input dtype, as every metric here (``torchvision.ops.box_iou`` keeps float32 inputs in float32).

    >>> box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]])
    array([[0.14285714, 1.        ]])
    """
    a, b = _boxes(a, "a").astype(np.float64), _boxes(b, "b").astype(np.float64)
    wh = np.clip(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _match(iou: np.ndarray, thresholds: np.ndarray, gt_ignore: np.ndarray):
    """Greedy matching of detections (rows of iou, best score first) to ground truths (columns).

    For every threshold t at once: a detection takes the highest-IoU unmatched ground truth with
    IoU >= t, preferring ground truths that are not ignored (COCO). Returns (matched, matched_ignored),
    both (T, D) bool.
    """
    n_det, n_gt = iou.shape
    matched = np.zeros((thresholds.size, n_det), dtype=bool)
    matched_ignored = np.zeros_like(matched)
    if n_gt == 0:
        return matched, matched_ignored
    taken = np.zeros((thresholds.size, n_gt), dtype=bool)
    rank = iou + 2.0 * ~gt_ignore
    rows = np.arange(thresholds.size)
    for d in range(n_det):
        candidate = np.where(~taken & (iou[d] >= thresholds[:, None]), rank[d], -1.0)
        best = candidate.argmax(axis=1)
        found = candidate[rows, best] >= 0
        taken[rows[found], best[found]] = True
        matched[:, d] = found
        matched_ignored[:, d] = found & gt_ignore[best]
    return matched, matched_ignored


def match_detections(pred_boxes, pred_scores, gt_boxes, iou_threshold: float = 0.5) -> np.ndarray:
    """True-positive flags of one image's detections of one class (seed 004 §1.2), in the input order.

    Detections are matched greedily in decreasing score order; each takes the unmatched ground truth
    of highest IoU if that IoU >= ``iou_threshold`` (a TP), else it is a FP. Shapes: pred_boxes (K, 4),
    pred_scores (K,), gt_boxes (G, 4) -> (K,) bool.

    >>> match_detections([[0, 0, 2, 2], [0, 0, 2, 2]], [0.9, 0.8], [[0, 0, 2, 2]])
    array([ True, False])
    """
    boxes, scores = _boxes(pred_boxes, "pred_boxes"), _scores(pred_scores, "pred_scores")
    gt = _boxes(gt_boxes, "gt_boxes")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"pred_scores must be ({boxes.shape[0]},), got shape {scores.shape}")
    order = np.argsort(-scores, kind="stable")
    matched, _ = _match(box_iou(boxes[order], gt).astype(np.float64), np.array([float(iou_threshold)]),
                        np.zeros(gt.shape[0], dtype=bool))
    flags = np.empty(boxes.shape[0], dtype=bool)
    flags[order] = matched[0]
    return flags


def _scores(x, name: str) -> np.ndarray:
    return as_scores(to_numpy(x, name).reshape(-1), name)


def _field(item, key: str, where: str):
    if not isinstance(item, Mapping) or key not in item:
        raise ValueError(f"{where} must be a mapping with key {key!r}")
    return item[key]


def _labels(x, name: str, n: int) -> np.ndarray:
    arr = to_numpy(x, name).reshape(-1)
    if arr.size != n:
        raise ValueError(f"{name} must have one label per box ({n}), got {arr.size}")
    return as_labels(arr, name) if n else arr


def _images(preds, gts) -> list:
    """Validated per-image arrays: (pred boxes, scores, labels, gt boxes, gt labels)."""
    if not isinstance(preds, Sequence) or not isinstance(gts, Sequence) or len(preds) != len(gts):
        raise ValueError("preds and gts must be lists with one entry per image, of the same length")
    images = []
    for i, (p, g) in enumerate(zip(preds, gts)):
        boxes = _boxes(_field(p, "boxes", f"preds[{i}]"), f"preds[{i}]['boxes']")
        scores = _scores(_field(p, "scores", f"preds[{i}]"), f"preds[{i}]['scores']")
        if scores.size != boxes.shape[0]:
            raise ValueError(f"preds[{i}]['scores'] must have one score per box ({boxes.shape[0]}), "
                             f"got {scores.size}")
        labels = _labels(_field(p, "labels", f"preds[{i}]"), f"preds[{i}]['labels']", boxes.shape[0])
        gt_boxes = _boxes(_field(g, "boxes", f"gts[{i}]"), f"gts[{i}]['boxes']")
        gt_labels = _labels(_field(g, "labels", f"gts[{i}]"), f"gts[{i}]['labels']", gt_boxes.shape[0])
        images.append((boxes.astype(np.float64), scores, labels, gt_boxes.astype(np.float64), gt_labels))
    return images


def _evaluate(images, thresholds, ranges, max_dets):
    """Match every image's detections per class and area range.

    Returns the classes (K,), chunks[k][a] = one (scores (D,), tp (T, D), fp (T, D)) per image holding
    class k (detections best first, ignored ones neither TP nor FP), and n_gt[k, a], the number of
    ground truths that count.
    """
    parts = [x for im in images for x in (im[2], im[4]) if x.size]
    classes = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    chunks = [[[] for _ in ranges] for _ in classes]
    n_gt = np.zeros((classes.size, len(ranges)), dtype=np.int64)
    limit = None if None in max_dets else max(max_dets)
    for boxes, scores, labels, gt_boxes, gt_labels in images:
        for k in np.searchsorted(classes, np.union1d(labels, gt_labels)):
            det = np.flatnonzero(labels == classes[k])
            det = det[np.argsort(-scores[det], kind="stable")][:limit]
            gt = gt_boxes[gt_labels == classes[k]]
            iou = box_iou(boxes[det], gt)
            det_area, gt_area = _area(boxes[det]), _area(gt)
            for a, (lo, hi) in enumerate(ranges):
                gt_ignore = (gt_area < lo) | (gt_area > hi)
                matched, matched_ignored = _match(iou, thresholds, gt_ignore)
                ignore = matched_ignored | (~matched & ((det_area < lo) | (det_area > hi)))
                chunks[k][a].append((scores[det], matched & ~ignore, ~matched & ~ignore))
                n_gt[k, a] += np.count_nonzero(~gt_ignore)
    return classes, chunks, n_gt


def _accumulate(chunks, n_gt: int, max_det, n_thresholds: int, interpolation: str):
    """(AP per threshold, final recall per threshold) over all images' top ``max_det`` detections."""
    if n_gt == 0:
        return np.full(n_thresholds, -1.0), np.full(n_thresholds, -1.0)
    scores = np.concatenate([c[0][:max_det] for c in chunks])
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(np.concatenate([c[1][:, :max_det] for c in chunks], axis=1)[:, order], axis=1)
    fp = np.cumsum(np.concatenate([c[2][:, :max_det] for c in chunks], axis=1)[:, order], axis=1)
    recall = tp / n_gt
    predicted = tp + fp
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    ap = np.array([interpolated_ap(precision[t], recall[t], interpolation) for t in range(n_thresholds)])
    return ap, (recall[:, -1] if scores.size else np.zeros(n_thresholds))


def _thresholds(iou_thresholds) -> np.ndarray:
    t = np.round(np.atleast_1d(np.asarray(iou_thresholds, dtype=np.float64)), 10)
    if t.ndim != 1 or t.size == 0 or np.any((t < 0) | (t > 1)):
        raise ValueError(f"iou thresholds must be a non-empty 1-D sequence in [0, 1], got {iou_thresholds!r}")
    return t


def _table(images, thresholds, ranges, max_dets, interpolation):
    """ap, rec of shape (K, A, M, T) and the classes."""
    check_interpolation(interpolation)
    classes, chunks, n_gt = _evaluate(images, thresholds, list(ranges.values()), max_dets)
    shape = (classes.size, len(ranges), len(max_dets), thresholds.size)
    ap, rec = np.empty(shape), np.empty(shape)
    for k in range(classes.size):
        for a in range(len(ranges)):
            for m, max_det in enumerate(max_dets):
                ap[k, a, m], rec[k, a, m] = _accumulate(chunks[k][a], n_gt[k, a], max_det, thresholds.size,
                                                        interpolation)
    return classes, ap, rec


def _mean(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def detection_ap(preds, gts, iou_threshold: float = 0.5, interpolation: str = "all") -> dict:
    """Average Precision of every class at one IoU threshold, VOC style (seed 004 §1.5): {label: AP}.

    Detections of a class are ranked by score over all images and matched (see the module doc);
    precision p_k = TP_k / k and recall r_k = TP_k / #GT at each rank k. ``interpolation='all'``
    (VOC2010+) is the area under the envelope p_interp(r) = max_{r' >= r} p(r'); ``'11point'``
    (VOC2007) is (1/11) Σ_{r ∈ {0, 0.1, ..., 1}} p_interp(r); ``'101point'`` (COCO) and ``'step'`` also
    work. No limit on detections per image. A class with no ground truth gets -1. mAP is the mean of
    the values that are not -1.

    >>> preds = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "scores": [0.9, 0.8], "labels": [0, 0]}]
    >>> gts = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    >>> detection_ap(preds, gts)
    {0: 1.0}
    """
    classes, ap, _ = _table(_images(preds, gts), _thresholds(iou_threshold), {"all": (0.0, np.inf)}, [None],
                            interpolation)
    return {label: float(v) for label, v in zip(classes.tolist(), ap[:, 0, 0, 0])}


def _area_ranges(area_ranges) -> dict:
    if area_ranges is None:
        return {"all": (0.0, np.inf)}
    if isinstance(area_ranges, str):
        if area_ranges != "coco":
            raise ValueError(f"area_ranges must be None, 'coco' or a dict name -> (lo, hi), got {area_ranges!r}")
        return dict(COCO_AREA_RANGES)
    if not isinstance(area_ranges, Mapping):
        raise ValueError(f"area_ranges must be None, 'coco' or a dict name -> (lo, hi), got {area_ranges!r}")
    ranges = {"all": (0.0, np.inf)}
    for name, bounds in area_ranges.items():
        lo, hi = (float(v) for v in bounds)
        if not lo <= hi:
            raise ValueError(f"area_ranges[{name!r}] must be (lo, hi) with lo <= hi, got {bounds!r}")
        ranges[name] = (lo, hi)
    return ranges


def _max_dets(max_detections) -> list:
    values = [max_detections] if np.isscalar(max_detections) else list(max_detections)
    if not values or any(int(v) != v or v < 1 for v in values):
        raise ValueError(f"max_detections must be a positive int or a sequence of them, got {max_detections!r}")
    return sorted(int(v) for v in values)


def mean_average_precision(preds, gts, iou_thresholds=COCO_IOU_THRESHOLDS, area_ranges=None,
                           max_detections=100, interpolation: str = "101point") -> dict:
    """COCO-style mAP over classes and IoU thresholds (seed 004 §1.5: AP@50, AP@75, AP@[.5:.95], mAP, AR).

    For every class, IoU threshold t, area range and detection budget m: detections (each image's m
    best of the class) are matched (module doc) and AP is computed with ``interpolation`` ('101point',
    COCO's default; 'all', '11point' or 'step' also work). A ground truth outside the area range is
    ignored (a detection matched to it counts neither way), as is an unmatched detection outside it;
    ranges include both ends like COCO. Thresholds are rounded to 10 decimals, so
    ``np.arange(0.5, 1.0, 0.05)`` means exactly 0.50, 0.55, ..., 0.95 (the default).

    Arguments: ``area_ranges`` None (all sizes), ``'coco'`` (small < 32², medium 32²..96², large > 96²)
    or a dict name -> (lo, hi); ``max_detections`` an int or a sequence such as (1, 10, 100).

    Returns a dict of floats: ``map`` (mean AP over classes and ``iou_thresholds``, all sizes, the
    largest budget), ``map_50``, ``map_75``, ``map_<area>`` per extra area range, ``mar_<m>`` per budget
    (recall averaged over classes and thresholds, COCO's AR), ``mar_<area>``, and ``map_per_class`` /
    ``mar_per_class`` dicts {label: value}. Classes without ground truth are left out of the means and
    get -1 (also the value of a mean over nothing).

    >>> preds = [{"boxes": [[0, 0, 10, 10]], "scores": [0.9], "labels": [1]}]
    >>> gts = [{"boxes": [[0, 0, 10, 8]], "labels": [1]}]
    >>> r = mean_average_precision(preds, gts)
    >>> r["map_50"], r["map_75"], round(r["map"], 2)
    (1.0, 1.0, 0.7)
    """
    requested = _thresholds(iou_thresholds)
    thresholds = np.union1d(requested, [0.5, 0.75])
    ranges, max_dets = _area_ranges(area_ranges), _max_dets(max_detections)
    classes, ap, rec = _table(_images(preds, gts), thresholds, ranges, max_dets, interpolation)
    req = np.isin(thresholds, requested)
    top = len(max_dets) - 1
    result = {"map": _mean(ap[:, 0, top][:, req]),
              "map_50": _mean(ap[:, 0, top, thresholds == 0.5]),
              "map_75": _mean(ap[:, 0, top, thresholds == 0.75])}
    for a, name in enumerate(ranges):
        if a:
            result[f"map_{name}"] = _mean(ap[:, a, top][:, req])
    for m, max_det in enumerate(max_dets):
        result[f"mar_{max_det}"] = _mean(rec[:, 0, m][:, req])
    for a, name in enumerate(ranges):
        if a:
            result[f"mar_{name}"] = _mean(rec[:, a, top][:, req])
    labels = classes.tolist()
    result["map_per_class"] = {c: _mean(ap[k, 0, top][req]) for k, c in enumerate(labels)}
    result["mar_per_class"] = {c: _mean(rec[k, 0, top][req]) for k, c in enumerate(labels)}
    return result


def average_recall(preds, gts, max_detections: int | None = 100) -> float:
    """The notes' Average Recall: AR = 2∫_{0.5}^{1} recall(u) du = (2/n) Σ_i max(IoU(gt_i) − 0.5, 0).

    Seed 004 §1.5: recall averaged over IoU thresholds u in [0.5, 1]. IoU(gt_i) is the best IoU of
    ground truth i with a detection of its class in its image (each image's ``max_detections`` best per
    class; None for all), n the number of ground truths of all classes. No one-to-one matching: this is
    the integral form (Hosang et al.), while ``mean_average_precision``'s ``mar_*`` is COCO's discrete AR.
    -1 when there is no ground truth.

    >>> preds = [{"boxes": [[0, 0, 10, 8]], "scores": [0.9], "labels": [0]}]
    >>> gts = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    >>> round(average_recall(preds, gts), 6)
    0.6
    """
    if max_detections is not None:
        _max_dets(max_detections)
    best = []
    for boxes, scores, labels, gt_boxes, gt_labels in _images(preds, gts):
        for c in np.unique(gt_labels):
            det = np.flatnonzero(labels == c)
            det = det[np.argsort(-scores[det], kind="stable")][:max_detections]
            iou = box_iou(gt_boxes[gt_labels == c], boxes[det])
            best.append(iou.max(axis=1) if det.size else np.zeros(iou.shape[0]))
    if not best:
        return -1.0
    return float(2.0 * np.mean(np.maximum(np.concatenate(best) - 0.5, 0.0)))
