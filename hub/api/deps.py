"""Typed dependencies: the hub context, DB sessions and the authenticated caller.

The dependencies behind ``Ctx`` and ``Current*`` are ``async``, so FastAPI runs them on the event loop instead of
hopping to its thread pool; a cached token needs neither a thread nor a query (``hub.services.auth_cache``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from functools import update_wrapper
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from hub.errors import Forbidden, Unauthorized
from hub.services.auth_cache import PrincipalCache
from hub.services.blobs import BlobStore
from hub.services.index_cache import IndexCache
from hub.services.metrics import Metrics
from hub.services.principals import Principal
from hub.services.signing import Signer
from hub.settings import HubSettings
from protocols.hub_api import TokenScope


@dataclass
class HubContext:
    """Everything a request may need, built once by ``create_app``."""

    settings: HubSettings
    factory: sessionmaker[Session]
    store: BlobStore
    signer: Signer
    metrics: Metrics
    index_cache: IndexCache
    principals: PrincipalCache = field(default_factory=PrincipalCache)


bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="a site token (mhs_...) or an operator token (mho_...)")
"""Documents the scheme in OpenAPI (``components.securitySchemes``); errors stay our own problems."""


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    token = credentials.credentials.strip() if credentials else ""
    if not token:
        raise Unauthorized("this endpoint needs an 'Authorization: Bearer <token>' header", code="no_token")
    return token


# The plain functions below are the synchronous API (call them directly, from a worker thread if the token may
# need a query). Routes depend on their async twins; a twin compares equal to its plain function, so code that
# asks "does this route depend on get_principal / require_operator?" of a route's dependency tree still works.

def get_ctx(request: Request) -> HubContext:
    return request.app.state.hub


def get_principal(ctx: HubContext, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller, from the token cache or one database read; ``Unauthorized`` if unknown, revoked or expired."""
    return ctx.principals.authenticate(ctx.factory, _token(credentials))


def require_operator(principal: Principal) -> Principal:
    if principal.scope is not TokenScope.OPERATOR:
        raise Forbidden("this endpoint needs an operator token", code="operator_only")
    return principal


def require_site(principal: Principal) -> Principal:
    if principal.scope is not TokenScope.SITE:
        raise Forbidden("this endpoint needs a site token", code="site_only")
    return principal


class _AsyncTwin:
    """An async dependency that stands for a plain function in identity checks (equal to it, same hash)."""

    def __init__(self, run: Callable[..., Coroutine[Any, Any, Any]], plain: Callable[..., Any]) -> None:
        update_wrapper(self, run)  # FastAPI reads the async signature through __wrapped__
        self._run, self._plain = run, plain

    def __call__(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        return self._run(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return other is self or other is self._plain

    def __hash__(self) -> int:
        return hash(self._plain)


async def _ctx(request: Request) -> HubContext:
    return request.app.state.hub


current_ctx = _AsyncTwin(_ctx, get_ctx)


async def _principal(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    ctx: HubContext = request.app.state.hub  # not a sub-dependency: one dependency fewer to solve per request
    token = _token(credentials)
    if (hit := ctx.principals.cached(token)) is not None:
        return hit
    return await run_in_threadpool(ctx.principals.authenticate, ctx.factory, token)


current_principal = _AsyncTwin(_principal, get_principal)


async def _operator(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    return require_operator(principal)


async def _site(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    return require_site(principal)


def get_session(ctx: Annotated[HubContext, Depends(current_ctx)]) -> Iterator[Session]:
    with ctx.factory() as session:
        yield session


Ctx = Annotated[HubContext, Depends(current_ctx)]
SessionDep = Annotated[Session, Depends(get_session)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentOperator = Annotated[Principal, Depends(_AsyncTwin(_operator, require_operator))]
CurrentSite = Annotated[Principal, Depends(_AsyncTwin(_site, require_site))]
