"""Manifest of a push: the router (and optionally expert) tensors a site sends to the hub."""

from __future__ import annotations

from pydantic import Field, field_validator

from protocols.groups import validate_center_code
from protocols.manifest import Sha256, StrictModel
from protocols.version import PROTOCOL_VERSION


class RouterUpdateManifest(StrictModel):
    """Describes one safetensors file of ``experts`` and ``router.<center>`` tensors.

    Images, masks, notes and per-case results are never part of it: only aggregate
    metrics and the number of samples the update was trained on.
    """

    protocol_version: str = PROTOCOL_VERSION
    family: str
    center: str
    base_version: str
    init_router: str | None = None
    shots: int = Field(ge=0)
    sample_count: int = Field(ge=0)
    metrics: dict[str, float] = Field(default_factory=dict)
    router_only: bool = False
    sha256: Sha256
    size: int = Field(gt=0)

    @field_validator("center")
    @classmethod
    def _center(cls, v: str) -> str:
        return validate_center_code(v)
