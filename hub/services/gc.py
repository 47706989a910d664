"""Crash leftovers: stale temp parts under ``blobs/.tmp`` and blob files no database row refers to."""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Blob
from hub.services.blobs import PART_PREFIX, BlobStore

MIN_AGE_S = 3600.0
"""``hub gc`` leaves files younger than this alone: a running upload may still adopt them."""
_SHA = re.compile(r"[0-9a-f]{64}")


@dataclass
class GcReport:
    """What ``collect`` found and (unless a dry run) removed."""

    dry_run: bool
    stale_parts: list[str] = field(default_factory=list)
    orphan_blobs: list[str] = field(default_factory=list)
    missing_blobs: list[str] = field(default_factory=list)
    freed_bytes: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _writer_alive(part: Path) -> bool:
    """True when the process named in ``part-<pid>-...`` still runs and is not this one."""
    pid = part.name.removeprefix(PART_PREFIX).split("-", 1)[0]
    if not pid.isdigit() or not 0 < int(pid) < 2**31 or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def stale_parts(store: BlobStore, *, before: float) -> list[Path]:
    """Temp parts last written before ``before`` whose writer process is gone (or is this process)."""
    return sorted(p for p in store.tmp.glob(f"{PART_PREFIX}*")
                  if (m := _mtime(p)) is not None and m < before and not _writer_alive(p))


def remove_stale_parts(store: BlobStore, *, before: float) -> list[Path]:
    """Delete what ``stale_parts`` finds; called at start-up with the start time as ``before``."""
    parts = stale_parts(store, before=before)
    for p in parts:
        p.unlink(missing_ok=True)
    store.drop_empty_tmp()
    return parts


def collect(factory: sessionmaker[Session], store: BlobStore, *, dry_run: bool = False,
            min_age_s: float = MIN_AGE_S) -> GcReport:
    """Find (and unless ``dry_run`` remove) stale temp parts and orphan blobs older than ``min_age_s``."""
    before, report = time.time() - min_age_s, GcReport(dry_run=dry_run)
    with factory() as s:
        known = set(s.scalars(select(Blob.sha256)))
    files = {p.name: p for p in store.root.iterdir() if p.is_file() and _SHA.fullmatch(p.name)}
    report.missing_blobs = sorted(known - set(files))
    for part in stale_parts(store, before=before):
        report.stale_parts.append(part.name)
        report.freed_bytes += _remove(part, dry_run)
    for sha in sorted(set(files) - known):
        if (m := _mtime(files[sha])) is None or m >= before:
            continue
        with factory() as s:  # re-check right before deleting: a write may have adopted it meanwhile
            if s.get(Blob, sha) is not None:
                continue
        report.orphan_blobs.append(sha)
        report.freed_bytes += _remove(files[sha], dry_run)
    if not dry_run:
        store.drop_empty_tmp()
    return report


def _remove(path: Path, dry_run: bool) -> int:
    try:
        size = path.stat().st_size
        if not dry_run:
            path.unlink()
    except FileNotFoundError:
        return 0
    return size
