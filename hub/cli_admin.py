"""``hub sites``, ``hub operators`` and ``hub centers`` commands."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.cli_support import DataDirOpt, DbOpt, JsonOpt, context, emit, handle_errors
from hub.errors import InvalidInput
from hub.services import centers, principals
from hub.services.tokens import OPERATOR_TOKEN_TTL, SITE_TOKEN_TTL, parse_lifetime
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import SiteCreated, SiteInfo

sites_app = typer.Typer(help="Enrol hospital sites, list them and revoke their tokens.", no_args_is_help=True)
operators_app = typer.Typer(
    help="Create, list and revoke operator tokens, for operator calls over REST and the web console.",
    no_args_is_help=True)
centers_app = typer.Typer(
    help="List centers and publish their aggregate fingerprints (used to recommend routers to new sites).",
    no_args_is_help=True)


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or 'operator'}"


def _lifetime_help(default_days: int) -> str:
    return (f"How long the new token is valid: a number of days, hours or minutes such as 90d, 12h or 30m, or "
            f"'never'. Default {default_days}d. After that every request with it is refused (401 token_expired) "
            "and the holder needs a new token. Tokens created before expiry existed never expire.")


def _when(expires_at: object) -> str:
    return "never expires" if expires_at is None else f"expires {expires_at:%Y-%m-%d %H:%M} UTC"


class SiteEnrolled(SiteCreated):
    """``hub sites add --json``: the wire answer plus when the new token expires."""

    expires_at: datetime | None = None


class SiteListing(SiteInfo):
    """A site as ``hub sites list`` shows it: the wire fields plus when its token expires."""

    expires_at: datetime | None = None


SiteLifetime = Annotated[str, typer.Option("--expires-in", help=_lifetime_help(SITE_TOKEN_TTL.days))]
OperatorLifetime = Annotated[str, typer.Option("--expires-in", help=_lifetime_help(OPERATOR_TOKEN_TTL.days))]


@sites_app.command("add")
@handle_errors
def sites_add(center: Annotated[str, typer.Option(
    help="The center code the site is bound to (e.g. D); its token may push only router.D.")],
              name: Annotated[str | None, typer.Option(help="A name people recognise, e.g. the hospital's.")] = None,
              expires_in: SiteLifetime = f"{SITE_TOKEN_TTL.days}d",
              data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Enrol a site; its token is printed once and only its hash is kept."""
    lifetime = parse_lifetime(expires_in)
    ctx = context(data_dir, db)
    created = principals.add_site(ctx.factory, center=center, name=name, actor=_actor(), lifetime=lifetime)
    with ctx.factory() as s:
        expires_at = principals.site_expiries(s)[created.site.id]
    if json_out:
        emit(SiteEnrolled(**created.model_dump(), expires_at=expires_at), True)
    else:
        typer.echo(f"site {created.site.id} enrolled for center {center}; token ({_when(expires_at)}, shown once):")
        typer.echo(created.token)


@sites_app.command("list")
@handle_errors
def sites_list(center: Annotated[str | None, typer.Option(help="Show only the sites of this center.")] = None,
               data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List enrolled sites (never their tokens) and when each token expires ('-': never)."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        expiries = principals.site_expiries(s)
        rows = [SiteListing(**x.model_dump(), expires_at=expiries.get(x.id))
                for x in principals.list_sites(s, center=center)]
    emit(rows, json_out, ["id", "name", "center", "scopes", "revoked", "created_at", "expires_at"])


@sites_app.command("revoke")
@handle_errors
def sites_revoke(site_id: Annotated[int, typer.Argument(help="The site's id, as `hub sites list` shows it.")],
                 data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Revoke a site's token. Every hub process of this data folder refuses it from its next request on."""
    ctx = context(data_dir, db)
    emit(principals.revoke_site(ctx.factory, site_id=site_id, actor=_actor()), json_out,
         ["id", "name", "center", "revoked"])


@operators_app.command("add")
@handle_errors
def operators_add(name: Annotated[str, typer.Option(
    help="Who holds this token (a person or a team), recorded in the audit log.")],
                  expires_in: OperatorLifetime = f"{OPERATOR_TOKEN_TTL.days}d",
                  data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Create an operator token (printed once) for remote operator calls over REST."""
    lifetime = parse_lifetime(expires_in)
    ctx = context(data_dir, db)
    op_id, token = principals.add_operator(ctx.factory, name=name, actor=_actor(), lifetime=lifetime)
    with ctx.factory() as s:
        info = next(x for x in principals.list_operators(s) if x.id == op_id)
    if json_out:
        emit({**info.model_dump(mode="json"), "token": token}, True)
    else:
        typer.echo(f"operator {op_id} ({name}) created; token ({_when(info.expires_at)}, shown once):")
        typer.echo(token)


@operators_app.command("list")
@handle_errors
def operators_list(data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List operators (never their tokens), whether each is revoked, and when each token expires ('-': never)."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        rows = principals.list_operators(s)
    emit(rows, json_out, ["id", "name", "revoked", "created_at", "expires_at"])


@operators_app.command("revoke")
@handle_errors
def operators_revoke(operator_id: Annotated[int, typer.Argument(
    help="The operator's id, as `hub operators list` shows it.")],
                     data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Revoke an operator token. Every hub process of this data folder refuses it from its next request on."""
    ctx = context(data_dir, db)
    emit(principals.revoke_operator(ctx.factory, operator_id=operator_id, actor=_actor()), json_out,
         ["id", "name", "revoked", "expires_at"])


@centers_app.command("list")
@handle_errors
def centers_list(data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List centers and whether each has a published fingerprint."""
    ctx = context(data_dir, db)
    with ctx.factory() as s:
        emit(centers.list_centers(s), json_out, ["code", "display_name", "fingerprint_updated_at"])


@centers_app.command("set-fingerprint")
@handle_errors
def centers_set_fingerprint(code: Annotated[str, typer.Argument(help="The center code, e.g. A.")],
                            file: Annotated[Path, typer.Argument(
                                help="A SiteFingerprint JSON file (the \"fingerprint\" object that "
                                     "`site-agent fingerprint --json` prints).")],
                            display_name: Annotated[str | None, typer.Option(help="The center's display name.")] = None,
                            data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Publish a center's aggregate fingerprint, used to rank its routers for new sites."""
    if not file.is_file():
        raise InvalidInput(f"{file} does not exist", field="file")
    fp = SiteFingerprint.model_validate_json(file.read_bytes())
    ctx = context(data_dir, db)
    emit(centers.set_fingerprint(ctx.factory, code=code, fingerprint=fp, display_name=display_name,
                                 actor=_actor()), json_out, ["code", "display_name", "fingerprint_updated_at"])
