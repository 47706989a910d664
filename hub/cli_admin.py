"""``hub sites``, ``hub operators`` and ``hub centers`` commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from hub.cli_support import DataDirOpt, DbOpt, JsonOpt, context, emit, handle_errors
from hub.errors import InvalidInput
from hub.services import centers, principals
from protocols.fingerprint import SiteFingerprint

sites_app = typer.Typer(help="Hospital sites and their tokens.", no_args_is_help=True)
operators_app = typer.Typer(help="Operator tokens for remote REST calls.", no_args_is_help=True)
centers_app = typer.Typer(help="Centers and their published fingerprints.", no_args_is_help=True)


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or 'operator'}"


@sites_app.command("add")
@handle_errors
def sites_add(center: Annotated[str, typer.Option(help="center code the site is bound to")],
              name: Annotated[str | None, typer.Option(help="human-readable site name")] = None,
              data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Enrol a site; its token is printed once and only its hash is kept."""
    ctx = context(data_dir, db)
    created = principals.add_site(ctx.factory, center=center, name=name, actor=_actor())
    if json_out:
        emit(created, True)
    else:
        typer.echo(f"site {created.site.id} enrolled for center {center}; token (shown once):")
        typer.echo(created.token)


@sites_app.command("list")
@handle_errors
def sites_list(center: Annotated[str | None, typer.Option(help="only this center")] = None,
               data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Enrolled sites (never their tokens)."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        emit(principals.list_sites(s, center=center), json_out,
             ["id", "name", "center", "scopes", "revoked", "created_at"])


@sites_app.command("revoke")
@handle_errors
def sites_revoke(site_id: Annotated[int, typer.Argument(help="site id from 'hub sites list'")],
                 data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Revoke a site's token; its next request is refused."""
    ctx = context(data_dir, db)
    emit(principals.revoke_site(ctx.factory, site_id=site_id, actor=_actor()), json_out,
         ["id", "name", "center", "revoked"])


@operators_app.command("add")
@handle_errors
def operators_add(name: Annotated[str, typer.Option(help="who holds this token")],
                  data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Create an operator token (printed once) for remote operator calls over REST."""
    ctx = context(data_dir, db)
    op_id, token = principals.add_operator(ctx.factory, name=name, actor=_actor())
    if json_out:
        emit({"id": op_id, "name": name, "token": token}, True)
    else:
        typer.echo(f"operator {op_id} ({name}) created; token (shown once):")
        typer.echo(token)


@centers_app.command("list")
@handle_errors
def centers_list(data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Centers and whether they have a published fingerprint."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        emit(centers.list_centers(s), json_out, ["code", "display_name", "fingerprint_updated_at"])


@centers_app.command("set-fingerprint")
@handle_errors
def centers_set_fingerprint(code: Annotated[str, typer.Argument(help="center code")],
                            file: Annotated[Path, typer.Argument(help="SiteFingerprint JSON file")],
                            display_name: Annotated[str | None, typer.Option(help="center display name")] = None,
                            data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Publish a center's aggregate fingerprint, used to rank its routers for new sites."""
    if not file.is_file():
        raise InvalidInput(f"{file} does not exist", field="file")
    fp = SiteFingerprint.model_validate_json(file.read_bytes())
    ctx = context(data_dir, db)
    emit(centers.set_fingerprint(ctx.factory, code=code, fingerprint=fp, display_name=display_name,
                                 actor=_actor()), json_out, ["code", "display_name", "fingerprint_updated_at"])
