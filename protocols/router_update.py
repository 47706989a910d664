"""Manifest of a push: the router (and optionally expert) tensors a site sends to the hub."""

from __future__ import annotations

from pydantic import Field

from protocols.manifest import Sha256, StrictModel
from protocols.text import CenterCode, FiniteFloat, Name, ShortText, Version
from protocols.version import PROTOCOL_VERSION

MAX_SHOTS = 10_000
MAX_SAMPLES = 10_000_000
MAX_METRICS = 64


class RouterUpdateManifest(StrictModel):
    """Describes one safetensors file of ``experts`` and ``router.<center>`` tensors.

    Images, masks, notes and per-case results are never part of it: only aggregate
    metrics (finite numbers) and the number of samples the update was trained on.
    """

    protocol_version: ShortText = PROTOCOL_VERSION
    family: ShortText
    center: CenterCode
    base_version: Version
    init_router: Name | None = None
    shots: int = Field(ge=0, le=MAX_SHOTS)
    sample_count: int = Field(ge=0, le=MAX_SAMPLES)
    metrics: dict[ShortText, FiniteFloat] = Field(default_factory=dict, max_length=MAX_METRICS)
    router_only: bool = False
    sha256: Sha256
    size: int = Field(gt=0, le=2**63 - 1)
