"""Import one CT series (and its RT Structure Set) into a dataset folder: image, PTV label and optional
prostate/GTV masks as NIfTI in RAS, the dataset.json entry and the dicom_sources.json record."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.data.dicom.errors import DicomError
from models.data.dicom.match import SeriesJob
from models.data.dicom.roi_names import match_roi
from models.fsutil import atomic_path

if TYPE_CHECKING:
    import numpy as np

    from models.data.dicom.series import CtSeries

_MASK_FOLDERS = {"PTV": ("label", "labelsTr"), "prostate": ("organ", "organsTr"), "GTV": ("gtv", "gtvTr")}


@dataclass(frozen=True)
class RoiChoice:
    """How ROIs are found in a structure set: ``--roi`` choices and the user's synonym table."""

    chosen: dict[str, str] = field(default_factory=dict)
    table: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedCase:
    case_id: str
    split: str
    """``training`` (with a PTV label) or ``test`` (no structure set: prediction only)."""
    entry: dict[str, Any]
    source: dict[str, Any]


def import_job(job: SeriesJob, out: Path, case_id: str, *, rois: RoiChoice, note: str) -> ImportedCase:
    """Read, validate and write one case; nothing is written when the series or its structure set is refused."""
    import nibabel as nib

    from models.data.dicom.series import read_series

    series = read_series(job.folder, job.ct)
    masks, names = _structure_masks(job.rtstruct, job.folder, series, rois) if job.rtstruct else ({}, {})
    split = "training" if "PTV" in masks else "test"
    image_rel = f"{'imagesTr' if split == 'training' else 'imagesTs'}/{case_id}.nii.gz"
    with atomic_path(out / image_rel) as tmp:
        nib.save(series.to_nifti(), tmp)
    entry: dict[str, Any] = {"id": case_id, "image": image_rel}
    for target, mask in masks.items():
        key, folder = _MASK_FOLDERS[target]
        rel = f"{folder}/{case_id}.nii.gz"
        img = nib.Nifti1Image(mask.transpose(2, 1, 0).astype("uint8"), series.affine_ras)
        with atomic_path(out / rel) as tmp:
            nib.save(img, tmp)
        entry[key] = rel
    entry["clinical"] = note
    source = {"study_uid": series.study_uid, "series_uid": series.series_uid,
              "frame_of_reference_uid": series.frame_of_reference_uid, "series_folder": str(job.folder.resolve()),
              "rtstruct": str(job.rtstruct.resolve()) if job.rtstruct else None, "rois": names,
              "slices": len(series.datasets)}
    return ImportedCase(case_id, split, entry, source)


def _structure_masks(path: Path, folder: Path, series: CtSeries, rois: RoiChoice
                     ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The PTV (required) and prostate/GTV (when present) masks of the structure set at ``path``."""
    from models.data.dicom.rtstruct_read import frame_of_reference_uids, read_structure_set, roi_mask, roi_names

    structure_set = read_structure_set(path)
    frames = frame_of_reference_uids(structure_set)
    if frames and series.frame_of_reference_uid not in frames:
        raise DicomError(f"{path.name} is drawn in Frame of Reference {', '.join(sorted(frames))}, but "
                         f"the CT series in {folder} is in {series.frame_of_reference_uid}; give the structure "
                         "set that belongs to this CT")
    present = roi_names(structure_set)
    found = {t: match_roi(t, present, chosen=rois.chosen, table=rois.table) for t in _MASK_FOLDERS}
    if found["PTV"] is None:
        raise DicomError(f"{path.name} has no ROI recognised as the PTV (ROIs present: "
                         f"{', '.join(present) or 'none'}); name it with --roi PTV=NAME or add it to a table "
                         "given with --roi-table")
    names = {t: n for t, n in found.items() if n is not None}
    masks = {t: roi_mask(structure_set, n, series, source=path.name) for t, n in names.items()}
    return masks, names
