"""Sites and operators: enrolment, listing, revocation and token authentication."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Center, Operator, Site, utcnow
from hub.db.session import write_session
from hub.errors import InvalidInput, NotFound, Unauthorized
from hub.services import audit, registry
from hub.services.tokens import OPERATOR_PREFIX, SITE_PREFIX, hash_token, new_token, token_matches
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


def site_info(site: Site) -> SiteInfo:
    return SiteInfo(id=site.id, name=site.name, center=site.center.code, scopes=[TokenScope(x) for x in
                    site.scopes.split(",")], revoked=site.revoked, created_at=site.created_at)


def add_site(factory: sessionmaker[Session], *, center: str, name: str | None, actor: str) -> SiteCreated:
    validate_center_code(center)
    name = None if name is None else checked_name(name)
    token = new_token(SITE_PREFIX)
    with write_session(factory) as s:
        c = registry.get_or_create_center(s, center)
        site = Site(name=name, center_id=c.id, token_hash=hash_token(token), scopes=TokenScope.SITE.value,
                    revoked=False)
        s.add(site)
        s.flush()
        audit.record(s, actor=actor, action="site.add", target=f"site:{site.id}", center=center, name=name)
        s.flush()
        return SiteCreated(site=site_info(site), token=token)


def list_sites(session: Session, *, center: str | None = None) -> list[SiteInfo]:
    stmt = select(Site).order_by(Site.id)
    rows = [x for x in session.scalars(stmt) if center is None or x.center.code == center]
    return [site_info(x) for x in rows]


def revoke_site(factory: sessionmaker[Session], *, site_id: int, actor: str) -> SiteInfo:
    with write_session(factory) as s:
        site = s.get(Site, site_id)
        if site is None:
            raise NotFound(f"site {site_id} does not exist", field="site_id")
        site.revoked, site.revoked_at = True, utcnow()
        audit.record(s, actor=actor, action="site.revoke", target=f"site:{site_id}")
        s.flush()
        return site_info(site)


def assert_site_active(session: Session, site_id: int) -> None:
    """Inside a write transaction, refuse a site revoked since it authenticated (row locked until commit)."""
    # FOR UPDATE on PostgreSQL: a concurrent revocation waits for this commit instead of racing it
    # (SQLite's BEGIN IMMEDIATE in write_session already serialises writers).
    revoked = session.scalar(select(Site.revoked).where(Site.id == site_id).with_for_update())
    if revoked is None or revoked:
        raise Unauthorized("this site token was revoked while the request was in progress; nothing was stored",
                           code="token_revoked")


def add_operator(factory: sessionmaker[Session], *, name: str, actor: str) -> tuple[int, str]:
    name = checked_name(name)
    token = new_token(OPERATOR_PREFIX)
    with write_session(factory) as s:
        op = Operator(name=name, token_hash=hash_token(token), revoked=False)
        s.add(op)
        s.flush()
        audit.record(s, actor=actor, action="operator.add", target=f"operator:{op.id}", name=name)
        return op.id, token


def authenticate(session: Session, token: str) -> Principal:
    """The principal holding ``token``; revoked or unknown tokens are refused (one indexed query each)."""
    digest = hash_token(token)
    site = session.execute(select(Site.id, Site.name, Site.revoked, Site.token_hash, Center.code)
                           .join(Center, Site.center_id == Center.id).where(Site.token_hash == digest)).first()
    if site is not None and token_matches(token, site.token_hash):
        if site.revoked:
            raise Unauthorized("this site token has been revoked", code="token_revoked")
        return Principal(TokenScope.SITE, site.id, site.name or "", site.code)
    op = session.execute(select(Operator.id, Operator.name, Operator.revoked, Operator.token_hash)
                         .where(Operator.token_hash == digest)).first()
    if op is not None and token_matches(token, op.token_hash):
        if op.revoked:
            raise Unauthorized("this operator token has been revoked", code="token_revoked")
        return Principal(TokenScope.OPERATOR, op.id, op.name)
    raise Unauthorized("the bearer token is not known to this hub", code="bad_token")
