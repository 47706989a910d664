"""Accept a validated router push: store its tensors as one artifact and record the router."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Center, Router
from hub.db.session import write_session
from hub.errors import InvalidInput, PayloadTooLarge
from hub.services import audit, registry
from hub.services.blobs import BlobStore
from hub.services.compose import compose_router, sources_from_file
from hub.services.principals import assert_site_active
from hub.services.publish import new_blob_guard
from hub.services.push_validation import check_manifest, validate_tensors
from protocols.hub_api import PushResult, RouterSource
from protocols.router_update import RouterUpdateManifest


@dataclass(frozen=True)
class Pusher:
    site_id: int
    center: str
    actor: str


def _hash(fh: BinaryIO, chunk: int) -> tuple[str, int]:
    fh.seek(0)
    digest, size = hashlib.sha256(), 0
    while buf := fh.read(chunk):
        digest.update(buf)
        size += len(buf)
    return digest.hexdigest(), size


def _existing(s: Session, version_id: int, center: str, sha: str) -> Router | None:
    return s.scalar(select(Router).join(Center).where(
        Router.model_version_id == version_id, Center.code == center, Router.push_sha256 == sha))


def accept_push(*, factory: sessionmaker[Session], store: BlobStore, pusher: Pusher, update: RouterUpdateManifest,
                fh: BinaryIO, max_push_bytes: int, max_header_bytes: int) -> PushResult:
    """Validate everything first; only then write blobs and commit the row. Same bytes -> same record."""
    with factory() as s:
        base_row = registry.get_version(s, update.base_version)
        base, base_id = registry.manifest_of(base_row), base_row.id
    check_manifest(update, base, pusher.center)
    sha, size = _hash(fh, store.chunk_bytes)
    if size > max_push_bytes:
        raise PayloadTooLarge(f"push file has {size} bytes, over the limit of {max_push_bytes}", field="file")
    if size != update.size:
        raise InvalidInput(f"push file has {size} bytes but the manifest says {update.size}", field="size",
                           code="size_mismatch")
    if sha != update.sha256:
        raise InvalidInput(f"push file has sha256 {sha} but the manifest says {update.sha256}", field="sha256",
                           code="sha256_mismatch")
    with factory() as s:
        if (row := _existing(s, base_id, update.center, sha)) is not None:
            return PushResult(router=registry.router_info(row), created=False)
    checked = validate_tensors(fh, size, update=update, base=base, max_header_bytes=max_header_bytes)
    with new_blob_guard(store, factory) as created:
        if not store.touch(sha):
            store.put_file(fh, sha256=sha, size=size, what="push file")
            created(sha)
        if checked.experts_included:
            artifact = (sha, size)
        else:
            gate = sources_from_file(store.path(sha))
            artifact = compose_router(store, base=base, center=update.center, gate=gate)
            created(artifact[0])
        try:
            with write_session(factory) as s:
                return _record(s, base_id, update, pusher, sha, size, artifact, checked.experts_included)
        except IntegrityError:  # the same bytes landed concurrently: report that record
            with factory() as s:
                row = _existing(s, base_id, update.center, sha)
                if row is None:
                    raise
                return PushResult(router=registry.router_info(row), created=False)


def _record(s: Session, base_id: int, update: RouterUpdateManifest, pusher: Pusher, sha: str, size: int,
            artifact: tuple[str, int], experts_included: bool) -> PushResult:
    assert_site_active(s, pusher.site_id)
    center = registry.get_or_create_center(s, update.center)
    registry.ensure_blob(s, sha, size)
    registry.ensure_blob(s, *artifact)
    row = Router(model_version_id=base_id, center_id=center.id, source=RouterSource.PUSHED.value,
                 init_router=update.init_router, shots=update.shots, sample_count=update.sample_count,
                 metrics_json=json.dumps(update.metrics), push_sha256=sha, artifact_sha256=artifact[0],
                 artifact_size=artifact[1], experts_from="pushed" if experts_included else "base",
                 site_id=pusher.site_id)
    s.add(row)
    s.flush()
    audit.record(s, actor=pusher.actor, action="router.push", target=f"{update.base_version}/{update.center}",
                 router_id=row.id, sha256=sha, size=size, experts_from=row.experts_from)
    s.flush()
    s.refresh(row)
    return PushResult(router=registry.router_info(row), created=True)
