"""Map errors to ``application/problem+json`` responses with stable codes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from hub.errors import HubError
from protocols.hub_api import PROBLEM_CONTENT_TYPE, Problem

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def field_path(loc: Sequence[object], limit: int = 120) -> str:
    """A validation error location as ``a.b.c``, control characters escaped and cut to ``limit`` characters."""
    path = ".".join(str(p) for p in loc if p != "body")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", path)[:limit]


def problem(status: int, title: str, detail: str, code: str, field: str | None = None) -> JSONResponse:
    body = Problem(type=f"https://mome-hub.example/problems/{code}", title=title, status=status, detail=detail,
                   code=code, field=field)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_CONTENT_TYPE,
                        headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def _hub_error(_: Request, err: HubError) -> JSONResponse:
        return problem(err.status, err.title, err.detail, err.code, err.field)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, err: RequestValidationError) -> JSONResponse:
        e = err.errors()[0]
        loc = field_path(e.get("loc", ()))
        msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
        return problem(422, "Invalid request", f"{loc or 'request'}: {msg}", "invalid_request", loc or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code, "http_error")
        return problem(err.status_code, str(err.detail), str(err.detail), code)
