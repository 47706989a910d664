"""A typed client for the hub's REST API: every body is a ``protocols`` type, every failure one sentence.

Errors are ``ValueError`` subclasses, so the CLI's ``expected_errors`` turns them into one line
and a non-zero exit: the hub is down, the token is refused (401), the center is wrong (403),
or the hub rejected the request (its problem detail, naming the field or tensor at fault).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from protocols.hub_api import (
    API_PREFIX,
    HubInfo,
    ModelVersionInfo,
    PushResult,
    RecommendationRequest,
    RecommendationResponse,
    TokenScope,
    WhoAmI,
    ZeroShotReport,
    ZeroShotReportAck,
)
from protocols.router_update import RouterUpdateManifest

M = TypeVar("M", bound=BaseModel)
CHUNK = 1 << 20


class HubClientError(ValueError):
    """The hub could not do what was asked; ``str()`` is the sentence to show."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


class HubUnavailable(HubClientError):
    """No answer from the hub (refused, timed out, dropped)."""


class HubAuthError(HubClientError):
    """401: the token is unknown or revoked."""


class HubForbidden(HubClientError):
    """403: the token may not do this (e.g. push for another center)."""


class HubRejected(HubClientError):
    """Any other 4xx/5xx, with the hub's problem detail."""


@dataclass(frozen=True)
class Timed:
    """An answer with the server's ``Date`` header and the round-trip seconds (for clock-skew checks)."""

    info: HubInfo
    date: str | None
    seconds: float


class HubClient:
    """``HubClient(url, token)``; use as a context manager or call ``close()``."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing -----------------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise HubUnavailable(f"cannot reach the hub at {self.url} ({type(exc).__name__}: {exc or 'no answer'}); "
                                 "nothing was changed locally, run the command again when the hub is up") from None
        raise_for_problem(response, self.url)
        return response

    def _get(self, path: str, model: type[M], **kw: Any) -> M:
        return model.model_validate_json(self._send("GET", path, **kw).content)

    # -- endpoints ----------------------------------------------------------------------------------
    def info(self) -> Timed:
        """``GET /v1/info`` (no token needed) with the Date header, for init and doctor."""
        r = self._send("GET", f"{API_PREFIX}/info")
        return Timed(HubInfo.model_validate_json(r.content), r.headers.get("date"), r.elapsed.total_seconds())

    def healthz(self) -> None:
        self._send("GET", "/healthz")

    def versions(self) -> list[ModelVersionInfo]:
        r = self._send("GET", f"{API_PREFIX}/versions")
        return TypeAdapter(list[ModelVersionInfo]).validate_json(r.content)

    def newest_published(self) -> ModelVersionInfo:
        published = [v for v in self.versions() if v.status == "published"]
        if not published:
            raise HubRejected(f"the hub at {self.url} has no published model version yet", status=404)
        return published[0]

    def signed_manifest_raw(self, version: str) -> dict[str, Any]:
        """The signed manifest as raw JSON: the signature is checked on these exact values."""
        data = self._send("GET", f"{API_PREFIX}/versions/{version}/manifest").json()
        if not isinstance(data, dict):
            raise HubRejected(f"the hub's manifest of version {version} is not a JSON object")
        return data

    def download(self, version: str, name: str, part: Path, *, size: int,
                 on_bytes: Callable[[int], None] | None = None) -> int:
        """Append the rest of file ``name`` to ``part`` (HTTP Range from its current size); returns bytes fetched."""
        have = part.stat().st_size if part.exists() else 0
        if have >= size:
            return 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        fetched = 0
        try:
            with self._http.stream("GET", f"{API_PREFIX}/versions/{version}/files/{name}", headers=headers) as r:
                if r.status_code >= 400:
                    r.read()
                    raise_for_problem(r, self.url)
                mode = "ab" if (have and r.status_code == 206) else "wb"
                with open(part, mode) as fh:
                    for chunk in r.iter_bytes(CHUNK):
                        fh.write(chunk)
                        fetched += len(chunk)
                        if on_bytes:
                            on_bytes(len(chunk))
        except httpx.TransportError as exc:
            raise HubUnavailable(f"the download of {name} from {self.url} broke off ({type(exc).__name__}); "
                                 f"the {fetched + have} bytes so far are kept in {part}, run pull again to "
                                 "resume") from None
        return fetched

    def report_zero_shot(self, report: ZeroShotReport) -> ZeroShotReportAck:
        r = self._send("POST", f"{API_PREFIX}/reports/zero-shot", content=report.model_dump_json(),
                       headers={"Content-Type": "application/json"})
        return ZeroShotReportAck.model_validate_json(r.content)

    def recommend(self, request: RecommendationRequest) -> RecommendationResponse:
        r = self._send("POST", f"{API_PREFIX}/recommendations", content=request.model_dump_json(),
                       headers={"Content-Type": "application/json"})
        return RecommendationResponse.model_validate_json(r.content)

    def push(self, manifest: RouterUpdateManifest, data: bytes) -> PushResult:
        files = {"manifest": (None, manifest.model_dump_json(), "application/json"),
                 "file": ("update.safetensors", data, "application/octet-stream")}
        return PushResult.model_validate_json(self._send("POST", f"{API_PREFIX}/routers", files=files).content)

    def whoami(self) -> WhoAmI:
        """The scope and center of this client's token (``GET /v1/whoami``)."""
        return WhoAmI.model_validate_json(self._send("GET", f"{API_PREFIX}/whoami").content)

    def token_scope(self) -> str:
        """'operator' or 'site:<CENTER>' for this client's token."""
        me = self.whoami()
        return "operator" if me.scope is TokenScope.OPERATOR else f"site:{me.center}"


def raise_for_problem(response: httpx.Response, url: str) -> None:
    """Turn a 4xx/5xx into the matching ``HubClientError`` carrying the problem detail."""
    if response.status_code < 400:
        return
    detail, code, field = response.reason_phrase or "error", None, None
    try:
        body = response.json()
        if isinstance(body, dict):
            detail, code, field = str(body.get("detail", detail)), body.get("code"), body.get("field")
    except ValueError:
        pass
    status = response.status_code
    detail = detail.rstrip(".")
    if status == 401:
        raise HubAuthError(f"the hub at {url} refused the site token: {detail}; ask the hub operator for a new "
                           "token and run `site-agent init --force`", status=status, code=code, field=field)
    if status == 403:
        raise HubForbidden(f"the hub at {url} forbids this: {detail}", status=status, code=code, field=field)
    where = f" (field {field})" if field else ""
    raise HubRejected(f"the hub at {url} answered {status}: {detail}{where}", status=status, code=code, field=field)
