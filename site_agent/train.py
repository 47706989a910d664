"""``site-agent train``: the lead institution trains the base model over several centers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from models.config import METHODS
from site_agent.console import console, emit_json, expected_errors, results
from site_agent.options import (
    DeviceOpt,
    JsonOpt,
    OverwriteOpt,
    SeedOpt,
    StepsOpt,
    ThreadsOpt,
    check_out_free,
    choose_device,
)
from site_agent.training_ui import step_progress


def interrupted_line(out: Path) -> str:
    """The one line printed on Ctrl-C: no model was written, and what ``--resume`` would continue from."""
    from models.training.checkpoint import checkpoint_folder, checkpoint_step

    folder = checkpoint_folder(out)
    step = checkpoint_step(folder)
    if step is None:
        return (f"interrupted before the first checkpoint: no model was written to {out} and nothing was kept; "
                "run the command again to start over")
    return (f"interrupted: no model was written to {out}; the checkpoint of step {step} is kept in {folder}; "
            "run the same command with --resume to continue from it")


def train_command(
    data: Annotated[list[Path], typer.Option("--data", help="A center's dataset folder; repeat per center.")],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    center: Annotated[list[str] | None, typer.Option(
        "--center", help="Center code per --data, in order (default: each dataset.json's 'center').")] = None,
    method: Annotated[str | None, typer.Option(
        "--method", help=f"MoME-RO: one of {', '.join(METHODS)} (default mome). Other families: their model or a "
                         "baseline (`site-agent families` lists them; default: the family's model).")] = None,
    config: Annotated[
        str, typer.Option("--config", help="Registered model config, e.g. mome_ro.small, m4oe.tiny, "
                                           "mome_breast.tiny (`site-agent families` lists them).")
    ] = "mome_ro.small",
    steps: StepsOpt = None,
    lr: Annotated[float, typer.Option("--lr", help="AdamW learning rate.")] = 1e-3,
    version: Annotated[str, typer.Option("--version", help="Version recorded in the manifest.")] = "1.0",
    structured_note: Annotated[bool | None, typer.Option(
        "--structured-note/--text-only",
        help="Condition on the note's parsed fields (grade, stage, PSA, risk group: one extra token and a "
             "modulation of each fused level) as well as its text; the built-in configs do by default. "
             "--text-only keeps the seed's text path alone (an ablation).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint beside --out.")] = False,
    seed: SeedOpt = 0,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    overwrite: OverwriteOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Train a model over several centers' data with center flags (MoME-RO: Dice + CE loss, AdamW)."""
    from site_agent import family_commands

    with expected_errors():
        family = family_commands.family_of_config(config)
    if family_commands.is_other_family(family):
        with expected_errors():
            check_out_free(out, overwrite)
            dev = choose_device(device, quiet=json_output, threads=threads)
            doc = family_commands.train(config, data, center or [], out, method=method, steps=steps, lr=lr, seed=seed,
                                        version=version, device=dev, overwrite=overwrite, quiet=json_output)
        family_commands.print_or_json(doc, json_output=json_output, title=f"{config} trained on {len(data)} datasets")
        return
    method = method or "mome"
    with expected_errors():
        if method not in METHODS:
            raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
        check_out_free(out, overwrite)
        from models.training.loop import TrainSettings
        from models.training.train import train_multicenter

        settings = replace(TrainSettings(), seed=seed, lr=lr, **({"steps": steps} if steps else {}))
        dev = choose_device(device, quiet=json_output, threads=threads)
        try:
            with step_progress(settings.steps, quiet=json_output) as (on_step, on_case):
                manifest, history = train_multicenter(
                    data, out, config_name=config, method=method, centers=center or [], settings=settings,
                    version=version, device=dev, resume=resume, overwrite=overwrite,
                    structured_note=structured_note, on_step=on_step, on_case=on_case)
        except KeyboardInterrupt:
            console.print(interrupted_line(out), highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
    result = {"model": str(out), "version": manifest.version, "method": method, "centers": manifest.centers,
              "best_val_dice": history.best_val_dice, "best_step": history.best_step, "steps": settings.steps}
    if json_output:
        emit_json(result)
    else:
        results.print(f"[green]saved {method} model {manifest.version} for centers {', '.join(manifest.centers)} "
                      f"to {out}[/] (best validation Dice {history.best_val_dice})", highlight=False)
