"""Write a CT NIfTI as a DICOM CT series (one file per axial slice): demo data and tests of the DICOM paths."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from models.data.dicom.scan import CT_IMAGE_STORAGE

_RAS_TO_LPS = np.array([-1.0, -1.0, 1.0])


def write_ct_series(nifti_path: Path, out_dir: Path, *, patient_id: str = "ANON", study_uid: str | None = None,
                    frame_of_reference_uid: str | None = None) -> list[Path]:
    """Write the NIfTI CT at ``nifti_path`` slice by slice (its third axis) into ``out_dir``; returns the files.

    Pixel rows follow the NIfTI's second axis and columns its first, so the DICOM geometry matches the affine.
    """
    import nibabel as nib
    from pydicom.uid import generate_uid

    from models.data.dicom.instance import new_instance

    img = nib.load(nifti_path)
    data = np.asarray(img.dataobj, dtype=np.float32)
    affine = img.affine
    col_step, row_step = affine[:3, 0] * _RAS_TO_LPS, affine[:3, 1] * _RAS_TO_LPS
    spacing = [float(np.linalg.norm(row_step)), float(np.linalg.norm(col_step))]
    orientation = [*(col_step / spacing[1]), *(row_step / spacing[0])]
    study_uid, series_uid = study_uid or generate_uid(), generate_uid()
    frame_uid = frame_of_reference_uid or generate_uid()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    today = dt.date.today().strftime("%Y%m%d")
    for k in range(data.shape[2]):
        ds = new_instance(CT_IMAGE_STORAGE)
        ds.Modality, ds.PatientID, ds.PatientName = "CT", patient_id, f"{patient_id}^"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.StudyDate = ds.SeriesDate = today
        ds.StudyTime = ds.SeriesTime = "120000"
        ds.PatientBirthDate = ds.PatientSex = ds.ReferringPhysicianName = ds.AccessionNumber = ""
        ds.StudyID, ds.Manufacturer = "1", "MoME Hub"
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImagePositionPatient = [round(float(v), 4) for v in (affine @ [0, 0, k, 1])[:3] * _RAS_TO_LPS]
        ds.ImageOrientationPatient = [round(float(v), 6) for v in orientation]
        ds.PixelSpacing = [round(v, 4) for v in spacing]
        ds.SliceThickness = round(float(np.linalg.norm(affine[:3, 2])), 4)
        ds.Rows, ds.Columns = data.shape[1], data.shape[0]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "HU"
        ds.PixelData = np.round(data[:, :, k].T).astype(np.int16).tobytes()
        path = out_dir / f"CT{k + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        written.append(path)
    return written
