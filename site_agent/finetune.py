"""``site-agent finetune``: closed-center few-shot fine-tuning of the site's own router."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from models.training.finetune import FINETUNE_DEFAULTS, FinetuneResult, finetune_center
from site_agent.console import console, emit_json, expected_errors
from site_agent.options import DataOpt, DeviceOpt, JsonOpt, ModelOpt, OverwriteOpt, SeedOpt, StepsOpt, choose_device
from site_agent.training_ui import step_progress


def summary(result: FinetuneResult, out: Path) -> dict:
    return {"model": str(out), "version": result.manifest.version, "init_router": result.init_router,
            "shots": result.shots, "val_case": result.val_case, "held_out": result.held_out,
            "val_dice_before": result.val_dice_before, "val_dice_after": result.val_dice_after}


def finetune_command(
    center: Annotated[str, typer.Option("--center", help="This site's center code, e.g. D.")],
    model: ModelOpt,
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", help="Model directory to write the fine-tuned model to.")],
    shots: Annotated[int, typer.Option("--shots", min=1, max=20, help="Labelled local cases to train on (seed: 1-3).")] = 3,
    init_router: Annotated[str | None, typer.Option(
        "--init-router", help="Router to start from (default: the model's first; see select-router).")] = None,
    shot_ids: Annotated[list[str] | None, typer.Option(
        "--case", help="Use these case ids as shots instead of drawing by PSA cluster; repeatable.")] = None,
    steps: StepsOpt = None,
    lr: Annotated[float, typer.Option("--lr", help="AdamW learning rate.")] = FINETUNE_DEFAULTS.lr,
    seed: SeedOpt = 0,
    device: DeviceOpt = None,
    overwrite: OverwriteOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Fine-tune a new router for CENTER from a few local cases; the image encoder stays frozen.

    Shots are drawn across PSA clusters as in the seed paper; one more case validates; the
    remaining labelled cases are left for `site-agent evaluate`.
    """
    with expected_errors():
        settings = replace(FINETUNE_DEFAULTS, seed=seed, lr=lr, **({"steps": steps} if steps else {}))
        dev = choose_device(device, quiet=json_output)
        with step_progress(settings.steps, label=f"fine-tuning router {center}", quiet=json_output) as (on_step, on_case):
            result = finetune_center(model, data, out, center=center, shots=shots, init_router=init_router,
                                     shot_ids=shot_ids or [], settings=settings, device=dev, overwrite=overwrite,
                                     on_step=on_step, on_case=on_case)
    if json_output:
        emit_json(summary(result, out))
        return
    table = Table(title=f"router {center} (from {result.init_router or 'no router'})")
    for col in ("shots", "validation case", "val Dice before", "val Dice after"):
        table.add_column(col)
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    table.add_row(", ".join(result.shots), result.val_case or "-", fmt(result.val_dice_before),
                  fmt(result.val_dice_after))
    console.print(table)
    console.print(f"[green]saved {result.manifest.version} to {out}[/]; evaluate on the {len(result.held_out)} "
                  "held-out cases with `site-agent evaluate`", highlight=False)
