"""Map errors to ``application/problem+json`` responses with stable codes; auth is judged before a body is."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.api import auth_first
from hub.errors import HubError
from protocols.hub_api import PROBLEM_CONTENT_TYPE, Problem

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def field_path(loc: Sequence[object], limit: int = 120) -> str:
    """A validation error location as ``a.b.c``, control characters escaped and cut to ``limit`` characters."""
    path = ".".join(str(p) for p in loc if p != "body")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", path)[:limit]


def problem(status: int, title: str, detail: str, code: str, field: str | None = None,
            headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = Problem(type=f"https://mome-hub.example/problems/{code}", title=title, status=status, detail=detail,
                   code=code, field=field)
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_CONTENT_TYPE,
                        headers=headers)


def _of(err: HubError) -> JSONResponse:
    return problem(err.status, err.title, err.detail, err.code, err.field)


async def _auth_problem(request: Request) -> JSONResponse | None:
    """The 401/403 an authenticated route owes before it judges a body FastAPI could not even decode."""
    try:
        await run_in_threadpool(auth_first.check, request, await auth_first.credentials(request))
    except HubError as err:
        return _of(err)
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def _hub_error(_: Request, err: HubError) -> JSONResponse:
        return _of(err)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError) -> JSONResponse:
        e = err.errors()[0]
        if e.get("type") == "json_invalid":
            if denied := await _auth_problem(request):
                return denied  # FastAPI decodes a JSON body before any dependency runs
            pos = next((p for p in e.get("loc", ())[1:] if isinstance(p, int)), 0)
            why = str((e.get("ctx") or {}).get("error", "JSON decode error"))[:80]
            return problem(422, "Invalid request", f"the request body is not valid JSON ({why} at character {pos})",
                           "invalid_json", "body")
        loc = field_path(e.get("loc", ()))
        msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
        return problem(422, "Invalid request", f"{loc or 'request'}: {msg}", "invalid_request", loc or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        if err.status_code == 400:  # FastAPI's only own 400: a body it could not decode, raised before any guard
            if denied := await _auth_problem(request):
                return denied
            undecodable = isinstance(err.__cause__, UnicodeDecodeError)
            detail = "the request body is not UTF-8 text" if undecodable else str(err.detail)
            return problem(400, "Bad request", detail, "bad_body", "body")
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        headers = {**(err.headers or {}), "Allow": _allowed(request)} if err.status_code == 405 else err.headers
        return problem(err.status_code, str(err.detail), str(err.detail), code, headers=headers)


def _allowed(request: Request) -> str:
    """Every method of every route on this path: Starlette's 405 names only the first route's (one per method)."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        route = context.original_route
        if isinstance(route, Route) and route.path_regex.match(request.url.path) and route.methods:
            methods |= route.methods
    return ", ".join(sorted(methods))
