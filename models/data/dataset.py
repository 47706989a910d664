"""Reader for a dataset folder as sites have it: our dataset.json, an MSD one, or an nnU-Net v2 one.

All three become one ``Dataset``. Our contract is the MSD layout (``training``/``test`` lists) with
optional extensions: top-level ``center`` and ``scanner`` ({manufacturer, model, kvp, filter}); per
entry ``id``, ``intent``, ``organ``, ``gtv`` and ``clinical``. nnU-Net v2 lists no cases: they are
``imagesTr/CASE_0000{file_ending}`` with ``labelsTr/CASE{file_ending}``, and ``imagesTs/``. Notes come
from the ``clinical`` field, else a side file (``note_sources``), else the case has none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.data.image_io import ENDINGS, strip_ending
from models.data.note_sources import NoteSummary, attach_notes

__all__ = ["CHANNEL_SUFFIX", "INTENTS", "LAYOUTS", "Case", "Dataset", "DatasetError", "case_id_from_path",
           "load_dataset"]

INTENTS = ("definitive", "postoperative", "salvage")
CHANNEL_SUFFIX = "_0000"
"""nnU-Net's suffix for channel 0 of a case's image; it is not part of the case id."""
LAYOUTS = {"msd": "an MSD-style dataset.json with a training list", "nnunetv2": "nnU-Net v2 (imagesTr/CASE_0000)"}
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
    clinical: str | None
    """The clinical note; None when the dataset has none for this case (image-only methods still run)."""
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
    layout: str = "msd"
    notes: NoteSummary = NoteSummary((), 0)

    @property
    def cases(self) -> list[Case]:
        return [*self.training, *self.test]

    def label_values(self) -> set[int]:
        return {int(k) for k in self.labels}


def case_id_from_path(path: str | Path) -> str:
    """``imagesTr/d001.nii.gz`` and ``imagesTr/d001_0000.mha`` -> ``d001``."""
    name = strip_ending(path)
    return name[: -len(CHANNEL_SUFFIX)] if name.endswith(CHANNEL_SUFFIX) and len(name) > 5 else name


def load_dataset(root: str | Path) -> Dataset:
    """Read ``root/dataset.json`` in whichever layout it has; paths in it are resolved inside ``root``."""
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
    nnunet = "training" not in doc and ("file_ending" in doc or "channel_names" in doc)
    for key in ("labels", *(("file_ending", "channel_names") if nnunet else ("training",))):
        if key not in doc:
            raise DatasetError(f"{meta} lacks the required field '{key}'" + ("" if nnunet else (
                " (nnU-Net v2 datasets have 'channel_names' and 'file_ending' instead)" if key == "training" else "")))
    labels = _labels(doc["labels"], meta)
    seen: set[str] = set()
    if nnunet:
        training, test = _nnunet_cases(doc, root, meta, seen)
    else:
        training = [_case(e, root, meta, f"training[{i}]", seen) for i, e in enumerate(_list(doc, "training", meta))]
        test = [_case(e, root, meta, f"test[{i}]", seen) for i, e in enumerate(_list(doc, "test", meta))]
    cases, notes = attach_notes([*training, *test], root, case_id_from_path)
    return Dataset(
        root=root,
        name=str(doc.get("name", root.name)),
        center=_center(doc.get("center"), meta),
        modality=_str_map(doc.get("channel_names" if nnunet else "modality", {"0": "CT"}), meta,
                          "channel_names" if nnunet else "modality"),
        labels=labels,
        training=cases[: len(training)],
        test=cases[len(training):],
        scanner=_scanner(doc.get("scanner"), meta),
        extra={k: v for k, v in doc.items() if k not in _KNOWN},
        layout="nnunetv2" if nnunet else "msd",
        notes=notes,
    )


_KNOWN = {"name", "center", "modality", "channel_names", "labels", "training", "test", "scanner"}


def _nnunet_cases(doc: dict[str, Any], root: Path, meta: Path, seen: set[str]) -> tuple[list[Case], list[Case]]:
    """Cases of an nnU-Net v2 folder: channel 0 of each image in imagesTr (with its label) and imagesTs."""
    ending = doc["file_ending"]
    if ending not in ENDINGS:
        raise DatasetError(f"{meta} field 'file_ending' is {ending!r}; images are read from {', '.join(ENDINGS)}")
    if "dataset" in doc:
        raise DatasetError(f"{meta} lists its files in nnU-Net's 'dataset' field, which is not read; lay the "
                           f"files out as imagesTr/CASE_0000{ending} and labelsTr/CASE{ending} instead")
    out: tuple[list[Case], list[Case]] = ([], [])
    for folder, cases in (("imagesTr", out[0]), ("imagesTs", out[1])):
        for image in sorted((root / folder).glob(f"*{CHANNEL_SUFFIX}{ending}")):
            case_id = image.name[: -len(CHANNEL_SUFFIX + ending)]
            if case_id in seen:
                raise DatasetError(f"{meta}: case id '{case_id}' is in both imagesTr and imagesTs")
            seen.add(case_id)
            label = root / "labelsTr" / f"{case_id}{ending}" if folder == "imagesTr" else None
            cases.append(Case(case_id, image, label, None, None, None))
    if not out[0] and not out[1]:
        raise DatasetError(f"{meta} is an nnU-Net v2 dataset.json but {root} has no imagesTr/*{CHANNEL_SUFFIX}"
                           f"{ending} or imagesTs/*{CHANNEL_SUFFIX}{ending} files (nnU-Net names channel 0 of case "
                           f"X as X{CHANNEL_SUFFIX}{ending})")
    return out


def _labels(value: Any, meta: Path) -> dict[str, str]:
    """``{"0": "background", "1": "PTV"}`` (MSD) or ``{"background": 0, "PTV": 1}`` (nnU-Net v2), as the former."""
    if not isinstance(value, dict) or not value:
        raise DatasetError(f"{meta} field 'labels' must be a non-empty object")
    if all(_is_int(k) for k in value):
        return {str(int(k)): str(v) for k, v in value.items()}
    regions = {k: v for k, v in value.items() if isinstance(v, list) and len(v) > 1}
    if regions:
        name, values = next(iter(regions.items()))
        raise DatasetError(f"{meta} field 'labels' is region-based ('{name}': {values}); this model segments one "
                           "target, so give every label a single integer value")
    ints = {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in value.items()}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints.values()):
        raise DatasetError(f"{meta} field 'labels' must have integer keys like \"0\" and \"1\" (MSD) or integer "
                           "values like {\"background\": 0, \"PTV\": 1} (nnU-Net v2)")
    if len(set(ints.values())) < len(ints):
        raise DatasetError(f"{meta} field 'labels' gives two labels the same value")
    return {str(v): str(k) for k, v in ints.items()}


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


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
    if isinstance(entry, str) and where.startswith("test"):  # MSD lists test images as bare paths
        entry = {"image": entry}
    if not isinstance(entry, dict):
        raise DatasetError(f"{meta} entry {where} must be an object")
    for key in ("image", *(("label",) if where.startswith("training") else ())):
        if key not in entry:
            raise DatasetError(f"{meta} entry {where} lacks the required field '{key}'")
    clinical = entry.get("clinical")
    if clinical is not None and not isinstance(clinical, str):
        raise DatasetError(f"{meta} entry {where} field 'clinical' must be a string (the note) or absent")
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
    return Case(case_id, image, opt["label"], opt["organ"], opt["gtv"], clinical, intent)


def _path(value: Any, root: Path, meta: Path, where: str, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise DatasetError(f"{meta} entry {where} field '{key}' must be a relative path")
    path = (root / value).resolve()
    if Path(value).is_absolute() or not path.is_relative_to(root):
        raise DatasetError(f"{meta} entry {where} field '{key}' points outside the dataset folder: {value}")
    return path
