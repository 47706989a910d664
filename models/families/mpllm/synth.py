"""Synthetic multi-center mpMRI VQA datasets: phantoms per center preset, their findings and question set,
written as NIfTI plus a ``dataset.json`` (the family's data contract)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from models.families.mpllm.atlas import brain_atlas
from models.families.mpllm.findings import REGIONS, case_findings
from models.families.mpllm.phantom import LABELS, MODALITIES, Scanner, lesion_map, render
from models.families.mpllm.vqa import case_qa
from models.fsutil import atomic_directory

GRID = (48, 56, 44)
SPACING = (3.0, 3.0, 3.0)
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class CenterPreset:
    """A center: the share of gliomas among its cases (the rest are metastases) and its scanner."""

    glioma_share: float
    scanner: Scanner = field(default_factory=Scanner)
    description: str = ""


PRESETS: dict[str, CenterPreset] = {
    "A": CenterPreset(0.9, Scanner(), "glioma center (GLI-like), reference scanner"),
    "B": CenterPreset(0.85, Scanner(gain=(0.95, 1.05, 1.0, 0.95), noise=0.04, bias=0.12),
                      "glioma center alike A, similar scanner"),
    "C": CenterPreset(0.2, Scanner(gain=(1.1, 0.8, 0.9, 1.15), noise=0.06, bias=0.18, blur=0.8),
                      "metastases center (MET-like), different scanner"),
    "D": CenterPreset(0.5, Scanner(gain=(0.9, 1.1, 1.1, 0.9), noise=0.05, bias=0.2),
                      "closed center, mixed tumours (GoAT-like)"),
    "E": CenterPreset(0.1, Scanner(gain=(1.05, 0.85, 0.95, 1.1), noise=0.06, bias=0.15, blur=0.8),
                      "closed center, metastases, scanner like C"),
}


def nifti(array: np.ndarray, spacing: tuple[float, float, float]) -> nib.Nifti1Image:
    """A RAS NIfTI image centred on the origin."""
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = -(np.asarray(array.shape) - 1) / 2 * np.asarray(spacing)
    return nib.Nifti1Image(array, affine)


def scaled_int16(image: np.ndarray, spacing: tuple[float, float, float]) -> nib.Nifti1Image:
    """A non-negative image as int16 times a slope (no intercept): half the bytes of float32, and zero (outside
    the brain) stays exactly zero."""
    slope = max(float(image.max()), 1e-6) / 32000.0
    stored = nifti(np.round(image / slope).astype(np.int16), spacing)
    stored.header.set_slope_inter(slope, 0.0)
    return stored


def make_case(case_id: str, folder: Path, split_dir: str, preset: CenterPreset, atlas: np.ndarray,
              rng: np.random.Generator) -> dict:
    """Generate, write and describe one case; returns its ``dataset.json`` entry."""
    kind = "glioma" if rng.random() < preset.glioma_share else "metastases"
    label = lesion_map(GRID, SPACING, kind, rng)
    images = render(label, SPACING, preset.scanner, rng)
    entry = {"id": case_id, "kind": kind, "images": {}, "label": f"labels{split_dir}/{case_id}.nii.gz"}
    for modality, image in images.items():
        rel = f"images{split_dir}/{case_id}_{modality}.nii.gz"
        nib.save(scaled_int16(image, SPACING), str(folder / rel))
        entry["images"][modality] = rel
    nib.save(nifti(label, SPACING), str(folder / entry["label"]))
    findings = case_findings(label, LABELS, images["t1"] > 0, atlas, SPACING)
    entry["findings"] = [f.to_dict() for f in findings]
    entry["qa"] = [pair.to_dict() for pair in case_qa(findings, rng)]
    return entry


def synth(out: Path, *, center: str, cases: int, seed: int, preset: str | None = None) -> dict:
    """Write a dataset of ``cases`` cases for ``center`` (preset ``preset`` or the center's own); deterministic."""
    name = preset or center
    if name not in PRESETS:
        raise ValueError(f"preset {name!r} is unknown; choose one of {', '.join(sorted(PRESETS))}")
    if cases < 1:
        raise ValueError(f"cases must be at least 1, got {cases}")
    chosen = PRESETS[name]
    n_test = int(round(cases * TEST_FRACTION)) if cases >= 2 else 0
    n_test = max(n_test, 1) if cases >= 2 else 0
    atlas = brain_atlas(GRID, SPACING)
    with atomic_directory(Path(out)) as tmp:
        for sub in ("imagesTr", "labelsTr", "imagesTs", "labelsTs"):
            (tmp / sub).mkdir()
        nib.save(nifti(atlas, SPACING), str(tmp / "atlas.nii.gz"))
        entries = []
        for i in range(cases):
            rng = np.random.default_rng([seed, i, sum(map(ord, name))])
            split = "Ts" if i >= cases - n_test else "Tr"
            entries.append(make_case(f"{name.lower()}{i:03d}", tmp, split, chosen, atlas, rng))
        doc = {"family": "mpllm", "name": f"mpllm-synthetic-{name}", "center": center, "seed": seed,
               "description": chosen.description, "spacing": list(SPACING),
               "modality": {str(i): m for i, m in enumerate(MODALITIES)},
               "labels": {"0": "background", **{str(k): v for k, v in LABELS.items()}},
               "regions": {str(k): r for k, r in enumerate(REGIONS, start=1)}, "atlas": "atlas.nii.gz",
               "training": entries[: cases - n_test], "test": entries[cases - n_test:]}
        (tmp / "dataset.json").write_text(json.dumps(doc, indent=1))
    questions = sum(len(e["qa"]) for e in entries)
    return {"center": center, "preset": name, "cases": cases, "training": cases - n_test, "test": n_test,
            "questions": questions, "seed": seed, "out": str(out)}
