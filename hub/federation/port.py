"""The hub's side of a federation run: the ``HubPort`` the ServerApp uses, backed by this hub's database and store.

``open_port`` is the factory a run config names (``hub-port = "hub.federation.port:open_port"``):
a ServerApp started by a SuperLink on the hub's machine opens the hub from the run's settings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from federation.settings import FederationSettings
from hub.api.deps import HubContext
from hub.context import build_context
from hub.db.models import Site
from hub.services import federation_nodes, federation_rounds, registry
from hub.services.publish import publish
from hub.settings import HubSettings
from protocols.federation import FederationRoundInfo

ACTOR = "federation"


class LocalHubPort:
    """``federation.hub_port.HubPort`` over a ``HubContext``."""

    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    def materialise_version(self, version: str, out_dir: Path) -> Path:
        """Copy version ``version`` (drafts included) from the blob store into a model directory."""
        with self.ctx.factory() as s:
            row = registry.get_version(s, version, include_drafts=True)
            manifest_json = row.manifest_json
            files = [(f.name, f.sha256) for f in row.files]
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, sha in files:
            shutil.copyfile(self.ctx.store.path(sha), out_dir / name)
        (out_dir / "manifest.json").write_text(manifest_json)
        return out_dir

    def node_bindings(self) -> dict[int, str]:
        with self.ctx.factory() as s:
            return federation_nodes.bindings(s)

    def publish_draft(self, model_dir: Path, *, version: str, notes: str) -> str:
        """Store and sign the aggregated model as a DRAFT version; the operator publishes it later."""
        return publish(factory=self.ctx.factory, store=self.ctx.store, signer=self.ctx.signer, model_dir=model_dir,
                       version=version, notes=notes, draft=True, actor=ACTOR).version

    def record_round(self, record: FederationRoundInfo) -> None:
        federation_rounds.record_round(self.ctx.factory, record)


def enrolled_centers(ctx: HubContext) -> set[str]:
    """Centers with at least one enrolled, unrevoked site."""
    with ctx.factory() as s:
        return {site.center.code for site in s.scalars(select(Site).where(Site.revoked.is_(False)))}


def open_port(settings: FederationSettings) -> LocalHubPort:
    """The factory a run config names: open the hub at ``settings.hub_data_dir`` (and ``hub_db`` if set)."""
    if not settings.hub_data_dir:
        raise ValueError("hub-data-dir is empty: the ServerApp does not know which hub to open")
    hub = HubSettings(data_dir=Path(settings.hub_data_dir), db=settings.hub_db or None)
    return LocalHubPort(build_context(hub))
