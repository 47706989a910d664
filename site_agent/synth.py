"""`site-agent synth`: write a synthetic center dataset (seed 000 presets A-E or a preset JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from site_agent.console import emit_json, expected_errors, progress, results
from site_agent.options import check_out_free

__all__ = ["synth", "synth_command"]


def synth(center: str, cases: int, out: Path, seed: int = 0, scale: float = 1.0, overwrite: bool = False,
          on_case: Any = None, *, randomize: bool = False, renderer: str = "standard",
          risk_mix: str = "center") -> dict[str, Any]:
    """Generate ``cases`` patients of ``center`` into ``out``; returns a summary."""
    from models.data.dataset import load_dataset
    from models.data.synthetic import RENDERERS, generate_center
    from models.data.synthetic.notes import RISK_MIXES

    check_out_free(Path(out), overwrite)
    if cases < 1:
        raise ValueError(f"--cases must be at least 1, got {cases}")
    if scale <= 0:
        raise ValueError(f"--scale must be positive, got {scale}")
    if renderer not in RENDERERS:
        raise ValueError(f"--renderer must be standard (training data) or variant (held-out robustness test), "
                         f"got {renderer!r}")
    if risk_mix not in RISK_MIXES:
        raise ValueError(f"--risk-mix must be center (the center's own mix) or balanced (every policy-deciding "
                         f"risk group in turn), got {risk_mix!r}")
    root = generate_center(center, cases, out, seed=seed, scale=scale, overwrite=overwrite, progress=on_case,
                           randomize=randomize, renderer=renderer, risk_mix=risk_mix)
    dataset = load_dataset(root)
    intents: dict[str, int] = {}
    for case in dataset.training:
        intents[case.intent or "unknown"] = intents.get(case.intent or "unknown", 0) + 1
    return {"out": str(root), "center": dataset.center, "cases": len(dataset.training), "seed": seed,
            "scale": scale, "scanner": dataset.scanner, "intents": intents, "randomized": randomize,
            "renderer": renderer, "risk_mix": risk_mix}


def synth_family(family: str, preset: str, cases: int, out: Path, *, seed: int = 0,
                 overwrite: bool = False) -> dict[str, Any]:
    """A synthetic dataset of another family from one of its presets (its runner's ``synth``)."""
    import shutil

    from models.families import get_family

    runner = get_family(family).load_runner()
    presets = getattr(runner, "PRESETS", {})
    if preset not in presets:
        raise ValueError(f"--center {preset!r} is not a {family} preset; choose one of {', '.join(sorted(presets))}")
    if cases < 1:
        raise ValueError(f"--cases must be at least 1, got {cases}")
    if overwrite and Path(out).is_dir():
        shutil.rmtree(out)
    summary = runner.synth(Path(out), center=preset, cases=cases, seed=seed, preset=preset)
    return {"family": family, "out": str(out), **summary}


def synth_command(
    center: Annotated[str, typer.Option(
        "--center", help="Center preset code (MoME-RO: A-F or the path of a preset JSON; other families: their "
                         "presets, listed by `site-agent families`).")],
    out: Annotated[Path, typer.Option("--out", help="Output dataset folder (must be empty or absent).")],
    cases: Annotated[int, typer.Option("--cases", help="Number of patients to generate.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same data.")] = 0,
    scale: Annotated[float, typer.Option("--scale", help="Patient and field-of-view size factor (0.5 = small).")] = 1.0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty output folder.")] = False,
    randomize: Annotated[bool, typer.Option(
        "--randomize/--no-randomize",
        help="Domain randomisation for training: each patient draws its own shapes, tissue values, textures, "
             "field of view, bowel gas, bladder contrast, hip metal and scanner noise, so a model must learn "
             "anatomy rather than this generator's look.")] = False,
    renderer: Annotated[str, typer.Option(
        "--renderer",
        help="standard: the training renderer. variant: a held-out renderer (other tissue values, correlated "
             "noise, elastically deformed organs, other spacing, flipped orientation) to test robustness; "
             "never train on it.")] = "standard",
    risk_mix: Annotated[str, typer.Option(
        "--risk-mix",
        help="center: risk groups as the center's clinical mix draws them. balanced: patients cycle through "
             "low, intermediate, high, very high and node-positive, so every policy branch is seen.")] = "center",
    family: Annotated[str, typer.Option(
        "--family", help="Model family whose data to make: mome_ro (pelvic CT + notes), m4oe (abdominal CT/MR), "
                         "mome_breast (multiparametric breast MRI), mpllm (brain MRI + questions).")] = "mome_ro",
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
) -> None:
    """Generate a synthetic center dataset in the dataset.json contract (default: multi-center pelvic CT)."""
    with expected_errors():
        check_out_free(out, overwrite)
        if family != "mome_ro":
            summary = synth_family(family, center, cases, out, seed=seed, overwrite=overwrite)
    if family != "mome_ro":
        if json_output:
            emit_json(summary)
        else:
            results.print(f"[green]wrote {summary.get('cases', cases)} {family} cases of {center} to {out}[/]",
                          highlight=False)
        return
    with expected_errors(), progress(transient=json_output) as bar:
        task = bar.add_task(f"center {center}", total=cases, info="")
        summary = synth(center, cases, out, seed=seed, scale=scale, overwrite=overwrite,
                        on_case=lambda done, total: bar.update(task, completed=done), randomize=randomize,
                        renderer=renderer, risk_mix=risk_mix)
    if json_output:
        emit_json(summary)
    else:
        results.print(f"[green]wrote {summary['cases']} cases of center {summary['center']} to {summary['out']}[/]",
                      highlight=False)
