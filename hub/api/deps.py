"""Typed dependencies: the hub context, DB sessions and the authenticated caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from hub.errors import Forbidden, Unauthorized
from hub.services.blobs import BlobStore
from hub.services.index_cache import IndexCache
from hub.services.metrics import Metrics
from hub.services.principals import Principal, authenticate
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


def get_ctx(request: Request) -> HubContext:
    return request.app.state.hub


def get_session(ctx: Annotated[HubContext, Depends(get_ctx)]) -> Iterator[Session]:
    with ctx.factory() as session:
        yield session


bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="a site token (mhs_...) or an operator token (mho_...)")
"""Documents the scheme in OpenAPI (``components.securitySchemes``); errors stay our own problems."""


def get_principal(ctx: Annotated[HubContext, Depends(get_ctx)],
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    token = credentials.credentials.strip() if credentials else ""
    if not token:
        raise Unauthorized("this endpoint needs an 'Authorization: Bearer <token>' header", code="no_token")
    with ctx.factory() as session:
        return authenticate(session, token)


def require_operator(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.scope is not TokenScope.OPERATOR:
        raise Forbidden("this endpoint needs an operator token", code="operator_only")
    return principal


def require_site(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.scope is not TokenScope.SITE:
        raise Forbidden("this endpoint needs a site token", code="site_only")
    return principal


Ctx = Annotated[HubContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_session)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
CurrentOperator = Annotated[Principal, Depends(require_operator)]
CurrentSite = Annotated[Principal, Depends(require_site)]
