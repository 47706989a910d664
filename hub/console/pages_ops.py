"""Console pages about the deployment: sites, recommendations, the audit log and federation rounds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import Response

from hub.console import data
from hub.console.auth import Viewer, ctx_of, get_viewer, require_operator
from hub.console.render import page
from hub.db.models import Center
from hub.errors import NotFound
from hub.services import registry
from hub.services.recommend import rank
from protocols.hub_api import RecommendationRequest

router = APIRouter()
CurrentViewer = Annotated[Viewer, Depends(get_viewer)]
OperatorViewer = Annotated[Viewer, Depends(require_operator)]
AUDIT_PAGE = 50


@router.get("/sites")
def sites(request: Request, viewer: CurrentViewer) -> Response:
    with ctx_of(request).factory() as s:
        rows = data.sites_of(s, center=viewer.center)
    return page("sites.html", viewer=viewer, active="sites", sites=rows)


@router.get("/recommendations")
def recommendations(request: Request, viewer: CurrentViewer,
                    center: Annotated[str | None, Query(max_length=32)] = None,
                    version: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """Rank a version's routers for a center's published fingerprint, with the REST API's ranking service."""
    ctx = ctx_of(request)
    center = viewer.center or center or None
    version = version or None
    result, error = None, None
    with ctx.factory() as s:
        choices = [c for c in data.centers_with_fingerprint(s) if viewer.center in (None, c)]
        versions = [v.info.version for v in data.version_views(s, include_drafts=False)]
        if center:
            found = s.scalar(select(Center).where(Center.code == center))
            row = registry.center_info(found) if found is not None else None
            if row is None or row.fingerprint is None:
                error = (f"Center {center} has no published fingerprint yet; an operator sets one with "
                         f"`hub centers set-fingerprint {center} FILE.json`.")
            else:
                try:
                    index = ctx.index_cache.get(s, version)
                    result = rank(index, RecommendationRequest(fingerprint=row.fingerprint, model_version=version,
                                                               limit=10))
                except NotFound as err:
                    error = f"{err.detail[0].upper()}{err.detail[1:]}."
                except ValidationError:
                    error = f"{version!r} is not a valid version name."
    return page("recommendations.html", viewer=viewer, active="recommendations", choices=choices,
                versions=versions, center=center, version=version, result=result, error=error)


@router.get("/audit")
def audit(request: Request, viewer: OperatorViewer,
          before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
          action: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    with ctx_of(request).factory() as s:
        events = data.audit_page(s, before=before, limit=AUDIT_PAGE + 1, action=action or None)
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    return page("audit.html", viewer=viewer, active="audit", events=events, action=action or "",
                next_before=events[-1].id if more else None, first=before is None)


@router.get("/federation")
def federation(request: Request, viewer: CurrentViewer) -> Response:
    with ctx_of(request).factory() as s:
        rounds = [v for v in data.version_views(s, include_drafts=viewer.operator) if v.federation]
    return page("federation.html", viewer=viewer, active="federation", rounds=rounds)
