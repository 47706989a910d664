"""A parametric brain atlas in RAS voxel space: brain ellipsoid split into the nine regions of seed 003.

Stands in for LPBA40 (which cannot be downloaded here): the regions sit where the lobes sit, in a
coordinate frame normalised to the brain ellipsoid (x: left->right, y: posterior->anterior,
z: inferior->superior), so the region answers of synthetic cases follow anatomy-like rules.
"""

from __future__ import annotations

import numpy as np

from models.families.mpllm.findings import REGIONS

BRAIN_SEMI_AXES_MM = (66.0, 82.0, 60.0)
"""Semi-axes of the brain ellipsoid (x, y, z); about 1360 cm^3, an adult brain."""


def normalised_grid(shape: tuple[int, int, int], spacing: tuple[float, float, float],
                    semi_axes: tuple[float, float, float] = BRAIN_SEMI_AXES_MM) -> np.ndarray:
    """Voxel centres in units of the brain's semi-axes, centred on the volume: shape (3, X, Y, Z)."""
    axes = [(np.arange(n) - (n - 1) / 2) * s / a for n, s, a in zip(shape, spacing, semi_axes, strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij"))


def brain_atlas(shape: tuple[int, int, int], spacing: tuple[float, float, float],
                semi_axes: tuple[float, float, float] = BRAIN_SEMI_AXES_MM) -> np.ndarray:
    """Region labels (``REGIONS[k - 1]`` for label k, 0 outside the brain), first matching rule wins."""
    u, v, w = normalised_grid(shape, spacing, semi_axes)
    inside = u**2 + v**2 + w**2 <= 1.0
    au = np.abs(u)
    rules = (
        ("brainstem", (au < 0.16) & (np.abs(v + 0.12) < 0.18) & (w < -0.25)),
        ("cerebellum", (v < -0.3) & (w < -0.3)),
        ("subcortical", (u / 0.34) ** 2 + ((v + 0.05) / 0.32) ** 2 + ((w + 0.02) / 0.26) ** 2 <= 1.0),
        ("limbic", (au < 0.14) & (w > -0.3)),
        ("insula", (au > 0.42) & (au < 0.66) & (np.abs(v - 0.02) < 0.24) & (np.abs(w + 0.02) < 0.22)),
        ("temporal", (au > 0.34) & (w < -0.08) & (v < 0.32)),
        ("occipital", v < -0.55),
        ("frontal", v > 0.08),
        ("parietal", np.ones_like(inside)),
    )
    atlas = np.zeros(shape, dtype=np.uint8)
    free = inside.copy()
    for name, rule in rules:
        pick = free & rule
        atlas[pick] = REGIONS.index(name) + 1
        free &= ~pick
    return atlas
