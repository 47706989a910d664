"""Apply a center's delineation policy to one patient: GTV, CTV, nodal region and PTV.

CTV = prostate (definitive) or prostate bed (after prostatectomy), plus the seminal vesicles
when the policy includes them for the patient's risk group (definitive only: they are
removed at surgery). Nodal region = iliac vessels dilated by ``nodal_expansion_mm``.
PTV = CTV expanded by ``ptv_margin_mm`` union, iff the policy gives pelvic nodal irradiation
for the risk group (always for N1), the nodal region expanded by the same margin; all inside
the body. Lengths in mm are multiplied by ``scale`` like the anatomy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from models.data.clinical import RiskGroup
from models.data.synthetic.anatomy import Anatomy
from models.data.synthetic.geometry import Grid
from models.data.synthetic.presets import DelineationPolicy

__all__ = ["Targets", "delineate", "expand"]


@dataclass
class Targets:
    ptv: np.ndarray
    ctv: np.ndarray
    gtv: np.ndarray | None  # defined for definitive treatment only
    nodal: np.ndarray
    pelvic_nodes: bool
    seminal_vesicles: bool


def expand(mask: np.ndarray, margin_mm: float, spacing: tuple[float, float, float]) -> np.ndarray:
    """Isotropic expansion by ``margin_mm`` (Euclidean distance in mm, anisotropic voxels)."""
    if margin_mm <= 0 or not mask.any():
        return mask.copy()
    pad = [int(np.ceil(margin_mm / s)) + 1 for s in spacing]
    idx = np.nonzero(mask)
    box = tuple(slice(max(int(i.min()) - p, 0), min(int(i.max()) + p + 1, n))
                for i, p, n in zip(idx, pad, mask.shape, strict=True))
    dist = ndimage.distance_transform_edt(~mask[box], sampling=spacing)
    out = np.zeros_like(mask)
    out[box] = dist <= margin_mm
    return out


def delineate(anatomy: Anatomy, grid: Grid, policy: DelineationPolicy, risk: RiskGroup,
              *, scale: float = 1.0) -> Targets:
    m = anatomy.masks
    body = m["body"]
    margin = policy.ptv_margin_mm * scale
    nodes = policy.pelvic_nodes(risk)
    if anatomy.prostatectomy:
        ctv, gtv, sv = m["bed"].copy(), None, False
    else:
        sv = policy.seminal_vesicles(risk)
        ctv = m["prostate"] | (m["sv"] if sv else False)
        gtv = m["prostate"].copy()
    nodal, nodal_ptv = grid.empty(), grid.empty()
    grow = policy.nodal_expansion_mm * scale
    for v in anatomy.vessels:
        nodal |= grid.capsule(v.p0, v.p1, v.radius + grow)
        if nodes:
            nodal_ptv |= grid.capsule(v.p0, v.p1, v.radius + grow + margin)
    nodal &= body & ~m["bone"]
    ptv = (expand(ctv, margin, grid.spacing) | nodal_ptv) & body
    return Targets(ptv=ptv, ctv=ctv, gtv=gtv, nodal=nodal, pelvic_nodes=nodes, seminal_vesicles=sv)
