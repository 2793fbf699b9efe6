"""Detection metrics: IoU, matching, VOC AP, COCO-style mAP / AR on hand-computed toy sets."""

import numpy as np
import pytest

import shenjing
from shenjing import metrics as M


def test_box_iou_hand_computed_and_vectorised():
    a = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [0, 0, 0, 0]], dtype=np.float32)
    b = np.array([[0, 0, 2, 2], [1, 0, 3, 2], [5, 5, 6, 6]], dtype=np.float32)
    iou = M.box_iou(a, b)
    assert iou.shape == (3, 3) and iou.dtype == np.float64  # every metric computes in float64
    # [1,1,3,3] vs [0,0,2,2]: intersection 1, union 4 + 4 - 1
    expected = np.array([[1, 2 / 6, 0], [1 / 7, 2 / 6, 0], [0, 0, 0]])
    np.testing.assert_allclose(iou, expected, rtol=1e-15)
    np.testing.assert_allclose(M.box_iou(b, a), iou.T)
    assert M.box_iou(shenjing.tensor(a.astype(np.float64)), b).dtype == np.float64
    assert M.box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_box_iou_rejects_bad_boxes():
    with pytest.raises(ValueError, match="a must be"):
        M.box_iou(np.zeros((2, 3)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="x2 >= x1"):
        M.box_iou([[2, 0, 1, 1]], [[0, 0, 1, 1]])


def test_match_detections_greedy_in_score_order():
    gt = [[0, 0, 10, 10], [0, 0, 10, 6]]
    # scores out of order: the 0.9 box takes the GT of highest IoU (the first), the 0.8 box the second,
    # the 0.7 duplicate finds both taken; the 0.95 box overlaps nothing
    boxes = [[0, 0, 10, 9], [20, 20, 30, 30], [0, 0, 10, 9], [0, 0, 10, 7]]
    scores = [0.7, 0.95, 0.9, 0.8]
    np.testing.assert_array_equal(M.match_detections(boxes, scores, gt), [False, False, True, True])
    # at IoU 0.9 only the best pair (IoU 0.9) matches
    np.testing.assert_array_equal(M.match_detections(boxes, scores, gt, 0.9), [False, False, True, False])


def _toy():
    """Two images, two classes; see test_map_toy_set_hand_computed for the ranked lists."""
    preds = [
        {"boxes": [[0, 0, 10, 8], [20, 20, 40, 40], [20, 20, 40, 40]],
         "scores": [0.9, 0.95, 0.5], "labels": [0, 1, 1]},
        {"boxes": [[0, 0, 10, 6], [30, 30, 40, 40], [50, 50, 60, 59]],
         "scores": [0.8, 0.7, 0.6], "labels": [0, 0, 0]},
    ]
    gts = [
        {"boxes": [[0, 0, 10, 10], [20, 20, 40, 40]], "labels": [0, 1]},
        {"boxes": [[0, 0, 10, 10], [50, 50, 60, 60]], "labels": [0, 0]},
    ]
    return preds, gts


def test_map_toy_set_hand_computed():
    preds, gts = _toy()
    # class 0 (3 GTs), ranked: IoU 0.8 (img 1), 0.6 (img 2), 0 (img 2), 0.9 (img 2)
    #   AP@50: TP TP FP TP -> precision 1 1 2/3 3/4, recall 1/3 2/3 2/3 1
    #          all-point: 2/3 * 1 + 1/3 * 3/4 = 11/12
    #   AP@75: TP FP FP TP -> precision 1 1/2 1/3 1/2, recall 1/3 1/3 1/3 2/3
    #          all-point: 1/3 * 1 + 1/3 * 1/2 = 1/2
    # class 1 (1 GT): an exact box (0.95) then its duplicate (0.5, FP): AP = 1 at every threshold
    ap50 = M.detection_ap(preds, gts, iou_threshold=0.5)
    ap75 = M.detection_ap(preds, gts, iou_threshold=0.75)
    assert ap50 == pytest.approx({0: 11 / 12, 1: 1.0})
    assert ap75 == pytest.approx({0: 1 / 2, 1: 1.0})
    result = M.mean_average_precision(preds, gts, interpolation="all")
    assert result["map_50"] == pytest.approx((11 / 12 + 1) / 2)
    assert result["map_75"] == pytest.approx((1 / 2 + 1) / 2)
    # COCO's 101-point form: class 0 @50 is 1 on recall 0..0.66 (67 points), 3/4 on 0.67..1 (34 points)
    coco = M.mean_average_precision(preds, gts)
    assert coco["map_50"] == pytest.approx(((67 + 34 * 3 / 4) / 101 + 1) / 2)
    # AP@[.5:.95]: class 0 matches IoU 0.9 up to t = 0.9, 0.8 up to 0.8, 0.6 up to 0.6
    expected = np.mean([M.detection_ap(preds, gts, t, interpolation="101point")[0] for t in np.arange(10) / 20 + .5])
    assert coco["map_per_class"][0] == pytest.approx(expected)
    assert coco["map_per_class"][1] == pytest.approx(1.0)
    assert coco["map"] == pytest.approx((expected + 1) / 2)
    # recall at the end of the ranking, averaged over thresholds: class 0 finds 3, 3, 3, 2, 2, 2, 2, 1, 1, 0 of 3
    assert coco["mar_per_class"][0] == pytest.approx(np.mean([3, 3, 3, 2, 2, 2, 2, 1, 1, 0]) / 3)
    assert coco["mar_100"] == pytest.approx((coco["mar_per_class"][0] + 1) / 2)


def test_11point_detection_ap_worked_example():
    # 7 ground truths (one image, one class), 10 detections ranked by score:
    #   TP FP pattern 1 1 0 1 0 1 0 0 1 0 -> precision 1 1 2/3 3/4 3/5 2/3 4/7 1/2 5/9 1/2,
    #   recall 1/7 2/7 2/7 3/7 3/7 4/7 4/7 4/7 5/7 5/7 (two GTs are never found)
    #   p_interp at r = 0..1 step .1: 1 1 1 3/4 3/4 2/3 5/9 5/9 0 0 0
    gt = np.array([[20 * i, 0, 20 * i + 10, 10] for i in range(7)], dtype=float)
    hits = [1, 1, 0, 1, 0, 1, 0, 0, 1, 0]
    boxes, found = [], iter(range(7))
    for h in hits:
        boxes.append(gt[next(found)] if h else [500, 500, 510, 510])
    preds = [{"boxes": boxes, "scores": np.linspace(1.0, 0.1, 10), "labels": np.zeros(10, int)}]
    gts = [{"boxes": gt, "labels": np.zeros(7, int)}]
    expected = (3 * 1 + 2 * 3 / 4 + 2 / 3 + 2 * 5 / 9) / 11
    assert M.detection_ap(preds, gts, interpolation="11point")[0] == pytest.approx(expected, rel=1e-12)
    tp = np.cumsum(hits)
    prec, rec = tp / np.arange(1, 11), tp / 7
    all_point = np.sum(np.diff(np.r_[0, np.unique(rec)]) * [1, 1, 3 / 4, 2 / 3, 5 / 9])
    assert M.detection_ap(preds, gts)[0] == pytest.approx(all_point, rel=1e-12)
    assert prec[-1] == pytest.approx(1 / 2)


def test_coco_area_ranges_and_max_detections():
    large, small = [0, 0, 100, 100], [200, 200, 210, 210]
    preds = [{"boxes": [large, [300, 300, 305, 305], small], "scores": [0.9, 0.8, 0.7], "labels": [0, 0, 0]}]
    gts = [{"boxes": [large, small], "labels": [0, 0]}]
    r = M.mean_average_precision(preds, gts, area_ranges="coco", max_detections=(1, 10, 100), interpolation="all")
    # all sizes: TP FP TP over 2 GTs -> 1/2 * 1 + 1/2 * 2/3
    assert r["map"] == pytest.approx(1 / 2 + 1 / 3)
    # large: the small GT is ignored with its match, the small FP is outside the range -> one TP
    assert r["map_large"] == pytest.approx(1.0)
    # small: the large GT is ignored with its match -> FP then TP over 1 GT
    assert r["map_small"] == pytest.approx(1 / 2)
    assert r["map_medium"] == -1.0
    # one detection per image: only the large box, recall 1/2; ten: both found
    assert r["mar_1"] == pytest.approx(1 / 2)
    assert r["mar_10"] == r["mar_100"] == pytest.approx(1.0)
    assert r["mar_small"] == r["mar_large"] == pytest.approx(1.0)
    custom = M.mean_average_precision(preds, gts, area_ranges={"tiny": (0, 50), "upto200": (0, 200)},
                                      interpolation="all")
    assert custom["map_tiny"] == custom["mar_tiny"] == -1.0
    assert custom["map_upto200"] == r["map_small"]


def test_classes_without_ground_truth_are_left_out():
    preds = [{"boxes": [[0, 0, 1, 1], [0, 0, 1, 1]], "scores": [0.9, 0.8], "labels": [0, 3]}]
    gts = [{"boxes": [[0, 0, 1, 1]], "labels": [0]}]
    r = M.mean_average_precision(preds, gts)
    assert r["map_per_class"] == {0: 1.0, 3: -1.0}
    assert r["map"] == 1.0
    empty = M.mean_average_precision([{"boxes": [], "scores": [], "labels": []}], [{"boxes": [], "labels": []}])
    assert empty["map"] == -1.0 and empty["map_per_class"] == {}


def test_average_recall_is_the_integral_of_recall_over_iou():
    preds, gts = _toy()
    # best IoU per GT: class 0 -> 0.8, 0.6, 0.9; class 1 -> 1.0
    ious = np.array([0.8, 0.6, 0.9, 1.0])
    expected = 2 * np.mean(np.maximum(ious - 0.5, 0))
    assert M.average_recall(preds, gts) == pytest.approx(expected)
    # = 2 ∫_{0.5}^{1} recall(u) du, recall(u) = fraction of GTs with IoU >= u (midpoint rule)
    u = 0.5 + (np.arange(20000) + 0.5) / 40000
    integral = 2 * np.mean([(ious >= t).mean() for t in u]) * 0.5
    assert M.average_recall(preds, gts) == pytest.approx(integral, abs=1e-4)
    # the budget keeps each image's best-scored detection per class
    assert M.average_recall(preds, gts, max_detections=1) == pytest.approx(2 * np.mean([0.3, 0.1, 0, 0.5]))


@pytest.mark.parametrize("preds, gts, match", [
    ([{"boxes": [[0, 0, 1, 1]], "labels": [0]}], [{"boxes": [], "labels": []}], "scores"),
    ([{"boxes": [[0, 0, 1, 1]], "scores": [1, 2], "labels": [0]}], [{"boxes": [], "labels": []}], "one score"),
    ([{"boxes": [[0, 0, 1, 1]], "scores": [1], "labels": [0, 1]}], [{"boxes": [], "labels": []}], "one label"),
    ([], [{"boxes": [], "labels": []}], "same length"),
])
def test_bad_detection_input_raises(preds, gts, match):
    with pytest.raises(ValueError, match=match):
        M.mean_average_precision(preds, gts)


def test_bad_options_raise():
    preds, gts = _toy()
    with pytest.raises(ValueError, match="area_ranges"):
        M.mean_average_precision(preds, gts, area_ranges="voc")
    with pytest.raises(ValueError, match="max_detections"):
        M.mean_average_precision(preds, gts, max_detections=0)
    with pytest.raises(ValueError, match="thresholds"):
        M.mean_average_precision(preds, gts, iou_thresholds=[1.5])
    with pytest.raises(ValueError, match="interpolation"):
        M.detection_ap(preds, gts, interpolation="voc")
