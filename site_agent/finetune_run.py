"""Fine-tune and evaluate into a hidden staging folder: the model folder appears, complete, only at the end.

Ctrl-C or an error at any step (training, held-out evaluation) removes the staging folder and
leaves ``out`` as it was, so ``push`` never sees a model without the evaluation it claims.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from site_agent import finetune_hub

if TYPE_CHECKING:
    from models.training.finetune import FinetuneResult
    from models.training.loop import StepCallback, TrainSettings


@dataclass
class Stage:
    """What the run is doing now, for the one line printed on Ctrl-C."""

    now: str = "starting"
    journal: Path | None = None
    """Where completed leave-one-out folds are kept for ``--resume`` (None: not kept)."""


def finetune_to(
    out: Path, *, base: Path, data: Path, center: str, shots: int, init_router: str | None, shot_ids: list[str],
    settings: TrainSettings, groups: tuple[str, ...] | None, device: str, overwrite: bool, stage: Stage,
    evaluate: bool = True, on_step: StepCallback | None = None, on_case: Callable[[str], None] | None = None,
    resume: bool = False,
) -> tuple[FinetuneResult, dict[str, Any] | None]:
    """Fine-tune ``base`` for ``center``, score it on the held-out cases, then rename the folder to ``out``.

    Returns the result and the before/after evaluation (None when no case is held out or not ``evaluate``).
    """
    from models.fsutil import atomic_directory
    from models.training.finetune import finetune_center
    from models.weights import read_manifest

    read_manifest(base)  # a wrong --model fails here, before any folder is made
    with atomic_directory(out, overwrite=overwrite) as staging:
        stage.now = "fine-tuning"
        result = finetune_center(base, data, staging, center=center, shots=shots, init_router=init_router,
                                 shot_ids=shot_ids, settings=settings, groups=groups, device=device,
                                 on_step=on_step, on_case=on_case, journal=stage.journal, resume=resume)
        evaluation = None
        if evaluate and result.held_out:
            stage.now = "evaluating on the held-out cases"
            evaluation = finetune_hub.evaluate_before_after(base, staging, data, result, center=center,
                                                            device=device)
        stage.now = "saving"
    stage.now = "done"
    return result, evaluation

