"""Pair each CT series found under ``--ct`` with its RT Structure Set (given, or found beside it in the tree)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.data.dicom.errors import DicomError
from models.data.dicom.scan import FolderScan, scan_tree

if TYPE_CHECKING:
    from pydicom import Dataset


@dataclass(frozen=True)
class SeriesJob:
    """One case to import: the folder of a CT series, its CT headers, and its structure set (if any)."""

    folder: Path
    ct: list[tuple[Path, Dataset]]
    rtstruct: Path | None


def plan_jobs(ct_root: Path, rtstruct: Path | None) -> list[SeriesJob]:
    """One job per folder holding CT images; a folder with several series is refused later, when validated."""
    scans = scan_tree(ct_root)
    series = [s for s in scans if s.ct]
    if rtstruct is not None:
        if len(series) > 1:
            raise DicomError(f"--rtstruct goes with one CT series, but {ct_root} holds {len(series)} series folders; "
                             "for a folder of patients, put each structure set beside (or under) its series")
        if not rtstruct.is_file():
            raise DicomError(f"--rtstruct {rtstruct} does not exist")
        return [SeriesJob(series[0].folder, series[0].ct, rtstruct)]
    structure_sets = [(p, h) for s in scans for p, h in s.rtstruct]
    return [SeriesJob(s.folder, s.ct, _structure_set_for(s, structure_sets)) for s in series]


def _structure_set_for(scan: FolderScan, structure_sets: list[tuple[Path, Dataset]]) -> Path | None:
    """The one structure set that references this series (by Series Instance UID, else Frame of Reference)."""
    series_uids = {str(h.get("SeriesInstanceUID", "")) for _, h in scan.ct}
    frames = {str(h.get("FrameOfReferenceUID", "")) for _, h in scan.ct}
    by_series = [p for p, h in structure_sets if _referenced_series(h) & series_uids]
    by_frame = [p for p, h in structure_sets if _referenced_frames(h) & frames]
    hits = by_series or by_frame
    if len(hits) > 1:
        raise DicomError(f"{scan.folder}: {len(hits)} structure sets refer to this series "
                         f"({', '.join(p.name for p in hits)}); import it alone with --rtstruct FILE")
    return hits[0] if hits else None


def _referenced_series(header: Dataset) -> set[str]:
    return {str(s.SeriesInstanceUID) for f in header.get("ReferencedFrameOfReferenceSequence", [])
            for st in f.get("RTReferencedStudySequence", []) for s in st.get("RTReferencedSeriesSequence", [])
            if "SeriesInstanceUID" in s}


def _referenced_frames(header: Dataset) -> set[str]:
    return {str(f.FrameOfReferenceUID) for f in header.get("ReferencedFrameOfReferenceSequence", [])
            if "FrameOfReferenceUID" in f}
