"""Typed errors: each maps to one HTTP status, a stable code and a one-sentence message."""

from __future__ import annotations


class HubError(Exception):
    """Expected error; ``str(err)`` is the one sentence shown to the user."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code


class InvalidInput(HubError):
    status, code, title = 422, "invalid_input", "Invalid input"


class PushRejected(HubError):
    status, code, title = 422, "push_rejected", "Push rejected"


class PayloadTooLarge(HubError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class Unauthorized(HubError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(HubError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(HubError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(HubError):
    status, code, title = 409, "conflict", "Conflict"
