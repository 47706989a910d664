"""DICOM in and out: CT series and RT Structure Sets to the dataset contract, masks back to RTSTRUCT or DICOM-SEG.

pydicom reads and writes the files, highdicom builds volumes and DICOM-SEG; every module imports them lazily,
so importing this package stays cheap.
"""

from models.data.dicom.errors import DicomError

__all__ = ["DicomError"]
