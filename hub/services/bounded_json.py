"""Parse an untrusted safetensors JSON header with bounded nesting and integer size (no RecursionError)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from hub.errors import PushRejected

MAX_HEADER_DEPTH = 4
"""A valid header nests 3 levels (object -> tensor object -> shape list); anything deeper is refused unparsed."""
MAX_INT_DIGITS = 20
"""Shapes and offsets are unsigned 64-bit: 20 digits at most."""
_SPECIAL = re.compile(rb'["\[\]{}]')
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)


def _bad(detail: str) -> PushRejected:
    return PushRejected(detail, code="bad_header")


def check_depth(text: bytes, what: str) -> None:
    """Refuse nesting deeper than ``MAX_HEADER_DEPTH`` in one linear scan, before any recursive parser runs."""
    depth, pos = 0, 0
    while (m := _SPECIAL.search(text, pos)) is not None:
        if text[m.start()] == ord('"'):
            if (s := _STRING.match(text, m.start())) is None:
                raise _bad(f"{what} has a safetensors header that is not valid JSON (unterminated string)")
            pos = s.end()
            continue
        depth += 1 if text[m.start()] in b"[{" else -1
        if depth > MAX_HEADER_DEPTH:
            raise _bad(f"{what} has a safetensors header nested deeper than {MAX_HEADER_DEPTH} levels")
        pos = m.end()


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _bad(f"safetensors header holds an integer of {len(digits)} digits (at most {MAX_INT_DIGITS})")
    return int(digits)


def parse_bounded(text: bytes, *, what: str, object_pairs_hook: Callable[[list[tuple[str, object]]], object]) -> object:
    """``text`` as JSON after the depth check, integers of at most ``MAX_INT_DIGITS`` digits; else ``PushRejected``."""
    check_depth(text, what)
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=object_pairs_hook, parse_int=_bounded_int)
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise _bad(f"{what} has a safetensors header that is not valid JSON") from None
