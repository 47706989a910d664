"""Hub info, health and metrics."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import PlainTextResponse

from hub import __version__
from hub.api.deps import Ctx, CurrentPrincipal
from protocols.hub_api import Health, HubInfo, WhoAmI
from protocols.version import PROTOCOL_VERSION

router = APIRouter()


@router.get("/v1/info", response_model=HubInfo, tags=["info"])
def hub_info(ctx: Ctx) -> HubInfo:
    """Protocol version and the public key every published manifest is signed with (no token needed)."""
    return HubInfo(protocol_version=PROTOCOL_VERSION, hub_version=__version__, signing=ctx.signer.info())


@router.get("/v1/whoami", response_model=WhoAmI, tags=["info"])
def whoami(principal: CurrentPrincipal) -> WhoAmI:
    """Which scope (and, for a site, which center) the bearer token stands for; 401 if none is valid."""
    return WhoAmI(scope=principal.scope, name=principal.name, center=principal.center)


@router.get("/healthz", response_model=Health, tags=["info"])
def healthz(ctx: Ctx) -> Health:
    with ctx.factory() as s:
        s.execute(text("SELECT 1"))
    return Health()


@router.get("/metrics", response_class=PlainTextResponse, tags=["info"])
def metrics(ctx: Ctx) -> PlainTextResponse:
    return PlainTextResponse(ctx.metrics.render(), media_type="text/plain; version=0.0.4")
