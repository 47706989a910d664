"""Zero-shot reports (sites) and router recommendations (anyone with a token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.api.deps import Ctx, CurrentPrincipal, CurrentSite, HubContext
from hub.api.openapi_docs import problems
from hub.services.recommend import rank_json
from hub.services.registry import newest_version_of_family
from hub.services.reports import store_report
from protocols.hub_api import RecommendationRequest, RecommendationResponse, ZeroShotReport, ZeroShotReportAck

router = APIRouter(prefix="/v1", tags=["recommendations"])


@router.post("/reports/zero-shot", response_model=ZeroShotReportAck, status_code=201, responses=problems(404))
def post_zero_shot(report: ZeroShotReport, ctx: Ctx, site: CurrentSite) -> ZeroShotReportAck:
    """Per-router Dice and case count measured on the site's own cases; a newer report replaces the older."""
    ack = store_report(ctx.factory, site=site, report=report)
    ctx.metrics.count("report", "stored")
    ctx.index_cache.invalidate()
    return ack


@router.post("/recommendations", response_model=RecommendationResponse, responses=problems(404))
async def recommend(req: RecommendationRequest, request: Request, who: CurrentPrincipal) -> Response:
    """Routers ranked by fingerprint similarity blended with reported zero-shot Dice, with reasons.

    The ranking index of each version is built once per write and shared by every request; scoring is vectorised
    and runs on the event loop. Only a request that finds no current index waits for its (single) rebuild.
    """
    ctx: HubContext = request.app.state.hub  # read here, not as a dependency: one fewer to solve per request
    version = req.model_version
    if version is None and req.family is not None:  # one query, only for requests that name a family
        version = await run_in_threadpool(newest_version_of_family, ctx.factory, req.family)
    index = ctx.index_cache.current(ctx.factory, version)
    if index is None:
        index = await run_in_threadpool(ctx.index_cache.load, ctx.factory, version)
    return Response(rank_json(index, req), media_type="application/json")
