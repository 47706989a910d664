"""``create_app(settings)``: the FastAPI application; nothing is created at import time."""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from hub import __version__, console
from hub.api import (
    openapi_docs,
    problems,
    routes_admin,
    routes_advice,
    routes_federation,
    routes_info,
    routes_routers,
    routes_versions,
)
from hub.api.encoding import RefuseContentEncoding
from hub.context import build_context
from hub.services.metrics import Metrics
from hub.settings import HubSettings


class MetricsMiddleware:
    """Count requests per route template and status (pure ASGI, no body buffering)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), 500

        async def _send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - start)


def create_app(settings: HubSettings | None = None) -> FastAPI:
    """Migrate, load the signing key and wire every route for ``settings`` (default: environment)."""
    settings = settings or HubSettings()
    ctx = build_context(settings, clean_temp=True)
    app = FastAPI(title="MoME Hub", version=__version__,
                  description="Model versions, center routers, validated pushes and router recommendations.")
    app.state.hub = ctx
    problems.install(app)
    openapi_docs.document(app)
    for module in (routes_advice, routes_info, routes_versions, routes_routers, routes_admin):
        # The routes themselves rather than include_router: this FastAPI version rebuilds an included route's
        # handler on every request, and these routers carry no include options, so the routes are identical.
        # The recommendation (the hot path) comes first: routes are matched in order, and no path overlaps.
        app.router.routes.extend(module.router.routes)
    app.include_router(routes_federation.router)
    app.mount("/console", console.build(ctx))  # operator web console (HTML, outside the OpenAPI schema)
    app.add_middleware(RefuseContentEncoding)
    app.add_middleware(MetricsMiddleware, metrics=ctx.metrics)
    return app
