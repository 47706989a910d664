"""Shape and spread descriptors of a binary mask, exactly as seed 003 Appendix A defines them.

Usable on any binary mask with a voxel spacing (a lesion sub-region, a PTV): total volume, 26-connected
components, core fraction and spread class, per-component marching-cubes area, sphericity, compactness,
principal-axis elongation and flatness, convex-hull solidity, their aggregation and the shape class.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from models.families.mpllm.surface import surface_area

SPREAD_CLASSES = ("single lesion", "core with satellite lesions", "scattered lesions")
SHAPE_CLASSES = ("focus", "round", "oval", "elongated", "irregular")
CORE_FRACTION = 0.7
"""f_core at or above which several islands are a core with satellites (Appendix A)."""
FOCUS_CM3 = 0.1
"""Below this total volume a mask is a focus (Appendix A: V_tot x 1e-3 < 0.1)."""


@dataclass(frozen=True)
class ComponentMetrics:
    """Appendix A's per-component quantities."""

    volume_mm3: float
    area_mm2: float
    sphericity: float
    compactness: float
    elongation: float
    flatness: float
    solidity: float


@dataclass(frozen=True)
class MaskDescriptors:
    """Descriptors of a whole (non-empty) mask: aggregated metrics plus the spread and shape classes."""

    volume_mm3: float
    n_components: int
    core_fraction: float
    sphericity: float
    elongation: float
    flatness: float
    solidity: float
    compactness: float
    spread: str
    shape: str
    components: tuple[ComponentMetrics, ...]

    def to_dict(self) -> dict:
        """Strict-JSON form: components as a list of dicts, an infinite elongation (a line) as None."""
        doc = {k: _finite(v) for k, v in asdict(self).items() if k != "components"}
        doc["components"] = [{k: _finite(v) for k, v in asdict(c).items()} for c in self.components]
        return doc


def _finite(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _principal_axes(coords_mm: np.ndarray) -> tuple[float, float]:
    """Elongation sqrt(l1/l2) and flatness sqrt(l3/l2) of the (biased) coordinate covariance.

    A component of one voxel or one line has l2 = 0: elongation is then 1 (a point) or infinite (a line),
    flatness 0 (the ratios' limits; Appendix A assumes l3 > 0)."""
    centred = coords_mm - coords_mm.mean(axis=0)
    cov = centred.T @ centred / len(coords_mm)
    l3, l2, l1 = np.clip(np.linalg.eigvalsh(cov), 0.0, None)
    if l2 <= 1e-12:
        return (1.0 if l1 <= 1e-12 else math.inf), 0.0
    return math.sqrt(l1 / l2), math.sqrt(l3 / l2)


def _hull_volume(coords_mm: np.ndarray) -> float:
    """Convex-hull volume of the voxel centres; 0 when they are coplanar (no 3D hull)."""
    if len(coords_mm) < 4:
        return 0.0
    try:
        return float(ConvexHull(coords_mm).volume)
    except QhullError:
        return 0.0


def component_metrics(component: np.ndarray, spacing: tuple[float, float, float]) -> ComponentMetrics:
    """Appendix A's quantities of one connected component (a boolean mask cropped or not).

    Coordinates are voxel indices times the spacing (mm), so anisotropic voxels give physical axes; solidity of
    a flat component (coplanar voxel centres, no hull volume) is taken as 1."""
    idx = np.argwhere(component)
    coords = idx * np.asarray(spacing, dtype=float)
    volume = len(idx) * float(np.prod(spacing))
    area = surface_area(component, spacing)
    sphericity = math.pi ** (1 / 3) * (6 * volume) ** (2 / 3) / area
    elongation, flatness = _principal_axes(coords)
    hull = _hull_volume(coords)
    return ComponentMetrics(volume_mm3=volume, area_mm2=area, sphericity=sphericity, compactness=area / volume,
                            elongation=elongation, flatness=flatness, solidity=volume / hull if hull > 0 else 1.0)


def spread_class(n_components: int, core_fraction: float) -> str:
    """Appendix A: single lesion, core with satellite lesions (f_core >= 0.7) or scattered lesions."""
    if n_components == 1:
        return SPREAD_CLASSES[0]
    return SPREAD_CLASSES[1] if core_fraction >= CORE_FRACTION else SPREAD_CLASSES[2]


def shape_class(volume_mm3: float, sphericity: float, elongation: float) -> str:
    """Appendix A's five shape categories, tested in the order the seed lists them."""
    if volume_mm3 * 1e-3 < FOCUS_CM3:
        return "focus"
    if sphericity >= 0.85 and elongation <= 1.3:
        return "round"
    if 0.60 <= sphericity < 0.85 and 1.3 < elongation <= 2.5:
        return "oval"
    if elongation > 2.5:
        return "elongated"
    return "irregular"


def describe_mask(mask: np.ndarray, spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> MaskDescriptors | None:
    """All Appendix A descriptors of a binary mask (voxel spacing in mm); ``None`` if the mask is empty."""
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 3:
        raise ValueError(f"mask must be 3D, got shape {mask.shape}")
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ValueError(f"spacing must be three positive numbers, got {spacing}")
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))  # 26-connectivity
    if n == 0:
        return None
    comps = []
    for i, box in enumerate(ndimage.find_objects(labels), start=1):
        comps.append(component_metrics(labels[box] == i, spacing))
    volumes = np.array([c.volume_mm3 for c in comps])
    total = float(volumes.sum())
    core = int(volumes.argmax())
    f_core = float(volumes[core] / total)
    fields = ("sphericity", "elongation", "flatness", "solidity", "compactness")
    if n == 1 or f_core >= CORE_FRACTION:
        agg = {f: getattr(comps[core], f) for f in fields}
    else:
        agg = {f: float(np.mean([getattr(c, f) for c in comps])) for f in fields}
    return MaskDescriptors(volume_mm3=total, n_components=n, core_fraction=f_core, **agg,
                           spread=spread_class(n, f_core), shape=shape_class(total, agg["sphericity"],
                                                                             agg["elongation"]),
                           components=tuple(comps))
