"""Synthetic multi-center abdominal datasets: each preset is a "dataset" with its own modalities, scanner and
partial label set (FLARE-like CT with five organs, AMOS-like CT + MR with four, ATLAS-like contrast T1 MR with
the liver and its tumours), written as NIfTI plus a ``dataset.json`` (the family's data contract)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from models.families.m4oe.phantom import LABEL, Scanner, anatomy, render
from models.fsutil import atomic_directory

GRID = (72, 60, 16)
SPACING = (5.0, 5.0, 8.0)
TEST_FRACTION = 0.25
FAMILY = "m4oe"


@dataclass(frozen=True)
class DatasetPreset:
    """A dataset: its modalities (cases are split evenly between them), scanners, labelled classes and the share
    of cases with liver tumours."""

    modalities: tuple[str, ...]
    scanners: dict[str, Scanner]
    labels: tuple[str, ...]
    tumor_share: float = 0.0
    description: str = ""


PRESETS: dict[str, DatasetPreset] = {
    "A": DatasetPreset(("ct",), {"ct": Scanner(noise=12.0)},
                       ("liver", "spleen", "kidney_left", "kidney_right", "pancreas"), 0.0,
                       "FLARE-like: abdominal CT, five organs"),
    "B": DatasetPreset(("ct", "t2"), {"ct": Scanner(gain=1.05, offset=-10.0, noise=18.0, blur=0.6),
                                      "t2": Scanner(noise=0.05, bias=0.25)},
                       ("liver", "spleen", "kidney_left", "kidney_right"), 0.0,
                       "AMOS-like: CT and T2-like MR from one center, four organs"),
    "C": DatasetPreset(("t1",), {"t1": Scanner(noise=0.04, bias=0.2)}, ("liver", "liver_tumor"), 0.9,
                       "ATLAS-like: contrast T1-like MR, liver and its tumours"),
    "D": DatasetPreset(("t1", "t2"), {"t1": Scanner(gain=1.2, noise=0.06, bias=0.35, blur=0.8),
                                      "t2": Scanner(gain=0.85, noise=0.07, bias=0.35, blur=0.8)},
                       ("liver", "spleen", "kidney_left", "kidney_right"), 0.2,
                       "closed center: T1- and T2-like MR on another scanner, four organs"),
    "E": DatasetPreset(("ct",), {"ct": Scanner(gain=0.95, offset=15.0, noise=30.0)},
                       ("liver", "spleen", "kidney_left", "kidney_right", "pancreas", "liver_tumor"), 0.3,
                       "closed center: low-dose CT, every class"),
}


def nifti(array: np.ndarray, spacing: tuple[float, float, float]) -> nib.Nifti1Image:
    """A RAS NIfTI image centred on the origin."""
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = -(np.asarray(array.shape) - 1) / 2 * np.asarray(spacing)
    return nib.Nifti1Image(array, affine)


def dataset_label_map(label: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """The full anatomy reduced to the dataset's own label set, numbered 1..len(labels) in that order; an
    unlabelled organ is background, and an unlabelled tumour counts as the liver it lies in."""
    out = np.zeros(label.shape, dtype=np.uint8)
    for i, name in enumerate(labels, start=1):
        out[label == LABEL[name]] = i
    if "liver" in labels and "liver_tumor" not in labels:
        out[label == LABEL["liver_tumor"]] = labels.index("liver") + 1
    return out


def make_case(case_id: str, folder: Path, split_dir: str, preset: DatasetPreset, modality: str,
              rng: np.random.Generator) -> dict:
    """Generate, write and describe one case; returns its ``dataset.json`` entry."""
    label = anatomy(GRID, SPACING, rng, tumor=bool(rng.random() < preset.tumor_share))
    image = render(label, modality, SPACING, preset.scanners[modality], rng)
    entry = {"id": case_id, "modality": modality, "image": f"images{split_dir}/{case_id}.nii.gz",
             "label": f"labels{split_dir}/{case_id}.nii.gz"}
    stored = image.astype(np.int16) if modality == "ct" else image
    nib.save(nifti(stored, SPACING), str(folder / entry["image"]))
    nib.save(nifti(dataset_label_map(label, preset.labels), SPACING), str(folder / entry["label"]))
    return entry


def synth(out: Path, *, center: str, cases: int, seed: int, preset: str | None = None) -> dict:
    """Write a dataset of ``cases`` cases for ``center`` (preset ``preset`` or the center's own); deterministic."""
    name = preset or center
    if name not in PRESETS:
        raise ValueError(f"preset {name!r} is unknown; choose one of {', '.join(sorted(PRESETS))}")
    if cases < 1:
        raise ValueError(f"cases must be at least 1, got {cases}")
    chosen = PRESETS[name]
    n_test = max(int(round(cases * TEST_FRACTION)), 1) if cases >= 2 else 0
    with atomic_directory(Path(out)) as tmp:
        for sub in ("imagesTr", "labelsTr", "imagesTs", "labelsTs"):
            (tmp / sub).mkdir()
        entries = []
        for i in range(cases):
            rng = np.random.default_rng([seed, i, sum(map(ord, name))])
            split = "Ts" if i >= cases - n_test else "Tr"
            modality = chosen.modalities[i % len(chosen.modalities)]
            entries.append(make_case(f"{name.lower()}{i:03d}", tmp, split, chosen, modality, rng))
        doc = {"family": FAMILY, "name": f"m4oe-synthetic-{name}", "center": center, "seed": seed,
               "description": chosen.description, "modalities": list(chosen.modalities),
               "labels": {"0": "background", **{str(i): n for i, n in enumerate(chosen.labels, start=1)}},
               "training": entries[: cases - n_test], "test": entries[cases - n_test:]}
        (tmp / "dataset.json").write_text(json.dumps(doc, indent=1))
    return {"center": center, "preset": name, "cases": cases, "training": cases - n_test, "test": n_test,
            "modalities": list(chosen.modalities), "labels": list(chosen.labels), "seed": seed, "out": str(out)}
