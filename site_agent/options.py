"""Command-line options shared by several site-agent commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.device import pick_device
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
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder.")]


def choose_device(requested: str | None, *, quiet: bool = False) -> str:
    """Resolve ``--device`` and say which device runs, in one line."""
    choice = pick_device(requested)
    if not quiet:
        console.print(f"device: {choice.description}", highlight=False)
    return choice.torch_device
