"""Refuse compressed request bodies up front: the hub reads bodies as sent and never inflates them."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.api.problems import problem


class RefuseContentEncoding:
    """Answer 415 for any request with a ``Content-Encoding`` other than ``identity`` (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for key, value in scope.get("headers", ()):
                if key.lower() == b"content-encoding" and value.strip().lower() not in (b"", b"identity"):
                    name = value.decode("latin-1")[:32]
                    response = problem(415, "Unsupported media type", f"request bodies with Content-Encoding "
                                       f"{name!r} are not supported; send the body uncompressed",
                                       "unsupported_content_encoding", "content-encoding")
                    return await response(scope, receive, send)
        return await self.app(scope, receive, send)
