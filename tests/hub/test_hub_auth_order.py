"""Authentication is judged before the body: a malformed body with no or a bad token is 401, never 422."""

from __future__ import annotations

import itertools

# every authenticated operation that takes a JSON body, with the scope it needs (None: any valid token)
JSON_ROUTES = {
    ("POST", "/v1/recommendations"): None,
    ("POST", "/v1/reports/zero-shot"): "site",
    ("POST", "/v1/sites"): "operator",
    ("PUT", "/v1/centers/{code}/fingerprint"): "operator",
    ("POST", "/v1/federation/node-keys"): "site",
}
PATH_VALUES = {"{code}": "A"}
BAD_BODIES = {"malformed JSON": b'{"fingerprint": ', "not UTF-8": b'{"name": "\xff"}'}


def _url(template: str) -> str:
    for key, value in PATH_VALUES.items():
        template = template.replace(key, value)
    return template


def _send(hub, method: str, template: str, body: bytes, token: str | None):
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return hub.client.request(method, _url(template), content=body, headers=headers)


def test_table_covers_every_authenticated_json_operation(hub):
    schema = hub.client.get("/openapi.json").json()
    found = {(m.upper(), p) for p, ops in schema["paths"].items() for m, op in ops.items()
             if "security" in op and "application/json" in op.get("requestBody", {}).get("content", {})}
    assert found == set(JSON_ROUTES)


def test_bad_body_without_valid_token_is_401(hub):
    for (method, template), body, (token, code) in itertools.product(
            JSON_ROUTES, BAD_BODIES.values(), ((None, "no_token"), ("mhs_not-a-real-token", "bad_token"))):
        r = _send(hub, method, template, body, token)
        assert (r.status_code, r.json()["code"]) == (401, code), f"{method} {template} {body!r}: {r.text}"
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"] == "Bearer"


def test_bad_body_with_wrong_scope_is_403(hub):
    for (method, template), scope in JSON_ROUTES.items():
        if scope is None:
            continue
        wrong = hub.site_a if scope == "operator" else hub.operator
        for body in BAD_BODIES.values():
            r = _send(hub, method, template, body, wrong)
            assert r.status_code == 403, f"{method} {template} {body!r}: {r.text}"


def test_bad_body_with_the_right_token_names_the_body(hub):
    for (method, template), scope in JSON_ROUTES.items():
        token = hub.operator if scope == "operator" else hub.site_a
        r = _send(hub, method, template, BAD_BODIES["malformed JSON"], token)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "invalid_json", "body"), r.text
        r = _send(hub, method, template, BAD_BODIES["not UTF-8"], token)
        assert (r.status_code, r.json()["code"]) == (400, "bad_body"), r.text


def test_push_checks_the_token_before_the_multipart_body(hub):
    r = hub.client.post("/v1/routers", content=b"--x\r\nbroken", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 401


def test_bad_query_without_token_is_401(hub):
    assert hub.client.get("/v1/audit", params={"limit": 0}).status_code == 401
    assert hub.client.get("/v1/audit", params={"limit": 0}, headers=hub.auth(hub.operator)).status_code == 422
