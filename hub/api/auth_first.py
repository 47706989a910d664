"""Judge a request's bearer token as its route's dependencies would, for errors FastAPI raises before they run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials

from hub.api import deps


def dependency_calls(route: APIRoute) -> set[Callable[..., Any]]:
    """Every callable in ``route``'s dependency tree (the guards it runs before its endpoint)."""
    calls: set[Callable[..., Any]] = set()
    stack: list[Dependant] = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            calls.add(dep.call)
        stack.extend(dep.dependencies)
    return calls


async def credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    return await deps.bearer(request)


def check(request: Request, creds: HTTPAuthorizationCredentials | None) -> None:
    """Raise the 401/403 the matched route's guards raise for ``creds``; nothing for public routes."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    calls = dependency_calls(route)
    if deps.get_principal not in calls:
        return
    principal = deps.get_principal(deps.get_ctx(request), creds)
    for guard in (deps.require_operator, deps.require_site):
        if guard in calls:
            guard(principal)
