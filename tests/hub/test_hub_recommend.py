"""Recommendations rank the expected router from fingerprints (cold start) and from zero-shot reports."""

from __future__ import annotations

from hub.services.influence import MAX_SITE_SHARE, site_shares
from hub.services.principals import add_site

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


def _report(hub, token, results):
    return hub.client.post("/v1/reports/zero-shot", json={"model_version": "1.0", "results": results},
                           headers=hub.auth(token))


def test_zero_shot_reports_outweigh_fingerprint(hub):
    # Prepare: fingerprints favour B, but four sites measured A far better on many cases
    _publish_fingerprints(hub)
    tokens = [hub.site_a] + [add_site(hub.ctx.factory, center=c, name=None, actor="test").token for c in "EFG"]
    results = [{"center": "A", "dice": 0.91, "case_count": 40}, {"center": "B", "dice": 0.55, "case_count": 40}]
    # Execute
    acks = [_report(hub, t, results) for t in tokens]
    body = _recommend(hub, SITE_LIKE_B)
    # Assert
    assert all(r.status_code == 201 and r.json()["stored"] == 2 for r in acks)
    assert [x["center"] for x in body["routers"]] == ["A", "B"]
    top = body["routers"][0]
    assert top["evidence"] == ["fingerprint", "zero_shot"] and top["zero_shot_cases"] == 160
    assert top["zero_shot_sites"] == 4 and abs(top["zero_shot_weight"] - 160 / 170) < 1e-6
    assert any("zero-shot Dice 0.910 over 160 cases reported by 4 sites" in reason for reason in top["reasons"])
    assert sum("of the score" in reason for reason in top["reasons"]) == 4  # 3 sites named, 1 summed up
    assert body["evidence_used"] == ["fingerprint", "zero_shot"] and body["notes"] == []


def test_one_site_cannot_steer_another_sites_advice(hub):
    # Prepare: the fingerprint advice for a B-like site is B first
    _publish_fingerprints(hub)
    before = _recommend(hub, SITE_LIKE_B)
    lie = [{"center": "A", "dice": 1.0, "case_count": 100_000}, {"center": "B", "dice": 0.0, "case_count": 100_000}]
    # Execute: center D has no fingerprint, so its site may report at most 1000 cases per router
    too_many = _report(hub, hub.site_d, lie)
    capped = _report(hub, hub.site_d, [{**x, "case_count": 1000} for x in lie])
    after = _recommend(hub, SITE_LIKE_B)
    # Assert
    assert (too_many.status_code, too_many.json()["code"]) == (422, "too_many_cases")
    assert too_many.json()["field"] == "results.0.case_count" and "at most 1000 cases" in too_many.json()["detail"]
    assert capped.status_code == 201
    assert [x["center"] for x in before["routers"]] == [x["center"] for x in after["routers"]] == ["B", "A"]
    for old, new in zip(before["routers"], after["routers"], strict=True):
        assert abs(new["score"] - old["score"]) <= MAX_SITE_SHARE + 1e-9
        assert new["zero_shot_weight"] == MAX_SITE_SHARE
        assert any("over 1000 cases, 25% of the score (capped at 25% per site)" in r for r in new["reasons"])


def test_report_cannot_exceed_center_fingerprint_case_count(hub):
    _publish_fingerprints(hub)  # center A's fingerprint says 120 cases
    r = _report(hub, hub.site_a, [{"center": "B", "dice": 0.5, "case_count": 10},
                                  {"center": "B", "dice": 0.5, "case_count": 121}])
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "results.1.case_count" and "at most 120 cases" in r.json()["detail"]
    assert _report(hub, hub.site_a, [{"center": "B", "dice": 0.5, "case_count": 120}]).status_code == 201


def test_site_shares_are_capped_and_sum_below_one():
    shares = site_shares([(1, 1.0, 1000), (2, 0.5, 3), (3, 0.2, 3)])
    assert shares[0].site_id == 1 and shares[0].share == MAX_SITE_SHARE and shares[0].capped
    assert all(s.share <= MAX_SITE_SHARE for s in shares) and sum(s.share for s in shares) < 1
    many = site_shares([(i, 0.8, 50) for i in range(10)])
    assert abs(sum(s.share for s in many) - 500 / 510) < 1e-12 and not any(s.capped for s in many)


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
    index = Index("1", [Candidate(i, f"C{i}", fp) for i, fp in enumerate(fps)])
    site = SiteFingerprint.model_validate({**fingerprint(rng).model_dump(mode="json"),
                                           "scanner": {"manufacturer": "Toshiba", "kvp": 120}})
    got, sim = scores(index, site)
    for i, fp in enumerate(fps):
        ref = similarity(site, fp)[0] if fp else None
        assert (np.isnan(sim[i]) if ref is None else abs(sim[i] - ref) < 1e-9), i


def test_recommendation_json_shape_is_the_contract(hub):
    from protocols.hub_api import RecommendationResponse, RouterRecommendation

    _publish_fingerprints(hub)
    assert _report(hub, hub.site_a, [{"center": "A", "dice": 0.8, "case_count": 30}]).status_code == 201
    body = _recommend(hub, SITE_LIKE_B)
    assert list(body) == list(RecommendationResponse.model_fields)
    assert all(list(r) == list(RouterRecommendation.model_fields) for r in body["routers"])
    assert [r["rank"] for r in body["routers"]] == [1, 2]
    assert RecommendationResponse.model_validate(body).model_dump(mode="json") == body


def test_explanations_match_the_reference_similarity():
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "hub_load"))
    from setup_hub import fingerprint

    from hub.services.recommend import Candidate, Index, rank
    from hub.services.similarity import similarity
    from protocols.fingerprint import SiteFingerprint
    from protocols.hub_api import RecommendationRequest

    # Prepare: varied centers, one without a fingerprint and one sharing no facet
    rng = np.random.default_rng(11)
    fps = [fingerprint(rng) for _ in range(20)] + [None, SiteFingerprint(case_count=3)]
    index = Index("1", [Candidate(i, f"C{i}", fp) for i, fp in enumerate(fps)])
    site = fingerprint(rng)
    # Execute
    body = rank(index, RecommendationRequest(fingerprint=site, limit=100))
    # Assert: each reason list is what the one-center-at-a-time reference says
    assert len(body.routers) == len(fps)
    for rec in body.routers:
        fp = fps[rec.router_id]
        sim, reasons = similarity(site, fp) if fp else (None, [f"center {rec.center} has published no fingerprint"])
        head = [f"fingerprint similarity to center {rec.center}: {sim:.0%}"] if sim is not None else []
        assert rec.reasons == head + reasons
        assert rec.fingerprint_similarity == (None if sim is None else round(sim, 6))


def test_fast_json_is_byte_for_byte_the_model_json():
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "hub_load"))
    from setup_hub import fingerprint

    from hub.services.influence import site_shares
    from hub.services.recommend import Candidate, Index, rank, rank_json
    from protocols.hub_api import RecommendationRequest

    rng = np.random.default_rng(5)
    cands = [Candidate(i, f"C{i}", fingerprint(rng), site_shares([(1, 0.7, 5), (2, 0.61, 40)]) if i % 2 else ())
             for i in range(12)] + [Candidate(12, "Ü", None)]
    index = Index("1.0", cands)
    for limit in (1, 5, 100):
        req = RecommendationRequest(fingerprint=fingerprint(rng), limit=limit)
        assert rank_json(index, req) == rank(index, req).model_dump_json().encode()
    empty = RecommendationRequest(fingerprint={"case_count": 1})
    assert rank_json(Index("2", []), empty) == rank(Index("2", []), empty).model_dump_json().encode()


def test_best_routers_match_a_full_sort_with_ties():
    import numpy as np

    from hub.services.recommend import _best

    rng = np.random.default_rng(3)
    for n, limit in ((3, 5), (50, 5), (400, 1), (400, 100)):
        score = np.round(rng.choice([0.1, 0.5, 0.5, 0.9], n) + rng.integers(0, 2, n) * 0.01, 6)  # many ties
        ids = rng.permutation(n) + 1
        full = np.lexsort((-ids, -score))[:limit]
        assert _best(score, ids, limit).tolist() == full.tolist()
