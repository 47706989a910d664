"""``site-agent select-router``: rank every existing router on the site's labelled cases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from models.text import shared_text_encoder
from models.training.select_router import rank_routers
from models.weights import load_model_dir
from site_agent.console import console, emit_json, expected_errors, progress
from site_agent.local_data import site_samples
from site_agent.options import DataOpt, DeviceOpt, JsonOpt, ModelOpt, choose_device


def select_router_command(
    model: ModelOpt,
    data: DataOpt,
    cases: Annotated[int | None, typer.Option("--cases", min=1, help="Use at most this many labelled cases.")] = None,
    device: DeviceOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Zero-shot router selection: score every router by Dice on local labelled cases, best first.

    The image encoder runs once per case for all routers. Nothing leaves the site.
    """
    with expected_errors():
        dev = choose_device(device, quiet=json_output)
        net, spec, manifest = load_model_dir(model, device=dev)
        with progress(transient=json_output) as bar:
            task = bar.add_task("scoring routers", total=None, info="")
            samples = site_samples(data, spec, center="local", limit=cases)
            bar.update(task, total=len(samples))
            ranking = rank_routers(net, spec, shared_text_encoder(spec.text_encoder, spec.max_note_tokens), samples,
                                   device=dev, on_case=lambda cid: bar.update(task, advance=1, info=cid))
    if json_output:
        emit_json({"model_version": manifest.version, "n_cases": ranking.n_cases, "seconds": ranking.seconds,
                   "best": ranking.best, "ranking": [asdict(s) for s in ranking.scores]})
        return
    table = Table(title=f"routers of {manifest.version} on {ranking.n_cases} local cases")
    table.add_column("rank")
    table.add_column("router")
    table.add_column("mean Dice", justify="right")
    for i, s in enumerate(ranking.scores, 1):
        table.add_row(str(i), s.router, f"{s.mean_dice:.3f}")
    console.print(table)
    console.print(f"best: router {ranking.best} ({ranking.seconds:.1f} s)", highlight=False)
