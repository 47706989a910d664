"""Recommendations rank the expected router from fingerprints (cold start) and from zero-shot reports."""

from __future__ import annotations

FP_A = {"scanner": {"manufacturer": "Siemens", "model": "SOMATOM Definition AS", "kvp": 120, "filter": "B30f"},
        "voxel_spacing_mm": [0.98, 0.98, 3.0], "slice_thickness_mm": 3.0,
        "clinical_mix": {"risk_groups": {"high": 0.6, "unfavorable_intermediate": 0.4},
                         "treatment_intent": {"definitive": 1.0}, "nodal_irradiation_share": 0.7},
        "case_count": 120}
FP_B = {"scanner": {"manufacturer": "GE", "model": "Revolution", "kvp": 100, "filter": "STANDARD"},
        "voxel_spacing_mm": [1.2, 1.2, 2.5], "slice_thickness_mm": 2.5,
        "clinical_mix": {"risk_groups": {"low": 0.5, "favorable_intermediate": 0.5},
                         "treatment_intent": {"definitive": 0.8, "salvage": 0.2}, "nodal_irradiation_share": 0.1},
        "case_count": 80}
SITE_LIKE_B = {**FP_B, "scanner": {"manufacturer": "GE", "kvp": 100}, "case_count": 12}


def _publish_fingerprints(hub):
    for code, fp in (("A", FP_A), ("B", FP_B)):
        r = hub.client.put(f"/v1/centers/{code}/fingerprint", json=fp, headers=hub.auth(hub.operator))
        assert r.status_code == 200, r.text


def _recommend(hub, fp):
    r = hub.client.post("/v1/recommendations", json={"fingerprint": fp}, headers=hub.auth(hub.site_d))
    assert r.status_code == 200, r.text
    return r.json()


def test_cold_start_ranks_by_fingerprint(hub):
    _publish_fingerprints(hub)
    body = _recommend(hub, SITE_LIKE_B)
    assert body["model_version"] == "1.0"
    assert [r["center"] for r in body["routers"]] == ["B", "A"]
    top = body["routers"][0]
    assert top["evidence"] == ["fingerprint"] and top["zero_shot_dice"] is None
    assert body["evidence_used"] == ["fingerprint"] and any("cold start" in n for n in body["notes"])
    assert any("same scanner manufacturer (GE)" in reason for reason in top["reasons"])


def test_cold_start_without_any_fingerprint_still_answers(hub):
    body = _recommend(hub, {"case_count": 3})
    assert len(body["routers"]) == 2 and body["evidence_used"] == []
    assert all(r["score"] == 0 for r in body["routers"])


def test_zero_shot_reports_outweigh_fingerprint(hub):
    # Prepare: fingerprints favour B, but sites measured A far better on many cases
    _publish_fingerprints(hub)
    report = {"model_version": "1.0", "results": [{"center": "A", "dice": 0.91, "case_count": 40},
                                                   {"center": "B", "dice": 0.55, "case_count": 40}]}
    # Execute
    r = hub.client.post("/v1/reports/zero-shot", json=report, headers=hub.auth(hub.site_a))
    body = _recommend(hub, SITE_LIKE_B)
    # Assert
    assert r.status_code == 201 and r.json()["stored"] == 2
    assert [x["center"] for x in body["routers"]] == ["A", "B"]
    top = body["routers"][0]
    assert top["evidence"] == ["fingerprint", "zero_shot"] and top["zero_shot_cases"] == 40
    assert any("zero-shot Dice 0.910 over 40 cases" in reason for reason in top["reasons"])
    assert body["evidence_used"] == ["fingerprint", "zero_shot"] and body["notes"] == []


def test_report_for_unknown_router_is_404_and_operator_cannot_report(hub):
    bad = {"model_version": "1.0", "results": [{"center": "Q", "dice": 0.5, "case_count": 3}]}
    r = hub.client.post("/v1/reports/zero-shot", json=bad, headers=hub.auth(hub.site_a))
    assert r.status_code == 404 and r.json()["field"] == "results.center"
    r = hub.client.post("/v1/reports/zero-shot", json=bad, headers=hub.auth(hub.operator))
    assert r.status_code == 403


def test_invalid_fingerprint_is_422_naming_field(hub):
    fp = {"case_count": 5, "clinical_mix": {"risk_groups": {"high": 0.3}}}
    r = hub.client.post("/v1/recommendations", json={"fingerprint": fp}, headers=hub.auth(hub.site_d))
    assert r.status_code == 422 and "risk_groups" in r.json()["detail"]
    r = hub.client.post("/v1/recommendations", json={"fingerprint": {"case_count": 5, "patient": "x"}},
                        headers=hub.auth(hub.site_d))
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


def test_vectorised_scores_match_reference_similarity():
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "hub_load"))
    from setup_hub import fingerprint

    from hub.services.recommend import Candidate, Index, scores
    from hub.services.similarity import similarity
    from protocols.fingerprint import SiteFingerprint

    rng = np.random.default_rng(7)
    fps = [fingerprint(rng) for _ in range(30)] + [None, SiteFingerprint(case_count=3)]
    index = Index("1", [Candidate(i, f"C{i}", fp, None, 0, 0) for i, fp in enumerate(fps)])
    site = SiteFingerprint.model_validate({**fingerprint(rng).model_dump(mode="json"),
                                           "scanner": {"manufacturer": "Toshiba", "kvp": 120}})
    got, sim = scores(index, site)
    for i, fp in enumerate(fps):
        ref = similarity(site, fp)[0] if fp else None
        assert (np.isnan(sim[i]) if ref is None else abs(sim[i] - ref) < 1e-9), i
