"""SuperNode keys bound to sites: registration by a site, node ids from the SuperLink, bindings for a run.

A key belongs to exactly one site (and so one center); a revoked site's keys bind nothing, so its
node is neither sampled nor believed by the ServerApp.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from federation.keys import fingerprint, parse_public_key
from hub.db.models import FederationNodeKey, Site
from hub.db.session import write_session
from hub.errors import Conflict, InvalidInput, NotFound
from hub.services import audit
from protocols.federation import NodeKeyInfo, NodeKeyRegistration


def key_info(row: FederationNodeKey) -> NodeKeyInfo:
    return NodeKeyInfo(id=row.id, center=row.site.center.code, site_id=row.site_id, fingerprint=row.fingerprint,
                       node_id=None if row.node_id is None else int(row.node_id), revoked=row.site.revoked,
                       created_at=row.created_at)


def register_key(factory: sessionmaker[Session], *, site_id: int, body: NodeKeyRegistration,
                 actor: str) -> NodeKeyInfo:
    """Bind ``body.public_key`` to site ``site_id``; registering the same key again for that site is a no-op."""
    try:
        public = parse_public_key(body.public_key)
    except ValueError as err:
        raise InvalidInput(f"public_key: {err}", field="public_key") from None
    fp = fingerprint(public)
    with write_session(factory) as s:
        site = s.get(Site, site_id)
        if site is None or site.revoked:
            raise NotFound(f"site {site_id} does not exist or is revoked", field="site_id")
        row = s.scalar(select(FederationNodeKey).where(FederationNodeKey.fingerprint == fp))
        if row is not None and row.site_id != site_id:
            raise Conflict("this SuperNode key is already registered to another site; make a new key",
                           field="public_key")
        if row is None:
            row = FederationNodeKey(site_id=site_id, public_key=public, fingerprint=fp)
            s.add(row)
            s.flush()
            audit.record(s, actor=actor, action="federation.key.register", target=f"site:{site_id}",
                         fingerprint=fp)
        s.flush()
        return key_info(row)


def list_keys(session: Session, *, center: str | None = None) -> list[NodeKeyInfo]:
    rows = session.scalars(select(FederationNodeKey).order_by(FederationNodeKey.id))
    return [key_info(r) for r in rows if center is None or r.site.center.code == center]


def set_node_id(factory: sessionmaker[Session], *, key_id: int, node_id: int, actor: str) -> NodeKeyInfo:
    """Record the node id the SuperLink assigned to key ``key_id`` when the hub registered it there."""
    with write_session(factory) as s:
        row = s.get(FederationNodeKey, key_id)
        if row is None:
            raise NotFound(f"node key {key_id} does not exist", field="key_id")
        row.node_id = str(node_id)
        audit.record(s, actor=actor, action="federation.key.node", target=f"site:{row.site_id}", node_id=node_id)
        s.flush()
        return key_info(row)


def bindings(session: Session) -> dict[int, str]:
    """Node id -> center for keys of unrevoked sites that the SuperLink has given a node id."""
    rows = session.scalars(select(FederationNodeKey).join(Site).where(Site.revoked.is_(False),
                                                                       FederationNodeKey.node_id.is_not(None)))
    return {int(r.node_id): r.site.center.code for r in rows}
