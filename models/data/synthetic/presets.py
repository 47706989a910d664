"""Center presets held as JSON data (``models/presets/<CODE>.json``): scanner, clinical mix and
delineation policy of one synthetic center. A user adds a center with a JSON file of the same
shape and passes its path wherever a center code is accepted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.data.clinical import RiskGroup
from models.data.dataset import INTENTS

__all__ = [
    "PRESET_DIR",
    "CenterPreset",
    "ClinicalMix",
    "DelineationPolicy",
    "PresetError",
    "ScannerPreset",
    "available_presets",
    "load_preset",
]

PRESET_DIR = Path(__file__).resolve().parents[2] / "presets"


class PresetError(ValueError):
    """A center preset is missing or invalid; the message names the file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScannerPreset(_Strict):
    manufacturer: str
    model: str
    kvp: float = Field(gt=0)
    filter: str
    pixel_mm: float = Field(gt=0, le=5)
    slice_mm: float = Field(gt=0, le=10)
    orientation: Literal["LPS", "RAS"]
    noise_hu_sd: float = Field(ge=0)
    intensity_offset_hu: float
    blur_sd_mm: float = Field(ge=0)

    def identity(self) -> tuple[str, str, float, str]:
        """The device: manufacturer, model, kVp and reconstruction filter."""
        return (self.manufacturer, self.model, self.kvp, self.filter)


def _distribution(value: dict[str, float], allowed: set[str] | None = None) -> dict[str, float]:
    if not value or any(p < 0 for p in value.values()) or sum(value.values()) <= 0:
        raise ValueError("must map categories to non-negative shares with a positive sum")
    if allowed is not None and set(value) - allowed:
        raise ValueError(f"has unknown categories {sorted(set(value) - allowed)}; allowed: {sorted(allowed)}")
    return value


class ClinicalMix(_Strict):
    t_category: dict[str, float]
    gleason: dict[str, float]
    n1_fraction: float = Field(ge=0, le=1)
    m1_fraction: float = Field(default=0.0, ge=0, le=1)
    metastasis_unknown_fraction: float = Field(default=0.0, ge=0, le=1)
    psa_median: float = Field(gt=0)
    psa_log_sd: float = Field(gt=0)
    psa_range: tuple[float, float]
    age_mean: float = Field(gt=0)
    age_sd: float = Field(ge=0)
    intent: dict[str, float]

    @field_validator("t_category")
    @classmethod
    def _check_t(cls, v: dict[str, float]) -> dict[str, float]:
        return _distribution(v, {"T1", "T2", "T3", "T4"})

    @field_validator("gleason")
    @classmethod
    def _check_gleason(cls, v: dict[str, float]) -> dict[str, float]:
        return _distribution(v, {str(g) for g in range(5, 11)})

    @field_validator("intent")
    @classmethod
    def _check_intent(cls, v: dict[str, float]) -> dict[str, float]:
        return _distribution(v, set(INTENTS))

    @model_validator(mode="after")
    def _range(self) -> ClinicalMix:
        lo, hi = self.psa_range
        if not 0 <= lo < hi:
            raise ValueError("psa_range must be (low, high) with 0 <= low < high")
        return self


class DelineationPolicy(_Strict):
    ptv_margin_mm: float = Field(ge=0, le=30)
    pni_risk_groups: list[RiskGroup]
    sv_risk_groups: list[RiskGroup]
    nodal_expansion_mm: float = Field(default=7.0, ge=0, le=20)

    def pelvic_nodes(self, risk: RiskGroup) -> bool:
        """Pelvic nodal irradiation for this risk group? Node-positive (regional) always."""
        return risk is RiskGroup.REGIONAL or risk in self.pni_risk_groups

    def seminal_vesicles(self, risk: RiskGroup) -> bool:
        return risk in self.sv_risk_groups


class CenterPreset(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str
    description: str = ""
    scanner: ScannerPreset
    clinical_mix: ClinicalMix
    policy: DelineationPolicy


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(code_or_path: str | Path) -> CenterPreset:
    """A shipped preset by code (``"A"``) or a user's preset JSON by path."""
    text = str(code_or_path)
    path = Path(text)
    if not (text.endswith(".json") or path.is_file()):
        path = PRESET_DIR / f"{text.upper()}.json"
        if not path.is_file():
            raise PresetError(f"no center preset '{text}'; choose one of {', '.join(available_presets())} "
                              "or give the path of a preset JSON file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PresetError(f"preset file {path} cannot be read as JSON ({exc})") from None
    try:
        return CenterPreset.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise PresetError(f"preset file {path} field '{where}': {err['msg']}") from None
