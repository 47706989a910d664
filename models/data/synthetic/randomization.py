"""Domain randomisation of the synthetic generator: the ranges one patient's look is drawn from.

A model trained on a fixed renderer learns the renderer (flat organ values, one body size, the
femoral heads always in the same place) instead of pelvic anatomy. With randomisation on, each
case draws its own shapes, tissue values, textures, field of view, bowel gas, bladder filling,
hip metal and scanner settings from the case's random generator, so a case stays deterministic
for (preset, seed, index). Anatomy lengths in mm (sizes, shifts, gas, texture scale) are multiplied
by the generator's ``scale`` like the anatomy itself; scanner blur and FOV factors are not.
``Draw`` returns neutral values without touching the rng when randomisation is off, which is
what keeps the plain generator's output bit-identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_RANDOMIZATION", "NO_RANDOMIZATION", "Draw", "DomainRandomization", "draw_fov",
           "draw_hu_table", "resolve_randomization"]

Range = tuple[float, float]


@dataclass(frozen=True)
class DomainRandomization:
    """Ranges (low, high) or largest absolute values of every randomised property of a case."""

    enabled: bool = True
    """Master switch: off draws every case exactly as the plain generator does (bit-identical)."""
    off_centre_mm: tuple[float, float, float] = (25.0, 20.0, 10.0)
    """Largest shift of the whole patient from the FOV centre per axis (reduced so the prostate stays inside)."""
    body_size: Range = (0.9, 1.2)
    """Factor on the body's left-right and front-back radii (drawn apart): slim to broad habitus."""
    fat_mm: Range = (5.0, 45.0)
    """Subcutaneous fat thickness; the body grows with it (the plain generator draws 10-24 mm)."""
    pelvis_size: Range = (0.88, 1.15)
    """Factor on the pelvic bone ring, iliac wings, sacrum and the femoral heads' lateral distance."""
    bone_shift_mm: float = 10.0
    """Largest cranio-caudal shift of the bone ring, iliac wings and sacrum relative to the prostate."""
    femoral_head_size: Range = (0.8, 1.2)
    """Factor on the femoral head, neck and marrow radii."""
    femoral_head_shift_mm: float = 10.0
    """Largest shift of each femoral head per axis, drawn per side (asymmetric hips)."""
    vessel_jitter_mm: float = 8.0
    """Largest shift per axis of each iliac vessel end, and of a bend added in the middle of each vessel."""
    prostate_size: Range = (0.7, 1.45)
    """Factor on each prostate radius (drawn per axis); the plain generator varies about +-15 %."""
    organ_shift_mm: float = 8.0
    """Largest shift per axis of prostate, seminal vesicles, bed and bladder, and (x, y) of the rectum."""
    sv_size: Range = (0.6, 1.5)
    """Factor on the seminal vesicles' length, spread and height."""
    sv_angle_deg: float = 15.0
    """Largest change of the seminal vesicles' angle from the midline."""
    rectum_size: Range = (0.75, 1.4)
    """Factor on the rectum radius (empty to distended)."""
    bladder_fill: Range = (0.5, 1.7)
    """Factor on the bladder radii; the dome rises and falls with it while the base stays on the prostate."""
    bladder_contrast_fraction: float = 0.15
    """Share of cases with iodinated contrast in the bladder (excretory phase)."""
    bladder_contrast_hu: Range = (150.0, 700.0)
    """Bladder value when it holds contrast."""
    soft_hu_offset: float = 25.0
    """Largest HU offset, drawn per tissue: muscle, prostate, seminal vesicles, rectal wall, vessels, bladder, stool."""
    fat_hu_offset: float = 30.0
    """Largest HU offset of subcutaneous and pelvic fat (one draw each)."""
    bone_hu: Range = (400.0, 1200.0)
    """Cortical bone value (osteoporotic to dense)."""
    marrow_hu: Range = (100.0, 400.0)
    """Femoral head marrow value."""
    texture_hu: Range = (0.0, 25.0)
    """SD of the smooth texture of fat, muscle and organs (drawn per tissue class)."""
    bone_texture_hu: Range = (0.0, 100.0)
    """SD of the smooth texture of bone."""
    texture_scale_mm: Range = (8.0, 20.0)
    """Correlation length of the texture fields (one draw for soft tissue, one for bone)."""
    bowel_gas_pockets: tuple[int, int] = (0, 8)
    """Number of air pockets (with a soft-tissue wall) in the bowel and sigmoid above the bladder, inclusive."""
    rectal_gas_pockets: tuple[int, int] = (0, 3)
    """Number of extra air pockets inside the rectum, inclusive."""
    gas_radius_mm: Range = (3.0, 14.0)
    """Radii of a gas pocket (drawn per axis)."""
    metal_fraction: float = 0.1
    """Share of cases with a hip prosthesis (metal femoral head and stem with streak artefacts)."""
    metal_bilateral_fraction: float = 0.3
    """Share of metal cases with prostheses on both sides (adds the dark band between them)."""
    metal_hu: Range = (2500.0, 3071.0)
    """Value of the prosthesis metal."""
    streak_hu: Range = (150.0, 800.0)
    """Peak of one bright or dark streak through the metal."""
    streak_count: tuple[int, int] = (6, 16)
    """Number of streak lines per prosthesis, inclusive."""
    fov_factor: tuple[Range, Range, Range] = ((0.8, 1.2), (0.85, 1.2), (0.8, 1.2))
    """Factor on the requested field of view per axis (left-right, front-back, cranio-caudal)."""
    noise_hu_sd: Range = (3.0, 35.0)
    """Scanner noise SD; replaces the preset's (presets span 8-14 HU)."""
    blur_sd_mm: Range = (0.2, 1.6)
    """Reconstruction blur SD; replaces the preset's (presets span 0.5-1.1 mm)."""
    intensity_offset_hu: Range = (-40.0, 40.0)
    """Calibration offset; replaces the preset's (presets span -20 to +15 HU)."""


NO_RANDOMIZATION = DomainRandomization(enabled=False)
DEFAULT_RANDOMIZATION = DomainRandomization()
_SOFT = ("soft", "prostate", "sv", "rectum_wall", "vessel", "bladder", "stool")


def resolve_randomization(randomize: DomainRandomization | bool) -> DomainRandomization | None:
    """The ranges to draw from, or None when cases are drawn exactly as without randomisation."""
    if isinstance(randomize, DomainRandomization):
        return randomize if randomize.enabled else None
    if isinstance(randomize, bool | np.bool_):
        return DEFAULT_RANDOMIZATION if randomize else None
    raise ValueError(f"randomize must be True, False or a DomainRandomization, got {randomize!r}")


class Draw:
    """Per-case draws from a randomisation's ranges; neutral values and no rng use when it is off."""

    def __init__(self, dr: DomainRandomization | None, rng: np.random.Generator) -> None:
        self.dr, self.rng, self.on = dr, rng, dr is not None

    def factor(self, name: str) -> float:
        """A factor from the range ``name``; 1.0 when off."""
        return float(self.rng.uniform(*getattr(self.dr, name))) if self.on else 1.0

    def shift(self, name: str) -> float:
        """An offset within +-``name``; 0.0 when off."""
        return float(self.rng.uniform(-1, 1) * getattr(self.dr, name)) if self.on else 0.0

    def vec(self, name: str) -> tuple[float, float, float]:
        """Three offsets within +-``name``; zeros when off."""
        return (self.shift(name), self.shift(name), self.shift(name))


def draw_hu_table(dr: DomainRandomization, rng: np.random.Generator,
                  base: Mapping[str, float]) -> tuple[dict[str, float], bool]:
    """Tissue values with per-tissue offsets, bone and marrow redrawn, maybe bladder contrast."""
    table = dict(base)
    for key in _SOFT:
        table[key] += float(rng.uniform(-dr.soft_hu_offset, dr.soft_hu_offset))
    for key in ("fat", "pelvic_fat"):
        table[key] += float(rng.uniform(-dr.fat_hu_offset, dr.fat_hu_offset))
    table["bone"], table["marrow"] = float(rng.uniform(*dr.bone_hu)), float(rng.uniform(*dr.marrow_hu))
    contrast = bool(rng.random() < dr.bladder_contrast_fraction)
    if contrast:
        table["bladder"] = float(rng.uniform(*dr.bladder_contrast_hu))
    return table, contrast


def draw_fov(dr: DomainRandomization, rng: np.random.Generator,
             fov_mm: tuple[float, float, float]) -> tuple[float, float, float]:
    """The requested field of view scaled per axis by the ``fov_factor`` ranges."""
    return tuple(float(f * rng.uniform(lo, hi)) for f, (lo, hi) in zip(fov_mm, dr.fov_factor, strict=True))
