"""Breast mpMRI phantoms whose malignancy evidence is split across sequences.

Each lesion carries three independent findings, each only partly informative: its DCE kinetics (malignant
lesions tend to wash out in the late phase, benign ones to keep enhancing), its T2 signal (benign lesions such as
fibroadenomas tend to be bright) and its ADC (malignant lesions tend to restrict diffusion). Each finding is
``separation[seq] * y + N(0, 1)``: DCE separates best, as it does clinically, yet no single sequence decides.
Centers differ by field strength (1.5T/3T-like noise and contrast) and some lack a sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter

SEPARATION = {"dce": 1.8, "t2": 0.7, "dwi": 0.9}
"""Mean shift (in noise SDs) of each sequence's finding between malignant and benign lesions."""


@dataclass(frozen=True)
class Protocol:
    """A center's acquisition: noise per sequence, T2 contrast scale, ADC bias (x 1e-3 mm2/s), the sequences
    it acquires and its share of malignant cases."""

    noise: dict[str, float] = field(default_factory=lambda: {"dce": 0.03, "t2": 0.04, "dwi": 0.05})
    t2_contrast: float = 1.0
    adc_bias: float = 0.0
    sequences: tuple[str, ...] = ("dce", "t2", "dwi")
    malignant_share: float = 0.5


def _ellipsoid(shape: tuple[int, ...], spacing: tuple[float, ...], centre: np.ndarray, radii: np.ndarray,
               ) -> np.ndarray:
    grid = np.meshgrid(*[(np.arange(n) - (n - 1) / 2) * s for n, s in zip(shape, spacing, strict=True)],
                       indexing="ij")
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1.0


def findings(malignant: bool, rng: np.random.Generator) -> dict[str, float]:
    """The three sequence findings of one lesion (positive = more suspicious)."""
    return {seq: SEPARATION[seq] * float(malignant) + float(rng.normal()) for seq in SEPARATION}


def oracle_score(found: dict[str, float], sequences: tuple[str, ...]) -> float:
    """The log-likelihood ratio of malignancy given the true findings of ``sequences``: each is
    ``separation * y + N(0, 1)`` and independent, so it is linear with weights ``separation``. No reader of the
    rendered images can rank cases better (the benchmarks' ceiling)."""
    return float(sum(SEPARATION[s] * found[s] for s in sequences))


def render_case(shape: tuple[int, int, int], spacing: tuple[float, float, float], timepoints: int,
                malignant: bool, protocol: Protocol, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict]:
    """Volumes per acquired sequence (DCE as [X, Y, Z, T]) and the case's findings."""
    found = findings(malignant, rng)
    extent = np.asarray(shape) * np.asarray(spacing) / 2
    breast = _ellipsoid(shape, spacing, np.array([0.0, -extent[1] * 0.3, 0.0]), extent * np.array([0.95, 1.2, 0.95]))
    glandular = breast & (gaussian_filter(rng.normal(size=shape), 1.5) > 0.1)
    centre = rng.uniform(-0.25, 0.25, 3) * extent * np.array([1.0, 0.5, 0.6])
    lesion = _ellipsoid(shape, spacing, centre, rng.uniform(10.0, 16.0, 3)) & breast
    texture = gaussian_filter(rng.normal(size=shape), 1.0)
    out: dict[str, np.ndarray] = {}
    # DCE: fat-suppressed; relative enhancement per time point. Lesions enhance early; the late slope is the
    # kinetic finding (wash-out when suspicious), parenchyma enhances slowly and persistently.
    base = 0.25 * breast + 0.1 * glandular + 0.02 * texture * breast
    peak = rng.uniform(0.9, 1.4)
    slope = -0.18 * found["dce"] + 0.1
    series = []
    for t in range(timepoints):
        phase = t / (timepoints - 1)
        lesion_curve = 0.0 if t == 0 else peak * (1 - np.exp(-6 * phase)) + slope * max(phase - 0.3, 0.0) * 2
        parenchyma = 0.25 * phase
        frame = base * (1 + parenchyma * glandular) + lesion * lesion_curve * 0.35
        series.append(frame)
    out["dce"] = np.stack(series, axis=-1)
    # T2: fat bright, glandular tissue dark, lesion signal set by its finding (bright = benign-looking).
    t2 = 0.7 * breast - 0.3 * glandular + 0.05 * texture * breast
    t2 = np.where(lesion, (0.45 - 0.15 * found["t2"]) * protocol.t2_contrast, t2)
    out["t2"] = np.clip(t2, 0.0, None)
    # ADC (x 1e-3 mm2/s): fat suppressed low, glandular 1.8, lesion lower when suspicious.
    adc = 0.4 * breast + 1.4 * glandular + 0.1 * texture * breast
    adc = np.where(lesion, 1.3 - 0.22 * found["dwi"], adc) + protocol.adc_bias * breast
    out["dwi"] = np.clip(adc, 0.0, None)
    scale = {"dce": 1.0, "t2": 1.0, "dwi": 2.0}
    volumes = {}
    for seq in protocol.sequences:
        noisy = out[seq] + rng.normal(0.0, protocol.noise[seq] * scale[seq], out[seq].shape)
        volumes[seq] = np.clip(noisy, 0.0, None).astype(np.float32)
    return volumes, {"findings": found, "lesion_voxels": int(lesion.sum())}
