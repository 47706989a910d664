"""MONAI intensity and spatial augmentation of training patches.

A model trained on one renderer (or one scanner) learns its look unless the look varies:
random left-right flips (the pelvis is near-symmetric), small rotations, scaling and shifts,
intensity scale/shift, contrast (gamma), blur and noise. Intensity transforms touch the CT
channel only; extra channels (an organ mask) and the label follow the spatial transforms
(nearest-neighbour for masks).
"""

from __future__ import annotations

import torch
from monai.transforms import (
    Compose,
    RandAdjustContrastd,
    RandAffined,
    RandFlipd,
    RandGaussianNoised,
    RandGaussianSmoothd,
    RandScaleIntensityd,
    RandShiftIntensityd,
)
from torch import Tensor

from models.training.samples import plain_tensor

__all__ = ["PatchAugmenter"]


class PatchAugmenter:
    """``augment(image [C,X,Y,Z], label [1,X,Y,Z]) -> (image, label)``, reproducible from ``seed``."""

    def __init__(self, *, seed: int = 0, spatial_prob: float = 0.5, intensity_prob: float = 0.5) -> None:
        for name, p in (("spatial_prob", spatial_prob), ("intensity_prob", intensity_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {p}")
        spatial = ["ct", "extra", "label"]
        self.transforms = Compose([
            RandFlipd(keys=spatial, prob=0.5, spatial_axis=0, allow_missing_keys=True),
            RandAffined(keys=spatial, prob=spatial_prob, rotate_range=(0.08, 0.08, 0.25), scale_range=0.12,
                        translate_range=(6, 6, 2), mode=("bilinear", "nearest", "nearest"), padding_mode="border",
                        allow_missing_keys=True),
            RandScaleIntensityd(keys="ct", factors=0.15, prob=intensity_prob),
            RandShiftIntensityd(keys="ct", offsets=0.08, prob=intensity_prob),
            RandAdjustContrastd(keys="ct", gamma=(0.7, 1.5), prob=intensity_prob * 0.6),
            RandGaussianSmoothd(keys="ct", sigma_x=(0.3, 1.0), sigma_y=(0.3, 1.0), sigma_z=(0.2, 0.6),
                                prob=intensity_prob * 0.4),
            RandGaussianNoised(keys="ct", std=0.03, prob=intensity_prob * 0.6),
        ])
        self.transforms.set_random_state(seed=seed)

    def __call__(self, image: Tensor, label: Tensor) -> tuple[Tensor, Tensor]:
        data = {"ct": image[:1], "label": label.float()}
        if image.shape[0] > 1:
            data["extra"] = image[1:]
        out = self.transforms(data)
        channels = [out["ct"], *([out["extra"]] if "extra" in out else [])]
        aug = torch.cat([plain_tensor(c) for c in channels], dim=0).float()
        return aug, plain_tensor(out["label"]).round().to(label.dtype)
