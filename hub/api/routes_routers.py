"""Routers: push (site), list, info and artifact download (Range supported)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from hub.api.deps import Ctx, CurrentPrincipal, CurrentSite, SessionDep
from hub.api.downloads import blob_response
from hub.api.openapi_docs import FILE_RESPONSES, problems
from hub.api.params import CenterPath, CenterQuery, IdPath, VersionPath, VersionQuery
from hub.api.upload import read_push
from hub.db.models import Center, ModelVersion, Router
from hub.errors import HubError, NotFound
from hub.services import registry
from hub.services.push import Pusher, accept_push
from protocols.hub_api import PushResult, RouterInfo

router = APIRouter(prefix="/v1", tags=["routers"])


@router.post("/routers", response_model=PushResult, status_code=201, responses=problems(400, 404, 413),
             openapi_extra={"requestBody": {"content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["manifest", "file"], "properties": {
        "manifest": {"type": "string", "description": "RouterUpdateManifest as JSON"},
        "file": {"type": "string", "format": "binary", "description": "safetensors of experts + router.<center>"},
    }}}}, "required": True}})
async def push_router(request: Request, ctx: Ctx, site: CurrentSite) -> PushResult:
    """Push a router update (site tokens, own center only). Repeating the same bytes returns the same record."""
    try:
        manifest, fh, form = await read_push(request, ctx.settings.max_push_bytes)
        try:
            result = await run_in_threadpool(
                accept_push, factory=ctx.factory, store=ctx.store, update=manifest, fh=fh,
                pusher=Pusher(site_id=site.id, center=site.center or "", actor=site.actor),
                max_push_bytes=ctx.settings.max_push_bytes, max_header_bytes=ctx.settings.max_header_bytes)
        finally:
            await form.close()  # type: ignore[attr-defined]
    except HubError as err:
        ctx.metrics.count("push", err.code)
        raise
    ctx.metrics.count("push", "created" if result.created else "repeat")
    ctx.index_cache.invalidate()
    return result


@router.get("/routers", response_model=list[RouterInfo])
def list_routers(session: SessionDep, who: CurrentPrincipal, version: VersionQuery = None,
                 center: CenterQuery = None) -> list[RouterInfo]:
    stmt = select(Router).join(Center).join(ModelVersion).where(ModelVersion.status.in_(registry.VISIBLE))
    if version:
        stmt = stmt.where(ModelVersion.version == version)
    if center:
        stmt = stmt.where(Center.code == center)
    return [registry.router_info(r) for r in session.scalars(stmt.order_by(Router.id))]


def _latest(session: SessionDep, version: str, center: str) -> Router:
    v = registry.get_version(session, version)
    row = session.scalar(select(Router).join(Center).where(Router.model_version_id == v.id, Center.code == center)
                         .order_by(Router.id.desc()).limit(1))
    if row is None:
        raise NotFound(f"model version {version} has no router for center {center}", field="center")
    return row


def _by_id(session: SessionDep, router_id: int) -> Router:
    row = session.get(Router, router_id)
    if row is None or row.model_version.status not in registry.VISIBLE:
        raise NotFound(f"router {router_id} does not exist", field="router_id")
    return row


@router.get("/routers/{router_id}", response_model=RouterInfo)
def get_router(router_id: IdPath, session: SessionDep, who: CurrentPrincipal) -> RouterInfo:
    return registry.router_info(_by_id(session, router_id))


@router.get("/routers/{router_id}/artifact", response_class=FileResponse, responses=FILE_RESPONSES)
def get_router_artifact(router_id: IdPath, session: SessionDep, ctx: Ctx, who: CurrentPrincipal) -> FileResponse:
    r = _by_id(session, router_id)
    return blob_response(ctx, r.artifact_sha256, filename=f"router-{r.center.code}-{r.id}.safetensors")


@router.get("/versions/{version}/routers/{center}", response_model=RouterInfo)
def get_latest_router(version: VersionPath, center: CenterPath, session: SessionDep,
                      who: CurrentPrincipal) -> RouterInfo:
    """The newest router of ``center`` for ``version``."""
    return registry.router_info(_latest(session, version, center))


@router.get("/versions/{version}/routers/{center}/artifact", response_class=FileResponse, responses=FILE_RESPONSES)
def get_latest_router_artifact(version: VersionPath, center: CenterPath, session: SessionDep, ctx: Ctx,
                               who: CurrentPrincipal) -> FileResponse:
    """Gate of ``center`` plus the experts it goes with, as one safetensors file."""
    r = _latest(session, version, center)
    return blob_response(ctx, r.artifact_sha256, filename=f"router-{center}-{r.id}.safetensors")
