"""Brain-MRI-like phantoms: tumour sub-region label maps and four co-registered sequences (T1, T1c, T2, FLAIR).

Gliomas (one tumour: necrotic core, enhancing rim, surrounding oedema; sometimes satellites or a second
focus) and metastases (several small enhancing lesions with their own oedema) inside the atlas brain,
rendered with partial volume, texture, a bias field, noise and per-scanner contrast. Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from models.families.mpllm.atlas import BRAIN_SEMI_AXES_MM, normalised_grid

MODALITIES = ("t1", "t1c", "t2", "flair")
LABELS = {1: "necrotic core", 2: "enhancing tumor", 3: "edema"}
"""Label value -> sub-region name, BraTS-style (NETC, ET, SNFH)."""
TISSUES = {  # mean intensity per sequence (t1, t1c, t2, flair), roughly as the tissues look on BraTS scans
    "white": (0.75, 0.75, 0.35, 0.40), "grey": (0.55, 0.55, 0.55, 0.55), "csf": (0.15, 0.15, 0.95, 0.10),
    "necrosis": (0.25, 0.20, 0.85, 0.45), "enhancing": (0.50, 1.00, 0.65, 0.70), "edema": (0.45, 0.45, 0.80, 0.90),
}
SHAPE_MODES = ("round", "oval", "elongated", "irregular")


@dataclass(frozen=True)
class Scanner:
    """A site's acquisition: per-sequence contrast gain, noise, bias-field strength and blur (voxels)."""

    gain: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    noise: float = 0.03
    bias: float = 0.1
    blur: float = 0.6


def smooth_noise(shape: tuple[int, ...], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian-smoothed noise."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return (field - field.mean()) / (field.std() + 1e-8)


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    return q * np.sign(np.diag(r))


def blob(points_mm: np.ndarray, centre: np.ndarray, semi_axes: np.ndarray, rot: np.ndarray,
         roughness: float = 0.0, noise: np.ndarray | None = None) -> np.ndarray:
    """Voxels inside a rotated ellipsoid, its boundary optionally roughened by a smooth noise field."""
    local = np.einsum("ij,j...->i...", rot.T, points_mm - centre[:, None, None, None])
    level = sum((local[i] / semi_axes[i]) ** 2 for i in range(3))
    if roughness and noise is not None:
        level = level * (1.0 + roughness * noise)
    return level <= 1.0


def _semi_axes(radius: float, mode: str, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Semi-axes and boundary roughness of a lesion of a given shape mode."""
    ratios = {"round": (1.0, 1.0, 1.0), "oval": (rng.uniform(1.8, 2.3), 1.0, rng.uniform(0.6, 0.8)),
              "elongated": (rng.uniform(3.0, 4.0), 1.0, rng.uniform(0.8, 1.0)),
              "irregular": (rng.uniform(1.0, 1.5), 1.0, rng.uniform(0.7, 1.0))}[mode]
    roughness = rng.uniform(0.5, 0.9) if mode == "irregular" else 0.0
    return radius * np.asarray(ratios) / np.prod(ratios) ** (1 / 3), roughness


def _random_centre(rng: np.random.Generator, max_radius: float) -> np.ndarray:
    """A point inside the brain ellipsoid at most ``max_radius`` of the way out (mm from the centre)."""
    direction = rng.standard_normal(3)
    direction /= np.linalg.norm(direction)
    return direction * rng.uniform(0.1, max_radius) * np.asarray(BRAIN_SEMI_AXES_MM)


def _tumour(points, label, centre, radius, mode, rng, noise, *, core_prob: float, edema_scale: tuple[float, float]):
    """Paint one tumour into ``label``: enhancing body, optional necrotic core inside, oedema around."""
    axes, rough = _semi_axes(radius, mode, rng)
    rot = _rotation(rng)
    body = blob(points, centre, axes, rot, rough, noise)
    if rng.random() < 0.9:
        edema = blob(points, centre, axes * rng.uniform(*edema_scale), rot, 0.25, noise)
        label[edema & (label == 0)] = 3
    label[body] = 2
    if rng.random() < core_prob:
        label[blob(points, centre, axes * rng.uniform(0.45, 0.7), rot, rough / 2, noise)] = 1


def lesion_map(shape, spacing, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Label map (0 background, ``LABELS``) of a glioma or of metastases inside the atlas brain."""
    points = normalised_grid(shape, spacing) * np.asarray(BRAIN_SEMI_AXES_MM)[:, None, None, None]
    inside = (normalised_grid(shape, spacing) ** 2).sum(0) <= 1.0
    noise = smooth_noise(shape, 1.5, rng)
    label = np.zeros(shape, dtype=np.uint8)
    if kind == "glioma":
        centre = _random_centre(rng, 0.55)
        radius = rng.uniform(7.0, 20.0)
        _tumour(points, label, centre, radius, rng.choice(SHAPE_MODES), rng, noise, core_prob=0.8,
                edema_scale=(1.25, 1.8))
        if rng.random() < 0.3:  # satellites near the main tumour
            for _ in range(int(rng.integers(1, 4))):
                offset = rng.standard_normal(3)
                where = centre + offset / np.linalg.norm(offset) * radius * rng.uniform(1.6, 2.4)
                _tumour(points, label, where, rng.uniform(3.5, 6.0), "round", rng, noise, core_prob=0.0,
                        edema_scale=(1.2, 1.5))
        if rng.random() < 0.15:  # a second focus elsewhere
            _tumour(points, label, _random_centre(rng, 0.55), radius * rng.uniform(0.7, 1.0),
                    rng.choice(SHAPE_MODES), rng, noise, core_prob=0.6, edema_scale=(1.25, 1.8))
    elif kind == "metastases":
        for _ in range(int(rng.integers(1, 5))):
            radius = float(np.exp(rng.uniform(np.log(3.5), np.log(12.0))))
            _tumour(points, label, _random_centre(rng, 0.7), radius, rng.choice(SHAPE_MODES), rng, noise,
                    core_prob=0.6 if radius > 6.0 else 0.0, edema_scale=(1.4, 2.4))
    else:
        raise ValueError(f"kind must be 'glioma' or 'metastases', got {kind!r}")
    label[~inside] = 0
    return label


def render(label: np.ndarray, spacing, scanner: Scanner, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Four skull-stripped sequences of a label map: 0 outside the brain, strictly positive inside."""
    shape = label.shape
    u, v, w = normalised_grid(shape, spacing)
    radius = np.sqrt(u**2 + v**2 + w**2)
    inside = radius <= 1.0
    ventricles = ((np.abs(u) - 0.12) / 0.09) ** 2 + ((v + 0.02) / 0.35) ** 2 + ((w - 0.08) / 0.14) ** 2 <= 1.0
    tissue = np.where(radius > 0.86, 1, 0)  # 0 white, 1 grey (cortex)
    tissue[ventricles] = 2
    for value, index in ((3, 5), (2, 4), (1, 3)):
        tissue[label == value] = index
    names = ("white", "grey", "csf", "necrosis", "enhancing", "edema")
    fractions = [ndimage.gaussian_filter((tissue == i).astype(float), scanner.blur) for i in range(len(names))]
    texture = smooth_noise(shape, 1.0, rng)
    bias = 1.0 + scanner.bias * smooth_noise(shape, 6.0, rng)
    images = {}
    for m, modality in enumerate(MODALITIES):
        image = sum(f * TISSUES[n][m] for f, n in zip(fractions, names, strict=True)) * scanner.gain[m]
        image = image * (1.0 + 0.05 * texture) * bias + scanner.noise * rng.standard_normal(shape)
        images[modality] = np.where(inside, np.clip(image, 0.01, None), 0.0).astype(np.float32)
    return images
