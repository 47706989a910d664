"""A male pelvis in Hounsfield units, built from ellipsoids and tubes (mm, world RAS+).

Everything is placed relative to a pelvis centre near the world origin (the prostate centre)
and multiplied by ``scale``, so ``scale=0.5`` gives a half-size patient for fast tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.data.synthetic.geometry import Grid

__all__ = ["HU", "Anatomy", "Vessel", "build_anatomy"]

HU = {"air": -1000.0, "fat": -100.0, "pelvic_fat": -90.0, "soft": 40.0, "bone": 700.0,
      "marrow": 250.0, "bladder": 10.0, "prostate": 45.0, "sv": 35.0, "rectum_wall": 35.0,
      "stool": -40.0, "vessel": 40.0, "contrast": 200.0}


@dataclass(frozen=True)
class Vessel:
    p0: tuple[float, float, float]
    p1: tuple[float, float, float]
    radius: float


@dataclass
class Anatomy:
    hu: np.ndarray  # float32 HU before scanner effects
    masks: dict[str, np.ndarray]  # body, bone, bladder, prostate, sv, rectum, vessels, bed
    vessels: list[Vessel] = field(default_factory=list)
    prostatectomy: bool = False


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def build_anatomy(grid: Grid, rng: np.random.Generator, *, scale: float = 1.0,
                  prostatectomy: bool = False, contrast: bool = False) -> Anatomy:
    """Paint one patient; organ sizes and positions vary with ``rng``."""
    s = scale
    cx, cy, cz = rng.normal(0, 4) * s, rng.normal(0, 4) * s, rng.normal(0, 5) * s
    P = lambda x, y, z: (cx + x * s, cy + y * s, cz + z * s)  # noqa: E731  pelvis-relative point
    rx, ry = _u(rng, 100, 112), _u(rng, 76, 90)
    zmin, zmax = float(grid.axes[2].min()) - 1, float(grid.axes[2].max()) + 1
    hu = np.full(grid.shape, HU["air"], dtype=np.float32)
    m: dict[str, np.ndarray] = {}

    m["body"] = grid.elliptic_cylinder(P(0, -5, 0)[:2], (rx * s, ry * s), (zmin, zmax))
    hu[m["body"]] = HU["fat"]
    fat = _u(rng, 10, 24)
    hu[grid.elliptic_cylinder(P(0, -5, 0)[:2], ((rx - fat) * s, (ry - fat) * s), (zmin, zmax))] = HU["soft"]
    hu[grid.ellipsoid(P(0, -5, 15), (50 * s, 42 * s, 65 * s))] = HU["pelvic_fat"]

    bone = grid.empty()
    ring = grid.elliptic_cylinder(P(0, -8, 0)[:2], (72 * s, 48 * s), (cz - 25 * s, cz + 6 * s))
    ring &= ~grid.elliptic_cylinder(P(0, -8, 0)[:2], (61 * s, 38 * s), (cz - 26 * s, cz + 7 * s))
    ring &= ~grid.elliptic_cylinder(P(0, -56, 0)[:2], (40 * s, 20 * s), (cz - 26 * s, cz + 7 * s))
    bone |= ring
    marrow = grid.empty()
    for side in (-1, 1):
        head = P(side * (rx - 26), 2, -4)
        bone |= grid.ellipsoid(head, (22 * s,) * 3)
        marrow |= grid.ellipsoid(head, (17 * s,) * 3)
        bone |= grid.capsule(head, P(side * (rx - 12), 4, -40), 13 * s)
        bone |= grid.ellipsoid(P(side * (rx - 48), -22, 55), (7 * s, 40 * s, 30 * s), angle_deg=side * 35)
    bone |= grid.ellipsoid(P(0, -(ry - 22), 40), (32 * s, 13 * s, 42 * s))
    m["bone"] = bone & m["body"]
    hu[m["bone"]] = HU["bone"]
    hu[marrow & m["body"]] = HU["marrow"]

    vessels = []
    for side in (-1, 1):
        r = _u(rng, 5, 7)
        top = P(side * 22, -28, 78)
        vessels.append(Vessel(top, P(side * _u(rng, 58, 66), 22, -12), r * s))  # external iliac
        vessels.append(Vessel(top, P(side * 45, -44, 22), r * 0.8 * s))  # internal iliac
        vessels.append(Vessel(P(side * 3, -34, 115), top, r * 1.1 * s))  # common iliac
    m["vessels"] = grid.empty()
    for v in vessels:
        m["vessels"] |= grid.capsule(v.p0, v.p1, v.radius)
    m["vessels"] &= m["body"] & ~m["bone"]
    hu[m["vessels"]] = HU["contrast"] if contrast else HU["vessel"]

    rect_r = _u(rng, 13, 18)
    m["rectum"] = grid.capsule(P(0, -28, -40), P(0, -32, 45), rect_r * s)
    hu[m["rectum"]] = HU["rectum_wall"]
    hu[grid.capsule(P(0, -28, -40), P(0, -32, 45), (rect_r - 4) * s)] = HU["stool"]
    hu[grid.ellipsoid(P(0, -30, _u(rng, -20, 30)), (_u(rng, 4, 9) * s,) * 3) & m["rectum"]] = HU["air"]

    drop = -8 if prostatectomy else 0
    m["bladder"] = grid.ellipsoid(P(0, 12, 40 + drop), tuple(_u(rng, lo, hi) * s for lo, hi in
                                                            ((25, 38), (20, 30), (18, 28))))
    hu[m["bladder"]] = HU["bladder"]
    pr = (_u(rng, 17, 25), _u(rng, 13, 18), _u(rng, 14, 20))
    py = 2 + rng.normal(0, 1.5)
    m["prostate"], m["sv"] = grid.empty(), grid.empty()
    if not prostatectomy:
        m["prostate"] = grid.ellipsoid(P(0, py, 0), tuple(r * s for r in pr))
        for side in (-1, 1):
            m["sv"] |= grid.ellipsoid(P(side * 15, -12, pr[2] + 4), (15 * s, 5 * s, 7 * s), angle_deg=side * 25)
        m["sv"] &= ~m["prostate"] & ~m["bladder"]
        hu[m["sv"]] = HU["sv"]
        hu[m["prostate"]] = HU["prostate"]
        m["bladder"] &= ~m["prostate"]
    bed = grid.ellipsoid(P(0, py - 3, 8), ((pr[0] + 3) * s, pr[1] * s, (pr[2] + 10) * s))
    m["bed"] = bed & ~m["rectum"] & ~m["bone"]
    return Anatomy(hu=hu, masks=m, vessels=vessels, prostatectomy=prostatectomy)
