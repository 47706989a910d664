"""Ranking inputs per model version, cached for a short time and dropped on every write."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session

from hub.services.recommend import Index, load_index


class IndexCache:
    """Ranking inputs per version, rebuilt after ``ttl_s`` or when a write in this process invalidates them."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[str | None, tuple[float, int, Index]] = {}
        self._generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def peek(self, version: str | None) -> Index | None:
        """The cached index when still fresh, without touching the database."""
        hit = self._entries.get(version)
        if hit and hit[1] == self._generation and time.monotonic() - hit[0] < self.ttl_s:
            return hit[2]
        return None

    def get(self, session: Session, version: str | None) -> Index:
        if (hit := self.peek(version)) is not None:
            return hit
        now = time.monotonic()
        gen = self._generation
        index = load_index(session, version)
        with self._lock:
            if gen == self._generation:
                self._entries[version] = (now, gen, index)
        return index
