"""ROI names per target (PTV, CTV, GTV, prostate): every center names them differently, so a small table of
synonyms (defaults, plus the user's JSON or CSV) maps them, matched ignoring case, spaces, '_' and '-'."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from models.data.dicom.errors import DicomError

TARGETS = ("PTV", "CTV", "GTV", "prostate")
DEFAULT_SYNONYMS: dict[str, list[str]] = {
    "PTV": ["PTV", "PTV1", "PTV_7800", "PTV_78", "PTV_Prostate", "PTV_high", "PTV_boost", "PTV_pros"],
    "CTV": ["CTV", "CTV1", "CTV_Prostate", "CTV_high", "CTV_pros"],
    "GTV": ["GTV", "GTV1", "GTVp", "GTV_Prostate", "GTV_primary"],
    "prostate": ["Prostate", "Prostata", "Prostate_Gland", "ProstateGland"],
}


def normalize(name: str) -> str:
    """``' PTV_7800 '`` -> ``'ptv7800'``: how names are compared."""
    return re.sub(r"[\s_\-]+", "", name).lower()


def target_key(name: str) -> str:
    """The canonical target for a user's spelling (``ptv`` -> ``PTV``); refuses unknown targets."""
    found = {normalize(t): t for t in TARGETS}.get(normalize(name))
    if found is None:
        raise DicomError(f"unknown ROI target '{name}'; use one of {', '.join(TARGETS)}")
    return found


def load_roi_table(path: Path) -> dict[str, list[str]]:
    """A user's synonym table: JSON ``{"PTV": ["PTV_78Gy", ...], ...}`` or CSV rows ``target,roi_name``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DicomError(f"the ROI name table {path} cannot be read ({exc})") from None
    table: dict[str, list[str]] = {}
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DicomError(f"the ROI name table {path} is not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or not all(isinstance(v, list) and all(isinstance(n, str) for n in v)
                                                for v in doc.values()):
            raise DicomError(f"the ROI name table {path} must map targets to lists of ROI names, e.g. "
                             '{"PTV": ["PTV_78Gy"], "prostate": ["Prostata"]}')
        rows = [(k, n) for k, names in doc.items() for n in names]
    else:
        rows = [tuple(cell.strip() for cell in row) for row in csv.reader(text.splitlines()) if any(row)]
        if any(len(row) != 2 for row in rows):
            raise DicomError(f"the ROI name table {path} must have two columns per row: target,roi_name")
        rows = [r for r in rows if normalize(r[0]) != "target"]
    for target, name in rows:
        table.setdefault(target_key(target), []).append(name)
    return table


def parse_roi_options(values: list[str]) -> dict[str, str]:
    """``--roi`` values: ``TARGET=ROI_NAME`` or a bare ``ROI_NAME`` (the PTV)."""
    chosen: dict[str, str] = {}
    for value in values:
        target, sep, name = value.partition("=")
        target, name = (target_key(target), name.strip()) if sep else ("PTV", value.strip())
        if not name:
            raise DicomError(f"--roi {value} names no ROI; write --roi PTV=NAME")
        chosen[target] = name
    return chosen


def match_roi(target: str, present: list[str], *, chosen: dict[str, str], table: dict[str, list[str]]) -> str | None:
    """The ROI in ``present`` that is ``target``: the ``--roi`` choice, else the user's table, else the defaults.

    Returns None when nothing matches; refuses when several different ROIs match equally.
    """
    by_norm: dict[str, list[str]] = {}
    for name in present:
        by_norm.setdefault(normalize(name), []).append(name)
    if target in chosen:
        hits = by_norm.get(normalize(chosen[target]), [])
        if not hits:
            raise DicomError(f"--roi {target}={chosen[target]}: no such ROI; the structure set has "
                             f"{_listing(present)}")
        return hits[0]
    for synonyms in (table.get(target, []), DEFAULT_SYNONYMS[target]):
        hits = sorted({h for s in synonyms for h in by_norm.get(normalize(s), [])})
        if len(hits) > 1:
            raise DicomError(f"several ROIs could be the {target} ({', '.join(hits)}); choose one with "
                             f"--roi {target}=NAME")
        if hits:
            return hits[0]
    return None


def _listing(present: list[str]) -> str:
    return "the ROIs " + ", ".join(present) if present else "no ROIs"
