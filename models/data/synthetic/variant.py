"""The held-out renderer (``renderer="variant"``): the same anatomy drawn a visibly different way.

It exists to test robustness only; training data never uses it (the generator's and the CLI's
default is ``"standard"``). A case from it has the same clinical note, intent, risk group,
policy and organ layout draws as a standard case, but differs from the standard renderer in:

1. Tissue values (``VARIANT_HU``): fat -70 HU (not -100), pelvic fat -55, muscle 62 (not 40),
   prostate 30 and seminal vesicles 22 (darker than muscle, where standard has them brighter),
   bladder 0, rectal wall 55, stool -15, cortical bone 1000 (not 700), marrow 160.
2. Texture: no smooth per-tissue texture fields; instead the scanner noise is spatially
   correlated (white noise smoothed by a 1.5 mm Gaussian, renormalised to the same SD), so the
   grain is coarser and blotchy instead of pixel-fine.
3. Shapes: one random smooth elastic displacement (Gaussian bumps on a 40 mm lattice, each
   axis scaled to a peak of 5-12 mm times ``scale``) warps the HU volume (linear interpolation)
   and every mask and target (nearest neighbour) with the same field, so organs are smoothly
   deformed ellipsoids rather than exact ones. Delineation happens before the warp, in the
   undeformed space; labels and image therefore stay registered. ``Anatomy.vessels`` and
   ``Anatomy.landmarks`` keep the undeformed geometry (the warped masks and targets are the truth).
4. Geometry: field of view x (1.15, 1.2, 1.1), voxel spacing x (1.25, 1.25, 1.5) of what the
   standard renderer would use (slices at most 10 mm), and voxel axes flipped (LPS <-> RAS).

With ``randomize`` on as well, the randomised anatomy, field of view, gas, metal and scanner
ranges apply as for the standard renderer, and the tissue offsets are drawn around
``VARIANT_HU`` (bone and marrow from the randomised ranges); the standard texture fields are
never used here. Metal streaks are drawn after the warp, from the warped metal.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import ndimage

from models.data.synthetic.anatomy import HU, Anatomy
from models.data.synthetic.fields import smooth_field
from models.data.synthetic.geometry import Grid
from models.data.synthetic.policy import Targets

__all__ = ["RENDERERS", "VARIANT_HU", "VARIANT_NOISE_CORR_MM", "deform", "variant_geometry"]

RENDERERS = ("standard", "variant")
VARIANT_HU = {**HU, "fat": -70.0, "pelvic_fat": -55.0, "soft": 62.0, "bone": 1000.0, "marrow": 160.0,
              "bladder": 0.0, "prostate": 30.0, "sv": 22.0, "rectum_wall": 55.0, "stool": -15.0, "vessel": 50.0,
              "contrast": 240.0}
VARIANT_NOISE_CORR_MM = 1.5
_FOV, _SPACING, _LATTICE_MM, _PEAK_MM = (1.15, 1.2, 1.1), (1.25, 1.25, 1.5), 40.0, (5.0, 12.0)
_TARGETS = ("ptv", "ctv", "gtv", "nodal")


def variant_geometry(fov_mm: tuple[float, float, float], spacing: tuple[float, float, float],
                     orientation: str) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    """Field of view, voxel spacing and voxel orientation of the variant, from the standard ones."""
    fov = tuple(f * k for f, k in zip(fov_mm, _FOV, strict=True))
    vox = tuple(min(v * k, 10.0) for v, k in zip(spacing, _SPACING, strict=True))
    return fov, vox, "RAS" if orientation == "LPS" else "LPS"


def _coordinates(grid: Grid, rng: np.random.Generator, scale: float) -> tuple[np.ndarray, float]:
    """Sampling positions (voxel units) of the warp: identity plus a smooth random displacement."""
    peak = float(rng.uniform(*_PEAK_MM)) * scale
    coords = np.empty((3, *grid.shape), dtype=np.float32)
    for axis, n in enumerate(grid.shape):
        field = smooth_field(grid, _LATTICE_MM * scale, rng)
        field *= np.float32(peak / (float(np.abs(field).max()) or 1.0) / grid.spacing[axis])
        shape = [1, 1, 1]
        shape[axis] = n
        coords[axis] = field + np.arange(n, dtype=np.float32).reshape(shape)
    return coords, peak


def deform(anatomy: Anatomy, targets: Targets, grid: Grid, rng: np.random.Generator,
           *, scale: float = 1.0) -> tuple[Anatomy, Targets, float]:
    """Warp HU, every mask and every target with one smooth field; returns them and its peak (mm)."""
    coords, peak = _coordinates(grid, rng, scale)
    hu = ndimage.map_coordinates(anatomy.hu, coords, order=1, mode="nearest", output=np.float32)
    near = tuple(np.clip(np.rint(c), 0, n - 1).astype(np.intp) for c, n in zip(coords, grid.shape, strict=True))
    named = {**{f"mask:{k}": v for k, v in anatomy.masks.items()},
             **{f"target:{k}": getattr(targets, k) for k in _TARGETS if getattr(targets, k) is not None}}
    bits = np.zeros(grid.shape, dtype=np.uint32)
    for i, mask in enumerate(named.values()):
        bits |= mask.astype(np.uint32) << np.uint32(i)
    bits = bits[near]
    warped = {name: (bits >> np.uint32(i)) & np.uint32(1) > 0 for i, name in enumerate(named)}
    masks = {k: warped[f"mask:{k}"] for k in anatomy.masks}
    moved = {k: warped.get(f"target:{k}") for k in _TARGETS}
    return replace(anatomy, hu=hu, masks=masks), replace(targets, **moved), peak
