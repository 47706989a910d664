"""Centers: the published fingerprint an operator sets for each center."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Center, utcnow
from hub.db.session import write_session
from hub.services import audit, registry
from protocols.fingerprint import SiteFingerprint
from protocols.groups import validate_center_code
from protocols.hub_api import CenterInfo


def set_fingerprint(factory: sessionmaker[Session], *, code: str, fingerprint: SiteFingerprint,
                    display_name: str | None = None, actor: str) -> CenterInfo:
    validate_center_code(code)
    with write_session(factory) as s:
        c = registry.get_or_create_center(s, code)
        c.fingerprint_json = fingerprint.model_dump_json()
        c.fingerprint_updated_at = utcnow()
        if display_name is not None:
            c.display_name = display_name
        audit.record(s, actor=actor, action="center.fingerprint", target=code)
        s.flush()
        return registry.center_info(c)


def list_centers(session: Session) -> list[CenterInfo]:
    return [registry.center_info(c) for c in session.scalars(select(Center).order_by(Center.code))]
