"""Check a dataset folder against the contract before any work starts (like nnU-Net's
``verify_dataset_integrity``): files readable to their last voxel, NIfTI headers sane, no NaN or
infinite voxels, images that look like CT in Hounsfield units, masks on the image grid, label
values declared, notes that do not contradict themselves (missing note fields are warnings).
Every voxel the training will use is read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from models.data.clinical import read_note
from models.data.dataset import Case, Dataset, DatasetError, load_dataset
from models.data.input_checks import InputError, ct_problem, non_finite_problem, read_header, read_voxels

__all__ = ["AFFINE_TOL_MM", "Problem", "verify_dataset"]

AFFINE_TOL_MM = 1e-3
_DATASET = "<dataset>"


@dataclass(frozen=True)
class Problem:
    case_id: str
    message: str
    warning: bool = False  # reported, but the dataset stays usable (a note that lacks fields)

    def __str__(self) -> str:
        if self.case_id == _DATASET:
            return self.message
        return f"case {self.case_id}: {'warning: ' if self.warning else ''}{self.message}"


def verify_dataset(root: str | Path) -> list[Problem]:
    """Every problem found in the dataset at ``root``; an empty list means it is usable."""
    try:
        dataset = load_dataset(root)
    except DatasetError as exc:
        return [Problem(_DATASET, str(exc))]
    if len(dataset.modality) > 1:  # per-case checks would only repeat it for every 4D or extra-channel image
        names = ", ".join(dataset.modality.values())
        return [Problem(_DATASET, f"{dataset.root / 'dataset.json'} declares {len(dataset.modality)} image channels "
                                  f"({names}), but the model takes one CT channel, so this dataset cannot be used")]
    problems = _dataset_problems(dataset)
    allowed = dataset.label_values()
    for case in dataset.cases:
        problems.extend(_note_problems(case))
        problems.extend(Problem(case.case_id, m) for m in _check_case(case, allowed))
    return problems


def _dataset_problems(dataset: Dataset) -> list[Problem]:
    """Dataset-wide faults: no cases, side-file notes for unknown case ids, nnU-Net's numTraining off."""
    meta, found = dataset.root / "dataset.json", []
    if not dataset.cases:
        found.append(f"{meta} lists no cases")
    unknown = dataset.notes.unknown_ids
    if unknown:
        found.append(f"{dataset.root / str(dataset.notes.side_file)} has notes for {len(unknown)} case id"
                     f"{'s' if len(unknown) > 1 else ''} not in the dataset ({', '.join(unknown[:5])}); ids are the "
                     "image names without the ending and the _0000 channel suffix")
    expected = dataset.extra.get("numTraining")
    if dataset.layout == "nnunetv2" and isinstance(expected, int) and expected != len(dataset.training):
        found.append(f"{meta} says numTraining is {expected} but imagesTr holds {len(dataset.training)} cases")
    return [Problem(_DATASET, m) for m in found]


def _check_case(case: Case, allowed: set[int]) -> list[str]:
    messages: list[str] = []
    try:
        image = read_header(case.image, "image")
        voxels = read_voxels(image, case.image, "image")
    except InputError as exc:
        return [*messages, str(exc)]
    bad = non_finite_problem(voxels, case.image, "image") or ct_problem(voxels, case.image)
    messages.extend([bad] if bad else [])
    del voxels
    masks = {"label": case.label, "organ": case.organ, "gtv": case.gtv}
    for key, path in masks.items():
        if path is not None:
            messages.extend(_check_mask(path, key, image, allowed if key == "label" else {0, 1}))
    return messages


def _note_problems(case: Case) -> list[Problem]:
    """A note that contradicts itself or has foreign digits is an error; no note, an unread value or missing
    fields are one warning naming what is missing (the model reads missing fields as unknown)."""
    note = read_note(case.clinical)
    if note.errors:
        return [Problem(case.case_id, e) for e in note.errors]
    if note.empty:
        return [Problem(case.case_id, "has no clinical note (the 'clinical' field is empty or absent); the model "
                                      "reads it as a note with every field unknown", warning=True)]
    missing = [f"the clinical note gives no {', '.join(note.missing)} (risk group {note.risk_group.value})"]
    if not note.found_any:
        missing = ["the clinical note names none of Gleason score, grade group, T, N or M stage, age and PSA "
                   "(unparsed note)"]
    parts = [*(missing if note.missing else []), *note.warnings]
    return [Problem(case.case_id, "; ".join(parts), warning=True)] if parts else []


def _check_mask(path: Path, key: str, image: nib.Nifti1Image, allowed: set[int]) -> list[str]:
    try:
        mask = read_header(path, key)
    except InputError as exc:
        return [str(exc)]
    if mask.shape != image.shape:
        return [f"{key} shape {mask.shape} differs from image shape {image.shape}"]
    if not np.allclose(mask.affine, image.affine, rtol=0, atol=AFFINE_TOL_MM):
        return [f"{key} affine differs from the image affine by more than {AFFINE_TOL_MM} mm"]
    try:
        data = read_voxels(mask, path, key)
    except InputError as exc:
        return [str(exc)]
    bad = non_finite_problem(data, path, key)
    if bad:
        return [bad]
    values = [v for v in np.unique(data).tolist() if not float(v).is_integer() or int(v) not in allowed]
    if values:
        return [f"{key} has values ({', '.join(f'{v:g}' for v in values[:5])}) outside the allowed {sorted(allowed)}"]
    return []
