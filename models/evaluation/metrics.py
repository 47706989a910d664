"""Per-case segmentation metrics of seed 000 (Methods, "Evaluation").

Dice, IoU and the 95th percentile Hausdorff distance (HD95, millimetres) of a predicted
PTV mask against the ground truth, and the GTV-to-PTV ratio (GPR): total GTV volume divided
by total PTV volume.

Masks are ``(H, W, D)`` numpy arrays or torch tensors, bool or integer; any non-zero voxel
is foreground. ``spacing`` is the voxel size in millimetres along the three axes, in the
same order as the array axes.

Empty masks (a case where the model predicts nothing, or a label without a PTV):

* Dice and IoU: both empty -> 1.0 (perfect agreement); one empty -> 0.0.
* HD95: both empty -> 0.0; exactly one empty -> NaN (a distance to nothing is undefined).
  NaN rather than ``inf`` so that a mean is not swamped; aggregation
  (:func:`models.evaluation.bootstrap.bootstrap_ci`) drops NaN values and reports how many
  values it used, so an undefined distance is visible as a smaller ``n``.
* GPR: ``None`` when there is no GTV (no mask, or an empty one); NaN when the PTV is empty.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance, compute_iou

__all__ = [
    "CaseMetrics",
    "case_metrics",
    "dice",
    "gpr",
    "hd95_mm",
    "iou",
    "volume_ml",
]

MaskLike = np.ndarray | torch.Tensor


def _as_bool_numpy(mask: MaskLike, name: str) -> np.ndarray:
    arr = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if arr.ndim != 3:
        raise ValueError(f"{name} must be a 3-D (H, W, D) mask, got shape {tuple(arr.shape)}")
    return arr != 0


def _pair(pred: MaskLike, target: MaskLike) -> tuple[np.ndarray, np.ndarray]:
    p = _as_bool_numpy(pred, "pred")
    t = _as_bool_numpy(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"pred and target shapes differ: {p.shape} vs {t.shape}")
    return p, t


def _spacing3(spacing: Sequence[float] | None) -> tuple[float, float, float]:
    if spacing is None:
        return (1.0, 1.0, 1.0)
    s = tuple(float(v) for v in spacing)
    if len(s) != 3 or any(not math.isfinite(v) or v <= 0 for v in s):
        raise ValueError(f"spacing must be three positive numbers (mm), got {spacing!r}")
    return s  # type: ignore[return-value]


def _bchw(mask: np.ndarray) -> torch.Tensor:
    """A binary mask as the (batch=1, channel=1, H, W, D) float tensor MONAI expects."""
    return torch.from_numpy(mask.astype(np.float32))[None, None]


def dice(pred: MaskLike, target: MaskLike) -> float:
    """Dice coefficient 2|A∩B| / (|A| + |B|); 1.0 when both masks are empty.

    Computed by ``monai.metrics.compute_dice`` with ``ignore_empty=False``, which gives the
    documented empty-mask convention (both empty -> 1, one empty -> 0).
    """
    p, t = _pair(pred, target)
    value = compute_dice(_bchw(p), _bchw(t), include_background=True, ignore_empty=False)
    return float(value.item())


def iou(pred: MaskLike, target: MaskLike) -> float:
    """Intersection over union |A∩B| / |A∪B|; 1.0 when both masks are empty.

    Computed by ``monai.metrics.compute_iou`` with ``ignore_empty=False``.
    """
    p, t = _pair(pred, target)
    value = compute_iou(_bchw(p), _bchw(t), include_background=True, ignore_empty=False)
    return float(value.item())


def hd95_mm(pred: MaskLike, target: MaskLike, spacing: Sequence[float] | None) -> float:
    """Symmetric 95th percentile Hausdorff distance between the mask surfaces, in mm.

    Computed by ``monai.metrics.compute_hausdorff_distance(percentile=95, spacing=...)``
    (surface voxels, Euclidean distance scaled by the voxel spacing). ``spacing=None`` means
    1 mm isotropic. Both masks empty -> 0.0; exactly one empty -> NaN (see module docstring).
    The empty cases are handled here, before MONAI, because MONAI answers NaN for both
    and warns.
    """
    p, t = _pair(pred, target)
    s = _spacing3(spacing)
    p_any, t_any = bool(p.any()), bool(t.any())
    if not p_any and not t_any:
        return 0.0
    if p_any != t_any:
        return float("nan")
    with warnings.catch_warnings():
        # MONAI 1.5-1.6 passes a deprecated argument to itself internally
        # (get_mask_edges:always_return_as_numpy); the warning is not ours to act on.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"monai\.")
        value = compute_hausdorff_distance(
            _bchw(p), _bchw(t), include_background=True, percentile=95, spacing=list(s)
        )
    return float(value.item())


def volume_ml(mask: MaskLike, spacing: Sequence[float] | None = None) -> float:
    """Foreground volume in millilitres (voxel count x voxel volume in mm^3 / 1000).

    Own code: a voxel count times the voxel volume; MONAI has no volume metric.
    """
    m = _as_bool_numpy(mask, "mask")
    sx, sy, sz = _spacing3(spacing)
    return float(np.count_nonzero(m)) * sx * sy * sz / 1000.0


def gpr(gtv: MaskLike | None, ptv: MaskLike, spacing: Sequence[float] | None = None) -> float | None:
    """GTV-to-PTV ratio (seed 000): total GTV volume / total PTV volume.

    Own code (no MONAI equivalent). Both masks must lie on the same grid, so the voxel
    volume cancels; ``spacing`` is accepted for symmetry with the other metrics and checked.
    Returns ``None`` when there is no GTV (``gtv`` is None or an empty mask) and NaN when
    the PTV is empty. The ratio is a fraction (0.2 = 20 %); it can exceed 1 when a
    prediction's PTV is smaller than the GTV.
    """
    if gtv is None:
        return None
    g = _as_bool_numpy(gtv, "gtv")
    p = _as_bool_numpy(ptv, "ptv")
    if g.shape != p.shape:
        raise ValueError(f"gtv and ptv shapes differ: {g.shape} vs {p.shape}")
    g_vol = volume_ml(g, spacing)
    if g_vol == 0.0:
        return None
    p_vol = volume_ml(p, spacing)
    if p_vol == 0.0:
        return float("nan")
    return g_vol / p_vol


@dataclass(frozen=True)
class CaseMetrics:
    """Metrics of one case. ``hd95_mm`` may be NaN; ``gpr_*`` are None without a GTV."""

    case_id: str
    dice: float
    iou: float
    hd95_mm: float
    gpr_pred: float | None
    gpr_true: float | None
    volume_pred_ml: float | None = None
    volume_true_ml: float | None = None
    spread_pred: int | None = None
    """26-connected components of the predicted PTV (seed 003 Appendix A's spread): more than one is a split PTV."""
    spread_true: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def case_metrics(
    case_id: str,
    pred: MaskLike,
    target: MaskLike,
    spacing: Sequence[float] | None,
    gtv: MaskLike | None = None,
) -> CaseMetrics:
    """All metrics of one case: ``pred``/``target`` are PTV masks, ``gtv`` the GTV label.

    ``gpr_pred`` divides the GTV by the predicted PTV, ``gpr_true`` by the ground-truth PTV.
    """
    p, t = _pair(pred, target)
    from scipy import ndimage

    def components(mask: np.ndarray) -> int:
        return int(ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))[1])

    return CaseMetrics(
        case_id=str(case_id),
        dice=dice(p, t),
        iou=iou(p, t),
        hd95_mm=hd95_mm(p, t, spacing),
        gpr_pred=gpr(gtv, p, spacing),
        gpr_true=gpr(gtv, t, spacing),
        volume_pred_ml=volume_ml(p, spacing),
        volume_true_ml=volume_ml(t, spacing),
        spread_pred=components(p),
        spread_true=components(t),
    )
