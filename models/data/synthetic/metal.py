"""Hip prostheses: a metal femoral head and stem, and the streak artefacts they cause.

The prosthesis replaces bone inside the bone mask (so no label moves) and is recorded as a
``metal`` mask. Streaks are what the reconstruction makes of it: in every axial slice through
the metal, bright and dark lines through the metal centre, fading with distance, plus a dark
band between two prostheses. They are drawn from the metal mask itself, after any deformation.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from models.data.synthetic.anatomy import Anatomy
from models.data.synthetic.geometry import Grid
from models.data.synthetic.randomization import DomainRandomization

__all__ = ["add_prosthesis", "add_streaks"]


def add_prosthesis(anatomy: Anatomy, grid: Grid, dr: DomainRandomization, rng: np.random.Generator) -> list[str]:
    """On ``metal_fraction`` of cases make one or both femoral heads metal; returns the sides placed."""
    anatomy.masks["metal"] = metal = grid.empty()
    if rng.random() >= dr.metal_fraction:
        return []
    sides = ["left", "right"]
    if rng.random() >= dr.metal_bilateral_fraction:
        sides = [sides[int(rng.integers(2))]]
    value, placed = np.float32(rng.uniform(*dr.metal_hu)), []
    for side in sides:
        x, y, z, r, sx, sy, sz = anatomy.landmarks[f"femoral_head_{side}"]
        piece = grid.ellipsoid((x, y, z), (0.95 * r,) * 3) | grid.capsule((x, y, z), (sx, sy, sz), 0.4 * r)
        piece &= anatomy.masks["bone"]
        if piece.any():  # a head outside the field of view leaves no metal
            metal |= piece
            placed.append(side)
    anatomy.hu[metal] = value
    return placed


def _line(grid: Grid, centre: tuple[float, float], angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every (x, y) pixel from a line through ``centre``, and from ``centre`` itself."""
    dx = grid.axes[0][:, None] - np.float32(centre[0])
    dy = grid.axes[1][None, :] - np.float32(centre[1])
    return np.abs(dx * np.sin(angle) - dy * np.cos(angle)), np.hypot(dx, dy)


def add_streaks(anatomy: Anatomy, grid: Grid, dr: DomainRandomization, rng: np.random.Generator,
                *, scale: float = 1.0) -> int:
    """Streak artefacts inside the body around each metal object; returns the number of lines drawn."""
    metal, body, hu = anatomy.masks.get("metal"), anatomy.masks["body"], anatomy.hu
    if metal is None or not metal.any():
        return 0
    labels, n_obj = ndimage.label(metal.any(axis=2))
    sources, lines = [], 0
    for obj in range(1, n_obj + 1):
        own = metal & (labels == obj)[:, :, None]
        ix, iy, _ = np.nonzero(own)
        weight = own.sum(axis=(0, 1)).astype(np.float32)
        sources.append(((float(grid.axes[0][ix].mean()), float(grid.axes[1][iy].mean())), weight / weight.max()))
    for centre, weight in sources:
        n = int(rng.integers(dr.streak_count[0], dr.streak_count[1] + 1))
        streaks = np.zeros(grid.shape[:2], dtype=np.float32)
        for _ in range(n):
            dist, r = _line(grid, centre, float(rng.uniform(0, np.pi)))
            width = max(float(rng.uniform(0.8, 2.0)), 0.6 * grid.spacing[0])
            peak = float(rng.uniform(*dr.streak_hu)) * float(rng.choice([-1.0, 1.0]))
            streaks += peak * np.exp(-0.5 * (dist / width) ** 2) * (30 * scale / (r + 30 * scale))
        lines += n
        _apply(hu, body, streaks, weight)
    if len(sources) >= 2:  # the dark band between two prostheses (beam hardening)
        (a, wa), (b, wb) = sources[:2]
        dist, _ = _line(grid, a, float(np.arctan2(b[1] - a[1], b[0] - a[0])))
        mid, half = np.add(a, b) / 2, max(np.hypot(b[0] - a[0], b[1] - a[1]) / 2, 1.0)
        _, r_mid = _line(grid, tuple(mid), 0.0)
        band = -float(rng.uniform(*dr.streak_hu)) * np.exp(-0.5 * (dist / (5 * scale)) ** 2 - 0.5 * (r_mid / half) ** 2)
        _apply(hu, body, band.astype(np.float32), np.minimum(wa, wb))
        lines += 1
    return lines


def _apply(hu: np.ndarray, body: np.ndarray, streaks: np.ndarray, weight: np.ndarray) -> None:
    """Add a 2-D streak pattern to every slice, scaled by that slice's share of metal, inside the body."""
    zs = np.nonzero(weight > 0)[0]
    if zs.size:
        hu[:, :, zs] += streaks[:, :, None] * weight[zs][None, None, :] * body[:, :, zs]
