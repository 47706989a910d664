"""Hub info, health and metrics."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Depends, Request
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse

from hub import __version__
from hub.api.deps import Ctx, CurrentPrincipal, bearer, get_principal, require_operator
from hub.api.openapi_docs import problems
from hub.errors import Forbidden
from hub.settings import MetricsAccess
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


def _is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1, and ::ffff:127.x as a dual-stack socket reports an IPv4 client."""
    try:
        addr = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return (getattr(addr, "ipv4_mapped", None) or addr).is_loopback


async def metrics_access(request: Request, ctx: Ctx) -> None:
    """Apply ``MOME_HUB_METRICS``: loopback clients only (default), operator tokens only, or anyone.

    The token is read here, not declared as a dependency: the schema must not say every mode needs one.
    """
    mode = ctx.settings.metrics
    if mode is MetricsAccess.LOOPBACK and not _is_loopback(request.client.host if request.client else None):
        raise Forbidden("/metrics is served to loopback clients only; scrape it from this host or set "
                        "MOME_HUB_METRICS=operator (operator token) or public", code="metrics_loopback_only")
    if mode is MetricsAccess.OPERATOR:
        require_operator(await run_in_threadpool(get_principal, ctx, await bearer(request)))


@router.get("/metrics", response_class=PlainTextResponse, tags=["info"], dependencies=[Depends(metrics_access)],
            responses=problems(401, 403))
def metrics(ctx: Ctx) -> PlainTextResponse:
    """Prometheus counters; who may read them is set by ``MOME_HUB_METRICS`` (``hub serve --metrics``)."""
    return PlainTextResponse(ctx.metrics.render(), media_type="text/plain; version=0.0.4")
