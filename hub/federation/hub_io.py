"""The ServerApp's side of the hub: base version out of the blob store, enrolled centers, the draft back in."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from hub.api.deps import HubContext
from hub.db.models import Site
from hub.services import registry
from hub.services.publish import publish
from protocols.hub_api import ModelVersionInfo

ACTOR = "federation"


def materialise_version(ctx: HubContext, version: str, out_dir: Path) -> Path:
    """Copy version ``version`` (drafts included) from the blob store into a model directory."""
    with ctx.factory() as s:
        row = registry.get_version(s, version, include_drafts=True)
        manifest_json = row.manifest_json
        files = [(f.name, f.sha256) for f in row.files]
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, sha in files:
        shutil.copyfile(ctx.store.path(sha), out_dir / name)
    (out_dir / "manifest.json").write_text(manifest_json)
    return out_dir


def enrolled_centers(ctx: HubContext) -> set[str]:
    """Centers with at least one enrolled, unrevoked site: only these may take part."""
    with ctx.factory() as s:
        return {site.center.code for site in s.scalars(select(Site).where(Site.revoked.is_(False)))}


def publish_draft(ctx: HubContext, model_dir: Path, *, version: str, notes: str) -> ModelVersionInfo:
    """Store and sign the aggregated model as a DRAFT version; the operator publishes it later."""
    return publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=model_dir, version=version,
                   notes=notes, draft=True, actor=ACTOR)
