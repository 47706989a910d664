"""Reader for the dataset.json contract (MSD / nnU-Net style with a clinical note per case).

Our optional extensions: top-level ``center`` (center code) and ``scanner``
({manufacturer, model, kvp, filter}); per entry ``id`` and ``intent``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["INTENTS", "Case", "Dataset", "DatasetError", "case_id_from_path", "load_dataset"]

INTENTS = ("definitive", "postoperative", "salvage")
_SCANNER_KEYS = ("manufacturer", "model", "kvp", "filter")


class DatasetError(ValueError):
    """A dataset folder does not follow the contract; the message names the file and field."""


@dataclass(frozen=True)
class Case:
    case_id: str
    image: Path
    label: Path | None
    organ: Path | None
    gtv: Path | None
    clinical: str
    intent: str | None = None


@dataclass(frozen=True)
class Dataset:
    root: Path
    name: str
    center: str | None
    modality: dict[str, str]
    labels: dict[str, str]
    training: list[Case]
    test: list[Case]
    scanner: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cases(self) -> list[Case]:
        return [*self.training, *self.test]

    def label_values(self) -> set[int]:
        return {int(k) for k in self.labels}


def case_id_from_path(path: str | Path) -> str:
    """``imagesTr/d001.nii.gz`` -> ``d001``."""
    name = Path(path).name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_dataset(root: str | Path) -> Dataset:
    """Read ``root/dataset.json``; paths in it are resolved inside ``root``."""
    root = Path(root).resolve()
    meta = root / "dataset.json"
    if not meta.is_file():
        raise DatasetError(f"{meta} does not exist; a dataset folder needs a dataset.json")
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{meta} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{meta} must hold a JSON object at the top level")
    for key in ("training", "labels"):
        if key not in doc:
            raise DatasetError(f"{meta} lacks the required field '{key}'")
    labels = _str_map(doc["labels"], meta, "labels")
    if not all(k.lstrip("-").isdigit() for k in labels):
        raise DatasetError(f"{meta} field 'labels' must have integer keys like \"0\" and \"1\"")
    seen: set[str] = set()
    training = [_case(e, root, meta, f"training[{i}]", seen) for i, e in enumerate(_list(doc, "training", meta))]
    test = [_case(e, root, meta, f"test[{i}]", seen) for i, e in enumerate(_list(doc, "test", meta))]
    return Dataset(
        root=root,
        name=str(doc.get("name", root.name)),
        center=_center(doc.get("center"), meta),
        modality=_str_map(doc.get("modality", {"0": "CT"}), meta, "modality"),
        labels=labels,
        training=training,
        test=test,
        scanner=_scanner(doc.get("scanner"), meta),
        extra={k: v for k, v in doc.items() if k not in _KNOWN},
    )


_KNOWN = {"name", "center", "modality", "labels", "training", "test", "scanner"}


def _list(doc: dict[str, Any], key: str, meta: Path) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise DatasetError(f"{meta} field '{key}' must be a list of cases")
    return value


def _str_map(value: Any, meta: Path, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise DatasetError(f"{meta} field '{key}' must be a non-empty object")
    return {str(k): str(v) for k, v in value.items()}


def _center(value: Any, meta: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{meta} field 'center' must be a non-empty center code")
    return value.strip()


def _scanner(value: Any, meta: Path) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DatasetError(f"{meta} field 'scanner' must be an object")
    unknown = set(value) - set(_SCANNER_KEYS)
    if unknown:
        raise DatasetError(f"{meta} field 'scanner' has unknown keys {sorted(unknown)}")
    return dict(value)


def _case(entry: Any, root: Path, meta: Path, where: str, seen: set[str]) -> Case:
    if not isinstance(entry, dict):
        raise DatasetError(f"{meta} entry {where} must be an object")
    for key in ("image", "clinical", *(("label",) if where.startswith("training") else ())):
        if key not in entry:
            raise DatasetError(f"{meta} entry {where} lacks the required field '{key}'")
    if not isinstance(entry["clinical"], str):
        raise DatasetError(f"{meta} entry {where} field 'clinical' must be a string")
    image = _path(entry["image"], root, meta, where, "image")
    case_id = entry.get("id", case_id_from_path(entry["image"]))
    if not isinstance(case_id, str) or not case_id:
        raise DatasetError(f"{meta} entry {where} field 'id' must be a non-empty string")
    if case_id in seen:
        raise DatasetError(f"{meta} entry {where} repeats the case id '{case_id}'")
    seen.add(case_id)
    intent = entry.get("intent")
    if intent is not None and intent not in INTENTS:
        raise DatasetError(f"{meta} entry {where} field 'intent' must be one of {', '.join(INTENTS)}")
    opt = {k: _path(entry[k], root, meta, where, k) if entry.get(k) is not None else None
           for k in ("label", "organ", "gtv")}
    return Case(case_id, image, opt["label"], opt["organ"], opt["gtv"], entry["clinical"], intent)


def _path(value: Any, root: Path, meta: Path, where: str, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise DatasetError(f"{meta} entry {where} field '{key}' must be a relative path")
    path = (root / value).resolve()
    if Path(value).is_absolute() or not path.is_relative_to(root):
        raise DatasetError(f"{meta} entry {where} field '{key}' points outside the dataset folder: {value}")
    return path
