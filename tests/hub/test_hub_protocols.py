"""JSON round trips of the hub API and fingerprint messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from protocols.fingerprint import ClinicalMix, ScannerInfo, SiteFingerprint
from protocols.hub_api import (
    MAX_REPORT_CASES,
    FileRef,
    HubInfo,
    Problem,
    RecommendationRequest,
    RecommendationResponse,
    RouterInfo,
    RouterRecommendation,
    SigningKeyInfo,
    ZeroShotReport,
    ZeroShotResult,
    canonical_json,
)

NOW = datetime(2025, 1, 2, tzinfo=UTC)
FP = SiteFingerprint(scanner=ScannerInfo(manufacturer="GE", kvp=120), voxel_spacing_mm=(1.0, 1.0, 3.0),
                     clinical_mix=ClinicalMix(risk_groups={"high": 0.5, "low": 0.5}, nodal_irradiation_share=0.2),
                     case_count=10)
MESSAGES = [
    FP,
    HubInfo(protocol_version="1.0", hub_version="0.1.0", signing=SigningKeyInfo(public_key="AA==", key_id="ab")),
    Problem(type="t", title="x", status=422, detail="d", code="c", field="f"),
    RecommendationRequest(fingerprint=FP, limit=3),
    RecommendationResponse(model_version="1", evidence_used=["fingerprint"], notes=[], routers=[
        RouterRecommendation(rank=1, router_id=1, center="A", model_version="1", score=0.5, evidence=["zero_shot"],
                             reasons=["r"])]),
    RouterInfo(id=1, center="A", model_version="1", source="pushed", artifact=FileRef(sha256="a" * 64, size=3),
               experts_from="base", created_at=NOW),
    ZeroShotReport(model_version="1", results=[ZeroShotResult(center="A", dice=0.5, case_count=2)]),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
def test_json_round_trip(msg):
    assert type(msg).model_validate_json(msg.model_dump_json()) == msg


def test_strict_and_validated():
    with pytest.raises(ValidationError):
        SiteFingerprint.model_validate({"case_count": 1, "patient_id": "p1"})
    with pytest.raises(ValidationError, match="sum to 1"):
        ClinicalMix(treatment_intent={"definitive": 0.5})
    with pytest.raises(ValidationError):
        ZeroShotResult(center="bad code!", dice=0.5, case_count=1)


def test_canonical_json_is_sorted_and_compact():
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == b'{"a":[1,{"c":"\\u00e9","d":2}],"b":1}'


@pytest.mark.parametrize(("model", "field", "value"), [
    ("SiteCreate", "center", "D\n"), ("SiteCreate", "name", "a\x00b"), ("SiteCreate", "name", "a\u2028b"),
    ("ZeroShotReport", "model_version", "1.0\n"), ("FileRef", "sha256", "a" * 64 + "\n"),
    ("ZeroShotResult", "router_id", 2**31), ("ZeroShotResult", "case_count", MAX_REPORT_CASES + 1),
])
def test_wire_strings_are_whole_string_matched_and_bounded(model, field, value):
    import protocols.hub_api as api

    valid = {"SiteCreate": {"center": "D", "name": "n"}, "FileRef": {"sha256": "a" * 64, "size": 1},
             "ZeroShotReport": {"model_version": "1.0", "results": [{"center": "A", "dice": 0.5, "case_count": 1}]},
             "ZeroShotResult": {"center": "A", "dice": 0.5, "case_count": 1}}[model]
    getattr(api, model).model_validate(valid)
    with pytest.raises(ValidationError) as err:
        getattr(api, model).model_validate({**valid, field: value})
    assert err.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_router_update_metrics_must_be_finite(value):
    from protocols.router_update import RouterUpdateManifest

    base = {"family": "mome_ro", "center": "D", "base_version": "1.0", "shots": 1, "sample_count": 1,
            "sha256": "a" * 64, "size": 1}
    assert RouterUpdateManifest(**base, metrics={"dice": 0.5}).metrics == {"dice": 0.5}
    with pytest.raises(ValidationError, match="finite"):
        RouterUpdateManifest(**base, metrics={"dice": value})
