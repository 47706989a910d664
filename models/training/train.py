"""Multicenter training with center flags (seed 000, Methods iii): ``site-agent train``."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from models.data.dataset import Case, Dataset, load_dataset
from models.registry import create_model, note_encoder
from models.training.checkpoint import checkpoint_folder, load_checkpoint, save_checkpoint
from models.training.loop import StepCallback, TrainHistory, TrainSettings, run_training, seed_everything
from models.training.samples import Sample, load_samples
from models.weights import save_model_dir
from protocols import Lineage, ModelManifest
from protocols.groups import validate_center_code


@dataclass(frozen=True)
class CenterSplit:
    """One center's dataset split into training and validation cases."""

    center: str
    dataset: Dataset
    train: list[Case]
    val: list[Case]


def center_of(dataset: Dataset, override: str | None) -> str:
    """The center code: ``--center`` if given, else dataset.json's ``center``."""
    code = override or dataset.center
    if not code:
        raise ValueError(f"{dataset.root / 'dataset.json'} has no 'center' field; pass the center code explicitly")
    return validate_center_code(code)


def split_cases(cases: Sequence[Case], *, n_val: int, seed: int) -> tuple[list[Case], list[Case]]:
    """Deterministically hold out ``n_val`` cases for validation (never all of them)."""
    order = list(cases)
    random.Random(seed).shuffle(order)
    n_val = min(n_val, max(len(order) - 1, 0))
    return order[n_val:], order[:n_val]


def plan_centers(data_dirs: Sequence[Path], centers: Sequence[str | None], *, seed: int) -> list[CenterSplit]:
    """Read every dataset and split it; one validation case where at least 3 exist."""
    if centers and len(centers) != len(data_dirs):
        raise ValueError(f"got {len(centers)} center codes for {len(data_dirs)} data folders; give one per folder")
    splits = []
    for i, folder in enumerate(data_dirs):
        ds = load_dataset(folder)
        labelled = [c for c in ds.training if c.label is not None]
        if not labelled:
            raise ValueError(f"{folder}: no labelled training cases")
        train, val = split_cases(labelled, n_val=1 if len(labelled) >= 3 else 0, seed=seed)
        splits.append(CenterSplit(center_of(ds, centers[i] if centers else None), ds, train, val))
    codes = [s.center for s in splits]
    if len(set(codes)) != len(codes):
        raise ValueError(f"center codes repeat across data folders: {', '.join(codes)}")
    return splits


def train_multicenter(
    data_dirs: Sequence[Path], out_dir: Path, *, config_name: str = "mome_ro.small", method: str = "mome",
    centers: Sequence[str] = (), settings: TrainSettings = TrainSettings(), version: str = "1.0",
    device: str = "cpu", resume: bool = False, overwrite: bool = False, structured_note: bool | None = None,
    on_step: StepCallback | None = None,
    on_case: Callable[[str], None] | None = None,
) -> tuple[ModelManifest, TrainHistory]:
    """Train a base model over several centers' data and write it as a model directory."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (out_dir / "manifest.json").exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already holds a model; choose another --out or pass --overwrite")
    splits = plan_centers(data_dirs, list(centers), seed=settings.seed)
    seed_everything(settings.seed)  # the initial weights too, not only the batches
    model, spec = create_model(config_name, method=method, centers=[s.center for s in splits],
                               structured_note=structured_note)
    model.to(device)
    train: list[Sample] = []
    val: list[Sample] = []
    for s in splits:
        train += load_samples(s.train, spec.contract, center=s.center, on_case=on_case)
        val += load_samples(s.val, spec.contract, center=s.center, on_case=on_case)
    encoder = note_encoder(spec)
    ckpt = checkpoint_folder(out_dir)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    start = load_checkpoint(ckpt, model, optimizer) if resume and ckpt.exists() else 0
    if resume and not ckpt.exists():
        raise FileNotFoundError(f"no checkpoint to resume at {ckpt}")
    history = run_training(
        model, encoder, train, val, spec.contract, settings, params=params, device=device, on_step=on_step,
        optimizer=optimizer, start_step=start,
        on_checkpoint=lambda step, opt: save_checkpoint(ckpt, model, spec, opt, step),
    )
    lineage = Lineage(
        shots=None, notes=f"multicenter training on {', '.join(s.center for s in splits)}",
        metrics={"val_dice": history.best_val_dice} if history.best_val_dice is not None else {},
    )
    manifest = save_model_dir(model.cpu(), spec, out_dir, version=version, lineage=lineage, overwrite=overwrite)
    if ckpt.exists():
        shutil.rmtree(ckpt, ignore_errors=True)
    return manifest, history

