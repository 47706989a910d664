"""Resumable training checkpoints: model directory + optimizer state, all safetensors/JSON."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from models.fsutil import atomic_directory
from models.networks.mome_ro import MomeRoNet
from models.registry import ModelSpec
from models.weights import load_into, load_state, read_manifest, save_model_dir, verify_files

CHECKPOINT_DIR = ".checkpoint"


def checkpoint_folder(out_dir: Path) -> Path:
    """Where ``train --out OUT`` keeps its resumable checkpoint: a hidden sibling of OUT."""
    out_dir = Path(out_dir)
    return out_dir.parent / f".{out_dir.name}{CHECKPOINT_DIR}"


def checkpoint_step(folder: Path) -> int | None:
    """The step a complete checkpoint in ``folder`` continues after, or None when there is none."""
    try:
        return int(json.loads((Path(folder) / "state.json").read_text())["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_checkpoint(folder: Path, model: MomeRoNet, spec: ModelSpec, optimizer: torch.optim.Optimizer,
                    step: int) -> None:
    """Write (atomically) everything needed to continue training from ``step``."""
    with atomic_directory(folder, overwrite=True) as tmp:
        save_model_dir(model, spec, tmp / "model", version=f"checkpoint-{step}")
        state = optimizer.state_dict()
        tensors = {f"{idx}.{key}": value.detach().cpu().contiguous()
                   for idx, slots in state["state"].items() for key, value in slots.items()
                   if isinstance(value, torch.Tensor)}
        save_file(tensors or {"_empty": torch.zeros(0)}, str(tmp / "optimizer.safetensors"))
        (tmp / "state.json").write_text(json.dumps({"step": step, "param_groups": state["param_groups"]}))


def load_checkpoint(folder: Path, model: MomeRoNet, optimizer: torch.optim.Optimizer) -> int:
    """Restore model and optimizer from ``folder``; returns the step to continue after."""
    manifest = read_manifest(folder / "model")
    verify_files(folder / "model", manifest)
    load_into(model, load_state(folder / "model", manifest))
    meta = json.loads((folder / "state.json").read_text())
    flat = load_file(str(folder / "optimizer.safetensors"))
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        if key == "_empty":
            continue
        idx, name = key.split(".", 1)
        slots.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": slots, "param_groups": meta["param_groups"]})
    return int(meta["step"])
