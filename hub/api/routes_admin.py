"""Operator endpoints: sites, centers and their fingerprints, audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import Ctx, CurrentOperator, CurrentPrincipal, SessionDep
from hub.api.params import ActionQuery, CenterPath, CenterQuery, IdPath
from hub.services import audit
from hub.services.centers import list_centers, set_fingerprint
from hub.services.principals import add_site, list_sites, revoke_site
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import AuditEventInfo, CenterInfo, SiteCreate, SiteCreated, SiteInfo

router = APIRouter(prefix="/v1", tags=["admin"])


@router.post("/sites", response_model=SiteCreated, status_code=201)
def post_site(body: SiteCreate, ctx: Ctx, who: CurrentOperator) -> SiteCreated:
    """Enrol a site bound to one center; the token is in this response only."""
    return add_site(ctx.factory, center=body.center, name=body.name, actor=who.actor)


@router.get("/sites", response_model=list[SiteInfo])
def get_sites(session: SessionDep, who: CurrentOperator,
              center: CenterQuery = None) -> list[SiteInfo]:
    return list_sites(session, center=center)


@router.post("/sites/{site_id}/revoke", response_model=SiteInfo)
def post_revoke(site_id: IdPath, ctx: Ctx, who: CurrentOperator) -> SiteInfo:
    """Revoke a site's token; its next request is refused."""
    return revoke_site(ctx.factory, site_id=site_id, actor=who.actor)


@router.get("/centers", response_model=list[CenterInfo])
def get_centers(session: SessionDep, who: CurrentPrincipal) -> list[CenterInfo]:
    return list_centers(session)


@router.put("/centers/{code}/fingerprint", response_model=CenterInfo)
def put_fingerprint(code: CenterPath, body: SiteFingerprint, ctx: Ctx, who: CurrentOperator) -> CenterInfo:
    """Publish the aggregate fingerprint recommendations compare sites against."""
    info = set_fingerprint(ctx.factory, code=code, fingerprint=body, actor=who.actor)
    ctx.index_cache.invalidate()
    return info


@router.get("/audit", response_model=list[AuditEventInfo])
def get_audit(session: SessionDep, who: CurrentOperator, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              action: ActionQuery = None) -> list[AuditEventInfo]:
    return audit.list_events(session, limit=limit, action=action)
