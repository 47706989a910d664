"""Shared lookups and row-to-wire conversions for versions, centers and routers."""

from __future__ import annotations

import json
import math

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Blob, Center, ModelVersion, Router
from hub.errors import NotFound
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import (
    CenterInfo,
    FileRef,
    ModelVersionInfo,
    RouterInfo,
    RouterSource,
    SignedManifest,
    VersionStatus,
)
from protocols.manifest import ModelManifest

VISIBLE = (VersionStatus.PUBLISHED.value, VersionStatus.DEPRECATED.value)


def get_version(session: Session, version: str, *, include_drafts: bool = False) -> ModelVersion:
    row = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if row is None or (not include_drafts and row.status not in VISIBLE):
        raise NotFound(f"model version {version!r} does not exist or is not published", field="version")
    return row


def latest_published(session: Session) -> ModelVersion:
    row = session.scalar(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED.value)
                         .order_by(ModelVersion.published_at.desc(), ModelVersion.id.desc()).limit(1))
    if row is None:
        raise NotFound("no model version is published yet", field="model_version")
    return row


def newest_version_of_family(factory: sessionmaker[Session], family: str) -> str:
    """The newest published version of model ``family``; ``NotFound`` naming the family when there is none."""
    with factory() as session:
        published = ModelVersion.status == VersionStatus.PUBLISHED.value
        name = session.scalar(select(ModelVersion.version).where(published, ModelVersion.family == family)
                              .order_by(ModelVersion.published_at.desc(), ModelVersion.id.desc()).limit(1))
    if name is None:
        raise NotFound(f"no version of model family {family!r} is published", field="family")
    return name


def manifest_of(row: ModelVersion) -> ModelManifest:
    return ModelManifest.model_validate_json(row.manifest_json)


def version_info(row: ModelVersion) -> ModelVersionInfo:
    m = manifest_of(row)
    files = [FileRef(sha256=f.sha256, size=f.size) for f in m.files]
    return ModelVersionInfo(version=row.version, family=row.family, config_name=row.config_name,
                            status=VersionStatus(row.status), notes=row.notes, centers=m.centers, files=files,
                            total_bytes=sum(f.size for f in files), created_at=row.created_at,
                            published_at=row.published_at)


def signed_manifest(row: ModelVersion) -> SignedManifest:
    return SignedManifest(manifest=manifest_of(row), key_id=row.key_id, signature=row.signature)


def get_or_create_center(session: Session, code: str) -> Center:
    center = session.scalar(select(Center).where(Center.code == code))
    if center is None:
        center = Center(code=code)
        session.add(center)
        session.flush()
    return center


def ensure_blob(session: Session, sha256: str, size: int) -> None:
    if session.get(Blob, sha256) is None:
        try:
            with session.begin_nested():
                session.add(Blob(sha256=sha256, size=size))
        except IntegrityError:
            pass


def center_info(c: Center) -> CenterInfo:
    fp = SiteFingerprint.model_validate_json(c.fingerprint_json) if c.fingerprint_json else None
    return CenterInfo(code=c.code, display_name=c.display_name, fingerprint=fp,
                      fingerprint_updated_at=c.fingerprint_updated_at)


def finite_metrics(metrics_json: str) -> dict[str, float]:
    """Stored metrics without NaN/Inf (rows written before pushes were checked could hold them)."""
    raw = json.loads(metrics_json or "{}")
    return {k: float(v) for k, v in raw.items() if isinstance(v, int | float) and math.isfinite(v)}


def router_info(r: Router) -> RouterInfo:
    site = r.site
    return RouterInfo(
        id=r.id, center=r.center.code, model_version=r.model_version.version, source=RouterSource(r.source),
        init_router=r.init_router, shots=r.shots, sample_count=r.sample_count, metrics=finite_metrics(r.metrics_json),
        push_sha256=r.push_sha256, artifact=FileRef(sha256=r.artifact_sha256, size=r.artifact_size),
        experts_from=r.experts_from, pushed_by=(f"site:{site.id}:{site.name or ''}" if site else None),
        created_at=r.created_at,
    )
