"""Randomised looks painted onto an anatomy: tissue textures and gas in bowel and rectum.

Both change HU values only: textures modulate tissue values without moving any boundary, and
gas pockets avoid every labelled structure (prostate, seminal vesicles, bladder, vessels, bone),
so the masks stay true.
"""

from __future__ import annotations

import numpy as np

from models.data.synthetic.anatomy import Anatomy
from models.data.synthetic.fields import smooth_field
from models.data.synthetic.geometry import Grid
from models.data.synthetic.randomization import DomainRandomization

__all__ = ["add_gas", "add_texture"]

_ORGANS = ("prostate", "sv", "bladder", "rectum", "vessels")
_AIR, _WALL = -1000.0, 30.0


def add_texture(anatomy: Anatomy, grid: Grid, dr: DomainRandomization, rng: np.random.Generator,
                *, scale: float = 1.0) -> dict[str, float]:
    """Add smooth random texture: one field for fat, muscle and organs (own SD each), one for bone."""
    m, hu = anatomy.masks, anatomy.hu
    sd = {key: float(rng.uniform(*dr.texture_hu)) for key in ("fat", "muscle", "organ")}
    sd["bone"] = float(rng.uniform(*dr.bone_texture_hu))
    lengths = [float(rng.uniform(*dr.texture_scale_mm)) * scale for _ in range(2)]
    amp = np.where(hu < -50, np.float32(sd["fat"]), np.float32(sd["muscle"]))
    amp[np.logical_or.reduce([m[k] for k in _ORGANS])] = sd["organ"]
    amp[~m["body"] | m["bone"]] = 0.0
    hu += amp * smooth_field(grid, lengths[0], rng)
    np.add(hu, np.float32(sd["bone"]) * smooth_field(grid, lengths[1], rng), out=hu, where=m["bone"])
    return {**sd, "length_mm": lengths[0], "bone_length_mm": lengths[1]}


def _pocket(anatomy: Anatomy, grid: Grid, centre: tuple[float, ...], radii: tuple[float, ...],
            free: np.ndarray, wall_mm: float) -> None:
    """One gas pocket with a thin soft-tissue wall, painted only where ``free``."""
    hu = anatomy.hu
    outer = grid.ellipsoid(centre, tuple(r + wall_mm for r in radii)) & free
    hu[outer & (hu < -50)] = _WALL
    hu[grid.ellipsoid(centre, radii) & free] = _AIR


def add_gas(anatomy: Anatomy, grid: Grid, dr: DomainRandomization, rng: np.random.Generator,
            *, scale: float = 1.0) -> dict[str, int]:
    """Air pockets in the bowel and sigmoid above the bladder and in the rectum; returns their counts."""
    m, lm, s = anatomy.masks, anatomy.landmarks, scale
    taken = np.logical_or.reduce([m[k] for k in ("bone", "bladder", "prostate", "sv", "vessels", "rectum")])
    free = m["body"] & ~taken
    bx, by, bz, rx, ry, rz = lm["bladder"]
    n_bowel = int(rng.integers(dr.bowel_gas_pockets[0], dr.bowel_gas_pockets[1] + 1))
    for _ in range(n_bowel):  # above the bladder dome, spread over the pelvic inlet
        centre = (bx + rng.uniform(-55, 55) * s, by + rng.uniform(-35, 25) * s, bz + rz + rng.uniform(8, 45) * s)
        radii = tuple(float(rng.uniform(*dr.gas_radius_mm)) * s * f for f in (1.0, 1.0, 0.7))
        _pocket(anatomy, grid, centre, radii, free, 2.0 * s)
    x0, y0, z0, x1, y1, z1, rect_r = lm["rectum"]
    inner = m["rectum"] & ~m["prostate"] & ~m["sv"] & ~m["bone"]
    n_rect = int(rng.integers(dr.rectal_gas_pockets[0], dr.rectal_gas_pockets[1] + 1))
    for _ in range(n_rect):
        t = float(rng.uniform(0.1, 0.9))
        centre = (x0 + t * (x1 - x0), y0 + t * (y1 - y0), z0 + t * (z1 - z0))
        radii = tuple(float(rng.uniform(0.3, 0.8)) * rect_r for _ in range(3))
        anatomy.hu[grid.ellipsoid(centre, radii) & inner] = _AIR
    return {"bowel_gas": n_bowel, "rectal_gas": n_rect}
