"""Zero-shot reports (sites) and router recommendations (anyone with a token)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.api.deps import Ctx, CurrentPrincipal, CurrentSite, HubContext
from hub.services.recommend import Index, rank
from hub.services.reports import store_report
from protocols.hub_api import RecommendationRequest, RecommendationResponse, ZeroShotReport, ZeroShotReportAck

router = APIRouter(prefix="/v1", tags=["recommendations"])


@router.post("/reports/zero-shot", response_model=ZeroShotReportAck, status_code=201)
def post_zero_shot(report: ZeroShotReport, ctx: Ctx, site: CurrentSite) -> ZeroShotReportAck:
    """Per-router Dice and case count measured on the site's own cases; a newer report replaces the older."""
    ack = store_report(ctx.factory, site=site, report=report)
    ctx.metrics.count("report", "stored")
    ctx.index_cache.invalidate()
    return ack


def _index(ctx: HubContext, version: str | None) -> Index:
    with ctx.factory() as session:
        return ctx.index_cache.get(session, version)


@router.post("/recommendations", response_model=RecommendationResponse)
async def recommend(req: RecommendationRequest, ctx: Ctx, who: CurrentPrincipal) -> Response:
    """Routers ranked by fingerprint similarity blended with reported zero-shot Dice, with reasons.

    Ranking inputs are cached (``recommend_cache_s``); scoring is vectorised and runs on the event loop.
    """
    index = ctx.index_cache.peek(req.model_version) or await run_in_threadpool(_index, ctx, req.model_version)
    return Response(rank(index, req).model_dump_json(), media_type="application/json")
