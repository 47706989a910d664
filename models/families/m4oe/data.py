"""Reading an M4oE dataset folder: ``dataset.json`` checked case by case; volumes reoriented, normalised per
modality and cut into axial slices on the model's grid, labels renumbered to the model's classes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from monai.transforms import Resize, ScaleIntensityRange, ScaleIntensityRangePercentiles

from models.families.m4oe.contract import M4oEContract

FAMILY = "m4oe"


@dataclass(frozen=True)
class SegCase:
    """One case: its image, modality, optional label map and the dataset's label names (index -> name)."""

    case_id: str
    split: str
    image: Path
    modality: str
    label: Path | None
    label_names: dict[int, str]


@dataclass(frozen=True)
class SliceStack:
    """A prepared case: slices [Z, 1, H, W], labels [Z, H, W] in model class indices (or None), the model
    outputs this case's dataset labels (background always) and the modality index."""

    case: SegCase
    images: torch.Tensor
    labels: torch.Tensor | None
    labelled: torch.Tensor
    modality: int
    shape: tuple[int, int, int]
    affine: np.ndarray


def _label_names(doc: dict, path: Path) -> dict[int, str]:
    labels = doc.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise ValueError(f"{path}: field 'labels' must map label values to names, e.g. {{\"0\": \"background\", "
                         f"\"1\": \"liver\"}}")
    try:
        names = {int(k): str(v) for k, v in labels.items()}
    except ValueError:
        raise ValueError(f"{path}: the keys of 'labels' must be integers") from None
    if any(k < 0 or k > 255 for k in names):
        raise ValueError(f"{path}: label values must lie in 0..255")
    return names


def _case(folder: Path, entry: dict, split: str, names: dict[int, str], where: str) -> SegCase:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise ValueError(f"{where}: a case has no string 'id'")
    cid = entry["id"]
    for key in ("image", "modality"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ValueError(f"{where}: case {cid!r} has no {key!r}")
    image = folder / entry["image"]
    if not image.is_file():
        raise ValueError(f"{where}: case {cid!r}: image file {image} is missing")
    label = folder / entry["label"] if entry.get("label") else None
    if label is not None and not label.is_file():
        raise ValueError(f"{where}: case {cid!r}: label file {label} is missing")
    return SegCase(cid, split, image, entry["modality"].lower(), label, names)


def load_dataset(folder: Path) -> list[SegCase]:
    """Every case of a dataset folder (training first, then test); ValueError with one sentence on a fault."""
    path = Path(folder) / "dataset.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} is missing: {folder} is not an m4oe dataset folder") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read as JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("family") != FAMILY:
        raise ValueError(f"{path}: field 'family' must be {FAMILY!r}")
    names = _label_names(doc, path)
    cases = []
    for split in ("training", "test"):
        entries = doc.get(split, [])
        if not isinstance(entries, list):
            raise ValueError(f"{path}: field {split!r} must be a list of cases")
        cases += [_case(Path(folder), e, split, names, str(path)) for e in entries]
    if not cases:
        raise ValueError(f"{path} lists no cases in 'training' or 'test'")
    ids = [c.case_id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: case ids repeat")
    return cases


def _reoriented(path: Path, axcodes: str) -> tuple[np.ndarray, np.ndarray]:
    img = nib.load(str(path))
    if len(img.shape) != 3:
        raise ValueError(f"{path} is not a 3D volume (shape {img.shape})")
    ornt = nib.orientations.ornt_transform(nib.orientations.io_orientation(img.affine),
                                           nib.orientations.axcodes2ornt(tuple(axcodes)))
    data = nib.orientations.apply_orientation(np.asarray(img.dataobj, dtype=np.float32), ornt)
    if not np.isfinite(data).all():
        raise ValueError(f"{path} holds NaN or infinite voxels")
    return data, img.affine


def normalise(volume: np.ndarray, modality: str, contract: M4oEContract) -> torch.Tensor:
    """CT: the HU window to [0, 1]; MR: the volume's intensity percentiles to [0, 1] (scanner-independent)."""
    t = torch.from_numpy(np.ascontiguousarray(volume))[None]
    if modality == "ct":
        low, high = contract.ct_window
        return ScaleIntensityRange(low, high, 0.0, 1.0, clip=True)(t).as_tensor()[0]
    low, high = contract.mr_percentiles
    return ScaleIntensityRangePercentiles(low, high, 0.0, 1.0, clip=True)(t).as_tensor()[0]


def prepare(case: SegCase, contract: M4oEContract) -> SliceStack:
    """Axial slices of one case on the model grid, with its labels in model class indices."""
    if case.modality not in contract.modalities:
        raise ValueError(f"case {case.case_id!r} is {case.modality!r}; the model knows "
                         f"{', '.join(contract.modalities)}")
    volume, affine = _reoriented(case.image, contract.axcodes)
    h, w = contract.slice_size
    image = Resize((h, w, -1), mode="bilinear")(normalise(volume, case.modality, contract)[None]).as_tensor()[0]
    slices = image.permute(2, 0, 1).unsqueeze(1).float().contiguous()
    labelled = torch.zeros(contract.num_outputs, dtype=torch.bool)
    labelled[0] = True
    labels = None
    lookup = np.zeros(256, dtype=np.int64)
    for value, name in case.label_names.items():
        if name in contract.classes:
            lookup[value] = contract.classes.index(name) + 1
            labelled[lookup[value]] = True
    if case.label is not None:
        raw, _ = _reoriented(case.label, contract.axcodes)
        if raw.shape != volume.shape:
            raise ValueError(f"{case.label} has shape {raw.shape}, its image {volume.shape}")
        values = np.rint(raw).astype(np.int64)
        if values.min() < 0 or values.max() > 255:
            raise ValueError(f"{case.label} holds label values outside 0..255")
        mapped = torch.from_numpy(lookup[values])[None].float()
        labels = Resize((h, w, -1), mode="nearest")(mapped).as_tensor()[0].long().permute(2, 0, 1).contiguous()
    return SliceStack(case, slices, labels, labelled, contract.modalities.index(case.modality), volume.shape,
                      affine)
