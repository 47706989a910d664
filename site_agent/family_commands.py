"""The site agent's commands for model families other than MoME-RO (M4oE, MOME breast, mpLLM...).

Each family's runner (``ModelFamily.runner``) does the model work; this module resolves the
model, the device and the output folder, writes the model atomically with its lineage, and
prints results (a table, or ``--json``). MoME-RO keeps its own richer commands.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from site_agent.console import emit_json, results
from site_agent.training_ui import step_progress

if TYPE_CHECKING:
    from models.families import ModelFamily

DEFAULT_FAMILY = "mome_ro"


def family_of_model(model_dir: Path) -> str:
    """The family a model directory's manifest names; MoME-RO's when it has no readable manifest, so that the
    command's own checks (of ``--out``, of the inputs) still come first and the loader names the fault."""
    from models.weights import WeightsError, read_manifest

    try:
        return read_manifest(Path(model_dir)).family
    except WeightsError:
        return DEFAULT_FAMILY


def family_of_config(config_name: str) -> str:
    """The family of a registered config name such as ``m4oe.tiny``."""
    from models.registry import get_spec

    return get_spec(config_name).family


def is_other_family(family: str) -> bool:
    """True for the families served by this module's generic commands."""
    return family != DEFAULT_FAMILY


def _family(name: str) -> ModelFamily:
    from models.families import get_family

    return get_family(name)


def _runner_function(family: ModelFamily, name: str) -> Any:
    runner = family.load_runner()
    fn = getattr(runner, name, None)
    if fn is None:
        raise ValueError(f"model family {family.name} ({family.task}) has no {name.replace('_', '-')} command")
    return fn


def _finite_metrics(summary: dict[str, Any], suffix: str = "") -> dict[str, float]:
    """Flat ``{metric: mean}`` of a runner summary, finite numbers only (what a manifest or push may carry)."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        number = value.get("mean", value.get("value")) if isinstance(value, dict) else value
        if isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number):
            out[f"{key}{suffix}"] = float(number)
    return out


def summary_table(title: str, summary: dict[str, Any]) -> Table:
    """A metric table: value and 95% CI per metric of a runner's summary."""
    table = Table(title=title)
    for col in ("metric", "value", "95% CI"):
        table.add_column(col)
    for key, value in summary.items():
        if isinstance(value, dict):
            number = value.get("mean", value.get("value"))
            ci = value.get("ci")
            table.add_row(key, _fmt(number), f"[{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "-")
        elif isinstance(value, int | float):
            table.add_row(key, _fmt(value), "-")
    return table


def _fmt(value: Any) -> str:
    return "n/a" if not isinstance(value, int | float) or value != value else f"{value:.3f}"


def train(config_name: str, data: list[Path], centers: list[str], out: Path, *, method: str | None, steps: int | None,
          lr: float, seed: int, version: str, device: Any, overwrite: bool, quiet: bool) -> dict[str, Any]:
    """Train a model of any family over several centers' datasets and save it as a model directory."""
    from models.registry import get_spec
    from models.weights import save_model_dir
    from protocols import Lineage

    spec = get_spec(config_name)
    family = _family(spec.family)
    method = method or family.methods[0]
    if method not in family.methods:
        raise ValueError(f"--method must be one of {', '.join(family.methods)} for family {family.name}, "
                         f"got {method!r}")
    runner = family.load_runner()
    centers = centers or [_dataset_center(d) for d in data]
    if len(centers) != len(data):
        raise ValueError(f"give one --center per --data ({len(data)} datasets, {len(centers)} centers)")
    steps = steps or runner.DEFAULT_STEPS
    with step_progress(steps, label=f"training {config_name} ({method})", quiet=quiet) as (on_step, _):
        model, history = runner.train(spec, list(data), list(centers), method=method, steps=steps, lr=lr, seed=seed,
                                      device=device, on_step=lambda step, loss: on_step(step, loss, None))
    metrics = _finite_metrics(history.get("summary", history))
    manifest = save_model_dir(model.cpu(), spec, out, version=version, overwrite=overwrite,
                              lineage=Lineage(metrics=metrics, notes=f"trained by site-agent train ({method})"))
    return {"model": str(out), "family": family.name, "config": config_name, "version": manifest.version,
            "method": method, "centers": manifest.centers, "steps": steps, "history": _jsonable(history)}


def _dataset_center(folder: Path) -> str:
    path = Path(folder) / "dataset.json"
    try:
        center = json.loads(path.read_text()).get("center")
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read as JSON ({exc}); give --center") from None
    if not isinstance(center, str):
        raise ValueError(f"{path} names no 'center'; give --center for it")
    return center


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def load(model_dir: Path, device: Any) -> tuple[Any, Any, Any, ModelFamily]:
    """Verify and load a model directory of any family."""
    from models.weights import load_model_dir

    net, spec, manifest = load_model_dir(model_dir, device=device)
    return net, spec, manifest, _family(spec.family)


def select_router(model_dir: Path, data: Path, *, shots: int | None, device: Any) -> dict[str, Any]:
    """Zero-shot: every router of the model scored on the site's labelled cases, best first."""
    net, spec, manifest, family = load(model_dir, device)
    ranking = _runner_function(family, "select_router")(net, spec, data, shots=shots or 3, device=device)
    return {"model_version": manifest.version, "family": family.name, "best": ranking[0]["router"] if ranking else None,
            "ranking": _jsonable(ranking)}


def evaluate(model_dir: Path, data: Path, *, router: str | None, device: Any) -> dict[str, Any]:
    """The family's metrics with bootstrap CIs for one router on a labelled dataset."""
    net, spec, manifest, family = load(model_dir, device)
    router = router or manifest.lineage.center or (net.routers[0] if net.routers else manifest.centers[0])
    report = _runner_function(family, "evaluate")(net, spec, data, center=router, device=device)
    return {"model_version": manifest.version, "family": family.name, "router": router} | _jsonable(report)


def predict(model_dir: Path, data: Path, out: Path, *, router: str | None, device: Any) -> dict[str, Any]:
    """Predictions for every case of a dataset, written under ``out``."""
    net, spec, manifest, family = load(model_dir, device)
    router = router or manifest.lineage.center or (net.routers[0] if net.routers else manifest.centers[0])
    rows = _runner_function(family, "predict")(net, spec, data, out, center=router, device=device)
    return {"model_version": manifest.version, "family": family.name, "router": router, "out": str(out),
            "cases": _jsonable(rows)}


def finetune(model_dir: Path, data: Path, out: Path, *, center: str, shots: int, steps: int | None,
             init_router: str | None, seed: int, device: Any, overwrite: bool, quiet: bool) -> dict[str, Any]:
    """Closed-center few-shot fine-tuning: a new gate for ``center``, encoder frozen, saved with its lineage."""
    from models.weights import save_model_dir
    from protocols import Lineage

    net, spec, manifest, family = load(model_dir, device)
    runner = family.load_runner()
    init_router = (init_router or "").removeprefix("router.") or (net.routers[0] if net.routers else None)
    steps = steps or getattr(runner, "FINETUNE_STEPS", runner.DEFAULT_STEPS)
    with step_progress(steps, label=f"fine-tuning router {center}", quiet=quiet) as (on_step, _):
        tuned, outcome = runner.finetune(net, spec, data, center=center, shots=shots, steps=steps,
                                         init_from=init_router, seed=seed, device=device,
                                         on_step=lambda step, loss: on_step(step, loss, None))
    metrics = {**_finite_metrics(outcome.get("before", {}), "_before"),
               **_finite_metrics(outcome.get("after", {}), "_after")}
    lineage = Lineage(base_version=manifest.version, init_router=f"router.{init_router}" if init_router else None,
                      center=center, shots=shots, cases=[str(c) for c in outcome.get("cases", [])], metrics=metrics,
                      notes="fine-tuned by site-agent finetune")
    saved = save_model_dir(tuned.cpu(), spec, out, version=f"{manifest.version}+{center}", lineage=lineage,
                           overwrite=overwrite)
    return {"model": str(out), "family": family.name, "version": saved.version, "center": center,
            "init_router": init_router, "shots": shots, "steps": steps, "outcome": _jsonable(outcome)}


def explain(model_dir: Path, data: Path, out: Path, *, router: str | None, device: Any,
            on_case: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Per-case modality contributions (Shapley) and saliency overlays, for families that explain;
    ``on_case(case_id, total)`` follows each case."""
    net, spec, manifest, family = load(model_dir, device)
    router = router or manifest.lineage.center or (net.routers[0] if net.routers else manifest.centers[0])
    doc = _runner_function(family, "explain")(net, spec, data, out, center=router, device=device, on_case=on_case)
    return {"model_version": manifest.version, "family": family.name, "router": router, "out": str(out)} | \
        _jsonable(doc)


def ask(model_dir: Path, images: dict[str, Path], question: str, *, router: str | None, device: Any) -> dict[str, Any]:
    """One answer to one question about one case, for families that answer questions."""
    net, spec, manifest, family = load(model_dir, device)
    router = router or manifest.lineage.center or (net.routers[0] if net.routers else manifest.centers[0])
    answer = _runner_function(family, "ask")(net, spec, images, question, center=router, device=device)
    return {"model_version": manifest.version, "family": family.name, "router": router} | _jsonable(answer)


def print_or_json(doc: dict[str, Any], *, json_output: bool, title: str) -> None:
    """``--json`` prints the document; otherwise a metric table of its summary, or its fields."""
    if json_output:
        emit_json(doc)
        return
    summary = doc.get("summary") or (doc.get("outcome") or {}).get("after") or (doc.get("history") or {}).get("summary")
    if isinstance(summary, dict) and summary:
        results.print(summary_table(title, summary))
    for key in ("model", "version", "router", "best", "out", "answer"):
        if doc.get(key) is not None:
            results.print(f"{key}: {doc[key]}", highlight=False)
    if doc.get("ranking"):
        table = Table(title=title)
        table.add_column("rank")
        table.add_column("router")
        table.add_column("score", justify="right")
        for i, row in enumerate(doc["ranking"], 1):
            table.add_row(str(i), str(row.get("router")), _fmt(row.get("score")))
        results.print(table)
