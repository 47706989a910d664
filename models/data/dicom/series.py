"""A validated CT series as a NIfTI-ready volume: Hounsfield units, a RAS affine, and the SOP instance of
every slice (so masks can be exported back referencing the exact images)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.data.dicom.errors import DicomError
from models.data.dicom.validate import SPACING_TOL_MM, series_problems

if TYPE_CHECKING:
    import nibabel as nib
    from pydicom import Dataset

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_IJK_FROM_NIFTI = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
"""NIfTI voxel (i=column, j=row, k=slice) -> highdicom volume index (slice, row, column)."""


@dataclass(frozen=True)
class CtSeries:
    """One CT series: ``hu`` is (slice, row, column) and ``affine_lps`` maps those indices to patient mm (LPS)."""

    folder: Path
    hu: np.ndarray
    affine_lps: np.ndarray
    datasets: list[Dataset]
    """The slices' datasets in volume order (slice 0 first), pixel data included."""
    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    patient_id: str

    @property
    def sop_uids(self) -> list[str]:
        return [str(ds.SOPInstanceUID) for ds in self.datasets]

    @property
    def affine_ras(self) -> np.ndarray:
        """The NIfTI affine of :meth:`to_nifti`'s array: voxel (column, row, slice) -> RAS mm."""
        return LPS_TO_RAS @ self.affine_lps @ _IJK_FROM_NIFTI

    def to_nifti(self) -> nib.Nifti1Image:
        """The volume as a NIfTI image (int16 when the values allow, as CT usually is)."""
        import nibabel as nib

        data = np.ascontiguousarray(self.hu.transpose(2, 1, 0))
        if np.all(np.mod(data, 1) == 0) and data.min() >= -32768 and data.max() <= 32767:
            data = data.astype(np.int16)
        else:
            data = data.astype(np.float32)
        img = nib.Nifti1Image(data, self.affine_ras)
        img.header.set_xyzt_units("mm")
        img.set_qform(self.affine_ras, code=1)
        img.set_sform(self.affine_ras, code=1)
        return img

    def mask_from_nifti(self, mask: nib.Nifti1Image) -> np.ndarray:
        """A mask NIfTI on this series' grid as a (slice, row, column) bool array; refuses another grid."""
        if mask.shape[:3] != self.hu.shape[::-1] or not np.allclose(mask.affine, self.affine_ras, atol=1e-3):
            raise DicomError(f"the mask's grid {mask.shape} differs from the CT series' grid in {self.folder}")
        data = np.asarray(mask.dataobj)
        return (data[..., 0] if data.ndim == 4 else data).transpose(2, 1, 0) > 0


def read_series(folder: Path, headers: list[tuple[Path, Dataset]]) -> CtSeries:
    """Validate and read the CT files ``headers`` (found in ``folder``) into a volume."""
    import highdicom as hd
    from pydicom import dcmread

    problems = series_problems(folder, headers)
    if problems:
        raise DicomError("; ".join(problems))
    datasets = [dcmread(path) for path, _ in headers]
    try:
        volume = hd.get_volume_from_series(datasets, dtype=np.float32, atol=SPACING_TOL_MM)
    except (ValueError, RuntimeError, NotImplementedError) as exc:
        raise DicomError(f"{folder}: the CT series cannot be read as one volume ({exc})") from None
    normal = np.cross(*np.asarray(datasets[0].ImageOrientationPatient, dtype=float).reshape(2, 3))
    if volume.affine[:3, 0] @ normal < 0:  # keep slice 0 lowest along the normal, as the files number them
        volume = volume.flip_spatial(0)
    inverse = np.linalg.inv(volume.affine)
    index = [int(round((inverse @ np.r_[np.asarray(ds.ImagePositionPatient, float), 1.0])[0])) for ds in datasets]
    if sorted(index) != list(range(len(datasets))):
        raise DicomError(f"{folder}: the slices do not map one-to-one onto the volume's slices")
    ordered = [ds for _, ds in sorted(zip(index, datasets, strict=True), key=lambda pair: pair[0])]
    first = datasets[0]
    return CtSeries(folder=folder, hu=np.asarray(volume.array, dtype=np.float32), affine_lps=np.asarray(volume.affine),
                    datasets=ordered, study_uid=str(first.StudyInstanceUID), series_uid=str(first.SeriesInstanceUID),
                    frame_of_reference_uid=str(first.FrameOfReferenceUID),
                    patient_id=str(first.get("PatientID", "")))
