"""The site agent's entry points for M4oE: synth, load_dataset, train, evaluate, finetune, select_router and
predict (label maps written back in each input's own geometry)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from models.families.m4oe.data import SegCase, load_dataset, prepare
from models.families.m4oe.evaluation import score_cases, segment, summarise, usage_by_modality
from models.families.m4oe.network import M4oENet
from models.families.m4oe.synth import PRESETS, synth
from models.families.m4oe.training import CenterStack, fit
from models.families.reports import strict_json
from models.fsutil import atomic_path, atomic_write_bytes
from models.registry import ModelSpec, build_network

__all__ = ["DEFAULT_STEPS", "FINETUNE_STEPS", "PRESETS", "evaluate", "finetune", "load_dataset", "predict",
           "select_router", "synth", "train"]

DEFAULT_STEPS = 400
FINETUNE_STEPS = 60
FINETUNE_LR = 5e-4


def _split(cases: list[SegCase], split: str) -> list[SegCase]:
    """The labelled cases of one split, or every labelled case when that split has none."""
    labelled = [c for c in cases if c.label is not None]
    return [c for c in labelled if c.split == split] or labelled


def train(spec: ModelSpec, data: list[Path], centers: list[str], *, method: str, steps: int, lr: float, seed: int,
          device: torch.device, on_step: Callable[[int, float], None] | None = None) -> tuple[nn.Module, dict]:
    """Train over several datasets (``centers[i]`` is the gate of ``data[i]``) on their training splits."""
    if len(data) != len(centers) or not data:
        raise ValueError(f"give one center per dataset ({len(data)} datasets, {len(centers)} centers)")
    torch.manual_seed(seed)
    model = build_network(spec, method=method, centers=list(dict.fromkeys(centers)))
    cases = [CenterStack(prepare(c, spec.contract), center) for folder, center in zip(data, centers, strict=True)
             for c in _split(load_dataset(folder), "training")]
    start = time.perf_counter()
    losses = fit(model, cases, spec.contract, steps=steps, lr=lr, seed=seed, device=device, on_step=on_step)
    tail = losses[-max(1, len(losses) // 10):]
    return model, {"summary": {"loss": float(np.mean(tail))}, "losses": losses[:: max(1, len(losses) // 100)],
                   "cases": len(cases), "seconds": time.perf_counter() - start, "method": method}


def evaluate(model: M4oENet, spec: ModelSpec, data: Path, *, center: str, device: torch.device,
             seed: int = 0) -> dict:
    """Dice per labelled class and per modality with bootstrap CIs on the test cases, and expert usage."""
    stacks = [prepare(c, spec.contract) for c in _split(load_dataset(data), "test")]
    rows = score_cases(model, stacks, spec.contract, center=center, device=device)
    return strict_json({"summary": summarise(rows, spec.contract, seed), "cases": rows,
                        "expert_usage": usage_by_modality(rows, spec.contract)})


def select_router(model: M4oENet, spec: ModelSpec, data: Path, *, shots: int, device: torch.device) -> list[dict]:
    """Zero-shot: every center's gates scored by mean Dice on ``shots`` labelled cases, best first."""
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    stacks = [prepare(c, spec.contract) for c in _split(load_dataset(data), "training")[:shots]]
    ranking = []
    for router in model.routers:
        rows = score_cases(model, stacks, spec.contract, center=router, device=device)
        ranking.append({"router": router, "score": float(np.nanmean([r["mean_dice"] for r in rows])),
                        "cases": [r["case"] for r in rows]})
    return strict_json(sorted(ranking, key=lambda r: -r["score"] if math.isfinite(r["score"]) else math.inf))


def finetune(model: M4oENet, spec: ModelSpec, data: Path, *, center: str, shots: int, steps: int,
             init_from: str | None, seed: int, device: torch.device,
             on_step: Callable[[int, float], None] | None = None) -> tuple[nn.Module, dict]:
    """Closed-center few-shot: gates for ``center`` copied from ``init_from``'s, then the new gates and the
    experts train on ``shots`` cases with the rest of the network frozen."""
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    cases = load_dataset(data)
    pool = _split(cases, "training")
    order = np.random.default_rng(seed).permutation(len(pool))
    shot_cases = [pool[int(i)] for i in order[:shots]]
    held_out = [c for c in _split(cases, "test") if c not in shot_cases] or shot_cases
    if center not in model.routers and model.routers:
        model.add_center(center, init_from=init_from)
    elif center not in model.centers:
        model.add_center(center, init_from=None)
    gate = center if model.routers else model.centers[0]
    evaluate_on = [prepare(c, spec.contract) for c in held_out]
    before = summarise(score_cases(model, evaluate_on, spec.contract, center=gate, device=device), spec.contract)
    for p in model.parameters():
        p.requires_grad_(False)
    trainable = model.trainable_for_finetune(gate)
    for p in trainable:
        p.requires_grad_(True)
    fit(model, [CenterStack(prepare(c, spec.contract), gate) for c in shot_cases], spec.contract, steps=steps,
        lr=FINETUNE_LR, seed=seed, device=device, parameters=trainable, modality_weight=0.0, on_step=on_step)
    for p in model.parameters():
        p.requires_grad_(True)
    after = summarise(score_cases(model, evaluate_on, spec.contract, center=gate, device=device), spec.contract)
    return model, strict_json({"before": before, "after": after, "cases": [c.case_id for c in shot_cases],
                               "evaluated_on": [c.case_id for c in held_out]})


def _to_input_geometry(labels: np.ndarray, case: SegCase) -> nib.Nifti1Image:
    """A RAS label map [X, Y, Z] put back into the orientation and affine of the case's own image."""
    img = nib.load(str(case.image))
    own = nib.orientations.io_orientation(img.affine)
    back = nib.orientations.ornt_transform(nib.orientations.axcodes2ornt(("R", "A", "S")), own)
    return nib.Nifti1Image(nib.orientations.apply_orientation(labels, back).astype(np.uint8), img.affine)


def predict(model: M4oENet, spec: ModelSpec, data: Path, out: Path, *, center: str,
            device: torch.device) -> list[dict]:
    """A label map per case (``out/<case>.nii.gz``, values = the model's classes in ``out/labels.json``) in the
    input's own grid and orientation; one row per case with the classes found and their volumes (mL)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = {"0": "background", **{str(k): n for k, n in enumerate(spec.contract.classes, start=1)}}
    atomic_write_bytes(out / "labels.json", json.dumps(names, indent=1).encode())
    rows = []
    for case in load_dataset(data):
        stack = prepare(case, spec.contract)
        probs, _ = segment(model, stack, center, device)
        size = stack.shape[:2]
        full = F.interpolate(probs.permute(1, 0, 2, 3), size=size, mode="bilinear", align_corners=False)
        labels = full.argmax(1).permute(1, 2, 0).numpy().astype(np.uint8)
        path = out / f"{case.case_id}.nii.gz"
        with atomic_path(path, suffix=".nii.gz") as tmp:
            nib.save(_to_input_geometry(labels, case), tmp)
        voxel_ml = float(abs(np.linalg.det(stack.affine[:3, :3]))) / 1000.0
        found = {names[str(k)]: round(float((labels == k).sum()) * voxel_ml, 1) for k in np.unique(labels) if k}
        rows.append({"case": case.case_id, "file": str(path), "modality": case.modality, "volumes_ml": found})
    return rows
