"""Bounded wire field types: short printable strings, finite floats and ids that fit every database."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from protocols.groups import validate_center_code

DB_INT_MAX = 2**31 - 1
"""Largest id or count a field may carry: PostgreSQL ``integer`` (SQLite's limit is higher)."""

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"
"""A model version: 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(value: str) -> str:
    """Return ``value`` if it holds no NUL, newline or other control character, else raise ``ValueError``."""
    if (bad := _CONTROL.search(value)) is not None:
        raise ValueError(f"control character U+{ord(bad.group()):04X} is not allowed")
    return value


Name = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(printable)]
ShortText = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(printable)]
Version = Annotated[str, Field(min_length=1, max_length=64, pattern=VERSION_PATTERN)]
DbId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
CenterCode = Annotated[str, Field(max_length=32), AfterValidator(validate_center_code)]
