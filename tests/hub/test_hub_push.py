"""Push validation: every rule rejects with a problem naming the tensor or field, and stores nothing."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from safetensors.numpy import load
from sqlalchemy import func, select

from hub.db.models import AuditEvent, Router, ZeroShotReportRow
from hub.errors import Unauthorized
from hub.services.principals import Principal, add_site, revoke_site
from hub.services.push import Pusher, accept_push
from hub.services.reports import store_report
from protocols.hub_api import TokenScope, ZeroShotReport
from tests.hub.hubfake import EXPERTS, gate_name, push_bytes, push_form, push_manifest


def _state(hub) -> tuple[set[str], int, int]:
    blobs = {p.name for p in hub.ctx.store.root.iterdir() if p.is_file()}
    with hub.ctx.factory() as s:
        routers = s.scalar(select(func.count(Router.id)))
        pushes = s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "router.push"))
    return blobs, routers, pushes


def _push(hub, data: bytes, manifest, token=None):
    return hub.client.post("/v1/routers", files=push_form(data, manifest), headers=hub.auth(token or hub.site_d))


def _corrupt_header(data: bytes) -> bytes:
    return data[:8] + b"X" + data[9:]


f32 = np.float32
CASES = {
    "extra tensor": (dict(extra={"mome.extra.weight": np.ones((2, 2), f32)}), 422, "tensor_not_allowed",
                     "mome.extra.weight"),
    "encoder tensor": (dict(extra={"encoder.conv.weight": np.ones((4, 3), f32)}), 422, "group_not_allowed",
                       "encoder.conv.weight"),
    "other center gate": (dict(extra={gate_name("A"): np.ones((2, 4), f32)}), 422, "group_not_allowed",
                          gate_name("A")),
    "wrong shape": (dict(overrides={gate_name("D"): np.ones((3, 4), f32)}), 422, "wrong_shape", gate_name("D")),
    "wrong dtype": (dict(overrides={gate_name("D"): np.ones((2, 4), np.float64)}), 422, "wrong_dtype",
                    gate_name("D")),
    "nan": (dict(overrides={gate_name("D"): np.full((2, 4), np.nan, f32)}), 422, "non_finite", gate_name("D")),
    "inf in experts": (dict(experts=True, overrides={"mome.experts.1.fc.weight": np.full((4, 4), np.inf, f32)}),
                       422, "non_finite", "mome.experts.1.fc.weight"),
    "oversize": (dict(extra={"junk": np.zeros(20_000, f32)}), 413, "payload_too_large", "file"),
    "missing gate": (dict(drop=(gate_name("D"),), extra={"mome.experts.0.fc.weight": np.ones((4, 4), f32)}),
                     422, "missing_tensor", None),
    "partial experts": (dict(extra={"mome.experts.0.fc.weight": np.ones((4, 4), f32)}), 422, "missing_tensor",
                        "mome.experts.1.fc.weight"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rejected_push_stores_nothing(hub, case):
    # Prepare
    kwargs, status, code, field = CASES[case]
    data = push_bytes("D", **kwargs)
    manifest = push_manifest(data, "D", router_only=not kwargs.get("experts", False))
    before = _state(hub)
    # Execute
    r = _push(hub, data, manifest)
    # Assert
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and set(body) >= {"type", "title", "status", "detail", "code"}
    if field:
        assert body["field"] == field and field in body["detail"] or code == "payload_too_large"
    assert _state(hub) == before


@pytest.mark.parametrize("case", ["corrupted header", "sha256 mismatch", "size mismatch", "router_only lie"])
def test_rejected_manifest_mismatch_stores_nothing(hub, case):
    data = push_bytes("D")
    manifest = push_manifest(data, "D")
    if case == "corrupted header":
        data = _corrupt_header(data)
        manifest = push_manifest(data, "D")
    elif case == "sha256 mismatch":
        manifest = push_manifest(data, "D", sha256=hashlib.sha256(b"other").hexdigest())
    elif case == "size mismatch":
        manifest = push_manifest(data, "D", size=len(data) + 1)
    else:
        manifest = push_manifest(data, "D", router_only=False)
    before = _state(hub)
    r = _push(hub, data, manifest)
    assert r.status_code == 422, r.text
    expected = {"corrupted header": ("bad_header", None), "sha256 mismatch": ("sha256_mismatch", "sha256"),
                "size mismatch": ("size_mismatch", "size"), "router_only lie": ("router_only_mismatch",
                                                                                "router_only")}[case]
    assert (r.json()["code"], r.json().get("field")) == expected
    assert _state(hub) == before


def test_gate_only_push_composes_gate_with_base_experts_and_is_idempotent(hub):
    # Prepare
    data = push_bytes("D")
    manifest = push_manifest(data, "D")
    # Execute
    first = _push(hub, data, manifest)
    second = _push(hub, data, manifest)
    # Assert
    assert first.status_code == 201, first.text
    assert second.status_code == 201 and second.json()["created"] is False
    info = first.json()["router"]
    assert second.json()["router"]["id"] == info["id"]
    assert info["experts_from"] == "base" and info["push_sha256"] == manifest.sha256
    art = hub.client.get("/v1/versions/1.0/routers/D/artifact", headers=hub.auth(hub.site_a))
    assert art.status_code == 200 and hashlib.sha256(art.content).hexdigest() == info["artifact"]["sha256"]
    tensors = load(art.content)
    base = load((hub.model_dir / "moe.safetensors").read_bytes())
    assert set(tensors) == {gate_name("D"), *EXPERTS}
    np.testing.assert_array_equal(tensors[gate_name("D")], load(data)[gate_name("D")])
    for name in EXPERTS:
        np.testing.assert_array_equal(tensors[name], base[name])


def test_push_with_experts_is_stored_as_is(hub):
    data = push_bytes("D", experts=True)
    r = _push(hub, data, push_manifest(data, "D", router_only=False))
    assert r.status_code == 201, r.text
    info = r.json()["router"]
    assert info["experts_from"] == "pushed" and info["artifact"]["sha256"] == hashlib.sha256(data).hexdigest()
    art = hub.client.get(f"/v1/routers/{info['id']}/artifact", headers=hub.auth(hub.site_a))
    assert art.content == data


def test_concurrent_pushes_of_different_centers_all_land(hub):
    # Prepare
    centers = [f"N{i}" for i in range(6)]
    sites = {c: add_site(hub.ctx.factory, center=c, name=None, actor="test").site.id for c in centers}
    payloads = {c: push_bytes(c, seed=i) for i, c in enumerate(centers)}

    def one(c: str):
        with open_bytes(payloads[c]) as fh:
            return accept_push(factory=hub.ctx.factory, store=hub.ctx.store, fh=fh,
                               pusher=Pusher(site_id=sites[c], center=c, actor=f"site:{c}"),
                               update=push_manifest(payloads[c], c), max_push_bytes=1 << 20,
                               max_header_bytes=1 << 20)

    # Execute
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, centers))
    # Assert
    assert all(r.created for r in results)
    listed = hub.client.get("/v1/routers?version=1.0", headers=hub.auth(hub.site_a)).json()
    assert {r["center"] for r in listed} >= set(centers)


def open_bytes(data: bytes):
    import io

    return io.BytesIO(data)


class RevokedWhileReading(io.BytesIO):
    """An upload during which the operator revokes the pushing site (at the first read)."""

    def __init__(self, data: bytes, revoke) -> None:
        super().__init__(data)
        self.revoke = revoke

    def read(self, size: int | None = -1) -> bytes:
        if self.revoke:
            self.revoke, revoke = None, self.revoke
            revoke()
        return super().read(size)


def test_push_revoked_mid_upload_commits_nothing(hub):
    # Prepare: the site authenticated, then the operator revokes it while its file is being processed
    data = push_bytes("D")
    fh = RevokedWhileReading(data, lambda: revoke_site(hub.ctx.factory, site_id=hub.site_d_id, actor="test"))
    before = _state(hub)
    # Execute
    with pytest.raises(Unauthorized, match="revoked") as err:
        accept_push(factory=hub.ctx.factory, store=hub.ctx.store, fh=fh, update=push_manifest(data, "D"),
                    pusher=Pusher(site_id=hub.site_d_id, center="D", actor="site:D"), max_push_bytes=1 << 20,
                    max_header_bytes=1 << 20)
    # Assert
    assert err.value.code == "token_revoked" and fh.revoke is None
    assert _state(hub) == before


def test_report_from_site_revoked_after_authentication_is_refused(hub):
    site = Principal(TokenScope.SITE, hub.site_d_id, "delta", "D")
    revoke_site(hub.ctx.factory, site_id=hub.site_d_id, actor="test")
    report = ZeroShotReport.model_validate({"model_version": "1.0", "results": [
        {"center": "A", "dice": 0.9, "case_count": 3}]})
    with pytest.raises(Unauthorized, match="revoked"):
        store_report(hub.ctx.factory, site=site, report=report)
    with hub.ctx.factory() as s:
        assert s.scalar(select(func.count(ZeroShotReportRow.id))) == 0
