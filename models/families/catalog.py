"""The built-in family plug-ins, imported once on first lookup so importing the registry stays cheap."""

from __future__ import annotations

import importlib

BUILTIN = ("models.families.mome_ro", "models.families.mpllm", "models.families.m4oe",
           "models.families.mome_breast")
"""Each module registers its ``ModelFamily`` and its ``ModelSpec``s when imported."""

_loaded = False


def load_builtin() -> None:
    """Import every built-in family module (idempotent)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN:
        importlib.import_module(module)
