"""The ``hub`` operator CLI: only wiring; each command calls a service function."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from hub import __version__
from hub.cli_admin import centers_app, operators_app, sites_app
from hub.cli_gc import gc_command
from hub.cli_support import DataDirOpt, DbOpt, JsonOpt, context, emit, handle_errors, settings_from
from hub.db.models import Center, ModelVersion, Router
from hub.federation.cli import federate_app
from hub.services import audit as audit_service
from hub.services import registry
from hub.services.publish import publish as publish_service
from hub.services.publish import set_status
from hub.settings import MetricsAccess
from protocols.hub_api import VersionStatus

app = typer.Typer(help="MoME hub: model versions, center routers, sites and tokens.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(
    help="Manage the database schema (upgrades also run by themselves at every start).", no_args_is_help=True)
versions_app = typer.Typer(help="List model versions, publish drafts and deprecate old versions.", no_args_is_help=True)
routers_app = typer.Typer(
    help="List the per-center routers: trained, pushed by sites, or made by federated rounds.", no_args_is_help=True)
for name, sub in (("db", db_app), ("versions", versions_app), ("routers", routers_app), ("sites", sites_app),
                  ("operators", operators_app), ("centers", centers_app)):
    app.add_typer(sub, name=name)
app.add_typer(federate_app, name="federate")
app.command("gc")(gc_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hub {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """Operator commands, run on the hub's own machine against its data folder and database."""


@app.command()
@handle_errors
def serve(data_dir: DataDirOpt = None, db: DbOpt = None,
          host: Annotated[str, typer.Option(
              help="Address to listen on; 127.0.0.1 keeps the hub to this machine (put a TLS proxy in front to "
                   "serve sites).")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="The TCP port to listen on.")] = 8700,
          workers: Annotated[int, typer.Option(
              min=1, help="Worker processes serving requests (uvicorn); each shares the data folder and "
                          "database.")] = 1,
          log_level: Annotated[str, typer.Option(
              help="How much the server logs: critical, error, warning, info (start-up and one line per request) "
                   "or debug.")] = "info",
          metrics: Annotated[MetricsAccess | None, typer.Option(
              envvar="MOME_HUB_METRICS", show_envvar=True,
              help="Who may read /metrics. 'loopback' (the default) serves only clients on this host, such as a "
                   "Prometheus running beside the hub; 'operator' asks for an operator bearer token; 'public' "
                   "serves anyone. Other clients get 403 (401 without a valid token).")] = None) -> None:
    """Serve the REST API and the operator console. The database schema is upgraded first, and the signing key is
    created on the first start.
    """
    import uvicorn

    from hub.app import create_app

    settings = settings_from(data_dir, db, host=host, port=port, metrics=metrics)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)
        return
    context(data_dir, db)  # migrate and create the key once, before the workers start
    os.environ["MOME_HUB_DATA_DIR"] = str(settings.data_dir.resolve())
    if db:
        os.environ["MOME_HUB_DB"] = db
    os.environ["MOME_HUB_METRICS"] = settings.metrics.value
    uvicorn.run("hub.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Bring the database schema up to date."""
    from hub.db.migrate import current_revision

    ctx = context(data_dir, db)
    emit({"revision": current_revision(ctx.factory.kw["bind"])}, json_out)


@app.command()
@handle_errors
def publish(model_dir: Annotated[Path, typer.Argument(
    help="The model folder to publish: manifest.json and its safetensors files, as `site-agent train` writes it.")],
            version: Annotated[str, typer.Option("--version",
                help="The version sites will see, e.g. 1.2; it must be new.")],
            notes: Annotated[str | None, typer.Option(help="Release notes shown with the version.")] = None,
            draft: Annotated[bool, typer.Option("--draft",
                help="Store and sign it as a draft that sites do not see; publish it later with `hub versions "
                     "set-status VERSION published`.")] = False,
            data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Validate a model directory (manifest and every hash), store, sign and publish it."""
    ctx = context(data_dir, db)
    info = publish_service(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=model_dir,
                           version=version, notes=notes, draft=draft, actor=f"cli:{_user()}")
    emit(info, json_out, ["version", "family", "config_name", "status", "centers", "total_bytes"])


@versions_app.command("list")
@handle_errors
def versions_list(data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List all model versions, drafts included, newest first."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        rows = [registry.version_info(r) for r in s.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))]
    emit(rows, json_out, ["version", "family", "config_name", "status", "centers", "total_bytes", "published_at"])


@versions_app.command("set-status")
@handle_errors
def versions_set_status(version: Annotated[str, typer.Argument(help="The version, as `hub versions list` shows it.")],
                        status: Annotated[VersionStatus, typer.Argument(
                            help="Its new status: published (sites see it), deprecated (no longer offered to sites) "
                                 "or draft (hidden again).")],
                        data_dir: DataDirOpt = None, db: DbOpt = None,
                        json_out: JsonOpt = False) -> None:
    """Publish a draft or deprecate a version."""
    ctx = context(data_dir, db)
    emit(set_status(factory=ctx.factory, version=version, status=status, actor=f"cli:{_user()}"), json_out,
         ["version", "status", "published_at"])


@routers_app.command("list")
@handle_errors
def routers_list(center: Annotated[str | None, typer.Option(help="Show only this center's routers.")] = None,
                 version: Annotated[str | None, typer.Option("--model-version",
                     help="Show only the routers of this model version.")] = None,
                 data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List center routers with their lineage (who pushed them, from which router), newest last."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        stmt = select(Router).join(Center).join(ModelVersion).order_by(Router.id)
        if center:
            stmt = stmt.where(Center.code == center)
        if version:
            stmt = stmt.where(ModelVersion.version == version)
        rows = [registry.router_info(r) for r in s.scalars(stmt)]
    emit(rows, json_out, ["id", "center", "model_version", "source", "init_router", "shots", "experts_from",
                          "pushed_by", "created_at"])


@app.command()
@handle_errors
def audit(limit: Annotated[int, typer.Option(min=1, help="How many events to show, newest first.")] = 50,
          action: Annotated[str | None, typer.Option(
              help="Show only this action, e.g. router.push or site.revoke.")] = None,
          data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Show the audit log (who did what, when), newest first."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        emit(audit_service.list_events(s, limit=limit, action=action), json_out,
             ["id", "at", "actor", "action", "target", "detail"])


def _user() -> str:
    return os.environ.get("USER") or "operator"


if __name__ == "__main__":
    app()
