"""Audit log: every write records who did what to which target."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import AuditEvent
from protocols.hub_api import AuditEventInfo


def _fit(value: str, column: str) -> str:
    """``value`` cut to the column's length, so a long actor or target never fails the write."""
    limit = AuditEvent.__table__.c[column].type.length
    return value if len(value) <= limit else value[: limit - 1] + "~"


def record(session: Session, *, actor: str, action: str, target: str | None = None, **detail: Any) -> None:
    """Add an audit event to the caller's transaction (it commits or rolls back with the write)."""
    session.add(AuditEvent(actor=_fit(actor, "actor"), action=_fit(action, "action"),
                           target=None if target is None else _fit(target, "target"),
                           detail_json=json.dumps(detail, default=str)))


def list_events(session: Session, *, limit: int = 100, action: str | None = None) -> list[AuditEventInfo]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return [
        AuditEventInfo(id=e.id, at=e.at, actor=e.actor, action=e.action, target=e.target,
                       detail=json.loads(e.detail_json))
        for e in session.scalars(stmt)
    ]
