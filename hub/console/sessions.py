"""Console log-in sessions: random ids mapped, in this process's memory, to the token that opened them.

The cookie carries only the session id. The token stays server-side so every page can re-run
``principals.authenticate``: revoking (or expiring) the token ends the console session at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

SESSION_COOKIE = "mome_console"
LOGIN_COOKIE = "mome_console_login"
"""Pre-login CSRF cookie: the login form must echo its value (double submit)."""
IDLE_S = 30 * 60
MAX_AGE_S = 8 * 60 * 60
MAX_SESSIONS = 10_000


@dataclass
class ConsoleSession:
    """One logged-in browser: its token (never sent back to it), CSRF token and timestamps."""

    token: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)


class SessionStore:
    """Thread-safe map of session id to ``ConsoleSession`` with idle and absolute expiry."""

    def __init__(self, *, idle_s: float = IDLE_S, max_age_s: float = MAX_AGE_S, limit: int = MAX_SESSIONS) -> None:
        self.idle_s, self.max_age_s, self.limit = idle_s, max_age_s, limit
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, ConsoleSession] = OrderedDict()

    def create(self, token: str) -> tuple[str, ConsoleSession]:
        """A fresh unguessable id (256 random bits) for ``token``; the oldest session goes when full."""
        sid, sess = secrets.token_urlsafe(32), ConsoleSession(token=token)
        with self._lock:
            self._sessions[sid] = sess
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)
        return sid, sess

    def get(self, sid: str | None) -> ConsoleSession | None:
        """The live session for ``sid`` (its idle clock restarted), or None when unknown or expired."""
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            sess = self._sessions.get(sid)
            if sess is None:
                return None
            if now - sess.seen > self.idle_s or now - sess.created > self.max_age_s:
                del self._sessions[sid]
                return None
            sess.seen = now
            self._sessions.move_to_end(sid)
            return sess

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def __len__(self) -> int:
        return len(self._sessions)
