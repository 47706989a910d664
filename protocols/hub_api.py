"""Request and response bodies of the hub's REST API (``/v1/...``)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from protocols.fingerprint import SiteFingerprint
from protocols.manifest import ModelManifest, Sha256, StrictModel
from protocols.text import CenterCode, DbId, Name, ShortText, Version

API_PREFIX = "/v1"
PROBLEM_CONTENT_TYPE = "application/problem+json"
MAX_REPORT_CASES = 100_000


def canonical_json(obj: Any) -> bytes:
    """The bytes a manifest signature covers: sorted keys, no whitespace, ASCII only."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("ascii")


class TokenScope(StrEnum):
    OPERATOR = "operator"
    SITE = "site"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"


class RouterSource(StrEnum):
    PUBLISHED = "published"
    PUSHED = "pushed"


class Evidence(StrEnum):
    FINGERPRINT = "fingerprint"
    ZERO_SHOT = "zero_shot"


class Problem(StrictModel):
    """RFC 9457 problem body; ``code`` is stable, ``field`` names the tensor or field at fault."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None


class SigningKeyInfo(StrictModel):
    algorithm: Literal["ed25519"] = "ed25519"
    public_key: str = Field(description="raw 32-byte Ed25519 public key, base64")
    key_id: str = Field(description="first 16 hex digits of sha256(public key)")


class HubInfo(StrictModel):
    protocol_version: str
    hub_version: str
    signing: SigningKeyInfo


class WhoAmI(StrictModel):
    """The caller a token stands for: its scope and, for a site, its one center."""

    scope: TokenScope
    name: str
    center: str | None = None


class FileRef(StrictModel):
    sha256: Sha256
    size: int = Field(ge=0)


class ModelVersionInfo(StrictModel):
    version: str
    family: str
    config_name: str
    status: VersionStatus
    notes: str | None = None
    centers: list[str]
    files: list[FileRef]
    total_bytes: int
    created_at: datetime
    published_at: datetime | None = None


class SignedManifest(StrictModel):
    """A manifest and an Ed25519 signature over ``canonical_json(manifest)``."""

    manifest: ModelManifest
    algorithm: Literal["ed25519"] = "ed25519"
    key_id: str
    signature: str = Field(description="base64 Ed25519 signature")


class RouterInfo(StrictModel):
    """One router record; its artifact is a safetensors file of the gate plus experts."""

    id: int
    center: str
    model_version: str
    source: RouterSource
    init_router: str | None = None
    shots: int | None = None
    sample_count: int | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    push_sha256: Sha256 | None = None
    artifact: FileRef
    experts_from: Literal["pushed", "base"]
    pushed_by: str | None = None
    created_at: datetime


class PushResult(StrictModel):
    router: RouterInfo
    created: bool = Field(description="false when the same bytes were pushed before")


class ZeroShotResult(StrictModel):
    center: CenterCode = Field(description="center code of the router that was evaluated")
    router_id: DbId | None = Field(default=None, description="defaults to that center's latest router")
    dice: float = Field(ge=0.0, le=1.0)
    case_count: int = Field(ge=1, le=MAX_REPORT_CASES, description="at most the site's center fingerprint "
                            "case_count (or the hub's cap when the center has none)")


class ZeroShotReport(StrictModel):
    """Per-router Dice over the site's own labelled cases; aggregates only."""

    model_version: Version
    results: list[ZeroShotResult] = Field(min_length=1, max_length=1000)


class ZeroShotReportAck(StrictModel):
    stored: int
    router_ids: list[int]


class RecommendationRequest(StrictModel):
    fingerprint: SiteFingerprint
    model_version: Version | None = Field(default=None, description="defaults to the newest published version "
                                         "(of `family`, when given)")
    family: ShortText | None = Field(
        default=None, description="model family (mome_ro, m4oe, mome_breast, ...) whose newest published version "
                                  "ranks the routers when model_version is not given")
    limit: int = Field(default=5, ge=1, le=100)


class RouterRecommendation(StrictModel):
    rank: int
    router_id: int
    center: str
    model_version: str
    score: float
    fingerprint_similarity: float | None = None
    zero_shot_dice: float | None = None
    zero_shot_cases: int = 0
    zero_shot_sites: int = 0
    zero_shot_weight: float = Field(default=0.0, description="share of the score from zero-shot reports; each "
                                    "site's share is capped")
    evidence: list[Evidence]
    reasons: list[str]


class RecommendationResponse(StrictModel):
    model_version: str
    evidence_used: list[Evidence]
    notes: list[str]
    routers: list[RouterRecommendation]


class CenterInfo(StrictModel):
    code: str
    display_name: str | None = None
    fingerprint: SiteFingerprint | None = None
    fingerprint_updated_at: datetime | None = None


class SiteCreate(StrictModel):
    center: CenterCode
    name: Name | None = None


class SiteInfo(StrictModel):
    id: int
    name: str | None
    center: str
    scopes: list[TokenScope]
    revoked: bool
    created_at: datetime


class SiteCreated(StrictModel):
    site: SiteInfo
    token: str = Field(description="shown once; the hub stores only its hash")


class AuditEventInfo(StrictModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Health(StrictModel):
    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"
