"""Bearer tokens: random, shown once, stored as sha256, compared in constant time, with an optional expiry."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

TOKEN_BYTES = 32
SITE_PREFIX = "mhs_"
OPERATOR_PREFIX = "mho_"

SITE_TOKEN_TTL = timedelta(days=365)
"""Default lifetime of a new site token (a site renews it once a year)."""
OPERATOR_TOKEN_TTL = timedelta(days=90)
"""Default lifetime of a new operator token (operators hold wider rights, so their tokens live shorter)."""

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
NEVER = ("never", "none", "0")


class Generation:
    """A counter bumped on every token revocation in this process; token caches compare it on each hit.

    With a stamp file attached (``build_context`` attaches ``DATA_DIR/revocations.stamp``) a revocation also
    replaces that file, so serving processes of the same data folder (another worker, a server while the
    ``hub`` CLI revokes) see it on their next request: one ``stat`` per request, no query.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0
        self.stamp_path: Path | None = None

    def attach(self, stamp_path: Path) -> None:
        self.stamp_path = stamp_path

    def bump(self) -> None:
        with self._lock:
            self.value += 1
            if self.stamp_path is not None:
                touch_stamp(self.stamp_path)


def touch_stamp(path: Path) -> None:
    """Replace the stamp file by a new one (a new inode and time), atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(str(time.time_ns()).encode())
    os.replace(tmp, path)


def stamp_of(path: Path | None) -> tuple[int, int]:
    """What identifies the stamp file now (inode, modification time); (0, 0) when there is none."""
    if path is None:
        return (0, 0)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_ino, st.st_mtime_ns)


REVOCATION_STAMP = "revocations.stamp"
"""The file in the data folder that a revocation replaces (see ``Generation``)."""

REVOCATIONS = Generation()
"""Process-wide on purpose: a revocation through any app, console or CLI call in this process must end every cached
authentication of that token here at once (other processes re-read tokens from the database, see ``auth_cache``)."""


def new_token(prefix: str) -> str:
    """A fresh token; the prefix only tells humans what kind it is."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


def parse_lifetime(text: str) -> timedelta | None:
    """``"90d"``, ``"12h"`` or ``"30m"`` -> that duration; ``"never"`` -> ``None`` (the token does not expire)."""
    if text.strip().casefold() in NEVER:
        return None
    m = _DURATION.match(text.casefold())
    if m is None or int(m.group(1)) == 0:
        raise ValueError(f"{text!r} is not a lifetime; write a positive number of days, hours or minutes "
                         "such as 90d, 12h or 30m, or 'never'")
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


def expiry(now: datetime, lifetime: timedelta | None) -> datetime | None:
    """When a token created at ``now`` with ``lifetime`` expires (``None``: never)."""
    return None if lifetime is None else now + lifetime
