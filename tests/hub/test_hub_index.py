"""The ranking index: built once per write (never per request), invalidated by every write, checked across processes."""

from __future__ import annotations

import asyncio
import time

import httpx

from hub.services import index_cache
from hub.services.centers import set_fingerprint
from hub.services.publish import publish
from protocols.fingerprint import SiteFingerprint
from tests.hub.hubfake import make_model_dir, push_bytes, push_form, push_manifest
from tests.hub.test_hub_recommend import FP_A, FP_B, SITE_LIKE_B


def _recommend(hub, fp=SITE_LIKE_B):
    r = hub.client.post("/v1/recommendations", json={"fingerprint": fp, "limit": 100}, headers=hub.auth(hub.site_d))
    assert r.status_code == 200, r.text
    return r.json()


def test_many_concurrent_requests_after_a_write_build_the_index_once(hub, monkeypatch):
    # Prepare: a slow build, so that every request arrives while it runs
    cache = hub.ctx.index_cache
    cache.recheck_s = 3600
    slow = index_cache.load_index

    def load_index(session, version):
        time.sleep(0.2)
        return slow(session, version)

    monkeypatch.setattr(index_cache, "load_index", load_index)
    cache.invalidate()
    before = cache.builds

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=hub.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await asyncio.gather(*(client.post("/v1/recommendations", json={"fingerprint": SITE_LIKE_B},
                                                      headers=hub.auth(hub.site_d)) for _ in range(32)))

    # Execute
    responses = asyncio.run(burst())
    # Assert
    assert all(r.status_code == 200 for r in responses)
    assert len({r.content for r in responses}) == 1
    assert cache.builds == before + 1


def test_every_write_invalidates_and_reads_do_not_rebuild(hub):
    # Prepare: no background checks, so only invalidation can make a write visible
    cache = hub.ctx.index_cache
    cache.recheck_s = 3600
    first = _recommend(hub)
    assert sorted(r["center"] for r in first["routers"]) == ["A", "B"] and first["evidence_used"] == []
    builds = cache.builds
    # Execute + Assert: repeated reads reuse the index
    for _ in range(3):
        assert _recommend(hub) == first
    assert cache.builds == builds
    # a fingerprint write is in the next response
    for code, fp in (("A", FP_A), ("B", FP_B)):
        assert hub.client.put(f"/v1/centers/{code}/fingerprint", json=fp,
                              headers=hub.auth(hub.operator)).status_code == 200
    after_fp = _recommend(hub)
    assert [r["center"] for r in after_fp["routers"]] == ["B", "A"] and after_fp["evidence_used"] == ["fingerprint"]
    # a zero-shot report is in the next response
    report = {"model_version": "1.0", "results": [{"center": "A", "dice": 0.9, "case_count": 20}]}
    assert hub.client.post("/v1/reports/zero-shot", json=report, headers=hub.auth(hub.site_a)).status_code == 201
    after_report = _recommend(hub)
    assert "zero_shot" in after_report["evidence_used"]
    # a pushed router is in the next response
    data = push_bytes("D")
    pushed = hub.client.post("/v1/routers", files=push_form(data, push_manifest(data, "D")),
                             headers=hub.auth(hub.site_d))
    assert pushed.status_code == 201, pushed.text
    after_push = _recommend(hub)
    assert "D" in [r["center"] for r in after_push["routers"]]
    assert cache.builds == builds + 3  # one build per write, none for the reads in between
    _recommend(hub)
    assert cache.builds == builds + 3


def test_a_write_by_another_process_is_found_by_the_stamp_check(hub, tmp_path):
    # Prepare: an index in use; then writes that bypass this process's API (another worker, the CLI)
    cache, factory = hub.ctx.index_cache, hub.ctx.factory
    cache.recheck_s = 3600
    _recommend(hub)
    assert cache.refresh(factory, None) is False  # nothing changed: no rebuild
    builds = cache.builds
    set_fingerprint(factory, code="B", fingerprint=SiteFingerprint.model_validate(FP_B), actor="elsewhere")
    assert _recommend(hub)["evidence_used"] == []  # this process has not looked yet
    # Execute + Assert: the check finds the fingerprint
    assert cache.refresh(factory, None) is True
    assert _recommend(hub)["evidence_used"] == ["fingerprint"]
    assert cache.builds == builds + 1
    # a newly published version becomes the default
    publish(factory=factory, store=hub.ctx.store, signer=hub.ctx.signer, version="2.0",
            model_dir=make_model_dir(tmp_path / "m2", version="2.0"))
    assert cache.refresh(factory, None) is True
    assert _recommend(hub)["model_version"] == "2.0"


def test_background_check_runs_when_due_and_keeps_serving(hub):
    # Prepare: every request is due for a check (the test settings cache for 0 s)
    cache, factory = hub.ctx.index_cache, hub.ctx.factory
    _recommend(hub)
    set_fingerprint(factory, code="B", fingerprint=SiteFingerprint.model_validate(FP_B), actor="elsewhere")
    # Execute: requests keep being served while the background check picks the write up
    for _ in range(200):
        if _recommend(hub)["evidence_used"] == ["fingerprint"]:
            break
        time.sleep(0.05)
    # Assert
    assert _recommend(hub)["evidence_used"] == ["fingerprint"]
    assert cache.peek(None) is not None
