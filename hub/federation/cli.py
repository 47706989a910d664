"""``hub federate``: run federated rounds over a version's experts, simulated here or on a SuperLink."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from hub.cli_support import DataDirOpt, JsonOpt, handle_errors, settings_from


@handle_errors
def federate_command(
    version: Annotated[str | None, typer.Option(
        "--version", help="base model version whose experts are federated (default with --simulate: fed-base)")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="federated rounds")] = 2,
    min_sites: Annotated[int | None, typer.Option(
        "--min-sites", min=1, help="sites needed each round (default: all simulated sites, else 2)")] = None,
    simulate: Annotated[bool, typer.Option("--simulate", help="run synthetic sites in this process; --data-dir "
                                                              "is then a demo hub (made if fresh) with sites/ in it")]
    = False,
    sites: Annotated[str, typer.Option(help="with --simulate: comma-separated center presets")] = "D,E",
    fedprox_mu: Annotated[float, typer.Option("--fedprox-mu", min=0.0, help="> 0: FedProx with this proximal "
                                                                            "weight instead of FedAvg")] = 0.0,
    local_steps: Annotated[int, typer.Option(min=1, help="local optimisation steps per round")] = 20,
    lr: Annotated[float, typer.Option(help="local AdamW learning rate")] = 5e-4,
    dp_clip: Annotated[float, typer.Option(min=0.0, help="> 0: client-side DP, clip updates to this L2 norm")] = 0.0,
    dp_noise: Annotated[float, typer.Option(min=0.0, help="DP noise multiplier (with --dp-clip)")] = 0.0,
    draft_version: Annotated[str | None, typer.Option(help="name of the draft version to create")] = None,
    superlink: Annotated[str, typer.Option(help="without --simulate: SuperLink connection name for `flwr run`")]
    = "mome-hub",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="without --simulate: write the Flower app, print "
                                                            "the `flwr run` command, do not run it")] = False,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Federated averaging of a version's experts; the result becomes a DRAFT version with lineage."""
    from hub.federation.settings import FederationSettings

    codes = [c.strip() for c in sites.split(",") if c.strip()]
    settings = FederationSettings(
        hub_data_dir="", version=version or "", rounds=rounds,
        min_sites=min_sites or (len(codes) if simulate else 2), strategy="fedprox" if fedprox_mu > 0 else "fedavg",
        proximal_mu=fedprox_mu, local_steps=local_steps, lr=lr, dp_noise=dp_noise, dp_clip=dp_clip,
        draft_version=draft_version or "")
    if simulate:
        from hub.federation.simulate import SimulatedSite
        from hub.federation.simulate import simulate as run_simulation

        result = run_simulation(data_dir or Path("federation-demo"), [SimulatedSite(c) for c in codes], settings)
        summary = {"draft_version": result.draft_version, "rounds": result.reports}
        typer.echo(json.dumps(summary, indent=2) if json_out else
                   f"draft version {result.draft_version} created from {len(result.reports)} rounds; publish it with "
                   f"`hub versions set-status {result.draft_version} published`")
        return
    if not version:
        raise ValueError("--version is required without --simulate")
    from dataclasses import replace

    from hub.federation.deploy import flwr_run_args, write_flower_app

    hub_dir = settings_from(data_dir, None).data_dir.resolve()
    app_dir = write_flower_app(hub_dir / "federation" / "app", replace(settings, hub_data_dir=str(hub_dir)))
    args = flwr_run_args(app_dir, superlink)
    if dry_run:
        typer.echo(shlex.join(args))
        return
    raise typer.Exit(subprocess.call(args))
