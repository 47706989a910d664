"""Find the DICOM files under a folder and group them: CT series per folder, RT Structure Sets apart."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from models.data.dicom.errors import DicomError

if TYPE_CHECKING:
    from pydicom import Dataset

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
RTSTRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"


@dataclass
class FolderScan:
    """The readable DICOM headers found directly in one folder, by kind."""

    folder: Path
    ct: list[tuple[Path, Dataset]] = field(default_factory=list)
    rtstruct: list[tuple[Path, Dataset]] = field(default_factory=list)
    other: list[tuple[Path, str]] = field(default_factory=list)


def read_header(path: Path) -> Dataset | None:
    """The header of a DICOM file (no pixel data), or None when the file is not DICOM."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        return dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError):
        return None


def scan_tree(root: Path) -> list[FolderScan]:
    """Every folder under ``root`` (``root`` included) that holds CT images or RT Structure Sets, sorted by path.

    ``root`` may also be a single DICOM file (a one-slice series).
    """
    if not root.exists():
        raise DicomError(f"{root} does not exist")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    scans: dict[Path, FolderScan] = defaultdict(lambda: FolderScan(Path()))
    for path in files:
        header = read_header(path)
        if header is None:
            continue
        where = path if path == root else path.parent  # a one-file series is its own "folder"
        scan = scans[where]
        scan.folder = where
        kind = str(header.get("SOPClassUID", ""))
        if kind == CT_IMAGE_STORAGE or (header.get("Modality") == "CT" and "ImagePositionPatient" in header):
            scan.ct.append((path, header))
        elif kind == RTSTRUCT_STORAGE or header.get("Modality") == "RTSTRUCT":
            scan.rtstruct.append((path, header))
        else:
            scan.other.append((path, str(header.get("Modality", "?"))))
    found = [s for s in scans.values() if s.ct or s.rtstruct]
    if not any(s.ct for s in found):
        raise DicomError(f"{root} holds no CT images (single-frame CT Image Storage files); point --ct at the "
                         "folder that holds the CT series")
    return sorted(found, key=lambda s: str(s.folder))
