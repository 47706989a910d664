"""Console log-in: a token form, a server-side session cookie, CSRF checks, and the viewer dependency.

Operator tokens see everything. Site tokens may log in too and see only their own center
(its routers, sites and recommendations) plus published versions; the audit log stays
operator-only, as in the REST API.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from hub.api.deps import HubContext
from hub.console.render import page
from hub.console.sessions import LOGIN_COOKIE, MAX_AGE_S, SESSION_COOKIE, ConsoleSession, SessionStore
from hub.errors import Unauthorized
from hub.services.principals import Principal, authenticate, authenticate_digest
from protocols.hub_api import TokenScope

MAX_TOKEN_CHARS = 512
router = APIRouter()


class LoginRequired(Exception):
    """No live session: the handler answers 303 to the log-in page and nothing else."""


class Refused(Exception):
    """A logged-in viewer may not do this (status and one sentence for the error page)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Viewer:
    """The authenticated principal behind a console session."""

    principal: Principal
    session: ConsoleSession

    @property
    def operator(self) -> bool:
        return self.principal.scope is TokenScope.OPERATOR

    @property
    def center(self) -> str | None:
        """The only center a site viewer may see; None for operators (all centers)."""
        return None if self.operator else self.principal.center


def ctx_of(request: Request) -> HubContext:
    return request.app.state.hub


def store_of(request: Request) -> SessionStore:
    return request.app.state.console_sessions


def _check(ctx: HubContext, token: str) -> Principal:
    with ctx.factory() as s:
        return authenticate(s, token)


def get_viewer(request: Request) -> Viewer:
    """The session's principal, re-authenticated on every page so a revoked token logs the console out."""
    store = store_of(request)
    sid = request.cookies.get(SESSION_COOKIE)
    sess = store.get(sid)
    if sess is None:
        raise LoginRequired
    try:
        with ctx_of(request).factory() as s:
            principal, _ = authenticate_digest(s, sess.token_hash)
        return Viewer(principal, sess)
    except Unauthorized:
        store.drop(sid)
        raise LoginRequired from None


def require_operator(viewer: Annotated[Viewer, Depends(get_viewer)]) -> Viewer:
    if not viewer.operator:
        raise Refused(403, "This page needs an operator token; site tokens see their own center only.")
    return viewer


def check_csrf(sent: str, expected: str | None) -> None:
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Refused(403, "The form's security token is missing or stale; reload the page and try again.")


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set (or, with ``max_age=0``, delete) an HttpOnly, SameSite=Strict cookie, Secure over https."""
    response.set_cookie(name, value, max_age=max_age, path="/console", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(32)
    response = page("login.html", status=status, error=error, csrf=nonce, viewer=None, active="login")
    _cookie(response, request, LOGIN_COOKIE, nonce, 3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    if store_of(request).get(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse("/console/", status_code=303)
    return _login_page(request)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=MAX_TOKEN_CHARS)] = "",
          csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    """Check the login form's CSRF echo, then the token; on success swap in a fresh session cookie."""
    try:
        check_csrf(csrf, request.cookies.get(LOGIN_COOKIE))
    except Refused as err:
        return _login_page(request, err.message, err.status)
    token = token.strip()
    if not token:
        return _login_page(request, "Paste an operator or site token to log in.", 400)
    try:
        _check(ctx_of(request), token)
    except Unauthorized as err:
        return _login_page(request, f"Log-in refused: {err.detail}.", 401)
    store = store_of(request)
    store.drop(request.cookies.get(SESSION_COOKIE))
    sid, _ = store.create(token)
    response = RedirectResponse("/console/", status_code=303)
    _cookie(response, request, SESSION_COOKIE, sid, MAX_AGE_S)
    _cookie(response, request, LOGIN_COOKIE, "", 0)
    return response


@router.post("/logout")
def logout(request: Request, viewer: Annotated[Viewer, Depends(get_viewer)],
           csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    check_csrf(csrf, viewer.session.csrf)
    store_of(request).drop(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    _cookie(response, request, SESSION_COOKIE, "", 0)
    return response
