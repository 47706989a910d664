"""``site-agent init``: enrol this site with a hub: config, pinned signing key, protocol and token checks."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from protocols.groups import validate_center_code
from protocols.version import PROTOCOL_VERSION
from site_agent.config import TOKEN_ENV, SiteConfig, WorkdirOpt, config_path, resolve_workdir, save_config
from site_agent.console import console, emit_json, expected_errors, results
from site_agent.hub_client import HubClient, HubClientError
from site_agent.options import JsonOpt
from site_agent.trust import check_key, protocol_compatible


def check_token_scope(client: HubClient, center: str) -> None:
    """The token must be a site token bound to ``center``; one sentence otherwise."""
    scope = client.token_scope()
    if scope == "operator":
        raise ValueError("this is an operator token; a site agent needs a site token (`hub sites add --center "
                         f"{center}`)")
    if scope != f"site:{center}":
        raise ValueError(f"this token is bound to center {scope[5:]}, not {center}; use --center {scope[5:]} or "
                         "ask the hub operator for a token of your center")


def init_site(hub_url: str, center: str, token: str | None, workdir: Path | None = None, *,
              force: bool = False, client: HubClient | None = None) -> SiteConfig:
    """Check the hub and the token, pin the hub's signing key, and write ``WORKDIR/site.json`` (mode 600).

    With ``token=None`` the token is read from ``$MOME_SITE_TOKEN`` and not stored in the file.
    """
    validate_center_code(center)
    hub_url = hub_url.rstrip("/")
    if not hub_url.startswith(("http://", "https://")):
        raise ValueError(f"--hub {hub_url!r} must start with https:// (or http:// for a hub on this machine)")
    path = config_path(workdir)
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists; pass --force to replace it (for a new token or hub)")
    secret = token or os.environ.get(TOKEN_ENV, "").strip()
    if not secret:
        raise ValueError(f"give --token or set {TOKEN_ENV}")
    own = client is None
    client = client or HubClient(hub_url, secret)
    try:
        timed = client.info()
        if not protocol_compatible(timed.info.protocol_version):
            raise ValueError(f"the hub speaks protocol {timed.info.protocol_version}, this site agent "
                             f"{PROTOCOL_VERSION}; upgrade the one that is older")
        signing = check_key(timed.info.signing)
        check_token_scope(client, center)
    finally:
        if own:
            client.close()
    config = SiteConfig(hub_url=hub_url, center=center, token=token or None, signing=signing,
                        protocol_version=timed.info.protocol_version, hub_version=timed.info.hub_version,
                        created_at=datetime.now(UTC))
    save_config(config, workdir)
    return config


def init_command(
    hub: Annotated[str, typer.Option("--hub", help="Hub URL, e.g. https://hub.example.org.")],
    center: Annotated[str, typer.Option("--center", help="This site's center code, as enrolled at the hub.")],
    token: Annotated[str | None, typer.Option(
        "--token", help=f"Site token from the hub operator; or leave it out and set {TOKEN_ENV} (then it is not "
                        "written to disk).")] = None,
    workdir: WorkdirOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing site config.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Enrol this site: check the hub and the token, pin the hub's signing key, write the site config."""
    with expected_errors():
        try:
            config = init_site(hub, center, token, workdir, force=force)
        except HubClientError as exc:
            raise ValueError(f"{exc}; no config was written") from None
    wd = resolve_workdir(workdir)
    summary = {"config": str(config_path(wd)), "hub": config.hub_url, "center": config.center,
               "token_stored": config.token is not None, "key_id": config.signing.key_id,
               "protocol_version": config.protocol_version, "hub_version": config.hub_version}
    if json_output:
        emit_json(summary)
        return
    results.print(f"[green]site {config.center} enrolled with {config.hub_url}[/] (hub {config.hub_version}, protocol "
                  f"{config.protocol_version}); pinned signing key {config.signing.key_id}; config in "
                  f"{summary['config']} (mode 600{'' if config.token else f', token from {TOKEN_ENV}'})",
                  highlight=False)
    if config.hub_url.startswith("http://"):
        console.print("[yellow]warning:[/] the hub URL is plain http: the token travels unencrypted; use https "
                      "outside a single machine", highlight=False)
