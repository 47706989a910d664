"""Who may do what: the token matrix."""

from __future__ import annotations

import pytest

from tests.hub.hubfake import push_bytes, push_form, push_manifest


def test_no_token_is_401_problem(hub):
    r = hub.client.get("/v1/versions")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "no_token"


def test_bad_token_is_401(hub):
    r = hub.client.get("/v1/versions", headers=hub.auth("mhs_not-a-real-token"))
    assert (r.status_code, r.json()["code"]) == (401, "bad_token")


def test_revoked_token_refused_on_next_request(hub):
    assert hub.client.get("/v1/versions", headers=hub.auth(hub.site_d)).status_code == 200
    r = hub.client.post(f"/v1/sites/{hub.site_d_id}/revoke", headers=hub.auth(hub.operator))
    assert r.status_code == 200 and r.json()["revoked"] is True
    r = hub.client.get("/v1/versions", headers=hub.auth(hub.site_d))
    assert (r.status_code, r.json()["code"]) == (401, "token_revoked")


def test_site_cannot_push_for_another_center(hub):
    data = push_bytes("A")
    r = hub.client.post("/v1/routers", files=push_form(data, push_manifest(data, "A")), headers=hub.auth(hub.site_d))
    assert r.status_code == 403
    assert r.json()["code"] == "wrong_center" and r.json()["field"] == "center"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/v1/sites", {"center": "Z"}),
    ("get", "/v1/sites", None),
    ("post", "/v1/sites/1/revoke", None),
    ("get", "/v1/audit", None),
    ("put", "/v1/centers/A/fingerprint", {"case_count": 5}),
    ("put", "/v1/versions/1.0/status?status=deprecated", None),
])
def test_site_cannot_call_operator_endpoints(hub, method, path, body):
    r = getattr(hub.client, method)(path, headers=hub.auth(hub.site_a), **({"json": body} if body else {}))
    assert (r.status_code, r.json()["code"]) == (403, "operator_only")


def test_operator_cannot_push_and_site_reads(hub):
    data = push_bytes("A")
    r = hub.client.post("/v1/routers", files=push_form(data, push_manifest(data, "A")), headers=hub.auth(hub.operator))
    assert (r.status_code, r.json()["code"]) == (403, "site_only")
    for path in ("/v1/versions", "/v1/versions/1.0", "/v1/versions/1.0/manifest", "/v1/routers", "/v1/centers"):
        assert hub.client.get(path, headers=hub.auth(hub.site_a)).status_code == 200, path


def test_operator_enrols_site_over_rest_and_token_works(hub):
    r = hub.client.post("/v1/sites", json={"center": "E", "name": "echo"}, headers=hub.auth(hub.operator))
    assert r.status_code == 201
    token = r.json()["token"]
    assert hub.client.get("/v1/routers", headers=hub.auth(token)).status_code == 200
    audit = hub.client.get("/v1/audit", headers=hub.auth(hub.operator)).json()
    assert any(e["action"] == "site.add" and e["detail"]["center"] == "E" for e in audit)
    assert token not in str(audit)


def test_whoami_names_scope_and_center_of_the_token(hub):
    site = hub.client.get("/v1/whoami", headers=hub.auth(hub.site_d)).json()
    assert (site["scope"], site["center"]) == ("site", "D")
    operator = hub.client.get("/v1/whoami", headers=hub.auth(hub.operator)).json()
    assert (operator["scope"], operator["center"]) == ("operator", None)
    assert hub.client.get("/v1/whoami").status_code == 401


def test_recommendation_guards_run_on_the_event_loop_and_keep_their_identity(hub):
    from fastapi.routing import APIRoute

    from hub.api import deps

    # Prepare
    route = next(r for r in hub.client.app.routes if isinstance(r, APIRoute) and r.path == "/v1/recommendations")
    stack, calls = list(route.dependant.dependencies), []
    # Execute: walk the route's dependency tree
    while stack:
        dep = stack.pop()
        stack.extend(dep.dependencies)
        calls.append(dep)
    # Assert: nothing hops to the thread pool, and "depends on get_principal" is still answerable
    assert route.dependant.is_coroutine_callable
    assert calls and all(dep.is_coroutine_callable for dep in calls), [d.call for d in calls]
    assert deps.get_principal in {dep.call for dep in calls}
    site_route = next(r for r in hub.client.app.routes if isinstance(r, APIRoute) and r.path == "/v1/reports/zero-shot")
    assert deps.require_site in {dep.call for dep in site_route.dependant.dependencies}
