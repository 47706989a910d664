"""An RT Structure Set's ROI as a mask on the CT grid: contour points (patient mm, LPS) are mapped to voxel
indices through the series' affine and filled slice by slice (even-odd, so inner contours are holes)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.data.dicom.errors import DicomError
from models.data.dicom.scan import RTSTRUCT_STORAGE

if TYPE_CHECKING:
    from pydicom import Dataset

    from models.data.dicom.series import CtSeries

SLICE_TOL = 0.25
"""How far (in slices) a planar contour may lie off a CT slice centre and still be drawn on it."""


def read_structure_set(path: Path) -> Dataset:
    """Read ``path`` and refuse anything that is not an RT Structure Set."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        ds = dcmread(path)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise DicomError(f"--rtstruct {path} is not a readable DICOM file ({exc})") from None
    if str(ds.get("SOPClassUID", "")) != RTSTRUCT_STORAGE and ds.get("Modality") != "RTSTRUCT":
        raise DicomError(f"--rtstruct {path} is a {ds.get('Modality', 'non-RTSTRUCT')} object, not an RT "
                         "Structure Set")
    return ds


def roi_names(structure_set: Dataset) -> list[str]:
    """The ROI names, in the structure set's order."""
    return [str(item.ROIName) for item in structure_set.get("StructureSetROISequence", [])]


def frame_of_reference_uids(structure_set: Dataset) -> set[str]:
    """Every Frame of Reference the structure set refers to."""
    uids = {str(i.FrameOfReferenceUID) for i in structure_set.get("ReferencedFrameOfReferenceSequence", [])
            if "FrameOfReferenceUID" in i}
    uids |= {str(i.ReferencedFrameOfReferenceUID) for i in structure_set.get("StructureSetROISequence", [])
             if "ReferencedFrameOfReferenceUID" in i}
    return uids


def roi_mask(structure_set: Dataset, name: str, series: CtSeries, *, source: str = "the structure set") -> np.ndarray:
    """The ROI ``name`` filled on the series' grid: bool (slice, row, column)."""
    from matplotlib.path import Path as Polygon

    roi = next(i for i in structure_set.StructureSetROISequence if str(i.ROIName) == name)
    frame = str(roi.get("ReferencedFrameOfReferenceUID", "")) or None
    if frame is not None and frame != series.frame_of_reference_uid:
        raise DicomError(f"{source}: ROI {name} is drawn in Frame of Reference {frame}, but the CT series in "
                         f"{series.folder} is in {series.frame_of_reference_uid}; export the structure set that "
                         "belongs to this CT")
    contours = next((i.get("ContourSequence", []) for i in structure_set.get("ROIContourSequence", [])
                     if int(i.ReferencedROINumber) == int(roi.ROINumber)), [])
    mask = np.zeros(series.hu.shape, dtype=bool)
    inverse = np.linalg.inv(series.affine_lps)
    drawn = 0
    for contour in contours:
        if str(contour.get("ContourGeometricType", "CLOSED_PLANAR")) != "CLOSED_PLANAR":
            continue
        points = np.asarray(contour.ContourData, dtype=float).reshape(-1, 3)
        idx = (inverse @ np.c_[points, np.ones(len(points))].T)[:3].T  # (slice, row, column)
        k = int(round(float(idx[:, 0].mean())))
        if np.abs(idx[:, 0] - k).max() > SLICE_TOL or not 0 <= k < mask.shape[0]:
            raise DicomError(f"{source}: a contour of ROI {name} does not lie on a slice of the CT series in "
                             f"{series.folder} (off by {np.abs(idx[:, 0] - k).max():.2f} slices); the structure "
                             "set was drawn on another image set")
        _fill(mask[k], Polygon(idx[:, [2, 1]]))
        drawn += 1
    if drawn == 0:
        raise DicomError(f"{source}: ROI {name} has no closed planar contours")
    return mask


def _fill(plane: np.ndarray, polygon) -> None:
    """XOR the pixels whose centres lie inside ``polygon`` (column, row) into ``plane``."""
    lo = np.maximum(np.floor(polygon.vertices.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(polygon.vertices.max(axis=0)).astype(int) + 1, plane.shape[::-1])
    if np.any(hi <= lo):
        return
    cols, rows = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]))
    inside = polygon.contains_points(np.c_[cols.ravel(), rows.ravel()]).reshape(rows.shape)
    plane[lo[1]:hi[1], lo[0]:hi[0]] ^= inside
