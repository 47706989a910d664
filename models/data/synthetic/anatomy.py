"""A male pelvis in Hounsfield units, built from ellipsoids and tubes (mm, world RAS+).

Everything is placed relative to a pelvis centre near the world origin (the prostate centre)
and multiplied by ``scale``, so ``scale=0.5`` gives a half-size patient for fast tests. With a
``DomainRandomization`` the same shapes come from much wider ranges (see randomization.py) and
organ masks exclude bone and each other; without one every draw, and every voxel, is as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from models.data.synthetic.geometry import Grid
from models.data.synthetic.randomization import DomainRandomization, Draw

__all__ = ["HU", "Anatomy", "Vessel", "build_anatomy"]

HU = {"air": -1000.0, "fat": -100.0, "pelvic_fat": -90.0, "soft": 40.0, "bone": 700.0,
      "marrow": 250.0, "bladder": 10.0, "prostate": 45.0, "sv": 35.0, "rectum_wall": 35.0,
      "stool": -40.0, "vessel": 40.0, "contrast": 200.0}

Vec = tuple[float, float, float]
_REACH_MM = (30.0, 30.0, 42.0)  # prostate/bed extent around the pelvis centre at size factor 1, plus room


@dataclass(frozen=True)
class Vessel:
    p0: tuple[float, float, float]
    p1: tuple[float, float, float]
    radius: float


@dataclass
class Anatomy:
    hu: np.ndarray  # float32 HU before scanner effects
    masks: dict[str, np.ndarray]  # body, bone, bladder, prostate, sv, rectum, vessels, bed (+ metal if randomised)
    vessels: list[Vessel] = field(default_factory=list)
    prostatectomy: bool = False
    landmarks: dict[str, tuple[float, ...]] = field(default_factory=dict)  # world mm (centres, radii)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _moved(p: Vec, d: Draw, s: float) -> Vec:
    """``p`` moved by the vessel jitter; unchanged when randomisation is off."""
    if not d.on:
        return p
    return tuple(a + o * s for a, o in zip(p, d.vec("vessel_jitter_mm"), strict=True))


def _course(p0: Vec, p1: Vec, radius: float, d: Draw, s: float) -> list[Vessel]:
    """A vessel from p0 to p1, bent once in its middle when randomisation is on."""
    if not d.on:
        return [Vessel(p0, p1, radius)]
    mid = _moved(tuple((a + b) / 2 for a, b in zip(p0, p1, strict=True)), d, s)
    return [Vessel(p0, mid, radius), Vessel(mid, p1, radius)]


def _off_centre(grid: Grid, c: Vec, d: Draw, reach: Vec, s: float) -> Vec:
    """The pelvis centre moved off the FOV centre, keeping ``reach`` mm around it inside the FOV."""
    out = []
    for ax, ci, most, r in zip(grid.axes, c, d.dr.off_centre_mm, reach, strict=True):
        room = max(float(np.abs(ax).max()) - r * s, 0.0)
        out.append(float(np.clip(np.clip(ci, -12 * s, 12 * s) + d.rng.uniform(-most, most) * s, -room, room)))
    return tuple(out)


def build_anatomy(grid: Grid, rng: np.random.Generator, *, scale: float = 1.0, prostatectomy: bool = False,
                  contrast: bool = False, randomization: DomainRandomization | None = None,
                  hu_table: Mapping[str, float] | None = None) -> Anatomy:
    """Paint one patient; sizes and positions vary with ``rng``, widely with ``randomization``."""
    s, T, d = scale, hu_table or HU, Draw(randomization, rng)
    cx, cy, cz = rng.normal(0, 4) * s, rng.normal(0, 4) * s, rng.normal(0, 5) * s
    pk = (d.factor("prostate_size"), d.factor("prostate_size"), d.factor("prostate_size"))
    po = d.vec("organ_shift_mm")
    if d.on:
        reach = tuple(r * k + abs(o) for r, k, o in zip(_REACH_MM, pk, po, strict=True))
        cx, cy, cz = _off_centre(grid, (cx, cy, cz), d, reach, s)
    P = lambda x, y, z: (cx + x * s, cy + y * s, cz + z * s)  # noqa: E731  pelvis-relative point
    keep = (lambda mask: mask & ~m["bone"]) if d.on else (lambda mask: mask)  # noqa: E731
    rx, ry = _u(rng, 100, 112), _u(rng, 76, 90)
    zmin, zmax = float(grid.axes[2].min()) - 1, float(grid.axes[2].max()) + 1
    hu = np.full(grid.shape, T["air"], dtype=np.float32)
    m: dict[str, np.ndarray] = {}

    k, bz, hr = d.factor("pelvis_size"), d.shift("bone_shift_mm"), d.factor("femoral_head_size")
    hs = {side: d.vec("femoral_head_shift_mm") for side in (-1, 1)}
    fill = d.factor("bladder_fill")
    fat = _u(rng, 10, 24)
    bx, by = rx * d.factor("body_size"), ry * d.factor("body_size")
    if d.on:  # muscle around the bones, bladder and sacrum, then the drawn fat on top
        thick = float(rng.uniform(*d.dr.fat_mm))
        heads = max(abs(side * (rx - 26) * k + hs[side][0]) for side in (-1, 1)) + 22 * hr + 3
        bx = max((bx - fat) * 0.95, heads) + thick
        by = max((by - fat) * 0.95, (ry - 22) * k + 11, 23 + abs(po[1]) + 30 * fill) + thick
        fat = thick
    m["body"] = grid.elliptic_cylinder(P(0, -5, 0)[:2], (bx * s, by * s), (zmin, zmax))
    hu[m["body"]] = T["fat"]
    hu[grid.elliptic_cylinder(P(0, -5, 0)[:2], ((bx - fat) * s, (by - fat) * s), (zmin, zmax))] = T["soft"]
    hu[grid.ellipsoid(P(0, -5, 15), (50 * s, 42 * s, 65 * s))] = T["pelvic_fat"]

    bone = grid.empty()
    ring = grid.elliptic_cylinder(P(0, -8, 0)[:2], (72 * k * s, 48 * k * s), (cz + (bz - 25) * s, cz + (bz + 6) * s))
    ring &= ~grid.elliptic_cylinder(P(0, -8, 0)[:2], (61 * k * s, 38 * k * s), (cz + (bz - 26) * s, cz + (bz + 7) * s))
    ring &= ~grid.elliptic_cylinder(P(0, -56 * k, 0)[:2], (40 * k * s, 20 * k * s),
                                    (cz + (bz - 26) * s, cz + (bz + 7) * s))
    bone |= ring
    marrow, landmarks = grid.empty(), {}
    for side in (-1, 1):
        head = P(side * (rx - 26) * k + hs[side][0], 2 + hs[side][1], -4 + hs[side][2])
        shaft = P(side * (rx - 12) * k + hs[side][0], 4 + hs[side][1], -40 + hs[side][2])
        bone |= grid.ellipsoid(head, (22 * hr * s,) * 3)
        marrow |= grid.ellipsoid(head, (17 * hr * s,) * 3)
        bone |= grid.capsule(head, shaft, 13 * hr * s)
        bone |= grid.ellipsoid(P(side * (rx - 48) * k, -22, 55 + bz), (7 * s, 40 * k * s, 30 * k * s),
                               angle_deg=side * 35)
        landmarks[f"femoral_head_{'right' if side > 0 else 'left'}"] = (*head, 22 * hr * s, *shaft)
    bone |= grid.ellipsoid(P(0, -(ry - 22) * k, 40 + bz), (32 * k * s, 13 * s, 42 * k * s))
    m["bone"] = bone & m["body"]
    hu[m["bone"]] = T["bone"]
    hu[marrow & m["body"]] = T["marrow"]

    vessels = []
    for side in (-1, 1):
        r = _u(rng, 5, 7)
        top = _moved(P(side * 22, -28, 78), d, s)
        vessels += _course(top, _moved(P(side * _u(rng, 58, 66), 22, -12), d, s), r * s, d, s)  # external iliac
        vessels += _course(top, _moved(P(side * 45, -44, 22), d, s), r * 0.8 * s, d, s)  # internal iliac
        vessels += _course(_moved(P(side * 3, -34, 115), d, s), top, r * 1.1 * s, d, s)  # common iliac
    m["vessels"] = grid.empty()
    for v in vessels:
        m["vessels"] |= grid.capsule(v.p0, v.p1, v.radius)
    m["vessels"] &= m["body"] & ~m["bone"]
    hu[m["vessels"]] = T["contrast"] if contrast else T["vessel"]

    rect_r = _u(rng, 13, 18) * d.factor("rectum_size")
    rs = d.vec("organ_shift_mm")
    r0, r1 = P(rs[0], -28 + rs[1], -40), P(rs[0], -32 + rs[1], 45)
    m["rectum"] = keep(grid.capsule(r0, r1, rect_r * s))
    hu[m["rectum"]] = T["rectum_wall"]
    hu[keep(grid.capsule(r0, r1, (rect_r - 4) * s))] = T["stool"]
    hu[grid.ellipsoid(P(rs[0], -30 + rs[1], _u(rng, -20, 30)), (_u(rng, 4, 9) * s,) * 3) & m["rectum"]] = T["air"]

    drop = -8 if prostatectomy else 0
    radii = tuple(_u(rng, lo, hi) * fill * s for lo, hi in ((25, 38), (20, 30), (18, 28)))
    bladder_c = P(po[0], 12 + po[1], 40 + drop + (fill - 1) * 22 + po[2])
    m["bladder"] = grid.ellipsoid(bladder_c, radii)
    if d.on:
        m["bladder"] &= ~m["bone"] & ~m["rectum"] & ~m["vessels"]
    hu[m["bladder"]] = T["bladder"]
    pr = (_u(rng, 17, 25) * pk[0], _u(rng, 13, 18) * pk[1], _u(rng, 14, 20) * pk[2])
    py = 2 + rng.normal(0, 1.5)
    m["prostate"], m["sv"] = grid.empty(), grid.empty()
    if not prostatectomy:
        m["prostate"] = keep(grid.ellipsoid(P(po[0], py + po[1], po[2]), tuple(r * s for r in pr)))
        sk, sa = d.factor("sv_size"), d.shift("sv_angle_deg")
        for side in (-1, 1):
            m["sv"] |= grid.ellipsoid(P(side * 15 * sk + po[0], -12 + po[1], pr[2] + 4 + po[2]),
                                      (15 * sk * s, 5 * s, 7 * sk * s), angle_deg=side * (25 + sa))
        m["sv"] = keep(m["sv"] & ~m["prostate"] & ~m["bladder"])
        hu[m["sv"]] = T["sv"]
        hu[m["prostate"]] = T["prostate"]
        m["bladder"] &= ~m["prostate"]
    bed = grid.ellipsoid(P(po[0], py - 3 + po[1], 8 + po[2]), ((pr[0] + 3) * s, pr[1] * s, (pr[2] + 10) * s))
    m["bed"] = bed & ~m["rectum"] & ~m["bone"]
    if d.on:
        m["rectum"] &= ~m["prostate"] & ~m["sv"] & ~m["bladder"]
    landmarks.update(bladder=(*bladder_c, *radii), rectum=(*r0, *r1, rect_r * s), pelvis=(cx, cy, cz))
    return Anatomy(hu=hu, masks=m, vessels=vessels, prostatectomy=prostatectomy, landmarks=landmarks)
