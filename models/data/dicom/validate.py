"""Check a CT series before it is read: one clear sentence per problem (mixed series, missing slices,
non-uniform spacing, gantry tilt, pixel data no installed decoder can read)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pydicom import Dataset

_REQUIRED = ("SeriesInstanceUID", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "Rows",
             "Columns", "FrameOfReferenceUID", "SOPInstanceUID")
POSITION_TOL_MM = 0.05
"""How far slice positions may stray from a uniform grid (DICOM stores positions as decimal strings)."""
SPACING_TOL_MM = 2 * POSITION_TOL_MM
"""How far one step between slices may differ from the series' step (each end may stray by the position tolerance)."""


def series_problems(folder: Path, headers: list[tuple[Path, Dataset]]) -> list[str]:
    """Every problem that stops the CT headers found in ``folder`` from forming one regular volume."""
    series = Counter(str(h.get("SeriesInstanceUID", "?")) for _, h in headers)
    if len(series) > 1:
        listed = "; ".join(f"{uid} ({n} files)" for uid, n in series.most_common())
        return [f"{folder} mixes {len(series)} CT series ({listed}); put each series in its own folder"]
    for key in _REQUIRED:
        lacking = [p.name for p, h in headers if key not in h]
        if lacking:
            return [f"{folder}: {len(lacking)} CT file(s) lack {key} (e.g. {lacking[0]}), so the series has no "
                    "usable geometry"]
    problems = _decoder_problems(folder, headers)
    problems += _grid_problems(folder, [h for _, h in headers])
    return problems


def _decoder_problems(folder: Path, headers: list[tuple[Path, Dataset]]) -> list[str]:
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    problems = []
    for uid in sorted({str(h.file_meta.get("TransferSyntaxUID", "")) for _, h in headers} - {""}):
        syntax = UID(uid)
        try:
            decoder = get_decoder(syntax)
        except NotImplementedError:
            problems.append(f"{folder}: pixel data stored as {syntax.name} ({uid}) is not supported by pydicom; "
                            "export the series uncompressed (Explicit VR Little Endian) from the PACS")
            continue
        if not decoder.is_available:
            options = " or ".join(decoder.missing_dependencies) or "a pydicom pixel data plugin"
            problems.append(f"{folder}: pixel data stored as {syntax.name} ({uid}) cannot be decoded here; "
                            f"install a decoder ({options}), e.g. pip install pylibjpeg pylibjpeg-libjpeg "
                            "pylibjpeg-openjpeg")
    return problems


def _grid_problems(folder: Path, headers: list[Dataset]) -> list[str]:
    problems = []
    for key in ("ImageOrientationPatient", "PixelSpacing", "Rows", "Columns"):
        values = {tuple(np.round(np.atleast_1d(np.asarray(h[key].value, dtype=float)), 4)) for h in headers}
        if len(values) > 1:
            problems.append(f"{folder}: slices differ in {key} ({len(values)} different values); a series must "
                            "share one grid")
    tilts = {float(h.get("GantryDetectorTilt", 0) or 0) for h in headers}
    if any(abs(t) > 1e-3 for t in tilts):
        problems.append(f"{folder}: acquired with a gantry tilt of {max(tilts, key=abs):g} degrees; resample the "
                        "series to an untilted grid (most TPS and PACS can) before import")
    if problems or len(headers) < 2:
        return problems
    iop = np.asarray(headers[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    positions = np.asarray([h.ImagePositionPatient for h in headers], dtype=float)
    order = np.argsort(positions @ normal)
    positions = positions[order]
    steps = np.diff(positions, axis=0)
    along = steps @ normal
    lateral = np.linalg.norm(steps - np.outer(along, normal), axis=1)
    if np.any(lateral > POSITION_TOL_MM + 1e-3 * np.abs(along)):
        return [f"{folder}: slice positions move sideways by up to {lateral.max():.2f} mm between slices, so the "
                "slices are not stacked along their normal (a gantry tilt); resample the series to an untilted "
                "grid before import"]
    return _spacing_problems(folder, positions @ normal, along)


def _spacing_problems(folder: Path, depth: np.ndarray, along: np.ndarray) -> list[str]:
    duplicates = np.flatnonzero(along < POSITION_TOL_MM)
    if duplicates.size:
        return [f"{folder}: {duplicates.size + 1} slices share the position {depth[duplicates[0]]:.2f} mm along "
                "the slice normal (duplicates or a second acquisition); keep one slice per position"]
    step = float(np.median(along))
    counts = np.maximum(np.round(along / step), 1)
    if np.all(np.abs(along - counts * step) <= SPACING_TOL_MM):
        if np.all(counts == 1):
            return []
        gaps = np.flatnonzero(counts > 1)
        where = ", ".join(f"{depth[i]:.2f} and {depth[i + 1]:.2f} mm" for i in gaps[:3])
        return [f"{folder}: {int(np.sum(counts - 1))} slice(s) missing (gaps between {where} along the slice "
                f"normal, slice step {step:.2f} mm); export the complete series"]
    found = ", ".join(f"{s:.2f}" for s in sorted(set(np.round(along, 2)))[:5])
    return [f"{folder}: slice spacing is not uniform (steps of {found} mm); resample the series to a uniform "
            "slice spacing before import"]
