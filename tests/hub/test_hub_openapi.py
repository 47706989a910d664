"""The served OpenAPI documents every problem an operation can answer, as application/problem+json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.settings import HubSettings
from protocols.hub_api import PROBLEM_CONTENT_TYPE, Problem

OPERATOR_ONLY = {("GET", "/v1/sites"), ("POST", "/v1/sites"), ("PUT", "/v1/centers/{code}/fingerprint"),
                 ("GET", "/v1/audit"), ("PUT", "/v1/versions/{version}/status")}
SITE_ONLY = {("POST", "/v1/routers"), ("POST", "/v1/reports/zero-shot")}
ANY_TOKEN = {("GET", "/v1/routers"), ("GET", "/v1/versions"), ("POST", "/v1/recommendations"),
             ("GET", "/v1/whoami"), ("GET", "/v1/centers")}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(HubSettings(data_dir=tmp_path_factory.mktemp("openapi") / "hub-data"))
    with TestClient(app) as c:
        yield c
    app.state.hub.factory.kw["bind"].dispose()


@pytest.fixture(scope="module")
def schema(client: TestClient) -> dict:
    return client.get("/openapi.json").json()


def _operations(schema: dict):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def _is_problem(response: dict) -> bool:
    return response.get("content") == {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_problem_schema_is_the_wire_model(schema):
    components = schema["components"]["schemas"]
    assert set(components["Problem"]["properties"]) == set(Problem.model_fields)
    assert "HTTPValidationError" not in components  # FastAPI's default 422 body is never sent


def test_every_4xx_is_a_problem(schema):
    for method, path, op in _operations(schema):
        for status, response in op["responses"].items():
            if status.startswith("4"):
                assert _is_problem(response), f"{method} {path} {status}"


def test_authenticated_operations_document_401(schema):
    authenticated = [(m, p) for m, p, op in _operations(schema) if "security" in op]
    assert set(OPERATOR_ONLY | SITE_ONLY | ANY_TOKEN) <= set(authenticated)
    for method, path, op in _operations(schema):
        if "security" in op:
            assert "401" in op["responses"], f"{method} {path}"
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
    assert "401" not in schema["paths"]["/v1/info"]["get"]["responses"]


def test_403_only_where_a_scope_is_required(schema):
    paths = schema["paths"]
    for method, path in OPERATOR_ONLY | SITE_ONLY:
        assert "403" in paths[path][method.lower()]["responses"], f"{method} {path}"
    for method, path in ANY_TOKEN:
        assert "403" not in paths[path][method.lower()]["responses"], f"{method} {path}"


def test_path_ids_document_404_and_parameters_422(schema):
    for method, path, op in _operations(schema):
        if "{" in path:
            assert "404" in op["responses"], f"{method} {path}"
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in op["responses"], f"{method} {path}"
        if op.get("requestBody"):
            assert {"400", "415"} <= set(op["responses"]), f"{method} {path}"


def test_uploads_document_413_and_downloads_their_bytes(schema):
    push = schema["paths"]["/v1/routers"]["post"]["responses"]
    assert "413" in push and _is_problem(push["413"])
    for path in ("/v1/blobs/{sha256}", "/v1/routers/{router_id}/artifact", "/v1/versions/{version}/files/{name}"):
        responses = schema["paths"][path]["get"]["responses"]
        assert list(responses["200"]["content"]) == ["application/octet-stream"]
        assert "206" in responses


def test_schema_is_regenerated_with_problems_when_routes_change(tmp_path: Path):
    app = create_app(HubSettings(data_dir=tmp_path / "hub-data"))
    first = app.openapi()

    @app.get("/v1/late/{late_id}", include_in_schema=True)
    def late(late_id: int) -> dict:
        return {}

    second = app.openapi()
    assert "/v1/late/{late_id}" not in first["paths"]
    assert _is_problem(second["paths"]["/v1/late/{late_id}"]["get"]["responses"]["404"])
    app.state.hub.factory.kw["bind"].dispose()


def test_405_allows_exactly_the_documented_methods(client, schema):
    for path in ("/v1/sites", "/v1/routers", "/v1/info"):
        r = client.request("TRACE", path)
        documented = {m.upper() for m in schema["paths"][path]}
        assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
        assert set(r.headers["allow"].split(", ")) - {"HEAD"} == documented, path
