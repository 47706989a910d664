"""What a center's CT scanner does to the ideal HU volume: blur, intensity offset, noise."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from models.data.synthetic.presets import ScannerPreset

__all__ = ["acquire"]


def acquire(hu: np.ndarray, scanner: ScannerPreset, spacing: tuple[float, float, float],
            rng: np.random.Generator) -> np.ndarray:
    """The scanner's int16 image of ``hu`` on a grid with ``spacing`` (mm).

    Gaussian blur of ``blur_sd_mm`` (the reconstruction kernel), plus ``intensity_offset_hu``
    (calibration), plus Gaussian noise of ``noise_hu_sd``, clipped to [-1024, 3071].
    """
    out = hu.astype(np.float32, copy=True)
    if scanner.blur_sd_mm > 0:
        sigma = [scanner.blur_sd_mm / s for s in spacing]
        out = ndimage.gaussian_filter(out, sigma=sigma, mode="nearest", truncate=3.0)
    out += np.float32(scanner.intensity_offset_hu)
    if scanner.noise_hu_sd > 0:
        out += rng.standard_normal(out.shape, dtype=np.float32) * np.float32(scanner.noise_hu_sd)
    return np.clip(np.rint(out), -1024, 3071).astype(np.int16)
