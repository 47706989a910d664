"""Tensor groups of the weights contract and which of them may leave a site."""

from __future__ import annotations

import re
from enum import StrEnum

CENTER_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
"""Anchored for pydantic/FastAPI ``pattern=`` (whole string); Python code uses ``fullmatch``, never ``match``."""
_CENTER_RE = re.compile(CENTER_CODE_PATTERN.removeprefix("^").removesuffix("$"))
ROUTER_PREFIX = "router."


class TensorGroup(StrEnum):
    """Fixed groups; per-center router groups are spelled ``router.<CENTER>``."""

    ENCODER = "encoder"
    DECODER = "decoder"
    ALIGNMENT = "alignment"
    PROMPT = "prompt"
    EXPERTS = "experts"


SHAREABLE_GROUPS = frozenset({TensorGroup.EXPERTS.value})
"""Fixed groups allowed to leave a site; every ``router.<CENTER>`` group is too."""


def validate_center_code(code: str) -> str:
    """Return ``code`` if it is a valid center code, else raise ``ValueError``."""
    if not isinstance(code, str) or _CENTER_RE.fullmatch(code) is None:
        raise ValueError(
            f"center code {code!r} is invalid: use 1-32 letters, digits, '_' or '-', starting with a letter or digit"
        )
    return code


def router_group(center: str) -> str:
    """Name of the tensor group holding the gate of ``center``."""
    return ROUTER_PREFIX + validate_center_code(center)


def parse_group(name: str) -> tuple[str, str | None]:
    """Split a group name into (kind, center); kind is a TensorGroup value or ``router``."""
    if name.startswith(ROUTER_PREFIX):
        return "router", validate_center_code(name[len(ROUTER_PREFIX) :])
    try:
        return TensorGroup(name).value, None
    except ValueError:
        raise ValueError(f"unknown tensor group {name!r}") from None


def is_shareable_group(name: str) -> bool:
    """True for the groups that may leave a site: ``experts`` and ``router.<CENTER>``."""
    kind, _ = parse_group(name)
    return kind == "router" or kind in SHAREABLE_GROUPS
