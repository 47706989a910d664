"""Fuzzed inputs at the API boundary: each is a 4xx problem on SQLite and PostgreSQL alike, never a 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from hub.db.models import Router
from protocols.groups import validate_center_code
from tests.hub.hubfake import push_bytes, push_form, push_manifest

BIG = [str(2**31), str(2**63), "9" * 30]


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["detail"] and "\n" not in body["detail"] and len(body["detail"]) < 400
    return body


def _push_raw(hub, data: bytes, manifest_json: str):
    files = {"manifest": (None, manifest_json, "application/json"),
             "file": ("push.safetensors", data, "application/octet-stream")}
    return hub.client.post("/v1/routers", files=files, headers=hub.auth(hub.site_d))


def _manifest(data: bytes, **fields: object) -> dict:
    return {**push_manifest(data, "D").model_dump(mode="json"), **fields}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_push_metric_is_422_and_routers_still_list(hub, number):
    data = push_bytes("D")
    text = json.dumps(_manifest(data, metrics={"dice_after": "X"})).replace('"X"', number)
    body = _problem(_push_raw(hub, data, text), 422)
    assert body["field"] == "metrics.dice_after" and "finite" in body["detail"]
    assert hub.client.get("/v1/routers", headers=hub.auth(hub.site_a)).status_code == 200


def test_non_finite_metrics_stored_earlier_are_left_out(hub):
    data = push_bytes("D")
    rid = hub.client.post("/v1/routers", files=push_form(data, push_manifest(data, "D")),
                          headers=hub.auth(hub.site_d)).json()["router"]["id"]
    with hub.ctx.factory() as s:
        s.execute(update(Router).where(Router.id == rid).values(metrics_json='{"a": NaN, "b": Infinity, "c": 0.5}'))
        s.commit()
    r = hub.client.get("/v1/routers", headers=hub.auth(hub.site_a))
    assert r.status_code == 200 and [x["metrics"] for x in r.json() if x["id"] == rid] == [{"c": 0.5}]


@pytest.mark.parametrize(("fields", "field"), [
    ({"init_router": "A" * 129}, "init_router"), ({"init_router": "A\x00"}, "init_router"),
    ({"family": "mome\x00ro"}, "family"), ({"base_version": "1.0\x00"}, "base_version"),
    ({"shots": 10**400}, "shots"), ({"sample_count": 2**63}, "sample_count"), ({"center": "D\n"}, "center"),
    ({"metrics": {"dice\x00": 0.5}}, "metrics.dice\\x00.[key]"),
])
def test_push_manifest_strings_and_integers_are_bounded(hub, fields, field):
    data = push_bytes("D")
    body = _problem(_push_raw(hub, data, json.dumps(_manifest(data, **fields))), 422)
    assert body["field"] == field


@pytest.mark.parametrize("path", [f"/v1/routers/{n}" for n in BIG] + [f"/v1/routers/{n}/artifact" for n in BIG]
                         + ["/v1/routers/0", "/v1/versions/1.0%00", "/v1/versions/1.0/routers/D%0A",
                            "/v1/routers?center=A%00", "/v1/routers?version=" + "9" * 65])
def test_out_of_range_ids_and_bad_codes_in_reads_are_422(hub, path):
    _problem(hub.client.get(path, headers=hub.auth(hub.site_a)), 422)


@pytest.mark.parametrize("site_id", BIG)
def test_revoke_with_out_of_range_id_is_422(hub, site_id):
    _problem(hub.client.post(f"/v1/sites/{site_id}/revoke", headers=hub.auth(hub.operator)), 422)


@pytest.mark.parametrize("code", ["%20bad", "caf%C3%A9", "x%00y", "A" * 40, "D%0A", "-D"])
def test_invalid_center_code_in_fingerprint_path_is_422(hub, code):
    r = hub.client.put(f"/v1/centers/{code}/fingerprint", json={"case_count": 3}, headers=hub.auth(hub.operator))
    assert _problem(r, 422)["field"] == "path.code"


def test_center_code_with_trailing_newline_is_refused():
    with pytest.raises(ValueError, match="is invalid"):
        validate_center_code("D\n")


@pytest.mark.parametrize(("body", "field"), [
    ({"center": "D\n"}, "center"), ({"center": "E", "name": "a\x00b"}, "name"), ({"center": "E", "name": "n" * 129},
                                                                               "name"),
])
def test_site_enrolment_strings_are_bounded(hub, body, field):
    assert _problem(hub.client.post("/v1/sites", json=body, headers=hub.auth(hub.operator)), 422)["field"] == field


@pytest.mark.parametrize(("result", "field"), [
    ({"center": "A", "router_id": 2**63, "dice": 0.5, "case_count": 1}, "results.0.router_id"),
    ({"center": "A", "router_id": 2**31, "dice": 0.5, "case_count": 1}, "results.0.router_id"),
    ({"center": "A\n", "dice": 0.5, "case_count": 1}, "results.0.center"),
])
def test_zero_shot_report_ids_and_codes_are_bounded(hub, result, field):
    r = hub.client.post("/v1/reports/zero-shot", json={"model_version": "1.0", "results": [result]},
                        headers=hub.auth(hub.site_a))
    assert _problem(r, 422)["field"] == field


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/reports/zero-shot", {"model_version": "1.0\x00", "results": [{"center": "A", "dice": 1, "case_count": 1}]}),
    ("/v1/recommendations", {"fingerprint": {"case_count": 3}, "model_version": "1.0\x00"}),
    ("/v1/recommendations", {"fingerprint": {"case_count": 3, "scanner": {"manufacturer": "G\x00E"}}}),
])
def test_nul_bytes_in_json_bodies_are_422(hub, path, body):
    _problem(hub.client.post(path, json=body, headers=hub.auth(hub.site_a)), 422)


def test_long_site_name_and_center_do_not_break_audited_writes(hub):
    # Prepare: the longest name and center code enrolment allows
    center = "C" * 32
    r = hub.client.post("/v1/sites", json={"center": center, "name": "n" * 128}, headers=hub.auth(hub.operator))
    token = r.json()["token"]
    data = push_bytes(center)
    # Execute
    push = hub.client.post("/v1/routers", files=push_form(data, push_manifest(data, center)), headers=hub.auth(token))
    report = hub.client.post("/v1/reports/zero-shot", headers=hub.auth(token), json={
        "model_version": "1.0", "results": [{"center": center, "dice": 0.5, "case_count": 3}]})
    # Assert
    assert (r.status_code, push.status_code, report.status_code) == (201, 201, 201), (push.text, report.text)
    actors = {e["actor"] for e in hub.client.get("/v1/audit", headers=hub.auth(hub.operator)).json()}
    assert all(len(a) <= 160 for a in actors) and any(a.endswith("@" + center) for a in actors)
