"""Run a federation on a real Flower SuperLink: bind sites' node keys there, submit the app, find the draft.

The hub keeps its own Flower home (``<data dir>/federation/flwr-home``) with one SuperLink
connection, ``mome-hub``, so that ``flwr`` never reads or writes the operator's ``~/.flwr``.
Keys that sites registered with the hub are registered on the SuperLink (``flwr supernode
register``) and the node id it assigns is stored: that id is how the ServerApp knows which
center a node may speak for.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from federation.deploy import flwr_run_args, write_flower_app
from federation.settings import FederationSettings
from hub.context import build_context
from hub.db.models import FederationNodeKey, ModelVersion
from hub.federation.port import ACTOR
from hub.services import federation_nodes
from hub.settings import HubSettings

CONNECTION = "mome-hub"
REGISTER_TIMEOUT = 60.0


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def flwr_home(hub_dir: Path, *, superlink: str, root_certificates: Path | None) -> Path:
    """Write the hub's Flower home with the ``mome-hub`` connection; return the folder (for ``FLWR_HOME``)."""
    if root_certificates is not None and not root_certificates.is_file():
        raise ValueError(f"--root-certificates {root_certificates}: no such file")
    home = hub_dir / "federation" / "flwr-home"
    home.mkdir(parents=True, exist_ok=True)
    tls = (f"root-certificates = {_toml_str(str(root_certificates.resolve()))}" if root_certificates
           else "insecure = true")
    text = f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n' \
           f"address = {_toml_str(superlink)}\n{tls}\n"
    tmp = home / "config.toml.tmp"
    tmp.write_text(text)
    os.replace(tmp, home / "config.toml")
    return home


def register_nodes(hub: HubSettings, env: dict[str, str]) -> list[int]:
    """Register on the SuperLink every key of an unrevoked site that has no node id yet; return the new ids."""
    ctx = build_context(hub)
    with ctx.factory() as s:
        pending = _pending_keys(s)
    made = []
    for key_id, center, public in pending:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{center}.pub"
            path.write_text(public + "\n")
            done = subprocess.run(["flwr", "supernode", "register", str(path), CONNECTION, "--format", "json"],
                                  env=env, capture_output=True, text=True, timeout=REGISTER_TIMEOUT, check=False)
        try:
            node_id = int(json.loads(done.stdout)["node-id"])
        except (ValueError, KeyError, TypeError):
            detail = (done.stdout + done.stderr).strip().splitlines()
            raise ValueError(f"the SuperLink refused the node key of center {center}: "
                             f"{detail[-1] if detail else 'no answer'}") from None
        federation_nodes.set_node_id(ctx.factory, key_id=key_id, node_id=node_id, actor=ACTOR)
        made.append(node_id)
    return made


def _pending_keys(session: Session) -> list[tuple[int, str, str]]:
    """(key id, center, public key) of unrevoked sites' keys the SuperLink has not seen yet."""
    rows = session.scalars(select(FederationNodeKey).where(FederationNodeKey.node_id.is_(None)))
    return [(r.id, r.site.center.code, r.public_key) for r in rows if not r.site.revoked]


def run_on_superlink(settings: FederationSettings, *, superlink: str, root_certificates: Path | None,
                     dry_run: bool, timeout: float) -> str:
    """Write the Flower app, bind node keys, ``flwr run`` it and return the draft version the run stored."""
    hub = HubSettings(data_dir=Path(settings.hub_data_dir), db=settings.hub_db or None)
    app_dir = write_flower_app(hub.data_dir / "federation" / "app", settings)
    home = flwr_home(hub.data_dir, superlink=superlink, root_certificates=root_certificates)
    args = flwr_run_args(app_dir, CONNECTION)
    if dry_run:
        typer.echo(f"FLWR_HOME={shlex.quote(str(home))} {shlex.join(args)}")
        return settings.draft_version
    env = {**os.environ, "FLWR_HOME": str(home)}
    register_nodes(hub, env)
    try:
        # Flower's log stream goes to stderr, so that stdout stays this command's own (JSON) output.
        subprocess.run(args, env=env, timeout=timeout, check=False, stdin=subprocess.DEVNULL, stdout=sys.stderr)
    except subprocess.TimeoutExpired:
        raise ValueError(f"the federation run did not finish within {timeout:g} s; see `flwr ls` on the "
                         f"SuperLink") from None
    ctx = build_context(hub)
    with ctx.factory() as s:
        found = s.scalar(select(ModelVersion.version).where(ModelVersion.version == settings.draft_version))
    if found is None:
        raise ValueError(f"the federation run ended without storing draft {settings.draft_version}; "
                         f"see `hub federate status --run {settings.draft_version}` and the SuperLink's log")
    return found
