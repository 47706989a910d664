"""Check a dataset folder against the contract before any work starts (like nnU-Net's
``verify_dataset_integrity``): files readable, NIfTI headers sane, masks on the image grid,
label values declared, notes parseable. Headers are read with nibabel; mask voxels are
loaded only for the label-value check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from models.data.clinical import NoteParseError, parse_note
from models.data.dataset import Case, DatasetError, load_dataset

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
    image, error = _header(case.image, "image")
    if error:
        return [*messages, error]
    masks = {"label": case.label, "organ": case.organ, "gtv": case.gtv}
    for key, path in masks.items():
        if path is None:
            continue
        mask, error = _header(path, key)
        if error:
            messages.append(error)
            continue
        if mask.shape != image.shape:
            messages.append(f"{key} shape {mask.shape} differs from image shape {image.shape}")
        elif not np.allclose(mask.affine, image.affine, rtol=0, atol=AFFINE_TOL_MM):
            messages.append(f"{key} affine differs from the image affine by more than {AFFINE_TOL_MM} mm")
        else:
            expected = allowed if key == "label" else {0, 1}
            bad = _bad_values(mask, expected)
            if bad:
                messages.append(f"{key} has values ({bad}) outside the allowed {sorted(expected)}")
    return messages


def _header(path: Path, key: str) -> tuple[nib.Nifti1Image | None, str | None]:
    if not path.is_file():
        return None, f"{key} file {path} does not exist"
    try:
        img = nib.load(path)
    except Exception as exc:  # nibabel raises many types for a broken file
        return None, f"{key} file {path} is not a readable NIfTI ({type(exc).__name__}: {exc})"
    if len(img.shape) != 3:
        return None, f"{key} file {path} is {len(img.shape)}D; a 3D volume is expected"
    zooms = np.asarray(img.header.get_zooms()[:3], dtype=float)
    if not np.all(np.isfinite(zooms)) or np.any(zooms <= 0):
        return None, f"{key} file {path} has a voxel spacing {tuple(zooms)} that is not finite and positive"
    affine = img.affine
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        return None, f"{key} file {path} has an affine that is not invertible"
    return img, None


def _bad_values(img: nib.Nifti1Image, allowed: set[int]) -> str:
    """The offending values as text (at most five), or '' when every voxel is allowed."""
    try:
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # a truncated gzip stream only shows up here
        return f"unreadable voxel data ({type(exc).__name__})"
    if not np.all(np.isfinite(data)):
        return "non-finite values"
    bad = [v for v in np.unique(data).tolist() if not float(v).is_integer() or int(v) not in allowed]
    return ", ".join(f"{v:g}" for v in bad[:5])
