"""``site-agent finetune``: closed-center few-shot fine-tuning of the site's own router.

With ``--model`` it fine-tunes that model folder (as before). Without it, against the hub of the
site config: pull the newest published version if needed, start from the best router of the
local zero-shot ranking (else the hub's recommendation), fine-tune, evaluate the starting and
the new router on the held-out local cases, and with ``--push`` push the update.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from site_agent.config import WorkdirOpt, find_config, resolve_workdir
from site_agent.console import console, emit_json, expected_errors, results
from site_agent.finetune_hub import prepare_from_hub, push_after
from site_agent.finetune_run import Stage, finetune_to
from site_agent.options import (
    DataOpt,
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

if TYPE_CHECKING:
    from models.training.finetune import FinetuneResult

GROUP_NAMES = ("decoder", "alignment", "prompt", "experts", "router")
"""The trainable groups ``--groups`` may name (models.training.finetune.ALL_GROUPS, kept here for --help)."""
DEFAULT_LR = 5e-4
"""The fine-tuning learning rate shown in --help (models.training.finetune.FINETUNE_DEFAULTS.lr)."""


def summary(result: FinetuneResult, out: Path) -> dict:
    sel = result.selection
    return {"model": str(out), "version": result.manifest.version, "init_router": result.init_router,
            "shots": result.shots, "val_case": result.val_case, "held_out": result.held_out,
            "trained_groups": result.trained_groups,
            "val_dice_before": result.val_dice_before, "val_dice_after": result.val_dice_after,
            "selection": None if sel is None else {"rule": sel.rule, "folds": sel.folds, "steps_chosen": sel.steps,
                                                   "held_out_dice_by_step": dict(sel.curve)}}


def interrupted_line(stage: str, out: Path | None, pulled: Path | None, journal: Path | None = None) -> str:
    """The one line printed on Ctrl-C: what was being done and what is kept."""
    if stage in ("done", "pushing"):
        return (f"interrupted {'while pushing' if stage == 'pushing' else 'after fine-tuning'}: the fine-tuned model "
                f"is complete in {out}; push it with `site-agent push --model {out}`")
    kept = f"; the pulled base model {pulled} is kept" if pulled is not None else ""
    target = f" to {out}" if out is not None else ""
    folds = 0
    if journal is not None:
        from models.training.fold_journal import kept_folds

        folds = kept_folds(journal)
    if folds:
        kept += (f"; {folds} completed leave-one-out fold{'s are' if folds > 1 else ' is'} kept in {journal}: "
                 "run the same command with --resume to continue after them")
    return f"interrupted while {stage}: no fine-tuned model was written{target}{kept}"


def parse_groups(text: str | None) -> tuple[str, ...] | None:
    """``--groups``: 'portable', 'all' or a comma list of group names; None: the model's default."""
    from models.training.finetune import ALL_GROUPS, PORTABLE_GROUPS

    if text is None:
        return None
    named = {"portable": PORTABLE_GROUPS, "all": ALL_GROUPS}
    groups = named.get(text.strip().lower()) or tuple(g.strip() for g in text.split(",") if g.strip())
    unknown = [g for g in groups if g not in ALL_GROUPS]
    if not groups or unknown:
        raise ValueError(f"--groups {text!r} is not 'portable', 'all' or a comma list of {', '.join(ALL_GROUPS)}")
    return groups


def finetune_command(
    center: Annotated[str, typer.Option("--center", help="This site's center code, e.g. D.")],
    data: DataOpt,
    model: Annotated[Path | None, typer.Option(
        "--model", help="Model directory to start from; default: the newest published version of the site's hub "
                        "(pulled if needed).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Model directory to write the fine-tuned model to; default with a site config: "
                      "WORKDIR/finetuned/<version>+<center>-<time>.")] = None,
    shots: Annotated[int, typer.Option("--shots", min=1, max=20,
                                       help="Labelled local cases to train on (seed: 1-3).")] = 3,
    init_router: Annotated[str | None, typer.Option(
        "--init-router", help="Router to start from (default with --model: the model's first; without: the local "
                              "zero-shot best, else the hub's recommendation).")] = None,
    shot_ids: Annotated[list[str] | None, typer.Option(
        "--case", help="Use these case ids as shots instead of drawing by PSA cluster; repeatable.")] = None,
    steps: StepsOpt = None,
    lr: Annotated[float | None, typer.Option("--lr", help=f"AdamW learning rate (default {DEFAULT_LR:g}).")] = None,
    groups: Annotated[str | None, typer.Option(
        "--groups", help="What trains: 'portable' (experts + this center's router, exactly what a push sends; the "
                         "default for MoME models), 'all' (also decoder, alignment and prompts, as seed 000 does; "
                         f"gains that stay on this site), or a comma list of {', '.join(GROUP_NAMES)}.")] = None,
    push: Annotated[bool, typer.Option("--push", help="Push experts + router.<center> to the hub afterwards.")] = False,
    workdir: WorkdirOpt = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    overwrite: OverwriteOpt = False,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue an interrupted run of the same command: the leave-one-out folds it completed "
                         "are not trained again (they are kept beside the output folder until the model is "
                         "written).")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Fine-tune a new router for this site's center (--center) from a few local cases; the encoder stays frozen.

    Shots are drawn across PSA clusters as in the seed paper; one more case validates. How many
    steps to train is chosen by leave-one-out over the shots (each shot held out in turn, with the
    validation case); zero steps keeps the starting router. The remaining labelled cases are held
    out and score the starting and the new router. The model folder appears only when all of
    this is done; Ctrl-C leaves nothing behind.
    """
    from site_agent import family_commands

    extra: dict[str, Any] = {}
    stage, model_given = Stage("checking the options"), model is not None
    with expected_errors():
        wd = resolve_workdir(workdir)
        config = find_config(wd)
        if (push or model is None) and config is None:
            raise ValueError(f"give --model and --out, or enrol the site first (`site-agent init`; no config in {wd})")
        if push and config is not None and config.center != center:
            raise ValueError(f"this site is enrolled for center {config.center}, not {center}; it may push only "
                             f"router.{config.center}")
        if out is not None:
            check_out_free(out, overwrite)
        elif config is None:
            raise ValueError("give --out DIR (no site config to place the model in)")
        if model is not None and family_commands.is_other_family(family := family_commands.family_of_model(model)):
            if out is None:
                out = wd / "finetuned" / f"{model.name}+{center}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
            dev = choose_device(device, quiet=json_output, threads=threads)
            doc = family_commands.finetune(model, data, out, center=center, shots=shots, steps=steps,
                                           init_router=init_router, seed=seed, device=dev, overwrite=overwrite,
                                           quiet=json_output)
            if push and config is not None:
                doc["push"] = push_after(config, wd, out)
            family_commands.print_or_json(doc, json_output=json_output, title=f"{family} router {center}: after")
            return
        from models.training.finetune import FINETUNE_DEFAULTS

        settings = replace(FINETUNE_DEFAULTS, seed=seed, **({"lr": lr} if lr is not None else {}),
                           **({"steps": steps} if steps else {}))
        chosen_groups = parse_groups(groups)
        dev = choose_device(device, quiet=json_output, threads=threads)
        try:
            if model is None and config is not None:
                stage.now = "pulling the base model and choosing the starting router"
                model, init_router, extra["start"] = prepare_from_hub(config, wd, data, init_router, device=dev,
                                                                      quiet=json_output)
            from models.training.fold_journal import journal_path

            # The default --out is stamped with the time, so its folds are kept under a name without the stamp.
            stage.journal = journal_path(out if out is not None else wd / "finetuned" / f"{model.name}+{center}")
            if out is None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
                out = wd / "finetuned" / f"{model.name}+{center}-{stamp}"
            label = f"fine-tuning router {center}"
            # Progress counts every optimisation step: one run per leave-one-out fold, then the final run.
            with step_progress(settings.steps * (shots + 1), label=label, quiet=json_output) as (on_step, on_case):
                result, evaluation = finetune_to(
                    out, base=model, data=data, center=center, shots=shots, init_router=init_router,
                    shot_ids=shot_ids or [], settings=settings, groups=chosen_groups, device=dev, overwrite=overwrite,
                    stage=stage, on_step=on_step, on_case=on_case, resume=resume)
            if evaluation is not None:
                extra["evaluation"] = evaluation
            if push and config is not None:
                stage.now = "pushing"
                extra["push"] = push_after(config, wd, out)
        except KeyboardInterrupt:
            console.print(interrupted_line(stage.now, out, None if model_given else model, stage.journal),
                          highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
    if json_output:
        emit_json(summary(result, out) | extra)
        return
    table = Table(title=f"router {center} (from {result.init_router or 'no router'}), trained: "
                        f"{', '.join(result.trained_groups)}")
    for col in ("shots", "validation case", "steps chosen", "held-out Dice at start", "at chosen step"):
        table.add_column(col)
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    sel = result.selection
    chosen = "n/a (nothing held out)" if sel is None else (f"{sel.steps}" if sel.steps else "0 (kept the router)")
    table.add_row(", ".join(result.shots), result.val_case or "-", chosen, fmt(result.val_dice_before),
                  fmt(result.val_dice_after))
    results.print(table)
    if sel is not None:
        results.print(f"step count chosen by {sel.rule} ({sel.folds} fold{'s' if sel.folds > 1 else ''})",
                      highlight=False)
    if "start" in extra:
        results.print(f"starting router {result.init_router}: {extra['start']}", highlight=False)
    if "evaluation" in extra:
        ev = extra["evaluation"]
        t = Table(title=f"held-out local cases ({ev['cases']}): before and after")
        for col in ("", "router", "mean Dice [95% CI]"):
            t.add_column(col)
        for label, key in (("before (starting router)", "before"), ("after (fine-tuned)", "after")):
            d = ev[key]
            t.add_row(label, d["router"], f"{d['mean']:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]")
        results.print(t)
    results.print(f"[green]saved {result.manifest.version} to {out}[/]", highlight=False)
    if "push" in extra:
        p = extra["push"]
        results.print(f"[green]pushed[/] {p['payload_bytes']:,} bytes ({p['percent_of_model']:.2f}% of the model): "
                      f"router {p['router_id']} at the hub; receipt in {p['receipt_file']}", highlight=False)
    elif not result.held_out:
        results.print("no labelled case is left over to evaluate on", highlight=False)
