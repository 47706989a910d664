"""Where a dataset's clinical notes come from: the entry's ``clinical`` field, else a side file, else none.

A side file sits next to dataset.json: ``clinical.csv`` (a case id column ``case_id``, ``id`` or
``case`` and a note column ``note``, ``clinical`` or ``text``) or ``clinical.json`` (``{case_id: note}``).
It lets an nnU-Net or MSD dataset stay byte for byte as it was published.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.data.dataset import Case

__all__ = ["SIDE_FILES", "NoteSummary", "attach_notes"]

SIDE_FILES = ("clinical.csv", "clinical.json")
_ID_COLUMNS = ("case_id", "id", "case")
_NOTE_COLUMNS = ("note", "clinical", "text")
FIELD = "the 'clinical' field of dataset.json"


@dataclass(frozen=True)
class NoteSummary:
    """Which sources gave notes, how many cases have none, and side-file ids that match no case."""

    sources: tuple[str, ...]
    without_note: int
    unknown_ids: tuple[str, ...] = ()
    side_file: str | None = None

    def describe(self) -> str:
        """One sentence for ``verify``: where the notes came from and how many cases run without one."""
        where = " and ".join(self.sources) if self.sources else "nowhere (no 'clinical' field, no clinical.csv or "\
            "clinical.json)"
        one = self.without_note == 1
        tail = (f"; {self.without_note} case{'' if one else 's'} without a note run{'s' if one else ''} image-only"
                if self.without_note else "")
        return f"clinical notes from {where}{tail}"


def attach_notes(cases: list[Case], root: Path, to_id: Callable[[str], str]) -> tuple[list[Case], NoteSummary]:
    """Fill ``clinical`` of cases that lack it from the side file in ``root``; ``to_id`` normalises its ids."""
    side_name, side = _read_side_file(root, to_id)
    out, from_field, from_side = [], 0, 0
    for case in cases:
        if case.clinical is not None:
            from_field += 1
        elif case.case_id in side:
            case = replace(case, clinical=side[case.case_id])
            from_side += case.clinical is not None
        out.append(case)
    sources = tuple(s for s, n in ((FIELD, from_field), (side_name, from_side)) if n and s)
    known = {c.case_id for c in cases}
    return out, NoteSummary(sources, sum(c.clinical is None for c in out),
                            tuple(sorted(i for i in side if i not in known)), side_name)


def _read_side_file(root: Path, to_id: Callable[[str], str]) -> tuple[str | None, dict[str, str | None]]:
    present = [name for name in SIDE_FILES if (root / name).is_file()]
    if len(present) > 1:
        raise _error(root / present[0], f"sits next to {present[1]}; keep one notes side file")
    if not present:
        return None, {}
    path = root / present[0]
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets save CSV with a byte-order mark
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(path, f"cannot be read as UTF-8 text ({exc})") from None
    rows = _csv_rows(text, path) if path.suffix == ".csv" else _json_rows(text, path)
    notes: dict[str, str | None] = {}
    for raw_id, note in rows:
        case_id = to_id(raw_id.strip())
        if case_id in notes:
            raise _error(path, f"has two notes for case '{case_id}'")
        notes[case_id] = (note.strip() or None) if isinstance(note, str) else None
    return path.name, notes


def _csv_rows(text: str, path: Path) -> list[tuple[str, Any]]:
    reader = csv.DictReader(text.splitlines())
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    id_col = next((header[c] for c in _ID_COLUMNS if c in header), None)
    note_col = next((header[c] for c in _NOTE_COLUMNS if c in header), None)
    if id_col is None or note_col is None:
        raise _error(path, f"needs a case id column ({', '.join(_ID_COLUMNS)}) and a note column "
                           f"({', '.join(_NOTE_COLUMNS)}); its header is {list(reader.fieldnames or [])}")
    rows = []
    for row in reader:
        if row.get(None):  # DictReader's place for fields beyond the header: a note with an unquoted comma
            raise _error(path, f"line {reader.line_num} has more fields than its header; put notes that hold "
                               "commas in double quotes")
        if (row.get(id_col) or "").strip():
            rows.append((row[id_col] or "", row[note_col]))
    return rows


def _json_rows(text: str, path: Path) -> list[tuple[str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(path, f"is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str | None) for v in doc.values()):
        raise _error(path, "must hold one JSON object mapping case ids to note strings")
    return list(doc.items())


def _error(path: Path, what: str) -> ValueError:
    from models.data.dataset import DatasetError

    return DatasetError(f"{path} {what}")
