"""The narrow interface through which the ServerApp reaches the hub, and how a run opens it.

The ServerApp never imports the hub: the run config names a factory (``module:attr``) that takes
the run's ``FederationSettings`` and returns a ``HubPort``; tests and the in-process runner may
hand one in directly.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from protocols.federation import FederationRoundInfo

if TYPE_CHECKING:
    from federation.settings import FederationSettings


class HubPort(Protocol):
    """What a federation run needs from the hub, and nothing more."""

    def materialise_version(self, version: str, out_dir: Path) -> Path:
        """Write version ``version`` (drafts included) as a model directory under ``out_dir``; return it."""

    def node_bindings(self) -> dict[int, str]:
        """SuperLink node id -> center, for every registered node key of an enrolled, unrevoked site."""

    def publish_draft(self, model_dir: Path, *, version: str, notes: str) -> str:
        """Store the aggregated model as a DRAFT version; return its version string."""

    def record_round(self, record: FederationRoundInfo) -> None:
        """Keep one round's participants, failures, metrics, bytes and seconds."""


def open_hub_port(settings: FederationSettings) -> HubPort:
    """Import the factory named by ``settings.hub_port`` (``module:attr``) and call it with ``settings``."""
    if not settings.hub_port:
        raise ValueError("hub-port is not set: the run config must name the factory that opens the hub")
    module_name, _, attr = settings.hub_port.partition(":")
    if not module_name or not attr:
        raise ValueError(f"hub-port must look like 'module:attr', got {settings.hub_port!r}")
    factory = getattr(importlib.import_module(module_name), attr, None)
    if not callable(factory):
        raise ValueError(f"hub-port {settings.hub_port!r} does not name a callable")
    return factory(settings)
