"""What every family's reports share: strict JSON (no NaN or infinity, which JSON parsers and the hub refuse)."""

from __future__ import annotations

import math
from typing import Any


def strict_json(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None, so reports are strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value
