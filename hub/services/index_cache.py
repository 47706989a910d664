"""One immutable ranking index per model version, rebuilt once per write; readers never query the database.

- A write through this process (push, publish, status change, report, fingerprint) calls ``invalidate()``: the
  next reader rebuilds the index, and readers arriving meanwhile wait for that one build (single flight).
- A write by another process (another worker, the ``hub`` CLI) is noticed by a cheap stamp query (row counts and
  id sums of the version's routers and reports, its centers' fingerprint times), run in a background thread at
  most every ``recheck_s`` seconds while readers keep the current index; the index is rebuilt only if it changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Center, ModelVersion, Router, ZeroShotReportRow
from hub.services.recommend import Index, load_index
from hub.services.registry import VISIBLE
from protocols.hub_api import VersionStatus

log = logging.getLogger("hub.index")


def load_stamp(session: Session, version: str | None) -> Hashable:
    """What the index of ``version`` (``None``: newest published) depends on, in a few aggregate queries.

    Sums of ids change whenever a row is added or replaced (new ids only grow), whatever order transactions
    commit in; ``None`` when the version is gone or hidden.
    """
    stmt = select(ModelVersion.id, ModelVersion.status)
    if version:
        stmt = stmt.where(ModelVersion.version == version)
    else:
        stmt = (stmt.where(ModelVersion.status == VersionStatus.PUBLISHED.value)
                .order_by(ModelVersion.published_at.desc(), ModelVersion.id.desc()).limit(1))
    row = session.execute(stmt).first()
    if row is None or row.status not in VISIBLE:
        return None
    of_version = Router.model_version_id == row.id
    routers = session.execute(select(func.count(Router.id), func.sum(Router.id)).where(of_version)).one()
    reports = session.execute(select(func.count(ZeroShotReportRow.id), func.sum(ZeroShotReportRow.id))
                              .join(Router).where(of_version)).one()
    centers = session.execute(select(Center.id, Center.fingerprint_updated_at)
                              .where(Center.id.in_(select(Router.center_id).where(of_version)))
                              .order_by(Center.id)).all()
    return row.id, row.status, tuple(routers), tuple(reports), hash(tuple(map(tuple, centers)))


@dataclass
class _Entry:
    index: Index
    generation: int
    stamp: Hashable
    checked_at: float


class IndexCache:
    """Per-version indexes; ``builds`` counts rebuilds (one per write, never one per request)."""

    def __init__(self, recheck_s: float) -> None:
        self.recheck_s = recheck_s
        self._lock = threading.Lock()  # guards the fields below
        self._build_lock = threading.Lock()  # one build at a time (builds are rare: once per write)
        self._entries: dict[str | None, _Entry] = {}
        self._generation = 0
        self._checking: set[str | None] = set()
        self.builds = 0

    def invalidate(self) -> None:
        """A write in this process: the next reader of any version rebuilds (and sees the write)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def peek(self, version: str | None) -> Index | None:
        """The current index, without touching the database or the clock; ``None`` when it must be built."""
        entry = self._entries.get(version)
        return entry.index if entry is not None and entry.generation == self._generation else None

    def current(self, factory: sessionmaker[Session], version: str | None) -> Index | None:
        """``peek``, and start a background stamp check when the last one is older than ``recheck_s``."""
        entry = self._entries.get(version)
        if entry is None or entry.generation != self._generation:
            return None
        if time.monotonic() - entry.checked_at >= self.recheck_s:
            self._recheck_later(factory, version, entry)
        return entry.index

    def get(self, session: Session, version: str | None) -> Index:
        """The index of ``version``, built with ``session`` if needed (blocking: call it off the event loop)."""
        if (index := self.peek(version)) is not None:
            return index
        return self._build(session, version, force=False)

    def load(self, factory: sessionmaker[Session], version: str | None) -> Index:
        """``get`` with a session of its own."""
        if (index := self.peek(version)) is not None:
            return index
        with factory() as session:
            return self._build(session, version, force=False)

    def _build(self, session: Session, version: str | None, *, force: bool) -> Index:
        with self._build_lock:
            if not force and (index := self.peek(version)) is not None:
                return index  # another reader built it while this one waited
            generation = self._generation
            stamp = load_stamp(session, version)  # before the rows: a write in between only costs a rebuild
            index = load_index(session, version)
            with self._lock:
                self.builds += 1
                if generation == self._generation:
                    self._entries[version] = _Entry(index, generation, stamp, time.monotonic())
            return index

    def _recheck_later(self, factory: sessionmaker[Session], version: str | None, entry: _Entry) -> None:
        with self._lock:
            if version in self._checking:
                return
            self._checking.add(version)
        threading.Thread(target=self._recheck, args=(factory, version, entry), name="index-recheck",
                         daemon=True).start()

    def refresh(self, factory: sessionmaker[Session], version: str | None) -> bool:
        """Compare the index of ``version`` with the database now; rebuild (or drop) it if it changed."""
        entry = self._entries.get(version)
        with factory() as session:
            stamp = load_stamp(session, version)
            if entry is not None and stamp == entry.stamp:
                entry.checked_at = time.monotonic()
                return False
            if stamp is None:
                with self._lock:
                    self._entries.pop(version, None)  # gone or hidden: the next reader gets the 404
            else:
                self._build(session, version, force=True)
            return True

    def _recheck(self, factory: sessionmaker[Session], version: str | None, entry: _Entry) -> None:
        try:
            self.refresh(factory, version)
        except Exception:  # noqa: BLE001 - a failed check keeps serving the current index and retries later
            log.warning("could not check the ranking index of version %s", version or "(newest)", exc_info=True)
            entry.checked_at = time.monotonic()
        finally:
            with self._lock:
                self._checking.discard(version)
