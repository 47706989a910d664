"""Reading an mpLLM dataset folder: ``dataset.json`` checked case by case, sequences loaded and prepared."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from monai.transforms import NormalizeIntensity, Resize

from models.families.mpllm.contract import MpllmContract
from models.families.mpllm.findings import LabelFindings
from models.families.mpllm.vqa import QAPair

FAMILY = "mpllm"


@dataclass(frozen=True)
class VqaCase:
    """One case: its sequences, optional label map, findings and question-answer pairs."""

    case_id: str
    split: str
    images: dict[str, Path]
    label: Path | None
    findings: tuple[LabelFindings, ...]
    qa: tuple[QAPair, ...]


def _case(folder: Path, entry: dict, split: str, where: str) -> VqaCase:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise ValueError(f"{where}: a case has no string 'id'")
    images = entry.get("images")
    if not isinstance(images, dict) or not images:
        raise ValueError(f"{where}: case {entry['id']!r} has no 'images' mapping of sequence to file")
    paths = {str(k): folder / str(v) for k, v in images.items()}
    for key, path in paths.items():
        if not path.is_file():
            raise ValueError(f"{where}: case {entry['id']!r}, sequence {key!r}: file {path} is missing")
    label = folder / entry["label"] if entry.get("label") else None
    try:
        findings = tuple(LabelFindings.from_dict(f) for f in entry.get("findings", []))
        qa = tuple(QAPair.from_dict(p) for p in entry.get("qa", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: case {entry['id']!r} has a malformed finding or question ({exc})") from None
    return VqaCase(entry["id"], split, paths, label, findings, qa)


def load_dataset(folder: Path) -> list[VqaCase]:
    """Every case of a dataset folder (training first, then test); ValueError with one sentence on a fault."""
    path = Path(folder) / "dataset.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} is missing: {folder} is not an mpllm dataset folder") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read as JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("family") != FAMILY:
        raise ValueError(f"{path}: field 'family' must be {FAMILY!r}")
    cases = []
    for split in ("training", "test"):
        entries = doc.get(split, [])
        if not isinstance(entries, list):
            raise ValueError(f"{path}: field {split!r} must be a list of cases")
        cases += [_case(Path(folder), e, split, str(path)) for e in entries]
    if not cases:
        raise ValueError(f"{path} lists no cases in 'training' or 'test'")
    ids = [c.case_id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: case ids repeat")
    return cases


def prepare_sequences(paths: dict[str, Path], contract: MpllmContract) -> torch.Tensor:
    """Sequences [M, *image_size] in contract order: reoriented to the contract's axes, z-scored over the
    brain (non-zero voxels) and resized trilinearly to the model grid."""
    missing = [m for m in contract.modalities if m not in paths]
    if missing:
        raise ValueError(f"sequence(s) {', '.join(missing)} missing; the model needs {', '.join(contract.modalities)}")
    arrays, shape = [], None
    target = nib.orientations.axcodes2ornt(tuple(contract.axcodes))
    for modality in contract.modalities:
        img = nib.load(str(paths[modality]))
        ornt = nib.orientations.ornt_transform(nib.orientations.io_orientation(img.affine), target)
        data = nib.orientations.apply_orientation(np.asarray(img.dataobj, dtype=np.float32), ornt)
        if data.ndim != 3:
            raise ValueError(f"{paths[modality]} is not a 3D volume (shape {data.shape})")
        if shape is not None and data.shape != shape:
            raise ValueError(f"{paths[modality]} has shape {data.shape}, the other sequences {shape}")
        shape = data.shape
        arrays.append(data)
    volume = torch.from_numpy(np.stack(arrays))
    volume = NormalizeIntensity(nonzero=True, channel_wise=True)(volume)
    return Resize(tuple(contract.image_size), mode="trilinear")(volume).as_tensor().float()
