"""The operator web console: server-rendered pages under ``/console``, behind the hub's own tokens.

``build(ctx)`` returns a FastAPI sub-application that ``create_app`` mounts; being a mount, it
stays out of the REST API's OpenAPI schema, and its errors are HTML pages, not problem JSON.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from hub.api.deps import HubContext
from hub.console import auth, pages, pages_ops
from hub.console.render import page
from hub.console.sessions import SessionStore

CSS = files("hub.console").joinpath("static/console.css")


async def _error(request: Request, status: int, message: str) -> Response:
    """An HTML error page for a logged-in viewer; anyone else only gets the redirect to the log-in page."""
    try:
        viewer = await run_in_threadpool(auth.get_viewer, request)
    except auth.LoginRequired:
        return RedirectResponse("/console/login", status_code=303)
    return page("error.html", status=status, viewer=viewer, active="", status_code=status, message=message)


def build(ctx: HubContext) -> FastAPI:
    """The console app for ``ctx``; its log-in sessions live in the hub's database (shared by all workers)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, include_in_schema=False)
    app.state.hub = ctx
    app.state.console_sessions = SessionStore(ctx.factory)
    for module in (auth, pages, pages_ops):
        app.include_router(module.router, include_in_schema=False)

    @app.get("/static/console.css", include_in_schema=False)
    def css() -> Response:
        return Response(CSS.read_bytes(), media_type="text/css",
                        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})

    @app.exception_handler(auth.LoginRequired)
    async def _login(_: Request, __: auth.LoginRequired) -> Response:
        return RedirectResponse("/console/login", status_code=303, headers={"Cache-Control": "no-store"})

    @app.exception_handler(auth.Refused)
    async def _refused(request: Request, err: auth.Refused) -> Response:
        return await _error(request, err.status, err.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> Response:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        msg = first.get("msg", "invalid value")
        return await _error(request, 422, f"The {where or 'request'} is not valid: {msg}.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> Response:
        message = "There is no such console page." if err.status_code == 404 else str(err.detail)
        return await _error(request, err.status_code, message)

    return app


__all__ = ["build"]
