"""Abdominal phantoms: an organ label map from randomised anatomy, rendered as CT-like or MR-like (T1, T2)
volumes through a scanner model. Organ contrasts invert between modalities (the spleen is darker than the liver
on T1, brighter on T2, about equal on CT), so features learnt on one modality do not carry over as they are.

Coordinates are RAS millimetres (x toward the patient's right, y anterior, z superior); the liver lies on the
patient's right (+x), the spleen on the left (-x), the kidneys posterior either side of the spine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from models.families.m4oe.contract import CLASSES

LABEL = {name: i for i, name in enumerate(CLASSES, start=1)}
_BODY, _FAT, _BONE = -1, -2, -3  # tissue codes that are background for the model

# Mean intensity per tissue and modality: CT in HU, MR in arbitrary units of a reference scanner.
TISSUE = {
    "ct": {"air": -1000.0, _FAT: -100.0, _BODY: 45.0, _BONE: 450.0, "liver": 65.0, "spleen": 50.0,
           "kidney_left": 160.0, "kidney_right": 160.0, "pancreas": 35.0, "liver_tumor": 15.0},
    "t1": {"air": 0.0, _FAT: 1.0, _BODY: 0.35, _BONE: 0.55, "liver": 0.62, "spleen": 0.38, "kidney_left": 0.45,
           "kidney_right": 0.45, "pancreas": 0.7, "liver_tumor": 0.28},
    "t2": {"air": 0.0, _FAT: 0.65, _BODY: 0.25, _BONE: 0.2, "liver": 0.28, "spleen": 0.72, "kidney_left": 0.8,
           "kidney_right": 0.8, "pancreas": 0.45, "liver_tumor": 0.85},
}
TEXTURE = {"ct": 6.0, "t1": 0.03, "t2": 0.03}
"""Within-organ texture (standard deviation of smoothed noise), before the scanner's own noise."""


@dataclass(frozen=True)
class Scanner:
    """A scanner: intensity gain and offset, noise (HU for CT, relative for MR), MR bias-field strength and blur."""

    gain: float = 1.0
    offset: float = 0.0
    noise: float = 12.0
    bias: float = 0.0
    blur: float = 0.0


def _ellipsoid(coords: tuple[np.ndarray, ...], centre: np.ndarray, radii: np.ndarray, angle: float) -> np.ndarray:
    x, y, z = (c - m for c, m in zip(coords, centre, strict=True))
    cos, sin = np.cos(angle), np.sin(angle)
    xr, yr = cos * x + sin * y, -sin * x + cos * y
    return (xr / radii[0]) ** 2 + (yr / radii[1]) ** 2 + (z / radii[2]) ** 2 <= 1.0


def anatomy(grid: tuple[int, int, int], spacing: tuple[float, float, float], rng: np.random.Generator, *,
            tumor: bool = False) -> np.ndarray:
    """A label map (int16): 0 air, model classes 1..K, negative codes for body, fat and bone."""
    coords = np.meshgrid(*[(np.arange(n) - (n - 1) / 2) * s for n, s in zip(grid, spacing, strict=True)],
                         indexing="ij")
    jitter = lambda scale: rng.normal(0.0, scale, 3)  # noqa: E731 - one-line helper for the organ table below
    size = rng.uniform(0.88, 1.12)
    label = np.zeros(grid, dtype=np.int16)
    body_r = np.array([rng.uniform(140, 165), rng.uniform(100, 120), 1e4]) * size
    label[_ellipsoid(coords, np.zeros(3), body_r, 0.0)] = _FAT
    label[_ellipsoid(coords, np.zeros(3), body_r - rng.uniform(12, 25), 0.0)] = _BODY
    organs = [  # name, centre (mm), radii (mm), rotation about z
        ("liver", np.array([70.0, 10.0, 20.0]) + jitter(6), np.array([68.0, 55.0, 70.0]) * size * rng.uniform(
            0.9, 1.1, 3), rng.normal(0.3, 0.1)),
        ("spleen", np.array([-85.0, -25.0, 25.0]) + jitter(6), np.array([25.0, 42.0, 50.0]) * size * rng.uniform(
            0.85, 1.15, 3), rng.normal(-0.5, 0.1)),
        ("kidney_right", np.array([50.0, -55.0, -20.0]) + jitter(5), np.array([24.0, 28.0, 50.0]) * size,
         rng.normal(0.3, 0.1)),
        ("kidney_left", np.array([-50.0, -55.0, -15.0]) + jitter(5), np.array([24.0, 28.0, 50.0]) * size,
         rng.normal(-0.3, 0.1)),
        ("pancreas", np.array([-15.0, -5.0, 0.0]) + jitter(5), np.array([60.0, 12.0, 18.0]) * size,
         rng.normal(-0.2, 0.1)),
    ]
    for name, centre, radii, angle in organs:
        label[_ellipsoid(coords, centre, radii, angle) & (label != 0)] = LABEL[name]
    spine = _ellipsoid(coords, np.array([0.0, -70.0, 0.0]) + jitter(3), np.array([18.0, 18.0, 1e4]), 0.0)
    label[spine] = _BONE
    if tumor:
        liver = np.argwhere(label == LABEL["liver"])
        for _ in range(int(rng.integers(1, 3))):
            at = liver[rng.integers(len(liver))] * np.asarray(spacing) - (np.asarray(grid) - 1) / 2 * np.asarray(
                spacing)
            lesion = _ellipsoid(coords, at, rng.uniform(10, 22, 3), rng.uniform(0, np.pi))
            label[lesion & (label == LABEL["liver"])] = LABEL["liver_tumor"]
    return label


def render(label: np.ndarray, modality: str, spacing: tuple[float, float, float], scanner: Scanner,
           rng: np.random.Generator) -> np.ndarray:
    """The label map as a float32 volume of ``modality`` seen through ``scanner``."""
    if modality not in TISSUE:
        raise ValueError(f"modality must be one of {', '.join(TISSUE)}, got {modality!r}")
    table = TISSUE[modality]
    image = np.full(label.shape, table["air"], dtype=np.float32)
    for code, value in table.items():
        if code == "air":
            continue
        key = LABEL[code] if isinstance(code, str) else code
        image[label == key] = value
    sigma_vox = [3.0 / s for s in spacing]
    texture = gaussian_filter(rng.normal(0.0, 1.0, label.shape), sigma_vox) * 4.0 * TEXTURE[modality]
    image = image + (label != 0) * texture.astype(np.float32)
    if scanner.blur > 0:
        image = gaussian_filter(image, [scanner.blur * 2.0 / s for s in spacing]).astype(np.float32)
    if modality != "ct" and scanner.bias > 0:  # smooth multiplicative bias field, as MR coils give
        field = gaussian_filter(rng.normal(0.0, 1.0, label.shape), [40.0 / s for s in spacing])
        image = image * (1.0 + scanner.bias * field / max(np.abs(field).max(), 1e-6)).astype(np.float32)
    image = image * scanner.gain + scanner.offset
    scale = 1.0 if modality == "ct" else float(table[_FAT])
    image = image + rng.normal(0.0, scanner.noise * scale, label.shape).astype(np.float32)
    if modality != "ct":
        image = np.clip(image, 0.0, None) * (label != 0)
    return image.astype(np.float32)
