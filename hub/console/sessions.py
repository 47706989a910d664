"""Console log-in sessions, in the hub's database so that every worker process knows them.

The cookie carries only a random session id; the database keeps its sha256 and the sha256 of the
token that opened it (never the token). Every page re-checks that token hash against the sites and
operators tables, so revoking (or expiring) the token ends the console session at once, and
logging out deletes the row, so a copied cookie is worthless afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import ConsoleSession as SessionRow
from hub.db.models import utcnow
from hub.services.tokens import hash_token

SESSION_COOKIE = "mome_console"
LOGIN_COOKIE = "mome_console_login"
"""Pre-login CSRF cookie: the login form must echo its value (double submit)."""
IDLE_S = 30 * 60
MAX_AGE_S = 8 * 60 * 60
MAX_SESSIONS = 10_000
SEEN_RESOLUTION_S = 60
"""A page view refreshes the idle clock at most once a minute (not a database write per page)."""


@dataclass
class ConsoleSession:
    """One logged-in browser: the hash of its token (never the token) and its CSRF token."""

    token_hash: str
    csrf: str


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionStore:
    """Session id -> ``ConsoleSession`` with idle and absolute expiry, shared through the database."""

    def __init__(self, factory: sessionmaker[Session], *, idle_s: float = IDLE_S, max_age_s: float = MAX_AGE_S,
                 limit: int = MAX_SESSIONS) -> None:
        self.factory, self.idle_s, self.max_age_s, self.limit = factory, idle_s, max_age_s, limit

    def create(self, token: str) -> tuple[str, ConsoleSession]:
        """A fresh unguessable id (256 random bits) for ``token``; expired sessions go, and the oldest when full."""
        sid, sess = secrets.token_urlsafe(32), ConsoleSession(hash_token(token), secrets.token_urlsafe(32))
        now = utcnow()
        with self.factory.begin() as s:
            self._prune(s, now)
            s.add(SessionRow(sid_hash=_sid_hash(sid), token_hash=sess.token_hash, csrf=sess.csrf, created_at=now,
                             seen_at=now))
        return sid, sess

    def get(self, sid: str | None) -> ConsoleSession | None:
        """The live session for ``sid`` (its idle clock restarted), or None when unknown or expired."""
        if not sid or len(sid) > 128:
            return None
        now = utcnow()
        with self.factory.begin() as s:
            row = s.get(SessionRow, _sid_hash(sid))
            if row is None:
                return None
            if self._expired(row, now):
                s.delete(row)
                return None
            if now - row.seen_at > timedelta(seconds=min(SEEN_RESOLUTION_S, self.idle_s / 10)):
                row.seen_at = now
            return ConsoleSession(row.token_hash, row.csrf)

    def drop(self, sid: str | None) -> None:
        if not sid or len(sid) > 128:
            return
        with self.factory.begin() as s:
            s.execute(delete(SessionRow).where(SessionRow.sid_hash == _sid_hash(sid)))

    def __len__(self) -> int:
        with self.factory() as s:
            return int(s.scalar(select(func.count()).select_from(SessionRow)) or 0)

    def _expired(self, row: SessionRow, now: datetime) -> bool:
        return (now - row.seen_at > timedelta(seconds=self.idle_s)
                or now - row.created_at > timedelta(seconds=self.max_age_s))

    def _prune(self, s: Session, now: datetime) -> None:
        """Delete expired sessions, then the least recently seen beyond ``limit - 1`` (room for the new one)."""
        s.execute(delete(SessionRow).where((SessionRow.seen_at < now - timedelta(seconds=self.idle_s))
                                           | (SessionRow.created_at < now - timedelta(seconds=self.max_age_s))))
        excess = (s.scalar(select(func.count()).select_from(SessionRow)) or 0) - (self.limit - 1)
        if excess > 0:
            oldest = select(SessionRow.sid_hash).order_by(SessionRow.seen_at).limit(excess)
            s.execute(delete(SessionRow).where(SessionRow.sid_hash.in_(oldest.scalar_subquery())))
