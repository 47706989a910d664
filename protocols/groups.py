"""Tensor groups of the weights contract and which of them may leave a site."""

from __future__ import annotations

import re
from enum import StrEnum

CENTER_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
"""Anchored for pydantic/FastAPI ``pattern=`` (whole string); Python code uses ``fullmatch``, never ``match``."""
_CENTER_RE = re.compile(CENTER_CODE_PATTERN.removeprefix("^").removesuffix("$"))
ROUTER_PREFIX = "router."
GROUP_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
"""A fixed (not per-center) group: each model family names its own (``encoder``, ``experts``, ``fusion``...)."""
_GROUP_RE = re.compile(GROUP_NAME_PATTERN.removeprefix("^").removesuffix("$"))


class TensorGroup(StrEnum):
    """MoME-RO's fixed groups; per-center router groups are spelled ``router.<CENTER>``.

    Other families declare groups of their own (any ``GROUP_NAME_PATTERN`` name); which of them
    may leave a site is declared per model in its manifest (``shareable_groups``).
    """

    ENCODER = "encoder"
    DECODER = "decoder"
    ALIGNMENT = "alignment"
    PROMPT = "prompt"
    EXPERTS = "experts"


SHAREABLE_GROUPS = frozenset({TensorGroup.EXPERTS.value})
"""Default fixed groups allowed to leave a site (a manifest that declares none); every ``router.<CENTER>`` is too."""


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


def validate_group_name(name: str) -> str:
    """Return ``name`` if it can name a fixed tensor group, else raise ``ValueError``."""
    if not isinstance(name, str) or name == "router" or _GROUP_RE.fullmatch(name) is None:
        raise ValueError(f"unknown tensor group {name!r}: a group is router.<CENTER> or 1-32 lower-case letters, "
                         "digits or '_' starting with a letter")
    return name


def parse_group(name: str) -> tuple[str, str | None]:
    """Split a group name into (kind, center); kind is a fixed group name or ``router``."""
    if not isinstance(name, str):
        raise ValueError(f"unknown tensor group {name!r}")
    if name.startswith(ROUTER_PREFIX):
        return "router", validate_center_code(name[len(ROUTER_PREFIX) :])
    return validate_group_name(name), None


def is_shareable_group(name: str, shareable: frozenset[str] | set[str] | list[str] = SHAREABLE_GROUPS) -> bool:
    """True for the groups that may leave a site: every ``router.<CENTER>`` and the fixed groups in ``shareable``
    (a model's manifest declares them; MoME-RO's default is ``experts``)."""
    kind, _ = parse_group(name)
    return kind == "router" or kind in shareable
