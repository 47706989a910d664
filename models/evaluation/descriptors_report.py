"""Seed 003's mask descriptors as an evaluation report: volume, spread and shape of any binary mask (a
predicted PTV of MoME-RO as much as a lesion sub-region), for ``site-agent evaluate``."""

from __future__ import annotations

import numpy as np

from models.families.mpllm.descriptors import describe_mask


def ptv_descriptors(mask: np.ndarray, spacing: tuple[float, float, float]) -> dict:
    """Volume (mm^3 and ml), ``spread`` = number of 26-connected components, the Appendix A spread and shape
    classes and the aggregated shape metrics (sphericity, elongation, flatness, solidity, compactness).
    An empty mask has volume 0, spread 0 and no shape (None)."""
    described = describe_mask(np.asarray(mask), tuple(float(s) for s in spacing))
    if described is None:
        return {"volume_mm3": 0.0, "volume_ml": 0.0, "spread": 0, "spread_class": None, "core_fraction": None,
                "shape": None, "sphericity": None, "elongation": None, "flatness": None, "solidity": None,
                "compactness": None}
    doc = described.to_dict()  # strict JSON: an infinite elongation (a line of voxels) is None
    return {"volume_mm3": doc["volume_mm3"], "volume_ml": doc["volume_mm3"] / 1000.0, "spread": doc["n_components"],
            "spread_class": doc["spread"], "core_fraction": doc["core_fraction"], "shape": doc["shape"],
            **{k: doc[k] for k in ("sphericity", "elongation", "flatness", "solidity", "compactness")}}
