"""``site-agent demo``: the whole closed-center story on synthetic data, locally, on embedded defaults.

Generates centers A-C and a closed center D, trains a base model on A-C, ranks the routers
zero-shot on D, fine-tunes D's own router from 3 cases, evaluates before and after on D's
held-out cases, and reports how many bytes a push would send against the whole model.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from models.data.synthetic.generator import generate_center
from models.text import shared_text_encoder
from models.training.evaluate import evaluate_samples
from models.training.finetune import FINETUNE_DEFAULTS, finetune_center
from models.training.loop import TrainSettings
from models.training.select_router import rank_routers
from models.training.train import train_multicenter
from models.weights import load_model_dir, manifest_bytes
from site_agent.console import console, emit_json, expected_errors
from site_agent.local_data import site_samples
from site_agent.options import DeviceOpt, JsonOpt, OverwriteOpt, SeedOpt, choose_device
from site_agent.training_ui import step_progress

CENTERS = {"A": 8, "B": 4, "C": 4, "D": 8}


def push_bytes(model_dir: Path, center: str) -> dict[str, int]:
    """Bytes of the whole model, of experts + router.<center>, and of the router alone."""
    _, _, manifest = load_model_dir(model_dir)
    sizes = {f.name: f.size for f in manifest.files}
    router = sizes.get(f"router.{center}.safetensors", 0)
    return {"model": manifest_bytes(manifest), "experts_and_router": router + sizes.get("experts.safetensors", 0),
            "router_only": router}


def run_demo(out: Path, *, config: str, train_steps: int, finetune_steps: int, scale: float, seed: int,
             device: str, overwrite: bool, quiet: bool) -> dict:
    """Run every step and return the summary."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    for code, n in CENTERS.items():
        generate_center(code, n, out / "data" / code, seed=seed, scale=scale, overwrite=overwrite)
    timings["synthesise"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with step_progress(train_steps, label="training base on A, B, C", quiet=quiet) as (on_step, on_case):
        train_multicenter([out / "data" / c for c in "ABC"], out / "base", config_name=config,
                          settings=replace(TrainSettings(), steps=train_steps, seed=seed), device=device,
                          overwrite=overwrite, on_step=on_step, on_case=on_case)
    timings["train"] = time.perf_counter() - t0
    model, spec, manifest = load_model_dir(out / "base", device=device)
    encoder = shared_text_encoder(spec.text_encoder, spec.max_note_tokens)
    t0 = time.perf_counter()
    samples = site_samples(out / "data" / "D", spec, center="D")
    ranking = rank_routers(model, spec, encoder, samples[:3], device=device)
    timings["select_router"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    settings = replace(FINETUNE_DEFAULTS, steps=finetune_steps, seed=seed)
    with step_progress(finetune_steps, label="fine-tuning router D", quiet=quiet) as (on_step, on_case):
        result = finetune_center(out / "base", out / "data" / "D", out / "site-D", center="D", shots=3,
                                 init_router=ranking.best, settings=settings, device=device, overwrite=overwrite,
                                 on_step=on_step, on_case=on_case)
    timings["finetune"] = time.perf_counter() - t0
    held_out = [s for s in samples if s.case_id in set(result.held_out)]
    tuned, _, tuned_manifest = load_model_dir(out / "site-D", device=device)
    before = evaluate_samples(model, spec, encoder, held_out, router=ranking.best, model_version=manifest.version,
                              device=device)
    after = evaluate_samples(tuned, spec, encoder, held_out, router="D", model_version=tuned_manifest.version,
                             device=device)
    return {
        "out": str(out), "config": config, "device": device,
        "zero_shot": [{"router": s.router, "dice": s.mean_dice} for s in ranking.scores],
        "init_router": ranking.best, "shots": result.shots, "held_out_cases": len(held_out),
        "dice_zero_shot": before.dice.model_dump(), "dice_finetuned": after.dice.model_dump(),
        "bytes": push_bytes(out / "site-D", "D"), "seconds": timings,
    }


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for the data, models and results.")] = Path("mome-demo"),
    config: Annotated[str, typer.Option("--config", help="Model config: mome_ro.small, or mome_ro.tiny for a "
                                                         "one-minute run.")] = "mome_ro.small",
    train_steps: Annotated[int, typer.Option("--train-steps", min=1, help="Base-model training steps.")] = 300,
    finetune_steps: Annotated[int, typer.Option("--finetune-steps", min=1, help="Fine-tuning steps.")] = 150,
    scale: Annotated[float, typer.Option("--scale", help="Synthetic patient size factor.")] = 1.0,
    seed: SeedOpt = 0,
    device: DeviceOpt = None,
    overwrite: OverwriteOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Run the closed-center workflow end to end on synthetic data (CPU is fine; minutes)."""
    with expected_errors():
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise FileExistsError(f"{out} is not empty; pass --overwrite or choose another --out")
        dev = choose_device(device, quiet=json_output)
        summary = run_demo(out, config=config, train_steps=train_steps, finetune_steps=finetune_steps, scale=scale,
                           seed=seed, device=dev, overwrite=overwrite, quiet=json_output)
    if json_output:
        emit_json(summary)
        return
    table = Table(title="closed center D: zero-shot router vs its own fine-tuned router")
    for col in ("", "router", f"Dice on {summary['held_out_cases']} held-out cases [95% CI]"):
        table.add_column(col)
    for label, key, router in (("zero-shot", "dice_zero_shot", summary["init_router"]),
                               ("fine-tuned (3 shots)", "dice_finetuned", "D")):
        d = summary[key]
        table.add_row(label, router, f"{d['mean']:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]")
    console.print(table)
    b = summary["bytes"]
    console.print(f"push: experts + router D = {b['experts_and_router']:,} bytes "
                  f"({b['experts_and_router'] / b['model']:.1%} of the model), router only = {b['router_only']:,} "
                  f"bytes ({b['router_only'] / b['model']:.2%}); model = {b['model']:,} bytes", highlight=False)
    ranking = ", ".join(f"{z['router']} {z['dice']:.3f}" for z in summary["zero_shot"])
    console.print(f"zero-shot ranking: {ranking}", highlight=False)
    console.print(f"everything is in {out}/", highlight=False)
