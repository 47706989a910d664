"""The preprocessing contract a MOME breast config carries: sequences, DCE time points and the model grid."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SEQUENCES = ("dce", "t2", "dwi")
"""DCE (a 4D series of time points), T2-weighted and the diffusion ADC map."""


@dataclass(frozen=True)
class MomeBreastContract:
    """Sequences in input order, DCE time points, the grid each sequence is resized to and the token patch."""

    sequences: tuple[str, ...] = SEQUENCES
    dce_timepoints: int = 4
    image_size: tuple[int, int, int] = (32, 32, 16)
    patch_size: tuple[int, int, int] = (8, 8, 4)
    axcodes: str = "RAS"

    def __post_init__(self) -> None:
        if not self.sequences or len(set(self.sequences)) != len(self.sequences):
            raise ValueError(f"sequences must be distinct names, got {self.sequences}")
        if self.dce_timepoints < 2:
            raise ValueError(f"dce_timepoints must be at least 2 (pre- and post-contrast), got {self.dce_timepoints}")
        if len(self.image_size) != 3 or any(s % p for s, p in zip(self.image_size, self.patch_size, strict=True)):
            raise ValueError(f"image_size {self.image_size} must be three multiples of patch_size {self.patch_size}")

    def channels(self, sequence: str) -> int:
        """Input channels of a sequence's tokeniser: DCE's time points, one otherwise."""
        return self.dce_timepoints if sequence == "dce" else 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MomeBreastContract:
        return cls(sequences=tuple(d["sequences"]), dce_timepoints=int(d["dce_timepoints"]),
                   image_size=tuple(d["image_size"]), patch_size=tuple(d["patch_size"]), axcodes=d["axcodes"])
