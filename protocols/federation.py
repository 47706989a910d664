"""Federated rounds on the wire: a site's SuperNode key registration and the per-round record the hub keeps."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from protocols.manifest import StrictModel
from protocols.text import CenterCode, DbId, FiniteFloat, Version

MAX_PUBLIC_KEY_CHARS = 1024
MAX_REASON_CHARS = 500
MAX_SITES_PER_ROUND = 1024
NODE_ID_MAX = 2**64 - 1  # Flower node ids are unsigned 64-bit integers

class NodeKeyRegistration(StrictModel):
    """A site registers the public key its Flower SuperNode authenticates with; the hub binds it to the site."""

    public_key: str = Field(min_length=16, max_length=MAX_PUBLIC_KEY_CHARS,
                            pattern=r"^ecdsa-sha2-nistp(256|384|521) [A-Za-z0-9+/=]+( [ -~]*)?$")


class NodeKeyInfo(StrictModel):
    """A registered SuperNode key: whose it is, its SHA-256 fingerprint and the SuperLink node id once assigned."""

    id: DbId
    center: CenterCode
    site_id: DbId
    fingerprint: str = Field(pattern=r"^SHA256:[A-Za-z0-9+/]{43}$")
    node_id: int | None = Field(default=None, ge=0, le=NODE_ID_MAX)
    revoked: bool
    created_at: datetime


class SiteRoundMetrics(StrictModel):
    """What one site reported for one round: training cases (the averaging weight), loss, validation Dice, time."""

    cases: int = Field(ge=0)
    train_loss: FiniteFloat | None = None
    val_dice: FiniteFloat | None = None
    seconds: FiniteFloat | None = None


class RoundFailure(StrictModel):
    """A node whose reply was missing, an error or refused (wrong center, non-finite tensors, ...)."""

    node: str = Field(max_length=32)
    center: CenterCode | None = None
    reason: str = Field(max_length=MAX_REASON_CHARS)


class FederationRoundInfo(StrictModel):
    """One federated round as the hub stores it: who took part with which metrics, who failed, bytes and time."""

    run: Version  # the draft version the run produces
    base_version: Version
    round: int = Field(ge=1)
    aggregated: bool  # False when fewer than ``min_sites`` usable replies came back
    secagg: bool = False
    seconds: FiniteFloat = Field(ge=0)
    bytes_to_sites: int = Field(ge=0)
    bytes_to_hub: int = Field(ge=0)
    sites: dict[CenterCode, SiteRoundMetrics] = Field(default_factory=dict, max_length=MAX_SITES_PER_ROUND)
    failures: list[RoundFailure] = Field(default_factory=list, max_length=MAX_SITES_PER_ROUND)
    created_at: datetime | None = None
