"""Document every problem status an operation can answer (401/403/404/413/415/422...) as problem+json."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from hub.api import deps
from hub.api.auth_first import dependency_calls
from protocols.hub_api import PROBLEM_CONTENT_TYPE, Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
WHY = {
    400: "The request body could not be read (malformed multipart, or not UTF-8).",
    401: "No bearer token, or one this hub does not know or has revoked.",
    403: "The token's scope (operator or site) or center may not do this.",
    404: "No such resource, or it is not published.",
    409: "The resource already exists.",
    413: "The request body is over the hub's size limit.",
    415: "The request body has a Content-Encoding; send it uncompressed.",
    422: "A parameter or the body is invalid; `field` names it.",
}
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes.", "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    206: {"description": "The requested byte range (HTTP Range).", "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
}


def problem_response(status: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": WHY[status], "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}}
    if status == 401:
        doc["headers"] = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
    return doc


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For a route's ``responses=``: statuses the post-pass cannot infer (a service's 404, a 413...)."""
    return {s: problem_response(s) for s in statuses}


def inferred_statuses(route: APIRoute) -> set[int]:
    """Statuses implied by the route's guards, path ids, parameters and body."""
    calls, dependant = dependency_calls(route), route.dependant
    has_body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    statuses = set()
    if deps.get_principal in calls:
        statuses.add(401)
    if calls & {deps.require_operator, deps.require_site}:
        statuses.add(403)
    if dependant.path_params:
        statuses.add(404)
    if has_body:
        statuses |= {400, 415, 422}
    if dependant.path_params or dependant.query_params or dependant.header_params:
        statuses.add(422)
    return statuses


def document(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the generated schema carries the problem responses and the Problem schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI regenerates it when routes change, else returns its cached dict
        if "Problem" not in schema.get("components", {}).get("schemas", {}):
            _add_problems(schema, app)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_problems(schema: dict[str, Any], app: FastAPI) -> None:
    for context in iter_route_contexts(app.routes):  # FastAPI 0.138 nests included routers
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            op = schema["paths"].get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            responses = op.setdefault("responses", {})
            for status in inferred_statuses(route):
                if status == 422 or str(status) not in responses:  # FastAPI's own 422 is not our body
                    responses[str(status)] = problem_response(status)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    if '"#/components/schemas/HTTPValidationError"' not in json.dumps(schema["paths"]):
        components.pop("HTTPValidationError", None)  # FastAPI's default 422 body, replaced above
        components.pop("ValidationError", None)
