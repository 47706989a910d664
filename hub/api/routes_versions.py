"""Model versions: list, info, signed manifest, files (Range supported)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from starlette.responses import FileResponse

from hub.api.deps import Ctx, CurrentOperator, CurrentPrincipal, SessionDep
from hub.api.downloads import blob_response
from hub.api.openapi_docs import FILE_RESPONSES
from hub.api.params import FileNamePath, Sha256Path, VersionPath
from hub.db.models import Blob, ModelVersion
from hub.errors import NotFound
from hub.services import registry
from hub.services.publish import set_status
from protocols.hub_api import ModelVersionInfo, SignedManifest, TokenScope, VersionStatus

router = APIRouter(prefix="/v1", tags=["versions"])


@router.get("/versions", response_model=list[ModelVersionInfo])
def list_versions(session: SessionDep, who: CurrentPrincipal,
                  include_drafts: Annotated[bool, Query()] = False) -> list[ModelVersionInfo]:
    """Published and deprecated versions, newest first; operators may include drafts."""
    rows = session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))
    drafts = include_drafts and who.scope is TokenScope.OPERATOR
    return [registry.version_info(r) for r in rows if drafts or r.status in registry.VISIBLE]


@router.get("/versions/{version}", response_model=ModelVersionInfo)
def get_version(version: VersionPath, session: SessionDep, who: CurrentPrincipal) -> ModelVersionInfo:
    row = registry.get_version(session, version, include_drafts=who.scope is TokenScope.OPERATOR)
    return registry.version_info(row)


@router.get("/versions/{version}/manifest", response_model=SignedManifest)
def get_manifest(version: VersionPath, session: SessionDep, who: CurrentPrincipal) -> SignedManifest:
    """The manifest and an Ed25519 signature over ``canonical_json(manifest)``; verify with /v1/info's key."""
    row = registry.get_version(session, version, include_drafts=who.scope is TokenScope.OPERATOR)
    return registry.signed_manifest(row)


@router.get("/versions/{version}/files/{name}", response_class=FileResponse, responses=FILE_RESPONSES)
def get_file(version: VersionPath, name: FileNamePath, session: SessionDep, ctx: Ctx,
             who: CurrentPrincipal) -> FileResponse:
    row = registry.get_version(session, version, include_drafts=who.scope is TokenScope.OPERATOR)
    try:
        entry = registry.manifest_of(row).file(name)
    except KeyError:
        raise NotFound(f"model version {version} has no file {name!r}", field="name") from None
    return blob_response(ctx, entry.sha256, filename=name)


@router.put("/versions/{version}/status", response_model=ModelVersionInfo)
def put_status(version: VersionPath, status: Annotated[VersionStatus, Query()], ctx: Ctx,
               who: CurrentOperator) -> ModelVersionInfo:
    """Operator only: publish a draft or deprecate a version."""
    info = set_status(factory=ctx.factory, version=version, status=status, actor=who.actor)
    ctx.index_cache.invalidate()
    return info


@router.get("/blobs/{sha256}", response_class=FileResponse, tags=["files"], responses=FILE_RESPONSES)
def get_blob(sha256: Sha256Path, session: SessionDep, ctx: Ctx, who: CurrentPrincipal) -> FileResponse:
    """Any stored file by content hash, with HTTP Range (206 + Content-Range) for resumable downloads."""
    if session.get(Blob, sha256) is None:
        raise NotFound(f"no stored file has sha256 {sha256}", field="sha256")
    return blob_response(ctx, sha256)
