"""What a center's CT scanner does to the ideal HU volume: blur, intensity offset, noise."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from models.data.synthetic.presets import ScannerPreset
from models.data.synthetic.randomization import DomainRandomization

__all__ = ["acquire"]


def acquire(hu: np.ndarray, scanner: ScannerPreset, spacing: tuple[float, float, float],
            rng: np.random.Generator, *, randomization: DomainRandomization | None = None,
            noise_corr_mm: float = 0.0) -> np.ndarray:
    """The scanner's int16 image of ``hu`` on a grid with ``spacing`` (mm).

    Gaussian blur of ``blur_sd_mm`` (the reconstruction kernel), plus ``intensity_offset_hu``
    (calibration), plus Gaussian noise of ``noise_hu_sd``, clipped to [-1024, 3071]. With
    ``randomization`` the three are drawn from its ranges instead of taken from the preset;
    ``noise_corr_mm > 0`` smooths the noise by that SD (then rescales it to ``noise_hu_sd``).
    """
    blur, offset, noise = scanner.blur_sd_mm, scanner.intensity_offset_hu, scanner.noise_hu_sd
    if randomization is not None and randomization.enabled:
        blur, offset, noise = (float(rng.uniform(*r)) for r in (randomization.blur_sd_mm,
                                                               randomization.intensity_offset_hu,
                                                               randomization.noise_hu_sd))
    out = hu.astype(np.float32, copy=True)
    if blur > 0:
        sigma = [blur / s for s in spacing]
        out = ndimage.gaussian_filter(out, sigma=sigma, mode="nearest", truncate=3.0)
    out += np.float32(offset)
    if noise > 0:
        grain = rng.standard_normal(out.shape, dtype=np.float32)
        if noise_corr_mm > 0:
            grain = ndimage.gaussian_filter(grain, sigma=[noise_corr_mm / s for s in spacing], truncate=3.0)
            grain /= np.float32(grain[::2, ::2, ::2].std() or 1.0)
        out += grain * np.float32(noise)
    return np.clip(np.rint(out), -1024, 3071).astype(np.int16)
