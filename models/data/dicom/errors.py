"""The one error type of the DICOM package: its message is a sentence a user can act on."""

from __future__ import annotations


class DicomError(ValueError):
    """A DICOM input cannot be used as given; the message says why and what to do."""
