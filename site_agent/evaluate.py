"""``site-agent evaluate``: Dice, IoU, HD95, GPR with bootstrap CIs for one router."""

from __future__ import annotations

from typing import Annotated

import typer

from site_agent.console import emit_json, expected_errors, progress, results
from site_agent.local_data import default_router, site_samples
from site_agent.options import DataOpt, DeviceOpt, JsonOpt, ModelOpt, ThreadsOpt, choose_device


def evaluate_command(
    model: ModelOpt,
    data: DataOpt,
    router: Annotated[str | None, typer.Option(
        "--router", help="Router (center code) to use; default: the center the model was fine-tuned for.")] = None,
    include_used: Annotated[bool, typer.Option(
        "--include-used", help="Also score the cases the model was fine-tuned and validated on.")] = False,
    resamples: Annotated[int, typer.Option("--resamples", min=10, help="Bootstrap resamples for the CIs.")] = 1000,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Evaluate one router on the site's labelled cases, with 95% bootstrap confidence intervals.

    Cases used for fine-tuning (recorded in the model's lineage) are left out unless --include-used.
    Other families report their own metrics (`site-agent families`).
    """
    from site_agent import family_commands

    with expected_errors():
        family = family_commands.family_of_model(model)
        if family_commands.is_other_family(family):
            dev = choose_device(device, quiet=json_output, threads=threads)
            doc = family_commands.evaluate(model, data, router=router, device=dev)
    if family_commands.is_other_family(family):
        family_commands.print_or_json(doc, json_output=json_output,
                                      title=f"{family} model {doc['model_version']}, router {doc['router']}")
        return
    with expected_errors():
        from models.evaluation.report import render_table
        from models.registry import note_encoder
        from models.training.evaluate import evaluate_samples
        from models.weights import load_model_dir

        dev = choose_device(device, quiet=json_output, threads=threads)
        net, spec, manifest = load_model_dir(model, device=dev)
        router = router or default_router(net, manifest)
        exclude = [] if include_used else manifest.lineage.cases
        with progress(transient=json_output) as bar:
            task = bar.add_task(f"evaluating router {router}", total=None, info="")
            samples = site_samples(data, spec, center=router, exclude=exclude)
            bar.update(task, total=len(samples))
            report = evaluate_samples(net, spec, note_encoder(spec),
                                      samples, router=router, model_version=manifest.version, device=dev,
                                      n_resamples=resamples, on_case=lambda cid: bar.update(task, advance=1, info=cid))
    if json_output:
        emit_json(report.model_dump(mode="json"))
    else:
        results.print(render_table(report))
