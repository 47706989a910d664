"""``site-agent families``, ``explain`` and ``ask``: what the registry holds, and the commands only some
families have (modality explanations for classifiers, answers for question-answering models)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from site_agent.console import emit_json, expected_errors, progress, results
from site_agent.options import (
    DataOpt,
    DeviceOpt,
    JsonOpt,
    ModelOpt,
    OverwriteOpt,
    ThreadsOpt,
    check_out_free,
    choose_device,
)

RouterOpt = Annotated[str | None, typer.Option(
    "--router", help="Router (center code) to use; default: the center the model was fine-tuned for, else its first.")]


def describe_families() -> list[dict[str, Any]]:
    """Every registered family with its declarations: task, metrics, groups (shareable or not), configs, methods."""
    from models.families import families
    from models.registry import get_spec, list_models

    out = []
    for name, fam in sorted(families().items()):
        presets = sorted(getattr(fam.load_runner(), "PRESETS", {})) if name != "mome_ro" else ["A", "B", "C", "D",
                                                                                               "E", "F"]
        out.append({"family": name, "task": fam.task, "description": fam.description, "metrics": list(fam.metrics),
                    "methods": list(fam.methods), "groups": list(fam.groups),
                    "shareable_groups": [*fam.shareable_groups, "router.<CENTER>"],
                    "configs": {c: get_spec(c).description for c in list_models(name)},
                    "presets": presets, "data_contract": fam.data_contract})
    return out


def families_command(json_output: JsonOpt = False) -> None:
    """List the model families this agent can train and adapt: configs, methods, presets, and which weight groups
    may leave the site (router.<CENTER> always; the rest as each family declares)."""
    with expected_errors():
        docs = describe_families()
    if json_output:
        emit_json(docs)
        return
    table = Table(title="model families")
    for col in ("family", "task", "configs", "methods", "leaves the site", "stays", "synth presets"):
        table.add_column(col, overflow="fold")
    for d in docs:
        stays = [g for g in d["groups"] if g not in d["shareable_groups"] and g != "router"]
        table.add_row(d["family"], d["task"], ", ".join(d["configs"]), ", ".join(d["methods"]),
                      ", ".join(d["shareable_groups"]), ", ".join(stays), ", ".join(d["presets"]))
    results.print(table)
    for d in docs:
        results.print(f"[bold]{d['family']}[/]: {d['description']}. Data: {d['data_contract']}", highlight=False)


def explain_command(
    model: ModelOpt,
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", help="Folder for per-case explanations (JSON + saliency PNGs).")],
    router: RouterOpt = None,
    overwrite: OverwriteOpt = False,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Explain a classifier's decisions: each sequence's exact Shapley contribution per case (over every subset of
    the sequences) and globally, plus an integrated-gradients saliency overlay per case."""
    from site_agent import family_commands

    with expected_errors():
        check_out_free(out, overwrite)
        dev = choose_device(device, quiet=json_output, threads=threads)
        with progress(transient=json_output) as bar:
            task = bar.add_task("explaining cases", total=None, info="")
            doc = family_commands.explain(model, data, out, router=router, device=dev, on_case=lambda case, total:
                                          bar.update(task, advance=1, total=total, info=case))
    if json_output:
        emit_json(doc)
        return
    global_ = doc.get("global") or {}
    if global_:
        table = Table(title=f"mean Shapley contribution per sequence ({doc.get('n_cases', '?')} cases)")
        table.add_column("sequence")
        table.add_column("contribution", justify="right")
        for key, value in global_.items():
            table.add_row(key, f"{value:.4f}" if isinstance(value, int | float) else str(value))
        results.print(table)
    results.print(f"[green]wrote explanations to {out}[/]", highlight=False)


def ask_command(
    model: ModelOpt,
    question: Annotated[str, typer.Option("--question", help="The question, in words, e.g. 'How large is the "
                                                             "enhancing tumour?'")],
    image: Annotated[list[str], typer.Option(
        "--image", help="SEQUENCE=FILE per sequence of the case, e.g. --image t1=t1.nii.gz; repeat per sequence.")],
    router: RouterOpt = None,
    device: DeviceOpt = None,
    threads: ThreadsOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Answer one question about one case with a question-answering model; out-of-scope questions are refused."""
    from site_agent import family_commands

    with expected_errors():
        images = parse_images(image)
        dev = choose_device(device, quiet=json_output, threads=threads)
        doc = family_commands.ask(model, images, question, router=router, device=dev)
    if json_output:
        emit_json(doc)
    elif doc.get("refused"):
        results.print(f"[yellow]refused:[/] {doc.get('answer')}", highlight=False)
    else:
        results.print(str(doc.get("answer")), highlight=False)


def parse_images(items: list[str]) -> dict[str, Path]:
    """``SEQUENCE=FILE`` pairs to a mapping; each file must exist and each sequence appear once."""
    images: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ValueError(f"--image {item!r} is not SEQUENCE=FILE, e.g. t1=case/t1.nii.gz")
        key = name.strip().lower()
        if key in images:
            raise ValueError(f"--image names sequence {key!r} twice")
        file = Path(path.strip())
        if not file.is_file():
            raise FileNotFoundError(f"--image {key}={file}: no such file")
        images[key] = file
    return images
