"""Read and write safetensors without torch: bounded header parsing, finiteness checks, streaming writes."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from hub.errors import PushRejected
from hub.services.bounded_json import parse_bounded

DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
_FLOAT_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    start: int  # absolute byte offset in the file
    end: int


@dataclass(frozen=True)
class Header:
    tensors: dict[str, TensorEntry]
    metadata: dict[str, str]
    data_start: int


def _bad(detail: str, field: str | None = None) -> PushRejected:
    return PushRejected(detail, field=field, code="bad_header")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _bad(f"safetensors header repeats the key {key!r}", key)
        out[key] = value
    return out


def read_header(fh: BinaryIO, file_size: int, *, max_header_bytes: int, what: str = "file") -> Header:
    """Parse and check the header: bounded size, known dtypes, byte counts, contiguous in-file offsets."""
    fh.seek(0)
    if file_size < 8:
        raise _bad(f"{what} is too short to be safetensors")
    (n,) = struct.unpack("<Q", fh.read(8))
    if n > max_header_bytes:
        raise _bad(f"{what} declares a {n}-byte safetensors header, over the limit of {max_header_bytes}")
    if n > file_size - 8:
        raise _bad(f"{what} declares a header longer than the file")
    raw = parse_bounded(fh.read(n), what=what, object_pairs_hook=_no_duplicates)
    if not isinstance(raw, dict):
        raise _bad(f"{what} has a safetensors header that is not a JSON object")
    meta = raw.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise _bad(f"{what} has __metadata__ that is not a string-to-string map", "__metadata__")
    data_start, tensors = 8 + n, {}
    for name, spec in raw.items():
        tensors[name] = _entry(name, spec, data_start)
    cursor = 0
    for t in sorted(tensors.values(), key=lambda t: (t.start, t.end)):
        if t.start - data_start != cursor:
            raise _bad(f"tensor {t.name!r} does not start where the previous one ends", t.name)
        cursor = t.end - data_start
    if data_start + cursor != file_size:
        raise _bad(f"{what} has {file_size - data_start - cursor} bytes not covered by any tensor")
    return Header(tensors=tensors, metadata=meta, data_start=data_start)


def _entry(name: str, spec: object, data_start: int) -> TensorEntry:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
        raise _bad(f"tensor {name!r} needs exactly dtype, shape and data_offsets in the header", name)
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if dtype not in DTYPE_SIZES:
        raise _bad(f"tensor {name!r} has unsupported dtype {dtype!r}", name)
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                for d in shape):
        raise _bad(f"tensor {name!r} has a malformed shape", name)
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise _bad(f"tensor {name!r} has malformed data_offsets", name)
    if offsets[1] - offsets[0] != math.prod(shape) * DTYPE_SIZES[dtype]:
        raise _bad(f"tensor {name!r} has data_offsets that do not match its shape and dtype", name)
    return TensorEntry(name, dtype, tuple(shape), data_start + offsets[0], data_start + offsets[1])


def all_finite(fh: BinaryIO, entry: TensorEntry) -> bool:
    """True when every value of a float tensor is finite (integers always are); reads in chunks."""
    if entry.dtype not in _FLOAT_DTYPES and entry.dtype != "BF16":
        return True
    fh.seek(entry.start)
    left = entry.end - entry.start
    while left > 0:
        buf = fh.read(min(_CHUNK, left))
        if not buf:
            return False
        left -= len(buf)
        if entry.dtype == "BF16":
            bits = np.frombuffer(buf, dtype="<u2")
            if np.any((bits & 0x7F80) == 0x7F80):
                return False
        elif not np.isfinite(np.frombuffer(buf, dtype=_FLOAT_DTYPES[entry.dtype])).all():
            return False
    return True


@dataclass(frozen=True)
class Source:
    """Tensor bytes to copy: ``path[start:end]`` with the given dtype and shape."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    path: str
    start: int
    end: int


def write_chunks(sources: list[Source], metadata: dict[str, str]) -> Iterator[bytes]:
    """Stream a safetensors file made of ``sources`` (sorted by name), copying bytes chunk by chunk."""
    header: dict[str, object] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    ordered = sorted(sources, key=lambda s: s.name)
    for s in ordered:
        header[s.name] = {"dtype": s.dtype, "shape": list(s.shape), "data_offsets": [offset, offset + s.end - s.start]}
        offset += s.end - s.start
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    yield struct.pack("<Q", len(raw)) + raw
    for s in ordered:
        with open(s.path, "rb") as fh:
            fh.seek(s.start)
            left = s.end - s.start
            while left > 0:
                chunk = fh.read(min(_CHUNK, left))
                if not chunk:
                    raise OSError(f"{s.path} ended before tensor {s.name!r} was complete")
                left -= len(chunk)
                yield chunk
