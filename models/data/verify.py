"""Check a dataset folder against the contract before any work starts (like nnU-Net's
``verify_dataset_integrity``): files readable to their last voxel, NIfTI headers sane, no NaN or
infinite voxels, images that look like CT in Hounsfield units, masks on the image grid, label
values declared, notes parseable. Every voxel the training will use is read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from models.data.clinical import NoteParseError, parse_note
from models.data.dataset import Case, DatasetError, load_dataset
from models.data.input_checks import InputError, ct_problem, non_finite_problem, read_header, read_voxels

__all__ = ["AFFINE_TOL_MM", "Problem", "verify_dataset"]

AFFINE_TOL_MM = 1e-3
_DATASET = "<dataset>"


@dataclass(frozen=True)
class Problem:
    case_id: str
    message: str

    def __str__(self) -> str:
        if self.case_id == _DATASET:
            return self.message
        return f"case {self.case_id}: {self.message}"


def verify_dataset(root: str | Path) -> list[Problem]:
    """Every problem found in the dataset at ``root``; an empty list means it is usable."""
    try:
        dataset = load_dataset(root)
    except DatasetError as exc:
        return [Problem(_DATASET, str(exc))]
    problems: list[Problem] = []
    if not dataset.cases:
        problems.append(Problem(_DATASET, f"{dataset.root / 'dataset.json'} lists no cases"))
    allowed = dataset.label_values()
    for case in dataset.cases:
        problems.extend(Problem(case.case_id, m) for m in _check_case(case, allowed))
    return problems


def _check_case(case: Case, allowed: set[int]) -> list[str]:
    messages: list[str] = []
    if not case.clinical.strip():
        messages.append("the clinical note is empty")
    else:
        try:
            parse_note(case.clinical)
        except NoteParseError as exc:
            messages.append(str(exc))
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
