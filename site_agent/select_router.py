"""``site-agent select-router``: rank every existing router on the site's labelled cases.

With a site config (``site-agent init``) the model defaults to the newest pulled version, the
ranking is kept in the workdir for ``finetune``, per-router Dice and the case count are
reported to the hub (unless ``--no-report``) and the hub's recommendation is shown beside it.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from site_agent.config import WorkdirOpt, find_config, resolve_workdir
from site_agent.console import console, emit_json, expected_errors, progress, results
from site_agent.local_data import site_samples
from site_agent.options import DataOpt, DeviceOpt, JsonOpt, ThreadsOpt, choose_device
from site_agent.pull import hub_origin, newest_pulled
from site_agent.report import HubExchange, exchange_with_hub, save_local_ranking

OptionalModelOpt = Annotated[Path | None, typer.Option(
    "--model", help="Model directory (manifest.json + safetensors files); default: the newest pulled version.")]


def default_model(model: Path | None, workdir: Path | None) -> Path:
    """``--model``, else the newest version pulled into the site workdir."""
    if model is not None:
        return model
    wd = resolve_workdir(workdir)
    if find_config(wd) is None:
        raise ValueError(f"give --model DIR, or enrol the site (`site-agent init`, no config in {wd}) and pull")
    pulled = newest_pulled(wd)
    if pulled is None:
        raise FileNotFoundError(f"no model version pulled into {wd / 'models'} yet; run `site-agent pull`")
    return pulled


def select_router_command(
    data: DataOpt,
    model: OptionalModelOpt = None,
    cases: Annotated[int | None, typer.Option("--cases", min=1, help="Use at most this many labelled cases.")] = None,
    no_report: Annotated[bool, typer.Option(
        "--no-report", help="Keep the result local: do not report per-router Dice and case count to the hub.")] = False,
    workdir: WorkdirOpt = None,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Zero-shot router selection: score every router by Dice on local labelled cases, best first.

    The image encoder runs once per case for all routers. Without a site config nothing leaves
    the site; with one, only each router's mean Dice and the case count are reported.
    """
    exchange: HubExchange | None = None
    from site_agent import family_commands

    with expected_errors():
        model = default_model(model, workdir)
        family = family_commands.family_of_model(model)
        if family_commands.is_other_family(family):
            dev = choose_device(device, quiet=json_output, threads=threads)
            doc = family_commands.select_router(model, data, shots=cases, device=dev)
    if family_commands.is_other_family(family):
        family_commands.print_or_json(doc, json_output=json_output, title=f"routers of {doc['model_version']}")
        return
    with expected_errors():
        from models.registry import note_encoder
        from models.training.select_router import rank_routers
        from models.weights import load_model_dir

        model = default_model(model, workdir)
        dev = choose_device(device, quiet=json_output, threads=threads)
        net, spec, manifest = load_model_dir(model, device=dev)
        with progress(transient=json_output) as bar:
            task = bar.add_task("scoring routers", total=None, info="")
            samples = site_samples(data, spec, center="local", limit=cases)
            bar.update(task, total=len(samples))
            ranking = rank_routers(net, spec, note_encoder(spec), samples,
                                   device=dev, on_case=lambda cid: bar.update(task, advance=1, info=cid))
        wd = resolve_workdir(workdir)
        config = find_config(wd)
        origin = hub_origin(model)
        if config is not None:
            save_local_ranking(wd, manifest.version, data, ranking)
            if origin is not None and origin.get("key_id") == config.signing.key_id:  # pulled from this hub
                exchange = exchange_with_hub(config, manifest.version, ranking, data, send_report=not no_report)
    if json_output:
        emit_json({"model_version": manifest.version, "n_cases": ranking.n_cases, "seconds": ranking.seconds,
                   "best": ranking.best, "ranking": [asdict(s) for s in ranking.scores],
                   "hub": exchange.to_json() if exchange else None})
        return
    table = Table(title=f"routers of {manifest.version} on {ranking.n_cases} local cases")
    table.add_column("rank")
    table.add_column("router")
    table.add_column("mean Dice", justify="right")
    hub_rank = {r.center: r for r in exchange.recommendation.routers} if exchange and exchange.recommendation else {}
    if hub_rank:
        table.add_column("hub rank")
        table.add_column("hub's reasons", overflow="fold")
    for i, s in enumerate(ranking.scores, 1):
        extra = [str(hub_rank[s.router].rank), "; ".join(hub_rank[s.router].reasons)] if s.router in hub_rank else \
            (["-", "-"] if hub_rank else [])
        table.add_row(str(i), s.router, f"{s.mean_dice:.3f}", *extra)
    results.print(table)
    results.print(f"best: router {ranking.best} ({ranking.seconds:.1f} s)", highlight=False)
    if exchange is None:
        return
    if exchange.report:
        results.print(f"reported to the hub: mean Dice of {exchange.report.stored} routers over {ranking.n_cases} "
                      "cases (nothing else)", highlight=False)
    elif exchange.report_error:
        console.print(f"[yellow]warning:[/] not reported: {exchange.report_error}", highlight=False)
    else:
        results.print("not reported (--no-report)", highlight=False)
    if exchange.recommendation_error:
        console.print(f"[yellow]warning:[/] no hub recommendation: {exchange.recommendation_error}", highlight=False)
    elif exchange.recommendation and exchange.recommendation.routers:
        top = exchange.recommendation.routers[0]
        results.print(f"hub recommends router {top.center} (score {top.score:.3f}); local best is {ranking.best}",
                      highlight=False)
