"""Reading a MOME breast dataset folder: ``dataset.json`` checked case by case; sequences reoriented, normalised
and resized to the model grid (a sequence a case lacks is simply absent)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from monai.transforms import Resize, ScaleIntensityRangePercentiles

from models.families.mome_breast.contract import MomeBreastContract

FAMILY = "mome_breast"


@dataclass(frozen=True)
class BreastCase:
    """One case: its sequence files (any subset of the contract's) and its label (1 malignant, None unknown)."""

    case_id: str
    split: str
    images: dict[str, Path]
    label: int | None


def _case(folder: Path, entry: dict, split: str, where: str) -> BreastCase:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise ValueError(f"{where}: a case has no string 'id'")
    cid = entry["id"]
    images = entry.get("images")
    if not isinstance(images, dict) or not images:
        raise ValueError(f"{where}: case {cid!r} has no 'images' mapping of sequence to file")
    paths = {str(k).lower(): folder / str(v) for k, v in images.items()}
    for key, path in paths.items():
        if not path.is_file():
            raise ValueError(f"{where}: case {cid!r}, sequence {key!r}: file {path} is missing")
    label = entry.get("label")
    if label is not None and label not in (0, 1):
        raise ValueError(f"{where}: case {cid!r} has label {label!r}; use 0 (benign) or 1 (malignant)")
    return BreastCase(cid, split, paths, label)


def load_dataset(folder: Path) -> list[BreastCase]:
    """Every case of a dataset folder (training first, then test); ValueError with one sentence on a fault."""
    path = Path(folder) / "dataset.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} is missing: {folder} is not a mome_breast dataset folder") from None
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


def _load(path: Path, axcodes: str) -> np.ndarray:
    img = nib.load(str(path))
    if len(img.shape) not in (3, 4):
        raise ValueError(f"{path} is neither a 3D volume nor a 4D series (shape {img.shape})")
    ornt = nib.orientations.ornt_transform(nib.orientations.io_orientation(img.affine),
                                           nib.orientations.axcodes2ornt(tuple(axcodes)))
    data = nib.orientations.apply_orientation(np.asarray(img.dataobj, dtype=np.float32), ornt)
    if not np.isfinite(data).all():
        raise ValueError(f"{path} holds NaN or infinite voxels")
    return data if data.ndim == 4 else data[..., None]


def prepare_sequences(case: BreastCase, contract: MomeBreastContract) -> dict[str, torch.Tensor]:
    """[C, *image_size] per sequence the case has and the model knows. DCE: every time point divided by the
    pre-contrast 99th percentile (relative enhancement keeps the kinetics); T2 and ADC: 1st-99th percentile to
    [0, 1] per case (field strengths and ADC units differ between sites)."""
    out = {}
    for seq in contract.sequences:
        if seq not in case.images:
            continue
        data = _load(case.images[seq], contract.axcodes)
        channels = contract.channels(seq)
        if data.shape[-1] != channels:
            raise ValueError(f"{case.images[seq]} has {data.shape[-1]} time point(s); the model needs {channels}")
        volume = torch.from_numpy(np.ascontiguousarray(np.moveaxis(data, -1, 0)))
        if seq == "dce":
            volume = volume / max(float(torch.quantile(volume[0].flatten(), 0.99)), 1e-6)
        else:
            volume = ScaleIntensityRangePercentiles(1, 99, 0.0, 1.0, clip=True)(volume).as_tensor()
        out[seq] = Resize(tuple(contract.image_size), mode="trilinear")(volume).as_tensor().float()
    if not out:
        raise ValueError(f"case {case.case_id!r} has none of the sequences {', '.join(contract.sequences)}")
    return out
