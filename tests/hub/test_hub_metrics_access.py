"""``MOME_HUB_METRICS``: /metrics for loopback clients (default), operator tokens, or anyone."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.settings import HubSettings, MetricsAccess

# TestClient's own client address is the host name "testclient", which is not loopback
LOOPBACK_V4, LOOPBACK_V6, REMOTE = ("127.0.0.1", 40000), ("::1", 40000), ("203.0.113.7", 40000)
LOOPBACK_MAPPED = ("::ffff:127.0.0.1", 40000)


def _get(hub, client: tuple[str, int], token: str | None = None):
    with TestClient(hub.client.app, client=client) as c:
        return c.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})


def test_default_is_loopback(monkeypatch):
    monkeypatch.delenv("MOME_HUB_METRICS", raising=False)
    assert HubSettings().metrics is MetricsAccess.LOOPBACK


def test_loopback_mode_serves_this_host_only(hub):
    hub.ctx.settings.metrics = MetricsAccess.LOOPBACK
    for client in (LOOPBACK_V4, LOOPBACK_V6, LOOPBACK_MAPPED):
        r = _get(hub, client)
        assert r.status_code == 200 and "mome_hub_requests_total" in r.text
    for client, token in ((REMOTE, None), (REMOTE, hub.operator), (("testclient", 50000), None),
                          (("::ffff:203.0.113.7", 40000), None)):
        r = _get(hub, client, token)
        assert (r.status_code, r.json()["code"]) == (403, "metrics_loopback_only")
        assert r.headers["content-type"] == "application/problem+json"


def test_operator_mode_needs_an_operator_token(hub):
    hub.ctx.settings.metrics = MetricsAccess.OPERATOR
    assert _get(hub, REMOTE, hub.operator).status_code == 200
    for client, token, status in ((LOOPBACK_V4, None, 401), (REMOTE, "mho_unknown", 401), (REMOTE, hub.site_a, 403)):
        assert _get(hub, client, token).status_code == status


def test_public_mode_serves_anyone(hub):
    hub.ctx.settings.metrics = MetricsAccess.PUBLIC
    r = _get(hub, REMOTE)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("mode", list(MetricsAccess))
def test_mode_comes_from_the_environment(monkeypatch, mode):
    monkeypatch.setenv("MOME_HUB_METRICS", mode.value)
    assert HubSettings().metrics is mode
