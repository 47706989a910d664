"""A new DICOM instance: file meta (explicit VR little endian) and SOP class/instance UIDs set together."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


def new_instance(sop_class_uid: str) -> Dataset:
    """An empty dataset of ``sop_class_uid`` with a fresh SOP instance UID, ready for ``save_as``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class_uid
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class_uid, ds.file_meta.MediaStorageSOPInstanceUID
    return ds
