"""Per-case metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.evaluation.metrics import (
    CaseMetrics,
    case_metrics,
    dice,
    gpr,
    hd95_mm,
    iou,
    volume_ml,
)


def box(shape, lo, hi, dtype=bool):
    m = np.zeros(shape, dtype=dtype)
    m[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))] = 1
    return m


SHAPE = (14, 12, 14)
# A: 6x6x6 = 216 voxels; B: A shifted by 3 voxels along axis 0; overlap 3x6x6 = 108.
A = box(SHAPE, (2, 3, 3), (8, 9, 9))
B = box(SHAPE, (5, 3, 3), (11, 9, 9))
EMPTY = np.zeros(SHAPE, dtype=bool)


def test_dice_and_iou_of_overlapping_boxes():
    assert dice(A, B) == pytest.approx(2 * 108 / (216 + 216))  # 0.5
    assert iou(A, B) == pytest.approx(108 / (216 + 216 - 108))  # 1/3


def test_dice_of_boxes_of_different_size():
    small = box(SHAPE, (2, 3, 3), (4, 5, 5))  # 8 voxels, inside A
    assert dice(A, small) == pytest.approx(2 * 8 / (216 + 8))
    assert iou(A, small) == pytest.approx(8 / 216)


def test_identical_and_disjoint_masks():
    far = box(SHAPE, (10, 0, 0), (14, 2, 2))
    assert dice(A, A) == pytest.approx(1.0)
    assert iou(A, A) == pytest.approx(1.0)
    assert dice(A, far) == pytest.approx(0.0)
    assert iou(A, far) == pytest.approx(0.0)
    assert hd95_mm(A, A, (1.0, 1.0, 3.0)) == 0.0


def test_inputs_may_be_torch_int_or_label_values():
    as_int = torch.from_numpy(A.astype(np.int64))
    as_label = B.astype(np.uint8) * 2  # any non-zero voxel is foreground
    assert dice(as_int, as_label) == pytest.approx(0.5)
    assert iou(as_int, torch.from_numpy(B)) == pytest.approx(1 / 3)
    assert hd95_mm(as_int, as_label, (2.0, 1.0, 1.0)) == pytest.approx(6.0)


def test_hd95_of_boxes_shifted_three_voxels_uses_spacing():
    # Shift of 3 voxels along axis 0 with 2 mm voxels along that axis: 6 mm.
    assert hd95_mm(A, B, (2.0, 1.0, 1.0)) == pytest.approx(6.0)
    # The spacing of the other axes does not change it.
    assert hd95_mm(A, B, (2.0, 0.5, 0.7)) == pytest.approx(6.0)
    assert hd95_mm(B, A, (2.0, 0.5, 0.7)) == pytest.approx(6.0)  # symmetric
    # 1 mm isotropic (also the meaning of spacing=None): 3 mm.
    assert hd95_mm(A, B, (1.0, 1.0, 1.0)) == pytest.approx(3.0)
    assert hd95_mm(A, B, None) == pytest.approx(3.0)


def test_hd95_spacing_follows_array_axes():
    # The same shift along the last axis, 3 mm slices (the seed's 1 x 1 x 3 mm grid): 9 mm.
    a = box(SHAPE, (3, 3, 2), (9, 9, 8))
    b = box(SHAPE, (3, 3, 5), (9, 9, 11))
    assert hd95_mm(a, b, (1.0, 1.0, 3.0)) == pytest.approx(9.0)
    assert hd95_mm(a, b, (3.0, 3.0, 1.0)) == pytest.approx(3.0)


def test_empty_mask_conventions():
    assert hd95_mm(EMPTY, EMPTY, (1.0, 1.0, 3.0)) == 0.0
    assert math.isnan(hd95_mm(A, EMPTY, (1.0, 1.0, 3.0)))
    assert math.isnan(hd95_mm(EMPTY, A, (1.0, 1.0, 3.0)))
    assert dice(EMPTY, EMPTY) == 1.0
    assert iou(EMPTY, EMPTY) == 1.0
    assert dice(A, EMPTY) == 0.0
    assert dice(EMPTY, A) == 0.0
    assert iou(EMPTY, A) == 0.0


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="shapes differ"):
        dice(A, A[:-1])
    with pytest.raises(ValueError, match="3-D"):
        iou(A[0], B[0])
    with pytest.raises(ValueError, match="spacing"):
        hd95_mm(A, B, (1.0, 1.0))
    with pytest.raises(ValueError, match="spacing"):
        hd95_mm(A, B, (1.0, 0.0, 1.0))


def test_volume_and_gpr_of_known_boxes():
    ptv = box(SHAPE, (0, 0, 0), (4, 4, 4))  # 64 voxels
    gtv = box(SHAPE, (1, 1, 1), (3, 3, 3))  # 8 voxels
    assert volume_ml(ptv, (1.0, 1.0, 3.0)) == pytest.approx(64 * 3 / 1000)
    assert volume_ml(ptv) == pytest.approx(0.064)
    assert gpr(gtv, ptv, (1.0, 1.0, 3.0)) == pytest.approx(8 / 64)
    assert gpr(torch.from_numpy(gtv), torch.from_numpy(ptv)) == pytest.approx(0.125)


def test_gpr_without_gtv_or_ptv():
    ptv = box(SHAPE, (0, 0, 0), (4, 4, 4))
    assert gpr(None, ptv, (1.0, 1.0, 3.0)) is None
    assert gpr(EMPTY, ptv, (1.0, 1.0, 3.0)) is None
    assert math.isnan(gpr(ptv, EMPTY, (1.0, 1.0, 3.0)))


def test_case_metrics_computes_everything():
    target = box(SHAPE, (0, 0, 0), (4, 4, 4))  # 64 voxels
    pred = box(SHAPE, (0, 0, 0), (4, 4, 5))  # 80 voxels, contains target
    gtv = box(SHAPE, (1, 1, 1), (3, 3, 3))  # 8 voxels
    m = case_metrics("d001", pred, target, (1.0, 1.0, 3.0), gtv=gtv)
    assert isinstance(m, CaseMetrics)
    assert m.case_id == "d001"
    assert m.dice == pytest.approx(2 * 64 / (64 + 80))
    assert m.iou == pytest.approx(64 / 80)
    # The extra slice along the 3 mm axis: every surface distance is 0 or one slice.
    assert m.hd95_mm == pytest.approx(3.0)
    assert m.gpr_pred == pytest.approx(8 / 80)
    assert m.gpr_true == pytest.approx(8 / 64)
    assert m.to_dict()["gpr_true"] == pytest.approx(0.125)

    no_gtv = case_metrics("d002", pred, target, (1.0, 1.0, 3.0))
    assert no_gtv.gpr_pred is None and no_gtv.gpr_true is None
def test_case_metrics_report_ptv_volume_and_its_pieces() -> None:
    from models.evaluation.report import render_table, summarise

    target = np.zeros((20, 20, 10), dtype=bool)
    target[2:8, 2:8, 2:6] = True
    pred = target.copy()
    pred[14:17, 14:17, 6:8] = True  # a detached island: a PTV in two pieces
    row = case_metrics("c1", pred, target, (2.0, 2.0, 3.0))
    assert row.volume_true_ml == pytest.approx(6 * 6 * 4 * 12 / 1000)
    assert row.volume_pred_ml == pytest.approx((6 * 6 * 4 + 3 * 3 * 2) * 12 / 1000)
    assert (row.spread_pred, row.spread_true) == (2, 1)
    diagonal = np.zeros_like(target)
    diagonal[3, 3, 3] = diagonal[4, 4, 4] = True  # touching at a corner: one 26-connected piece
    assert case_metrics("c2", diagonal, target, (1, 1, 1)).spread_pred == 1
    report = summarise([row, case_metrics("c2", target, target, (2.0, 2.0, 3.0))], model_version="1", router="A",
                       center="D")
    assert report.split_pred_share == 0.5 and report.cases[0].spread_pred == 2
    assert report.volume_pred_ml.n == 2
    assert any(c.header == "parts" for c in render_table(report).columns)
