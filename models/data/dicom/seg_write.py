"""A mask on a CT series' grid as a binary DICOM-SEG (highdicom), one segment, referencing every slice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pydicom import Dataset

    from models.data.dicom.series import CtSeries


def mask_to_seg(mask: np.ndarray, series: CtSeries, *, label: str = "PTV_MoME", algorithm: str = "MoME",
                version: str = "0") -> Dataset:
    """The DICOM-SEG of ``mask`` (bool, series grid): one segment coded as a planning target volume."""
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    algorithm_id = hd.AlgorithmIdentificationSequence(
        name=algorithm, version=version or "0", family=codes.cid7162.ArtificialIntelligence)
    segment = hd.seg.SegmentDescription(
        segment_number=1, segment_label=label,
        segmented_property_category=codes.cid7150.PhysicalObject,
        segmented_property_type=hd.sr.CodedConcept("228793007", "SCT", "Planning target volume"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=algorithm_id)
    return hd.seg.Segmentation(
        source_images=[_with_type2(ds) for ds in series.datasets], pixel_array=mask.astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[segment],
        series_instance_uid=generate_uid(), series_number=9902, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer="MoME Hub", manufacturer_model_name=algorithm, software_versions=version or "0",
        device_serial_number="0", omit_empty_frames=False)


_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
          "AccessionNumber", "ReferringPhysicianName")


def _with_type2(image: Dataset) -> Dataset:
    """A shallow copy of ``image`` with the patient/study attributes highdicom requires present (empty when the
    CT leaves them out, as DICOM allows for these type 2 attributes)."""
    copy = image.copy()
    for key in _TYPE2:
        if key not in copy:
            setattr(copy, key, "")
    return copy
