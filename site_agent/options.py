"""Command-line options shared by several site-agent commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from site_agent.console import console

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout (progress stays on stderr).")
]
DeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device", help="'cpu', 'cuda' or 'cuda:N'. Default: the NVIDIA GPU with most free memory, else CPU."
    ),
]
ModelOpt = Annotated[Path, typer.Option("--model", help="Model directory (manifest.json + safetensors files).")]
DataOpt = Annotated[Path, typer.Option("--data", help="Dataset folder with a dataset.json (MSD / nnU-Net style).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same result.")]
StepsOpt = Annotated[
    int | None, typer.Option("--steps", min=1, help="Optimisation steps (default: the command's own).")
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option("--threads", min=1, max=256, help="CPU threads for torch. Default: the cores not already busy "
                 "(by the 1-minute load average), at least 1; on a shared machine fewer threads often run faster."),
]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder.")]


def check_out_free(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, an ``--out`` folder that is a file or not empty (unless ``--overwrite``)."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"--out {out} already exists and is not empty; pass --overwrite to replace it or "
                              "choose another --out")


def choose_device(requested: str | None, *, quiet: bool = False, threads: int | None = None) -> str:
    """Resolve ``--device`` and ``--threads`` and say which device runs, in one line."""
    from models.device import pick_device, set_torch_threads

    choice = pick_device(requested)
    n = set_torch_threads(threads)
    if not quiet:
        console.print(f"device: {choice.description}; {n} CPU thread{'s' if n > 1 else ''}", highlight=False)
    return choice.torch_device
