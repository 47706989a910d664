"""``site-agent demo``: the whole story on embedded defaults, on this machine.

The lead institution trains a base model on synthetic centers A-C; a hub starts on
loopback (SQLite, local folders) and publishes it; site D enrols, pulls, ranks the routers
zero-shot on its own cases (reporting only per-router Dice), fine-tunes its own router from
3 cases, and pushes only router + expert weights; a new site E asks for a recommendation.
The hub is stopped at the end and its data folder is left for inspection.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from models.fsutil import atomic_write_bytes
from site_agent.console import console, emit_json, expected_errors, results
from site_agent.finetune_run import Stage, finetune_to
from site_agent.fingerprint import compute_fingerprint
from site_agent.hub_client import HubClient
from site_agent.init import init_site
from site_agent.local_data import site_samples
from site_agent.loopback_hub import LoopbackHub
from site_agent.options import DeviceOpt, JsonOpt, OverwriteOpt, SeedOpt, ThreadsOpt, choose_device
from site_agent.pull import pull
from site_agent.push import build_push, send_push
from site_agent.report import exchange_with_hub, recommend_for, save_local_ranking
from site_agent.training_ui import step_progress

CENTERS = {"A": 10, "B": 5, "C": 10, "D": 8, "E": 4}


def synthesise(out: Path, *, scale: float, seed: int, overwrite: bool) -> dict[str, Path]:
    """The five synthetic centers of the story, each in its own dataset folder.

    The lead institution's A, B and C are risk-balanced (a base model learns each policy's nodal
    decision only from patients on both sides of it); the sites D and E keep their own mix.
    Every center is domain-randomised, so the base model learns anatomy rather than one look.
    """
    from models.data.synthetic.generator import generate_center

    return {code: generate_center(code, n, out / "data" / code, seed=seed, scale=scale, overwrite=overwrite,
                                  risk_mix="balanced" if code in "ABC" else "center", randomize=True)
            for code, n in CENTERS.items()}


def publish_fingerprints(hub: LoopbackHub, data: dict[str, Path], centers: str) -> None:
    """The lead institution publishes the aggregate fingerprints of its centers (used to rank their routers)."""
    for code in centers:
        path = hub.data_dir.parent / f"fingerprint-{code}.json"
        atomic_write_bytes(path, compute_fingerprint(data[code]).fingerprint.model_dump_json().encode())
        hub.cli("centers", "set-fingerprint", code, path)


def run_demo(out: Path, *, config: str, train_steps: int, finetune_steps: int, scale: float, seed: int,
             device: str, overwrite: bool, quiet: bool) -> dict:
    """Run every step of the story and return the summary (see the module docstring)."""
    from models.registry import note_encoder
    from models.training.finetune import FINETUNE_DEFAULTS
    from models.training.loop import TrainSettings
    from models.training.select_router import rank_routers
    from models.training.train import train_multicenter
    from models.weights import load_model_dir

    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()

    data = synthesise(out, scale=scale, seed=seed, overwrite=overwrite)
    lap("synthesise")
    with step_progress(train_steps, label="lead institution: training on A, B, C", quiet=quiet) as (on_step, on_case):
        train_multicenter([data[c] for c in "ABC"], out / "base", config_name=config, version="1.0",
                          settings=replace(TrainSettings(), steps=train_steps, seed=seed), device=device,
                          overwrite=overwrite, on_step=on_step, on_case=on_case)
    lap("train")
    (out / "hub-data").mkdir(parents=True, exist_ok=True)
    with LoopbackHub(out / "hub-data") as hub:
        hub.cli("publish", out / "base", "--version", "1.0", "--notes", "demo base model (A, B, C)")
        publish_fingerprints(hub, data, "ABC")
        token_d = hub.cli("sites", "add", "--center", "D", "--name", "demo site D")["token"]
        token_e = hub.cli("sites", "add", "--center", "E", "--name", "demo site E")["token"]
        lap("hub")
        workdir = out / "site-D"
        site = init_site(hub.url, "D", token_d, workdir, force=True)
        pulled = pull(site, workdir)
        model, spec, manifest = load_model_dir(Path(pulled.path), device=device)
        encoder = note_encoder(spec)
        ranking = rank_routers(model, spec, encoder, site_samples(data["D"], spec, center="D", limit=3),
                               device=device)
        save_local_ranking(workdir, manifest.version, data["D"], ranking)
        exchange = exchange_with_hub(site, manifest.version, ranking, data["D"])
        lap("select_router")
        settings = replace(FINETUNE_DEFAULTS, steps=finetune_steps, seed=seed)
        tuned_dir = workdir / "finetuned" / f"{manifest.version}+D"
        total = finetune_steps * 4  # three leave-one-out folds, then the final run
        with step_progress(total, label="site D: fine-tuning router D", quiet=quiet) as (on_step, on_case):
            result, before_after = finetune_to(
                tuned_dir, base=Path(pulled.path), data=data["D"], center="D", shots=3, init_router=ranking.best,
                shot_ids=[], settings=settings, groups=None, device=device, overwrite=True, stage=Stage(),
                on_step=on_step, on_case=on_case)
        if before_after is None:
            raise ValueError(f"{data['D']}: no labelled case is left over to evaluate the fine-tuned router on")
        lap("finetune_and_evaluate")
        plan = build_push(tuned_dir, "D")
        router_only = build_push(tuned_dir, "D", router_only=True)
        pushed, receipt = send_push(site, workdir, plan)
        with HubClient(hub.url, token_e) as client_e:
            advice = recommend_for(client_e, data["E"], manifest.version)
        lap("push_and_recommend")
        routers = hub.cli("routers", "list")
    return {
        "out": str(out), "config": config, "device": device, "hub_data": str(out / "hub-data"),
        "hub_url": hub.url, "site_config": str(workdir / "site.json"),
        "zero_shot": [{"router": s.router, "dice": s.mean_dice} for s in ranking.scores],
        "hub_recommendation_for_D": _top(exchange.recommendation),
        "zero_shot_cases": [c for c in ranking.scores[0].per_case],
        "init_router": ranking.best, "shots": result.shots, "held_out_cases": before_after["cases"],
        "held_out_case_ids": before_after["case_ids"],
        "dice_zero_shot": before_after["before"], "dice_finetuned": before_after["after"],
        "push": {"router_id": pushed.router.id, "receipt": str(receipt), "payload_bytes": len(plan.payload),
                 "router_only_bytes": len(router_only.payload), "model_bytes": plan.model_bytes,
                 "percent_of_model": plan.percent_of_model, "router_only_percent": router_only.percent_of_model},
        "recommendation_for_E": _top(advice),
        "hub_routers": [{"center": r["center"], "source": r["source"], "init_router": r["init_router"]}
                        for r in routers],
        "seconds": seconds,
    }


def _top(rec) -> dict | None:
    if rec is None or not rec.routers:
        return None
    best = rec.routers[0]
    return {"router": best.center, "score": best.score, "evidence": [e.value for e in best.evidence],
            "reasons": best.reasons}


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for the data, models and results.")] = Path("mome-demo"),
    config: Annotated[str, typer.Option("--config", help="Model config: mome_ro.small, or mome_ro.tiny for a "
                                                         "one-minute run.")] = "mome_ro.small",
    train_steps: Annotated[int, typer.Option("--train-steps", min=1, help="Base-model training steps.")] = 200,
    finetune_steps: Annotated[int, typer.Option("--finetune-steps", min=1, help="Fine-tuning steps.")] = 100,
    scale: Annotated[float, typer.Option("--scale", help="Synthetic patient size factor.")] = 0.8,
    seed: SeedOpt = 0,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    overwrite: OverwriteOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Run the closed-center workflow end to end on synthetic data (CPU is fine; minutes)."""
    with expected_errors():
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise FileExistsError(f"{out} is not empty; pass --overwrite or choose another --out")
        dev = choose_device(device, quiet=json_output, threads=threads)
        if not json_output:
            console.print(expected_duration(config, train_steps, finetune_steps), highlight=False)
        summary = run_demo(out, config=config, train_steps=train_steps, finetune_steps=finetune_steps, scale=scale,
                           seed=seed, device=dev, overwrite=overwrite, quiet=json_output)
        from site_agent.demo_report import write_report

        summary["report"] = str(write_report(summary, out))
    if json_output:
        emit_json(summary)
        return
    render_summary(summary)


REFERENCE_SECONDS = {"train": 99.0, "finetune_and_evaluate": 91.0, "other": 20.0}
"""The demo's defaults (mome_ro.small, 200 + 100 steps) measured on a quiet 2-core CPU (README)."""


def expected_duration(config: str, train_steps: int, finetune_steps: int) -> str:
    """One line saying about how long the demo will take, scaled from the measured reference run."""
    if config != "mome_ro.small":
        return f"config {config}: no reference timing; progress is shown as it goes"
    ref = REFERENCE_SECONDS
    seconds = ref["train"] * train_steps / 200 + ref["finetune_and_evaluate"] * finetune_steps / 100 + ref["other"]
    return (f"expected: about {max(1, round(seconds / 60))} min on a quiet 2-core CPU (longer on a busy machine; "
            "--threads sets the CPU threads); progress is shown as it goes")


def render_summary(summary: dict) -> None:
    """The story in one table and a few lines."""
    table = Table(title="closed center D: zero-shot router vs its own fine-tuned router")
    for col in ("", "router", f"Dice on {summary['held_out_cases']} held-out cases [95% CI]"):
        table.add_column(col)
    for label, key in (("zero-shot", "dice_zero_shot"), ("fine-tuned (3 shots)", "dice_finetuned")):
        d = summary[key]
        table.add_row(label, d["router"], f"{d['mean']:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]")
    results.print(table)
    p = summary["push"]
    results.print(f"pushed router D + experts: {p['payload_bytes']:,} of {p['model_bytes']:,} model bytes "
                  f"({p['percent_of_model']:.1f}%); router alone would be {p['router_only_bytes']:,} bytes "
                  f"({p['router_only_percent']:.2f}%). No image, mask, note or per-case result left the site.",
                  highlight=False)
    ranking = ", ".join(f"{z['router']} {z['dice']:.3f}" for z in summary["zero_shot"])
    results.print(f"zero-shot ranking at D: {ranking}", highlight=False)
    rec = summary["recommendation_for_E"]
    if rec:
        results.print(f"hub's advice for new site E: start from router {rec['router']} "
                      f"({'; '.join(rec['reasons'][:2])})", highlight=False)
    results.print(f"hub stopped; its data folder is {summary['hub_data']}", highlight=False)
    results.print(f"report with figures and the commands to go on: {summary['report']}", highlight=False)
