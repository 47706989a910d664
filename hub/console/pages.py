"""Console pages about the model: overview, versions with lineage, routers, one router's lineage, plots."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from hub.console import charts, data, plots
from hub.console.auth import Refused, Viewer, ctx_of, get_viewer
from hub.console.render import page
from hub.services import registry

router = APIRouter()
CurrentViewer = Annotated[Viewer, Depends(get_viewer)]
RouterId = Annotated[int, Path(ge=1, le=2**31 - 1)]
VersionName = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/")
def overview(request: Request, viewer: CurrentViewer) -> Response:
    with ctx_of(request).factory() as s:
        versions = data.version_views(s, include_drafts=viewer.operator, center=viewer.center)
        routers = data.routers_of(s, include_drafts=viewer.operator, center=viewer.center)
        sites = data.sites_of(s, center=viewer.center)
        events = data.audit_page(s, before=None, limit=8, action=None) if viewer.operator else []
    return page("overview.html", viewer=viewer, active="overview", versions=versions, routers=routers,
                sites=sites, events=events, rounds=[v for v in versions if v.federation],
                centers=sorted({r.center for r in routers}))


@router.get("/versions")
def versions(request: Request, viewer: CurrentViewer) -> Response:
    with ctx_of(request).factory() as s:
        views = data.version_views(s, include_drafts=viewer.operator, center=viewer.center)
    return page("versions.html", viewer=viewer, active="versions", versions=views)


@router.get("/versions/{version}")
def version_detail(request: Request, version: VersionName, viewer: CurrentViewer) -> Response:
    with ctx_of(request).factory() as s:
        views = data.version_views(s, include_drafts=viewer.operator, center=viewer.center)
        view = next((v for v in views if v.info.version == version), None)
        if view is None:
            raise Refused(404, f"Model version {version!r} does not exist or is not visible to this token.")
        chain = data.version_chain(s, version, include_drafts=viewer.operator)
    return page("version.html", viewer=viewer, active="versions", v=view, chain=chain)


@router.get("/routers")
def routers(request: Request, viewer: CurrentViewer) -> Response:
    with ctx_of(request).factory() as s:
        rows = data.routers_of(s, include_drafts=viewer.operator, center=viewer.center)
    by_center: dict[str, list] = {}
    for r in rows:
        by_center.setdefault(r.center, []).append(r)
    return page("routers.html", viewer=viewer, active="routers", by_center=by_center)


@router.get("/routers/{router_id}")
def router_detail(request: Request, router_id: RouterId, viewer: CurrentViewer) -> Response:
    """One router's lineage: its version chain, the router it started from, who pushed it, reports on it."""
    with ctx_of(request).factory() as s:
        row = data.router_row(s, router_id, include_drafts=viewer.operator, center=viewer.center)
        if row is None:
            raise Refused(404, f"Router {router_id} does not exist or is not visible to this token.")
        info = registry.router_info(row)
        start = data.init_router_row(s, row)
        start_info = registry.router_info(start) if start is not None and (
            viewer.center is None or start.center.code == viewer.center) else None
        chain = data.version_chain(s, info.model_version, include_drafts=viewer.operator)
        history = [r for r in data.routers_of(s, include_drafts=viewer.operator, center=info.center)
                   if r.id != info.id]
        reports = data.zero_shot_reports(s, router_id)
    activation = plots.activation_of(info.metrics)
    return page("router.html", viewer=viewer, active="routers", r=info, start=start_info, chain=chain,
                history=history, reports=reports, dice=plots.dice_of(info.metrics),
                heat=charts.heatmap(activation) if activation else None)


@router.get("/plots")
def plot_page(request: Request, viewer: CurrentViewer) -> Response:
    with ctx_of(request).factory() as s:
        rows = data.routers_of(s, include_drafts=viewer.operator, center=viewer.center)
    series = plots.dice_vs_shots(rows)
    return page("plots.html", viewer=viewer, active="plots", dice_keys=plots.DICE_KEYS,
                chart=charts.line_chart(series) if series else None,
                heats=[(r, charts.heatmap(act)) for r, act in plots.activations(rows)])
