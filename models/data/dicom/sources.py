"""``DATASET_DIR/dicom_sources.json``: where each imported case came from (UIDs and series folder), so masks
predicted for it can be exported as DICOM that references the original images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.data.dicom.errors import DicomError
from models.fsutil import atomic_write_bytes

SOURCES = "dicom_sources.json"


def read_sources(dataset_dir: Path) -> dict[str, dict[str, Any]]:
    """The side file's entries by case id; empty when the dataset was not imported from DICOM."""
    path = Path(dataset_dir) / SOURCES
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DicomError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise DicomError(f"{path} must map case ids to objects")
    return doc


def write_sources(dataset_dir: Path, sources: dict[str, dict[str, Any]]) -> Path:
    """Replace the side file atomically."""
    path = Path(dataset_dir) / SOURCES
    atomic_write_bytes(path, (json.dumps(sources, indent=2, sort_keys=True) + "\n").encode())
    return path


def source_series_folder(dataset_dir: Path, case_id: str) -> Path:
    """The series folder a case was imported from; refuses cases that were not imported from DICOM."""
    entry = read_sources(dataset_dir).get(case_id)
    if entry is None:
        raise DicomError(f"case {case_id} of {dataset_dir} was not imported from DICOM (no entry in {SOURCES}); "
                         "use --format nifti, or import it with site-agent import-dicom")
    folder = Path(str(entry.get("series_folder", "")))
    if not folder.exists():
        raise DicomError(f"case {case_id}: its CT series folder {folder} (from {SOURCES}) no longer exists")
    return folder
