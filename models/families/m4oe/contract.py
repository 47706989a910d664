"""The preprocessing contract an M4oE config carries: modalities, organ classes and the 2D slice grid."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MODALITIES = ("ct", "t1", "t2")
"""CT and two MR contrasts; one modality expert each in the built-in configs."""

CLASSES = ("liver", "spleen", "kidney_left", "kidney_right", "pancreas", "liver_tumor")
"""Organ (and lesion) classes the model outputs, after background; a dataset labels any subset of them."""

PARENTS = {"liver_tumor": "liver"}
"""A class lying inside another: a dataset that labels the parent but not the child counts the child as parent."""


@dataclass(frozen=True)
class M4oEContract:
    """Modalities the model knows, its classes, the axial slice grid every slice is resized to, the CT window
    (HU) mapped to [0, 1] and the MR percentiles mapped to [0, 1]."""

    modalities: tuple[str, ...] = MODALITIES
    classes: tuple[str, ...] = CLASSES
    slice_size: tuple[int, int] = (64, 64)
    axcodes: str = "RAS"
    ct_window: tuple[float, float] = (-200.0, 300.0)
    mr_percentiles: tuple[float, float] = (1.0, 99.0)
    parents: tuple[tuple[str, str], ...] = tuple(PARENTS.items())

    def __post_init__(self) -> None:
        if not self.modalities or len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"modalities must be distinct names, got {self.modalities}")
        if not self.classes or len(set(self.classes)) != len(self.classes) or "background" in self.classes:
            raise ValueError(f"classes must be distinct names other than 'background', got {self.classes}")
        if len(self.slice_size) != 2 or any(s < 64 or s % 32 for s in self.slice_size):
            raise ValueError(f"slice_size must be two multiples of 32 of at least 64 (the Swin backbone halves it five "
                             f"times and normalises the last level per instance), got {self.slice_size}")
        if not self.ct_window[0] < self.ct_window[1]:
            raise ValueError(f"ct_window must be (low, high) with low < high, got {self.ct_window}")
        for child, parent in self.parents:
            if child not in self.classes or parent not in self.classes:
                raise ValueError(f"parents names a class the model lacks: {child!r} in {parent!r}")

    def merge_targets(self, labelled: list[bool] | tuple[bool, ...]) -> list[int]:
        """For each model output, the output a dataset labelling ``labelled`` (per output, background first) sees
        it as: itself if labelled, else its labelled parent, else background (the marginal-loss mapping)."""
        parents = {self.classes.index(c) + 1: self.classes.index(p) + 1 for c, p in self.parents}
        out = []
        for k, known in enumerate(labelled):
            if known or k == 0:
                out.append(k)
            else:
                parent = parents.get(k)
                out.append(parent if parent is not None and labelled[parent] else 0)
        return out

    @property
    def num_outputs(self) -> int:
        """Background plus every class."""
        return len(self.classes) + 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> M4oEContract:
        return cls(modalities=tuple(d["modalities"]), classes=tuple(d["classes"]),
                   slice_size=tuple(d["slice_size"]), axcodes=d["axcodes"], ct_window=tuple(d["ct_window"]),
                   mr_percentiles=tuple(d["mr_percentiles"]),
                   parents=tuple((str(c), str(p)) for c, p in d.get("parents", PARENTS.items())))
