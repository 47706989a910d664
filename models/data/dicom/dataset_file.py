"""The raw dataset.json an import appends to: read it as it is (unknown fields kept), add cases, replace it
atomically, so no existing entry is ever lost."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from models.data.dicom.errors import DicomError
from models.fsutil import atomic_write_bytes

_CENTER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def open_dataset_doc(out: Path, center: str | None) -> dict[str, Any]:
    """The dataset.json in ``out`` (or a new one); refuses a ``center`` that contradicts the existing one."""
    if center is not None and not _CENTER.match(center):
        raise DicomError(f"--center {center!r} is not a center code (1-32 letters, digits, '_' or '-')")
    path = out / "dataset.json"
    if not path.exists():
        doc: dict[str, Any] = {"name": out.name, "modality": {"0": "CT"}, "labels": {"0": "background", "1": "PTV"},
                               "training": [], "test": []}
        return {**({"center": center} if center else {}), **doc}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DicomError(f"{path} is not valid JSON ({exc}); fix it or choose another --out") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("training", []), list) \
            or not isinstance(doc.get("test", []), list):
        raise DicomError(f"{path} does not hold a dataset object with 'training' and 'test' lists")
    if center and doc.get("center") not in (None, center):
        raise DicomError(f"{path} belongs to center {doc['center']}, not --center {center}")
    if center:
        doc["center"] = center
    doc.setdefault("training", [])
    doc.setdefault("test", [])
    return doc


def case_ids(doc: dict[str, Any]) -> set[str]:
    """Every case id the document already uses (explicit ``id`` or the image file's stem)."""
    ids = set()
    for entry in [*doc.get("training", []), *doc.get("test", [])]:
        if isinstance(entry, dict):
            name = Path(str(entry.get("image", ""))).name
            ids.add(str(entry.get("id") or re.sub(r"\.nii(\.gz)?$", "", name)))
    return ids


def next_case_id(doc: dict[str, Any], prefix: str) -> str:
    """``prefix`` + the next free three-digit number (``d001``, ``d002``, ...)."""
    taken = case_ids(doc)
    n = 1 + max((int(m.group(1)) for c in taken if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", c))), default=0)
    while f"{prefix}{n:03d}" in taken:
        n += 1
    return f"{prefix}{n:03d}"


def write_dataset_doc(out: Path, doc: dict[str, Any]) -> Path:
    """Replace ``out/dataset.json`` atomically."""
    path = out / "dataset.json"
    atomic_write_bytes(path, (json.dumps(doc, indent=2) + "\n").encode())
    return path
