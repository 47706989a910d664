"""Site and center fingerprints: aggregate acquisition and clinical-mix facts, never per-patient data."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from protocols.manifest import StrictModel
from protocols.text import printable

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Tag = Annotated[str, Field(max_length=64), AfterValidator(printable)]
_SHARE_TOLERANCE = 0.02


class NccnRiskGroup(StrEnum):
    """NCCN prostate cancer risk groups."""

    VERY_LOW = "very_low"
    LOW = "low"
    FAVORABLE_INTERMEDIATE = "favorable_intermediate"
    UNFAVORABLE_INTERMEDIATE = "unfavorable_intermediate"
    HIGH = "high"
    VERY_HIGH = "very_high"
    REGIONAL = "regional"
    METASTATIC = "metastatic"


class TreatmentIntent(StrEnum):
    """Why the target is irradiated."""

    DEFINITIVE = "definitive"
    ADJUVANT = "adjuvant"
    SALVAGE = "salvage"
    PALLIATIVE = "palliative"


def _check_shares(v: dict, field: str) -> dict:
    total = sum(v.values())
    if v and abs(total - 1.0) > _SHARE_TOLERANCE:
        raise ValueError(f"{field} shares must sum to 1 (got {total:.3f})")
    return v


class ScannerInfo(StrictModel):
    """The CT scanner and reconstruction most of the site's cases come from."""

    manufacturer: Tag = Field(min_length=1)
    model: Tag | None = None
    kvp: float | None = Field(default=None, gt=0, le=200)
    filter: Tag | None = Field(default=None, description="convolution kernel / filter")


class ClinicalMix(StrictModel):
    """Aggregate shares over the site's cases; each mapping sums to 1 when given."""

    risk_groups: dict[NccnRiskGroup, Share] = Field(default_factory=dict)
    treatment_intent: dict[TreatmentIntent, Share] = Field(default_factory=dict)
    nodal_irradiation_share: Share | None = None

    @field_validator("risk_groups")
    @classmethod
    def _risk_sum(cls, v: dict) -> dict:
        return _check_shares(v, "risk_groups")

    @field_validator("treatment_intent")
    @classmethod
    def _intent_sum(cls, v: dict) -> dict:
        return _check_shares(v, "treatment_intent")


class SiteFingerprint(StrictModel):
    """What a site (or a center, when published by an operator) looks like in aggregate."""

    scanner: ScannerInfo | None = None
    voxel_spacing_mm: tuple[
        Annotated[float, Field(gt=0, le=50)], Annotated[float, Field(gt=0, le=50)], Annotated[float, Field(gt=0, le=50)]
    ] | None = None
    slice_thickness_mm: float | None = Field(default=None, gt=0, le=50)
    clinical_mix: ClinicalMix = Field(default_factory=ClinicalMix)
    case_count: int = Field(ge=1, le=10_000_000)
