"""The four answer terms of seed 003's synthetic VQA (Section 3.2.1) for each lesion sub-region.

Volume share of the brain (brain = non-zero voxels of the skull-stripped T1), atlas regions the mask
intersects, and the shape and spread classes of Appendix A; "N/A" for every task when the label is absent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.families.mpllm.descriptors import describe_mask

VOLUME_CLASSES = ("<1%", "1-5%", "5-10%", "10-25%", "25-50%", "50-75%")
_VOLUME_EDGES = (1.0, 5.0, 10.0, 25.0, 50.0)
"""Lower bounds (percent of the brain) of all classes but the first; a share of 50% or more is "50-75%",
the seed's largest class."""
REGIONS = ("frontal", "parietal", "occipital", "temporal", "limbic", "insula", "subcortical", "cerebellum",
           "brainstem")
"""Atlas regions of Section 3.2.1 (LPBA40 lobes); atlas label k + 1 is ``REGIONS[k]``."""
NOT_FOUND = "N/A"


def volume_class(mask_voxels: int, brain_voxels: int) -> str:
    """Relative-volume class of a mask of ``mask_voxels`` inside a brain of ``brain_voxels``."""
    if brain_voxels <= 0:
        raise ValueError(f"brain_voxels must be positive, got {brain_voxels}")
    percent = 100.0 * mask_voxels / brain_voxels
    return VOLUME_CLASSES[int(np.searchsorted(_VOLUME_EDGES, percent, side="right"))]


def regions_of(mask: np.ndarray, atlas: np.ndarray) -> list[str]:
    """Atlas regions the mask intersects (at least one shared voxel), in ``REGIONS`` order."""
    if mask.shape != atlas.shape:
        raise ValueError(f"mask shape {mask.shape} differs from the atlas shape {atlas.shape}")
    present = set(np.unique(atlas[np.asarray(mask, dtype=bool)]).tolist())
    return [name for k, name in enumerate(REGIONS, start=1) if k in present]


@dataclass(frozen=True)
class LabelFindings:
    """The answer terms of one sub-region plus the numbers behind them."""

    label: str
    volume: str
    regions: tuple[str, ...]
    shape: str
    spread: str
    volume_percent: float
    descriptors: dict | None

    @property
    def present(self) -> bool:
        return self.volume != NOT_FOUND

    def to_dict(self) -> dict:
        return {"label": self.label, "volume": self.volume, "regions": list(self.regions), "shape": self.shape,
                "spread": self.spread, "volume_percent": self.volume_percent, "descriptors": self.descriptors}

    @classmethod
    def from_dict(cls, doc: dict) -> LabelFindings:
        return cls(label=doc["label"], volume=doc["volume"], regions=tuple(doc["regions"]), shape=doc["shape"],
                   spread=doc["spread"], volume_percent=float(doc["volume_percent"]), descriptors=doc["descriptors"])


def label_findings(name: str, mask: np.ndarray, brain: np.ndarray, atlas: np.ndarray,
                   spacing: tuple[float, float, float]) -> LabelFindings:
    """Volume, regions, shape and spread of one sub-region mask (all "N/A" when it is empty)."""
    mask = np.asarray(mask, dtype=bool)
    desc = describe_mask(mask, spacing)
    if desc is None:
        return LabelFindings(name, NOT_FOUND, (), NOT_FOUND, NOT_FOUND, 0.0, None)
    brain_voxels = int(np.count_nonzero(brain))
    return LabelFindings(label=name, volume=volume_class(int(mask.sum()), brain_voxels),
                         regions=tuple(regions_of(mask, atlas)), shape=desc.shape, spread=desc.spread,
                         volume_percent=100.0 * float(mask.sum()) / brain_voxels, descriptors=desc.to_dict())


def case_findings(label_map: np.ndarray, labels: dict[int, str], brain: np.ndarray, atlas: np.ndarray,
                  spacing: tuple[float, float, float]) -> list[LabelFindings]:
    """Findings of every named label of a multi-label map (value k is ``labels[k]``)."""
    return [label_findings(name, label_map == value, brain, atlas, spacing) for value, name in sorted(labels.items())]
