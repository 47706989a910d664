"""``hub federate``: launch the ``federation`` package's rounds (simulated here or on a SuperLink) and show them."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.cli_support import DataDirOpt, DbOpt, JsonOpt, context, emit, handle_errors, settings_from

HUB_PORT = "hub.federation.port:open_port"  # the factory a SuperLink-run ServerApp opens this hub with

federate_app = typer.Typer(
    help="Federated rounds over a version's experts. Without a subcommand it runs them: with --simulate on "
         "synthetic sites in this process, otherwise on the Flower SuperLink named by --superlink. The result is "
         "a DRAFT version with lineage; `hub federate status` shows each round's sites, failures, bytes and time.",
    invoke_without_command=True)


@federate_app.callback()
@handle_errors
def federate_command(
    ctx: typer.Context,
    version: Annotated[str | None, typer.Option(
        "--version", help="Base model version whose experts are federated (default with --simulate: fed-base).")]
    = None,
    rounds: Annotated[int, typer.Option(min=1, help="How many federated rounds to run.")] = 2,
    min_sites: Annotated[int | None, typer.Option(
        "--min-sites", min=1, help="Usable site replies a round needs to be aggregated; a round with fewer keeps "
                                   "the previous experts. Default: all simulated sites, else 2.")] = None,
    simulate: Annotated[bool, typer.Option("--simulate", help="Run synthetic sites in this process; --data-dir "
                                                              "is then a demo hub (made if fresh) with sites/ in it.")]
    = False,
    sites: Annotated[str, typer.Option(help="With --simulate: comma-separated center presets.")] = "D,E",
    fedprox_mu: Annotated[float, typer.Option("--fedprox-mu", min=0.0, help="Above 0: FedProx with this proximal "
                                                                            "weight instead of FedAvg.")] = 0.0,
    local_steps: Annotated[int, typer.Option(min=1, help="Local optimisation steps per round at each site.")] = 20,
    lr: Annotated[float, typer.Option(help="Local AdamW learning rate.")] = 5e-4,
    dp_clip: Annotated[float, typer.Option(min=0.0, help="Above 0: client-side DP, clip updates to this L2 norm.")]
    = 0.0,
    dp_noise: Annotated[float, typer.Option(min=0.0, help="DP noise multiplier (with --dp-clip).")] = 0.0,
    secagg: Annotated[bool, typer.Option("--secagg", help="Secure aggregation (Flower's SecAgg+): the hub only "
                                                          "ever sees the sum of the sites' experts.")] = False,
    round_timeout: Annotated[float, typer.Option(min=1.0, help="Seconds a round waits for replies; a site slower "
                                                               "than this is left out of the round.")] = 3600.0,
    draft_version: Annotated[str | None, typer.Option(help="Name of the draft version to create.")] = None,
    superlink: Annotated[str, typer.Option(help="Without --simulate: the SuperLink's address, host:port.")]
    = "127.0.0.1:8000",
    root_certificates: Annotated[Path | None, typer.Option(
        "--root-certificates", help="CA certificate of the SuperLink's TLS certificate; without it the link to "
                                    "the SuperLink is insecure (tests only).")] = None,
    run_timeout: Annotated[float, typer.Option(min=1.0, help="Without --simulate: seconds to wait for the whole "
                                                             "run before stopping it.")] = 24 * 3600.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Without --simulate: write the Flower app, print "
                                                            "the `flwr run` command, do not run it.")] = False,
    data_dir: DataDirOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Federated averaging of a version's experts; the result becomes a DRAFT version with lineage."""
    if ctx.invoked_subcommand is not None:
        return
    from federation.settings import FederationSettings

    codes = [c.strip() for c in sites.split(",") if c.strip()]
    settings = FederationSettings(
        hub_data_dir="", version=version or "", rounds=rounds,
        min_sites=min_sites or (len(codes) if simulate else 2), strategy="fedprox" if fedprox_mu > 0 else "fedavg",
        proximal_mu=fedprox_mu, local_steps=local_steps, lr=lr, dp_noise=dp_noise, dp_clip=dp_clip, secagg=secagg,
        round_timeout=round_timeout, draft_version=draft_version or "")
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
    from hub.federation.launch import run_on_superlink

    hub = settings_from(data_dir, db)
    stamp = f"{version}+fed.{datetime.now(UTC):%Y%m%d%H%M%S}"[:64]
    settings = replace(settings, hub_data_dir=str(hub.data_dir.resolve()), hub_db=db or "", hub_port=HUB_PORT,
                       draft_version=draft_version or stamp)
    made = run_on_superlink(settings, superlink=superlink, root_certificates=root_certificates, dry_run=dry_run,
                            timeout=run_timeout)
    if dry_run:
        return
    typer.echo(json.dumps({"draft_version": made}) if json_out else
               f"draft version {made} created; see `hub federate status --run {made}`, publish it with "
               f"`hub versions set-status {made} published`")


@federate_app.command("status")
@handle_errors
def status_command(
    run: Annotated[str | None, typer.Option("--run", help="Only this run (its draft version name).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most this many rounds, newest last.")] = 50,
    data_dir: DataDirOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show federated rounds: which sites took part with their cases, loss and Dice, who failed, bytes, seconds."""
    from hub.services.federation_rounds import list_rounds

    hub = context(data_dir, db)
    with hub.factory() as s:
        rounds = list_rounds(s, run=run, limit=limit)
    if json_out:
        emit(rounds, True)
        return
    rows = [{"run": r.run, "round": r.round, "aggregated": r.aggregated, "secagg": r.secagg,
             "sites": " ".join(f"{c}(n={m.cases}, loss={_num(m.train_loss)}, dice={_num(m.val_dice)})"
                               for c, m in sorted(r.sites.items())) or "-",
             "failures": "; ".join(f"{f.center or 'node ' + f.node}: {f.reason}" for f in r.failures) or "-",
             "bytes to/from sites": f"{r.bytes_to_sites}/{r.bytes_to_hub}", "seconds": f"{r.seconds:.1f}"}
            for r in rounds]
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Federated rounds")
    for column in rows[0] if rows else ["run"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(v) for v in row.values()])
    Console(width=200).print(table)


@federate_app.command("register-nodes")
@handle_errors
def register_nodes_command(
    superlink: Annotated[str, typer.Option(help="The SuperLink's address, host:port.")] = "127.0.0.1:8000",
    root_certificates: Annotated[Path | None, typer.Option(
        "--root-certificates", help="CA certificate of the SuperLink's TLS certificate.")] = None,
    data_dir: DataDirOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register on the SuperLink the SuperNode keys that sites registered with this hub, and store their node ids.

    Run it after a site registers its key (`site-agent federate --register-key`) and before that site
    starts its SuperNode: a SuperLink with node authentication refuses unknown keys. `hub federate`
    runs it too, before each run.
    """
    from hub.federation.launch import flwr_home, register_nodes

    hub = settings_from(data_dir, db)
    home = flwr_home(hub.data_dir.resolve(), superlink=superlink, root_certificates=root_certificates)
    made = register_nodes(hub, {**os.environ, "FLWR_HOME": str(home)})
    typer.echo(json.dumps({"registered_node_ids": made}) if json_out else
               f"{len(made)} SuperNode key(s) registered on the SuperLink")


@federate_app.command("keys")
@handle_errors
def keys_command(
    center: Annotated[str | None, typer.Option("--center", help="Only this center's keys.")] = None,
    data_dir: DataDirOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List the SuperNode keys sites registered, the node id each got on the SuperLink, and revoked sites."""
    from hub.services.federation_nodes import list_keys

    hub = context(data_dir, db)
    with hub.factory() as s:
        keys = list_keys(s, center=center)
    emit(keys, json_out, columns=["id", "center", "site_id", "fingerprint", "node_id", "revoked"],
         title="SuperNode keys")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
