"""Closed-center few-shot fine-tuning (seed 000, Methods v): ``site-agent finetune``.

A new router for the site's center is initialised from an existing one; the image encoder
(and the text encoder) stay frozen. By default a MoME model trains only what a push carries,
the shared experts and the new router (``PORTABLE_GROUPS``), so the update another site
composes with the hub's base model behaves exactly like the site's own; the seed's wider
choice (decoder, alignment and prompts too) is ``groups=ALL_GROUPS``. Models without experts
train decoder, alignment and prompts. How many steps to train is chosen by leave-one-out over
the shots (``step_selection``); zero steps keeps the starting router.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from models.data.dataset import load_dataset
from models.groups import tensor_group
from models.networks.mome_ro import MomeRoNet
from models.registry import note_encoder
from models.training.fold_journal import FoldJournal, journal_key
from models.training.loop import StepCallback, TrainHistory, TrainSettings, run_training
from models.training.samples import load_samples
from models.training.shots import choose_shots
from models.training.step_selection import StepSelection, select_steps
from models.weights import load_model_dir, save_model_dir
from protocols import Lineage, ModelManifest
from protocols.groups import router_group, validate_center_code

FINETUNE_DEFAULTS = TrainSettings(steps=150, lr=5e-4, val_every=25)

PORTABLE_GROUPS = ("experts", "router")
"""What a push sends: with only these trained, the pushed update is the whole adaptation."""
ALL_GROUPS = ("decoder", "alignment", "prompt", "experts", "router")
"""Every group below the frozen encoder (seed 000, Methods v)."""


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
    trained_groups: list[str] = field(default_factory=list)
    selection: StepSelection | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def default_groups(model: MomeRoNet) -> tuple[str, ...]:
    """``PORTABLE_GROUPS`` for models with experts, else every group they have below the encoder."""
    return PORTABLE_GROUPS if model.has_experts else ("decoder", "alignment", "prompt")


def freeze_for_finetuning(model: MomeRoNet, center: str, groups: Sequence[str] = ALL_GROUPS) -> list[str]:
    """Train only ``groups`` (``router`` meaning this center's router); return the trainable groups."""
    unknown = set(groups) - set(ALL_GROUPS)
    if unknown:
        raise ValueError(f"unknown groups {', '.join(sorted(unknown))}; choose from {', '.join(ALL_GROUPS)}")
    trainable, own_router = set(), router_group(center)
    for name, param in model.named_parameters():
        group = tensor_group(name)
        key = "router" if group == own_router else group
        train = key in groups
        param.requires_grad_(train)
        if train:
            trainable.add(group)
    if not trainable:
        raise ValueError(f"groups {', '.join(groups)} select no parameter of this {model.method!r} model")
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
    groups: Sequence[str] | None = None, version: str | None = None, device: str = "cpu", overwrite: bool = False,
    on_step: StepCallback | None = None, on_case: Callable[[str], None] | None = None,
    journal: Path | None = None, resume: bool = False,
) -> FinetuneResult:
    """Fine-tune a new router for ``center`` from ``shots`` local cases; write a model directory.

    With ``journal`` each completed leave-one-out fold is kept there; ``resume`` skips the folds a
    journal of the same run already holds (the journal is removed once the model is written).
    """
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
    trained = freeze_for_finetuning(model, center, groups or default_groups(model))
    fold_journal = None if journal is None else FoldJournal(journal, journal_key({
        "base": hashlib.sha256((Path(model_dir) / "manifest.json").read_bytes()).hexdigest(),
        "data": str(Path(data_dir).resolve()), "center": center, "init": init, "groups": trained, "device": device,
        "shots": [c.case_id for c in chosen], "val": val_case.case_id if val_case else None,
        "settings": asdict(settings)}))
    selection = select_steps(model, encoder, train, val, spec.contract, settings, device=device, on_step=on_step,
                             done=fold_journal.load() if fold_journal is not None and resume else (),
                             on_fold=None if fold_journal is None else fold_journal.record)
    steps = settings.steps if selection is None else selection.steps
    history = TrainHistory()
    if steps:  # all shots, for the cross-validated number of steps; nothing held out is left to pick a state
        offset = 0 if selection is None else selection.folds * settings.steps
        report = None if on_step is None else (lambda st, loss, val: on_step(offset + st, loss, val))
        history = run_training(model, encoder, train, [], spec.contract, replace(settings, steps=steps),
                               device=device, on_step=report)
    before = None if selection is None else selection.dice_at_start
    after = None if selection is None else selection.dice_at_chosen
    metrics = {k: v for k, v in {"val_dice_before": before, "val_dice_after": after}.items() if v is not None}
    if selection is not None:
        metrics["steps_chosen"] = float(steps)
    lineage = Lineage(base_version=base.version, init_router=init, center=center, shots=len(chosen),
                      cases=[c.case_id for c in chosen] + ([val_case.case_id] if val_case else []),
                      metrics=metrics)
    manifest = save_model_dir(model.cpu(), spec, out_dir, version=version or f"{base.version}+{center}",
                              lineage=lineage, overwrite=overwrite)
    if fold_journal is not None:
        fold_journal.clear()
    return FinetuneResult(manifest, history, init, [c.case_id for c in chosen],
                          val_case.case_id if val_case else None, [c.case_id for c in held_out], before, after,
                          trained_groups=trained, selection=selection)
