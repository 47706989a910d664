"""Content-addressed blob store: ``blobs/<sha256>``, written via temp file and ``os.replace``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from hub.errors import InvalidInput, PayloadTooLarge

PART_PREFIX = "part-"
"""Temp parts are ``.tmp/part-<pid>-<random>`` so a crash's leftovers can be told from live uploads."""


class BlobStore:
    def __init__(self, root: Path, chunk_bytes: int = 1024 * 1024) -> None:
        self.root = root
        self.tmp = root / ".tmp"
        self.chunk_bytes = chunk_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        self._writers = 0
        self._writers_lock = threading.Lock()

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def touch(self, sha256: str) -> bool:
        """Refresh a stored blob's mtime (so ``hub gc`` leaves it alone while a write adopts it); False if absent."""
        try:
            os.utime(self.path(sha256))
        except FileNotFoundError:
            return False
        return True

    def put_chunks(
        self, chunks: Iterable[bytes], *, sha256: str | None = None, size: int | None = None,
        max_bytes: int | None = None, what: str = "upload",
    ) -> tuple[str, int]:
        """Store a stream; checks size and sha256 (when given) before the rename. Returns (sha256, size)."""
        digest, total = hashlib.sha256(), 0
        with self._writing():
            fd, tmp_name = self._new_part()
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in chunks:
                        total += len(chunk)
                        if max_bytes is not None and total > max_bytes:
                            raise PayloadTooLarge(f"{what} is larger than the limit of {max_bytes} bytes")
                        digest.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                actual = digest.hexdigest()
                if size is not None and total != size:
                    raise InvalidInput(f"{what} has {total} bytes but {size} were declared", field="size",
                                       code="size_mismatch")
                if sha256 is not None and actual != sha256:
                    raise InvalidInput(f"{what} has sha256 {actual} but {sha256} was declared", field="sha256",
                                       code="sha256_mismatch")
                os.replace(tmp_name, self.path(actual))
                return actual, total
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Count this process's uploads; the last one to finish removes the emptied ``.tmp`` (other processes'
        part creation retries if the folder vanishes under it)."""
        with self._writers_lock:
            self._writers += 1
        try:
            yield
        finally:
            with self._writers_lock:
                self._writers -= 1
                if not self._writers:
                    self.drop_empty_tmp()

    def _new_part(self) -> tuple[int, str]:
        """A fresh temp part; ``.tmp`` exists only while an upload is under way (no empty folder left behind)."""
        for _ in range(100):
            try:  # a finishing upload may remove the emptied folder at any moment here: then make it again
                self.tmp.mkdir(parents=True, exist_ok=True)
                return tempfile.mkstemp(dir=self.tmp, prefix=f"{PART_PREFIX}{os.getpid()}-")
            except (FileNotFoundError, FileExistsError):
                continue
        raise OSError(f"could not create a temp part in {self.tmp}")

    def drop_empty_tmp(self) -> None:
        """Remove ``.tmp`` when no part is in it; a part another upload is writing keeps it (rmdir fails)."""
        with contextlib.suppress(OSError):
            self.tmp.rmdir()

    def put_file(self, fh: BinaryIO, **kwargs: object) -> tuple[str, int]:
        fh.seek(0)
        return self.put_chunks(iter(lambda: fh.read(self.chunk_bytes), b""), **kwargs)  # type: ignore[arg-type]

    def read_range(self, sha256: str, start: int, end: int) -> Iterable[bytes]:
        """Yield bytes ``[start, end)`` of a stored blob in chunks."""
        with open(self.path(sha256), "rb") as fh:
            fh.seek(start)
            left = end - start
            while left > 0:
                chunk = fh.read(min(self.chunk_bytes, left))
                if not chunk:
                    raise OSError(f"blob {sha256} is shorter than expected")
                left -= len(chunk)
                yield chunk
