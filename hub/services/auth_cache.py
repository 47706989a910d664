"""Authenticated principals cached in the process, so a request's token check needs no thread hop and no query.

Guarantee, stated precisely:
- a revocation made in this process (REST, console, or a ``principals.revoke_*`` call) refuses the token on the
  very next request here: the revoking call bumps ``tokens.REVOCATIONS`` after its commit and every cached entry
  carries the generation it was read under;
- a revocation made by another process of the same data folder (another ``hub serve`` worker, the ``hub`` CLI)
  replaces ``DATA_DIR/revocations.stamp``; each hit compares that file's identity (one ``stat``), so it is refused
  on the next request there too;
- anything else that changes tokens in the database (another host, hand-written SQL) is seen within ``recheck_s``
  (default 1 s): an entry older than that is read from the database again;
- expiry is compared with the clock on every request, cached or not.
Unknown tokens are never cached (a flood of made-up tokens cannot grow the cache).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from hub.services.principals import Principal, authenticate_with_expiry, refuse_if_expired
from hub.services.tokens import REVOCATIONS, hash_token, stamp_of

RECHECK_S = 1.0
"""How long a cached authentication is trusted before the database is asked again (cross-process revocation)."""
MAX_ENTRIES = 10_000
"""Tokens kept at most; when full the cache starts over (each token then costs one query again)."""


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None
    read_at: float  # time.monotonic() when read from the database
    generation: int  # REVOCATIONS.value before that read
    stamp: tuple[int, int]  # the revocation stamp file's identity before that read


class PrincipalCache:
    """sha256(token) -> principal, trusted for ``recheck_s`` and only while no revocation happened, in this process
    (``REVOCATIONS``) or in another process of the data folder (the stamp file at ``stamp_path``)."""

    def __init__(self, recheck_s: float = RECHECK_S, max_entries: int = MAX_ENTRIES,
                 stamp_path: Path | None = None) -> None:
        self.recheck_s, self.max_entries, self.stamp_path = recheck_s, max_entries, stamp_path
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.reads = 0  # database reads, for tests and metrics

    def cached(self, token: str) -> Principal | None:
        """The principal if a fresh entry exists (``Unauthorized`` if its token has expired); else ``None``."""
        entry = self._entries.get(hash_token(token))
        if (entry is None or entry.generation != REVOCATIONS.value
                or time.monotonic() - entry.read_at >= self.recheck_s or entry.stamp != stamp_of(self.stamp_path)):
            return None
        refuse_if_expired(entry.principal, entry.expires_at)
        return entry.principal

    def authenticate(self, factory: sessionmaker[Session], token: str) -> Principal:
        """Cached principal, or one database read that refreshes the entry (blocking: run it off the event loop)."""
        if (hit := self.cached(token)) is not None:
            return hit
        generation = REVOCATIONS.value  # read before the query: a revocation committed meanwhile voids this entry
        stamp = stamp_of(self.stamp_path)
        with factory() as session:
            principal, expires_at = authenticate_with_expiry(session, token)
        with self._lock:
            self.reads += 1
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[hash_token(token)] = _Entry(principal, expires_at, time.monotonic(), generation, stamp)
        return principal
