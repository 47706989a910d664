"""Closed-center few-shot fine-tuning (seed 000, Methods v): ``site-agent finetune``.

A new router for the site's center is initialised from an existing one; the image encoder
(and the text encoder) stay frozen; decoder, alignment, prompts, experts and the new router
train on 1-3 local cases, with one more local case for validation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from models.data.dataset import load_dataset
from models.networks.mome_ro import MomeRoNet
from models.registry import note_encoder
from models.training.loop import StepCallback, TrainHistory, TrainSettings, run_training, validate
from models.training.samples import load_samples
from models.training.shots import choose_shots
from models.weights import load_model_dir, save_model_dir
from protocols import Lineage, ModelManifest
from protocols.groups import validate_center_code

FINETUNE_DEFAULTS = TrainSettings(steps=150, lr=5e-4, val_every=25)


@dataclass
class FinetuneResult:
    """The fine-tuned model's manifest and what the site needs to report locally."""

    manifest: ModelManifest
    history: TrainHistory
    init_router: str | None
    shots: list[str]
    val_case: str | None
    held_out: list[str]
    val_dice_before: float | None
    val_dice_after: float | None
    seconds: dict[str, float] = field(default_factory=dict)


def freeze_for_finetuning(model: MomeRoNet, center: str) -> list[str]:
    """Freeze the encoder and every other center's router; return the trainable groups."""
    trainable = set()
    for name, param in model.named_parameters():
        frozen = name.startswith("encoder.") or (".gates." in name and f".gates.{center}." not in name)
        param.requires_grad_(not frozen)
        if not frozen:
            trainable.add(name.split(".")[0] if ".gates." not in name else f"router.{center}")
    return sorted(trainable)


def pick_init_router(model: MomeRoNet, requested: str | None) -> str | None:
    """The router to start from: the requested one, else the first the model has."""
    if model.method != "mome":
        return None
    if requested is None:
        return model.routers[0]
    if requested not in model.routers:
        raise ValueError(f"--init-router {requested!r} is not a router of this model ({', '.join(model.routers)})")
    return requested


def finetune_center(
    model_dir: Path, data_dir: Path, out_dir: Path, *, center: str, shots: int = 3,
    init_router: str | None = None, shot_ids: Sequence[str] = (), settings: TrainSettings = FINETUNE_DEFAULTS,
    version: str | None = None, device: str = "cpu", overwrite: bool = False,
    on_step: StepCallback | None = None, on_case: Callable[[str], None] | None = None,
) -> FinetuneResult:
    """Fine-tune a new router for ``center`` from ``shots`` local cases; write a model directory."""
    validate_center_code(center)
    model, spec, base = load_model_dir(model_dir, device=device)
    init = pick_init_router(model, init_router)
    if model.method == "mome" and center in model.routers:
        raise ValueError(f"the model already has a router for center {center!r}; fine-tune from another base")
    ds = load_dataset(data_dir)
    labelled = [c for c in ds.cases if c.label is not None]
    chosen, val_case, held_out = choose_shots(labelled, shots, seed=settings.seed, given=shot_ids)
    train = load_samples(chosen, spec.contract, center=center, on_case=on_case)
    val = load_samples([val_case], spec.contract, center=center, on_case=on_case) if val_case else []
    model.add_center(center, init_from=init)
    model.to(device)
    encoder = note_encoder(spec)
    before = validate(model, encoder, val, spec.contract, device) if val else None
    initial = copy.deepcopy(model.state_dict())
    freeze_for_finetuning(model, center)
    history = run_training(model, encoder, train, val, spec.contract, settings, device=device, on_step=on_step)
    after = history.best_val_dice
    if before is not None and after is not None and before > after:
        # Validation says fine-tuning did not help: keep the initial router's behaviour.
        model.load_state_dict(initial)
        after = before
    metrics = {k: v for k, v in {"val_dice_before": before, "val_dice_after": after}.items() if v is not None}
    lineage = Lineage(base_version=base.version, init_router=init, center=center, shots=len(chosen),
                      cases=[c.case_id for c in chosen] + ([val_case.case_id] if val_case else []),
                      metrics=metrics)
    manifest = save_model_dir(model.cpu(), spec, out_dir, version=version or f"{base.version}+{center}",
                              lineage=lineage, overwrite=overwrite)
    return FinetuneResult(manifest, history, init, [c.case_id for c in chosen],
                          val_case.case_id if val_case else None, [c.case_id for c in held_out], before, after)
