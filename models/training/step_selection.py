"""How long to fine-tune on 1-3 shots, chosen by leave-one-out over the shots.

One validation case is too noisy to decide whether a few-shot update helps (with 2-3 shots it
never improved, so the starting router was always kept). Here each shot in turn is held out
(together with the extra validation case, if the site has one), the router is trained on the
other shots from the same starting state, and the held-out Dice is recorded at step 0 and every
``val_every`` steps. The step count with the best mean over folds is then trained on all shots;
step 0 means "keep the starting router".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.config import PreprocessingContract
from models.networks.mome_ro import MomeRoNet
from models.training.loop import StepCallback, TrainSettings, run_training, validate
from models.training.samples import Sample

__all__ = ["StepSelection", "best_step_of", "leave_one_out_folds", "select_steps"]

MIN_GAIN = 0.002
"""Mean held-out Dice a step count must gain over step 0 to be chosen (ignores numerical noise)."""


@dataclass
class StepSelection:
    """The chosen step count and the mean held-out Dice curve it came from."""

    steps: int
    curve: list[tuple[int, float]]  # (step, mean held-out Dice over folds), step 0 first
    folds: int
    rule: str

    @property
    def dice_at_start(self) -> float:
        return self.curve[0][1]

    @property
    def dice_at_chosen(self) -> float:
        return dict(self.curve)[self.steps]


def leave_one_out_folds(shots: Sequence[Sample], val: Sequence[Sample]) -> list[tuple[list[Sample], list[Sample]]]:
    """(train, held-out) pairs: each shot held out with the validation cases; one shot: train it, hold out ``val``."""
    if len(shots) >= 2:
        return [([s for j, s in enumerate(shots) if j != i], [shot, *val]) for i, shot in enumerate(shots)]
    return [(list(shots), list(val))] if val else []


def select_steps(
    model: MomeRoNet, encoder, shots: Sequence[Sample], val: Sequence[Sample], contract: PreprocessingContract,
    settings: TrainSettings, *, device: str = "cpu", on_step: StepCallback | None = None,
    done: Sequence[dict[int, float]] = (), on_fold: Callable[[list[dict[int, float]]], None] | None = None,
) -> StepSelection | None:
    """Cross-validate the number of steps; the model is left in its starting state. ``None``: no held-out case.

    ``on_step`` counts the folds' steps one after another (fold i's step s is ``i * settings.steps + s``).
    ``done`` holds the curves of folds an interrupted run completed (they are not run again); ``on_fold``
    receives the curves so far after each fold, to keep them.
    """
    folds = leave_one_out_folds(shots, val)
    if not folds:
        return None
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    curves: list[dict[int, float]] = [dict(c) for c in done[: len(folds)]]
    for i, (train, held_out) in enumerate(folds):
        if i < len(curves):
            if on_step is not None:
                on_step((i + 1) * settings.steps, float("nan"), curves[i][max(curves[i])])
            continue
        model.load_state_dict(start)
        curve = {0: validate(model, encoder, held_out, contract, device)}
        offset = i * settings.steps
        report = None if on_step is None else (lambda st, loss, val, off=offset: on_step(off + st, loss, val))
        history = run_training(model, encoder, train, held_out, contract, replace(settings, seed=settings.seed + i),
                               params=trainable, device=device, on_step=report)
        curve.update(history.val_dice)
        curves.append(curve)
        if on_fold is not None:
            on_fold(curves)
    model.load_state_dict(start)
    best_step, mean = best_step_of(curves)
    rule = "leave-one-out over shots" if len(shots) >= 2 else "one shot, validation case"
    return StepSelection(steps=best_step, curve=mean, folds=len(folds), rule=rule)


def best_step_of(curves: Sequence[dict[int, float]]) -> tuple[int, list[tuple[int, float]]]:
    """The step with the best held-out Dice averaged over folds (the earliest of ties), and that mean curve.

    Step 0 (keep the starting router) wins unless another step gains at least ``MIN_GAIN``.
    """
    if not curves or any(set(c) != set(curves[0]) for c in curves) or 0 not in curves[0]:
        raise ValueError("every fold needs a held-out Dice at the same steps, step 0 included")
    mean = [(s, float(np.mean([c[s] for c in curves]))) for s in sorted(curves[0])]
    step, best = max(mean, key=lambda sd: (sd[1], -sd[0]))
    return (step if best >= mean[0][1] + MIN_GAIN else 0), mean

