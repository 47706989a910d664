"""A mask on a CT series' grid as an RT Structure Set: one ROI, contours per slice in patient mm (LPS),
referenced to the series' Frame of Reference and to the SOP instance of every slice it was drawn on.

Written with pydicom directly: highdicom has no RT Structure Set class, and rt-utils (1.2.7) needs OpenCV and
reads non-square slices transposed. Contours come from contourpy (matplotlib's contouring engine).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from models.data.dicom.scan import RTSTRUCT_STORAGE

if TYPE_CHECKING:
    from pydicom import Dataset

    from models.data.dicom.series import CtSeries

STUDY_COMPONENT_SOP = "1.2.840.10008.3.1.2.3.1"
"""Detached Study Management SOP Class: what RT Referenced Study items conventionally reference."""
_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                  "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName")


def mask_contours(mask: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Closed contours of a (slice, row, column) mask: ``(slice, points (n, 2) as (row, column))`` per ring.

    Rings run along the 0.5 level between pixel centres, so filling them back (pixel centres inside,
    even-odd) gives the mask again.
    """
    import contourpy

    rings = []
    for k in np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1)):
        padded = np.pad(mask[k].astype(np.float64), 1)  # closes rings that touch the image border
        generator = contourpy.contour_generator(z=padded, line_type=contourpy.LineType.Separate)
        for line in generator.lines(0.5):
            points = np.asarray(line)[:, ::-1] - 1.0  # (x=column, y=row) -> (row, column), undo the pad
            if len(points) > 1 and np.allclose(points[0], points[-1]):
                points = points[:-1]
            if len(points) >= 3:
                rings.append((int(k), points))
    return rings


def mask_to_rtstruct(
    mask: np.ndarray, series: CtSeries, *, roi_name: str = "PTV_MoME", interpreted_type: str = "PTV",
    label: str = "MoME", algorithm: str = "MoME", color: tuple[int, int, int] = (255, 0, 0),
) -> Dataset:
    """The RT Structure Set of ``mask`` (bool, series grid), unapproved, with one ROI of ``interpreted_type``."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.uid import generate_uid

    from models.data.dicom.instance import new_instance

    ref = series.datasets[0]
    now = dt.datetime.now()
    ds = new_instance(RTSTRUCT_STORAGE)
    for key in _PATIENT_STUDY:
        setattr(ds, key, ref.get(key, ""))
    ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = "RTSTRUCT", generate_uid(), 9901, 1
    ds.Manufacturer, ds.SeriesDescription, ds.OperatorsName = "MoME Hub", f"{label} auto-contour", ""
    ds.StructureSetLabel, ds.StructureSetName = label[:16], roi_name[:64]
    ds.StructureSetDate = ds.SeriesDate = now.strftime("%Y%m%d")
    ds.StructureSetTime = ds.SeriesTime = now.strftime("%H%M%S")
    ds.ApprovalStatus = "UNAPPROVED"
    images = [_image_ref(d) for d in series.datasets]
    series_ref = Dataset()
    series_ref.SeriesInstanceUID, series_ref.ContourImageSequence = series.series_uid, Sequence(images)
    study_ref = Dataset()
    study_ref.ReferencedSOPClassUID, study_ref.ReferencedSOPInstanceUID = STUDY_COMPONENT_SOP, series.study_uid
    study_ref.RTReferencedSeriesSequence = Sequence([series_ref])
    frame = Dataset()
    frame.FrameOfReferenceUID, frame.RTReferencedStudySequence = series.frame_of_reference_uid, Sequence([study_ref])
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])
    roi = Dataset()
    roi.ROINumber, roi.ReferencedFrameOfReferenceUID = 1, series.frame_of_reference_uid
    roi.ROIName, roi.ROIGenerationAlgorithm, roi.ROIGenerationDescription = roi_name, "AUTOMATIC", algorithm
    ds.StructureSetROISequence = Sequence([roi])
    contours = Dataset()
    contours.ReferencedROINumber, contours.ROIDisplayColor = 1, list(color)
    contours.ContourSequence = Sequence([_contour(k, points, series) for k, points in mask_contours(mask)])
    ds.ROIContourSequence = Sequence([contours])
    observation = Dataset()
    observation.ObservationNumber, observation.ReferencedROINumber = 1, 1
    observation.RTROIInterpretedType, observation.ROIInterpreter = interpreted_type, ""
    ds.RTROIObservationsSequence = Sequence([observation])
    return ds


def _image_ref(image: Dataset) -> Dataset:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = image.SOPClassUID, image.SOPInstanceUID
    return item


def _contour(k: int, points: np.ndarray, series: CtSeries) -> Dataset:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    index = np.c_[np.full(len(points), k), points, np.ones(len(points))]  # (slice, row, column, 1)
    mm = (series.affine_lps @ index.T)[:3].T
    item = Dataset()
    item.ContourImageSequence = Sequence([_image_ref(series.datasets[k])])
    item.ContourGeometricType, item.NumberOfContourPoints = "CLOSED_PLANAR", len(mm)
    item.ContourData = [f"{v:.3f}" for v in mm.ravel()]
    return item
