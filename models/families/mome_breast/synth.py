"""Synthetic multi-center breast mpMRI datasets: phantoms per center protocol written as NIfTI (DCE as a 4D
series) plus a ``dataset.json`` with the malignancy label per case (the family's data contract)."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np

from models.families.mome_breast.phantom import Protocol, render_case
from models.fsutil import atomic_directory

GRID = (40, 40, 20)
SPACING = (3.0, 3.0, 4.0)
TIMEPOINTS = 4
TEST_FRACTION = 0.25
FAMILY = "mome_breast"

PRESETS: dict[str, Protocol] = {
    "A": Protocol(),
    "B": Protocol(noise={"dce": 0.05, "t2": 0.07, "dwi": 0.08}, t2_contrast=0.85, adc_bias=0.1),
    "C": Protocol(noise={"dce": 0.035, "t2": 0.045, "dwi": 0.05}, sequences=("dce", "t2"), malignant_share=0.6),
    "D": Protocol(noise={"dce": 0.06, "t2": 0.06, "dwi": 0.09}, t2_contrast=0.9, adc_bias=-0.1),
}
DESCRIPTIONS = {"A": "3T-like reference protocol, every sequence", "B": "1.5T-like: noisier, lower T2 contrast",
                "C": "3T-like, no DWI acquired", "D": "closed center, 1.5T-like"}


def nifti(array: np.ndarray, spacing: tuple[float, float, float]) -> nib.Nifti1Image:
    """A RAS NIfTI image centred on the origin (a 4D array keeps its time axis last)."""
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = -(np.asarray(array.shape[:3]) - 1) / 2 * np.asarray(spacing)
    return nib.Nifti1Image(array, affine)


def synth(out: Path, *, center: str, cases: int, seed: int, preset: str | None = None) -> dict:
    """Write a dataset of ``cases`` cases for ``center`` (preset ``preset`` or the center's own); deterministic."""
    name = preset or center
    if name not in PRESETS:
        raise ValueError(f"preset {name!r} is unknown; choose one of {', '.join(sorted(PRESETS))}")
    if cases < 1:
        raise ValueError(f"cases must be at least 1, got {cases}")
    protocol = PRESETS[name]
    n_test = max(int(round(cases * TEST_FRACTION)), 1) if cases >= 2 else 0
    with atomic_directory(Path(out)) as tmp:
        for sub in ("imagesTr", "imagesTs"):
            (tmp / sub).mkdir()
        entries = []
        for i in range(cases):
            rng = np.random.default_rng([seed, i, sum(map(ord, name))])
            split = "Ts" if i >= cases - n_test else "Tr"
            malignant = bool(rng.random() < protocol.malignant_share)
            volumes, info = render_case(GRID, SPACING, TIMEPOINTS, malignant, protocol, rng)
            case_id = f"{name.lower()}{i:03d}"
            entry = {"id": case_id, "label": int(malignant), "images": {},
                     "findings": {k: round(v, 4) for k, v in info["findings"].items()}}
            for seq, volume in volumes.items():
                rel = f"images{split}/{case_id}_{seq}.nii.gz"
                nib.save(nifti(volume, SPACING), str(tmp / rel))
                entry["images"][seq] = rel
            entries.append(entry)
        doc = {"family": FAMILY, "name": f"mome-breast-synthetic-{name}", "center": center, "seed": seed,
               "description": DESCRIPTIONS[name], "sequences": list(protocol.sequences),
               "labels": {"0": "benign", "1": "malignant"},
               "training": entries[: cases - n_test], "test": entries[cases - n_test:]}
        (tmp / "dataset.json").write_text(json.dumps(doc, indent=1))
    return {"center": center, "preset": name, "cases": cases, "training": cases - n_test, "test": n_test,
            "sequences": list(protocol.sequences), "malignant": sum(e["label"] for e in entries), "seed": seed,
            "out": str(out)}
