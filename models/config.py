"""Typed configuration of a MoME-RO model and the preprocessing contract it was trained with."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

METHODS = ("mome", "vanilla_moe", "text_prompt", "multimodal", "vision_only")
"""Training methods of seed 000: MoME and the baselines of its Tables 1 and 3."""


@dataclass(frozen=True)
class PreprocessingContract:
    """How a scan must be prepared before it meets the network (seed 000, Methods).

    Scans are reoriented to ``axcodes``, resampled to ``spacing`` (mm), HU clipped to
    ``hu_window`` and scaled to [0, 1]; training crops ``patch_size`` voxels.
    """

    spacing: tuple[float, float, float] = (1.0, 1.0, 3.0)
    hu_window: tuple[float, float] = (-200.0, 250.0)
    axcodes: str = "RAS"
    patch_size: tuple[int, int, int] = (96, 96, 32)
    channels: tuple[str, ...] = ("ct",)
    labels: dict[str, str] = field(default_factory=lambda: {"0": "background", "1": "PTV"})

    def __post_init__(self) -> None:
        if len(self.spacing) != 3 or any(s <= 0 for s in self.spacing):
            raise ValueError(f"spacing must be three positive numbers, got {self.spacing}")
        if len(self.hu_window) != 2 or self.hu_window[0] >= self.hu_window[1]:
            raise ValueError(f"hu_window must be (low, high) with low < high, got {self.hu_window}")
        if len(self.patch_size) != 3 or any(p <= 0 for p in self.patch_size):
            raise ValueError(f"patch_size must be three positive integers, got {self.patch_size}")
        if not self.channels or self.channels[0] != "ct":
            raise ValueError(f"channels must start with 'ct', got {self.channels}")
        if set(self.channels) - {"ct", "organ"}:
            raise ValueError(f"channels may be 'ct' and 'organ' only, got {self.channels}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PreprocessingContract:
        return cls(
            spacing=tuple(d["spacing"]),
            hu_window=tuple(d["hu_window"]),
            axcodes=d["axcodes"],
            patch_size=tuple(d["patch_size"]),
            channels=tuple(d["channels"]),
            labels=dict(d["labels"]),
        )
