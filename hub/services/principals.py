"""Sites and operators: enrolment, listing, revocation and token authentication."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Center, Operator, Site, utcnow
from hub.db.session import write_session
from hub.errors import InvalidInput, NotFound, Unauthorized
from hub.services import audit, registry
from hub.services.tokens import (
    OPERATOR_PREFIX,
    OPERATOR_TOKEN_TTL,
    REVOCATIONS,
    SITE_PREFIX,
    SITE_TOKEN_TTL,
    expiry,
    hash_token,
    new_token,
)
from protocols.groups import validate_center_code
from protocols.hub_api import SiteCreated, SiteInfo, TokenScope
from protocols.text import Name

ACTOR_NAME_CHARS = 64
"""How much of a principal's name its audit actor string keeps (the id identifies it)."""
_NAME = TypeAdapter(Name)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an operator, or a site bound to one center."""

    scope: TokenScope
    id: int
    name: str
    center: str | None = None

    @property
    def actor(self) -> str:
        """``scope:id:name@center`` with the name cut to ``ACTOR_NAME_CHARS`` so it fits the audit column."""
        name = self.name[:ACTOR_NAME_CHARS]
        return f"{self.scope.value}:{self.id}:{name}" + (f"@{self.center}" if self.center else "")


def checked_name(name: str) -> str:
    """``name`` if it is 1-128 printable characters, else ``InvalidInput`` naming the field."""
    try:
        return _NAME.validate_python(name)
    except ValidationError as err:
        raise InvalidInput(f"name: {err.errors()[0]['msg'].removeprefix('Value error, ')}", field="name") from None


class OperatorInfo(BaseModel):
    """An operator as ``hub operators list`` shows it (never the token)."""

    id: int
    name: str
    revoked: bool
    created_at: datetime
    expires_at: datetime | None


def site_info(site: Site) -> SiteInfo:
    return SiteInfo(id=site.id, name=site.name, center=site.center.code, scopes=[TokenScope(x) for x in
                    site.scopes.split(",")], revoked=site.revoked, created_at=site.created_at)


def add_site(factory: sessionmaker[Session], *, center: str, name: str | None, actor: str,
             lifetime: timedelta | None = SITE_TOKEN_TTL) -> SiteCreated:
    """Enrol a site; its token expires after ``lifetime`` (``None``: never)."""
    validate_center_code(center)
    name = None if name is None else checked_name(name)
    token = new_token(SITE_PREFIX)
    expires_at = expiry(utcnow(), lifetime)
    with write_session(factory) as s:
        c = registry.get_or_create_center(s, center)
        site = Site(name=name, center_id=c.id, token_hash=hash_token(token), scopes=TokenScope.SITE.value,
                    revoked=False, expires_at=expires_at)
        s.add(site)
        s.flush()
        audit.record(s, actor=actor, action="site.add", target=f"site:{site.id}", center=center, name=name,
                     expires_at=expires_at)
        s.flush()
        return SiteCreated(site=site_info(site), token=token)


def list_sites(session: Session, *, center: str | None = None) -> list[SiteInfo]:
    stmt = select(Site).order_by(Site.id)
    rows = [x for x in session.scalars(stmt) if center is None or x.center.code == center]
    return [site_info(x) for x in rows]


def revoke_site(factory: sessionmaker[Session], *, site_id: int, actor: str) -> SiteInfo:
    """Revoke a site's token; its next request is refused."""
    return _revoke(factory, Site, site_id, actor, "site", site_info)


def assert_site_active(session: Session, site_id: int) -> None:
    """Inside a write transaction, refuse a site revoked since it authenticated (row locked until commit)."""
    # FOR UPDATE on PostgreSQL: a concurrent revocation waits for this commit instead of racing it
    # (SQLite's BEGIN IMMEDIATE in write_session already serialises writers).
    row = session.execute(select(Site.revoked, Site.expires_at).where(Site.id == site_id).with_for_update()).first()
    if row is None or row.revoked:
        raise Unauthorized("this site token was revoked while the request was in progress; nothing was stored",
                           code="token_revoked")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthorized(f"this site token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC while the request was "
                           "in progress; nothing was stored", code="token_expired")


def add_operator(factory: sessionmaker[Session], *, name: str, actor: str,
                 lifetime: timedelta | None = OPERATOR_TOKEN_TTL) -> tuple[int, str]:
    """Create an operator token that expires after ``lifetime`` (``None``: never); returns (id, token)."""
    name = checked_name(name)
    token = new_token(OPERATOR_PREFIX)
    expires_at = expiry(utcnow(), lifetime)
    with write_session(factory) as s:
        op = Operator(name=name, token_hash=hash_token(token), revoked=False, expires_at=expires_at)
        s.add(op)
        s.flush()
        audit.record(s, actor=actor, action="operator.add", target=f"operator:{op.id}", name=name,
                     expires_at=expires_at)
        return op.id, token


def list_operators(session: Session) -> list[OperatorInfo]:
    """Operators (never their tokens), oldest first."""
    return [_operator_info(x) for x in session.scalars(select(Operator).order_by(Operator.id))]


def _operator_info(op: Operator) -> OperatorInfo:
    return OperatorInfo(id=op.id, name=op.name, revoked=op.revoked, created_at=op.created_at,
                        expires_at=op.expires_at)


def site_expiries(session: Session) -> dict[int, datetime | None]:
    """Site id -> when its token expires (``None``: never); kept apart from ``SiteInfo``, the wire type."""
    return {site_id: at for site_id, at in session.execute(select(Site.id, Site.expires_at))}


def revoke_operator(factory: sessionmaker[Session], *, operator_id: int, actor: str) -> OperatorInfo:
    """Revoke an operator token; its next request is refused."""
    return _revoke(factory, Operator, operator_id, actor, "operator", _operator_info)


def _revoke(factory: sessionmaker[Session], model: type[Site] | type[Operator], row_id: int, actor: str, kind: str,
            info: Callable[[Any], Any]) -> Any:
    """Mark the row revoked and audit it in one transaction, then tell every token cache (``REVOCATIONS``)."""
    with write_session(factory) as s:
        row = s.get(model, row_id)
        if row is None:
            raise NotFound(f"{kind} {row_id} does not exist", field=f"{kind}_id")
        row.revoked, row.revoked_at = True, utcnow()
        audit.record(s, actor=actor, action=f"{kind}.revoke", target=f"{kind}:{row_id}")
        s.flush()
        result = info(row)
    REVOCATIONS.bump()  # after the commit: every token cache here, and (through its stamp) every process, re-reads
    return result


def _expired(what: str, expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= utcnow():
        raise Unauthorized(f"this {what} token expired at {expires_at:%Y-%m-%d %H:%M} UTC; ask the hub operator "
                           "for a new one", code="token_expired")


def authenticate_with_expiry(session: Session, token: str) -> tuple[Principal, datetime | None]:
    """(principal holding ``token``, when the token expires); revoked, expired or unknown tokens are refused."""
    return authenticate_digest(session, hash_token(token))


def authenticate_digest(session: Session, digest: str) -> tuple[Principal, datetime | None]:
    """As ``authenticate_with_expiry`` for the token whose sha256 is ``digest`` (a console session keeps only
    that, never the token)."""
    site = session.execute(select(Site.id, Site.name, Site.revoked, Site.expires_at, Site.token_hash, Center.code)
                           .join(Center, Site.center_id == Center.id).where(Site.token_hash == digest)).first()
    if site is not None and hmac.compare_digest(digest, site.token_hash):
        if site.revoked:
            raise Unauthorized("this site token has been revoked", code="token_revoked")
        _expired("site", site.expires_at)
        return Principal(TokenScope.SITE, site.id, site.name or "", site.code), site.expires_at
    op = session.execute(select(Operator.id, Operator.name, Operator.revoked, Operator.expires_at,
                                Operator.token_hash).where(Operator.token_hash == digest)).first()
    if op is not None and hmac.compare_digest(digest, op.token_hash):
        if op.revoked:
            raise Unauthorized("this operator token has been revoked", code="token_revoked")
        _expired("operator", op.expires_at)
        return Principal(TokenScope.OPERATOR, op.id, op.name), op.expires_at
    raise Unauthorized("the bearer token is not known to this hub", code="bad_token")


def authenticate(session: Session, token: str) -> Principal:
    """The principal holding ``token`` (two indexed queries at most); revoked, expired or unknown: ``Unauthorized``.

    The uncached check, for callers outside the request path (the console, scripts); REST requests go through
    ``hub.services.auth_cache`` first.
    """
    return authenticate_with_expiry(session, token)[0]


def refuse_if_expired(principal: Principal, expires_at: datetime | None) -> None:
    """``Unauthorized`` (``token_expired``) when a cached principal's token has expired since it was read."""
    _expired(principal.scope.value, expires_at)
