"""Smooth random fields on a grid, for tissue textures and elastic deformation.

A field is a sum of Gaussian bumps with random weights on a coarse lattice (spacing = the
correlation length), evaluated exactly on the lattice's x planes (small contractions over z, y
and x in einsum's own single-threaded loops) and linearly interpolated between those planes
along x. No BLAS call is made: its worker threads would spin against a training job on a small
machine. A default-size field costs about ten milliseconds."""

from __future__ import annotations

import numpy as np

from models.data.synthetic.geometry import Grid

__all__ = ["smooth_field"]


def _basis(axis: np.ndarray, length: float, knots: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * ((axis[:, None] - knots[None, :]) / length) ** 2).astype(np.float32)


def smooth_field(grid: Grid, length_mm: float, rng: np.random.Generator) -> np.ndarray:
    """A float32 field on ``grid`` with mean about 0, SD about 1 and correlation length ``length_mm``."""
    length = max(float(length_mm), 1e-3)
    knots = []
    for ax in grid.axes:
        lo, hi = float(ax.min()), float(ax.max())
        knots.append(np.arange(lo - 2 * length, hi + 2 * length + 1e-3, length, dtype=np.float32))
    coarse = rng.standard_normal(tuple(len(k) for k in knots), dtype=np.float32)
    planes = np.einsum("abc,zc->abz", coarse, _basis(grid.axes[2], length, knots[2]))  # einsum's own loops:
    planes = np.einsum("abz,yb->ayz", planes, _basis(grid.axes[1], length, knots[1]))  # single-threaded, no BLAS
    planes = np.einsum("ja,ayz->jyz", _basis(knots[0], length, knots[0]), planes)
    pos = (grid.axes[0] - knots[0][0]) / np.float32(length)
    left = np.clip(np.floor(pos).astype(np.intp), 0, len(knots[0]) - 2)
    w = (pos - left).astype(np.float32)[:, None, None]
    field = planes[left] * (1 - w)
    field += planes[left + 1] * w
    field /= np.float32(float(field[::4, ::4, ::2].std()) or 1.0)
    return field
