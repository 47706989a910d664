"""kill -9 of a real ``hub serve`` mid-push and of ``hub publish`` mid-store: nothing partial survives a restart."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from hub.context import build_context
from hub.db.models import Blob, ModelVersion, Router
from hub.services.gc import GcReport, collect
from hub.services.principals import add_site
from hub.services.publish import publish
from hub.settings import HubSettings
from tests.hub.hubfake import EXPERTS, make_model_dir, push_bytes, push_manifest
from tests.hub.served import ROOT, HubProcess, hub_args, hub_env

pytestmark = pytest.mark.slow
BIG_EXPERT = (1024, 4096)
"""Two float32 experts of 16 MiB: storing them takes long enough to be caught mid-write on any disk."""
BOUNDARY = "kill9BOUNDARY"


def _multipart(manifest: str, payload: bytes) -> tuple[bytes, bytes]:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"manifest\"\r\n\r\n{manifest}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.safetensors\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + payload, f"\r\n--{BOUNDARY}--\r\n".encode()


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def _parts(blobs: Path) -> list[str]:
    return sorted(p.name for p in (blobs / ".tmp").glob("part-*")) if (blobs / ".tmp").is_dir() else []


def _kill_when_a_part_appears(blobs: Path, kill: Callable[[], None], proc: subprocess.Popen) -> list[str]:
    """SIGKILL as soon as a temp part exists (the process is storing a blob); the part's name is returned."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts := _parts(blobs):
            kill()
            return parts
        time.sleep(0.002)
    pytest.fail(f"no temp part was seen before the process ended (rc {proc.poll()}); use a larger input")


def _counts(settings: HubSettings) -> dict[str, int]:
    ctx = build_context(settings, migrate=False)
    try:
        with ctx.factory() as s:
            return {"versions": s.scalar(select(func.count()).select_from(ModelVersion)),
                    "routers": s.scalar(select(func.count()).select_from(Router)),
                    "blobs": s.scalar(select(func.count()).select_from(Blob))}
    finally:
        ctx.factory.kw["bind"].dispose()


def _collect(settings: HubSettings, *, dry_run: bool) -> GcReport:
    ctx = build_context(settings, migrate=False)
    try:
        return collect(ctx.factory, ctx.store, dry_run=dry_run, min_age_s=0)
    finally:
        ctx.factory.kw["bind"].dispose()


def _gc(data: Path, db: str | None) -> dict:
    """``hub gc`` itself, as an operator runs it after a crash."""
    out = subprocess.run([sys.executable, "-m", "hub", "gc", "--min-age", "0", "--json", *hub_args(data, db)],
                         env=hub_env(), cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


@pytest.fixture
def seeded(tmp_path: Path, db_url: str | None) -> Iterator[tuple[Path, HubSettings, str, bytes, str]]:
    """Version 1.0 with 16 MiB experts, a site token for D and a 32 MiB push (gate D + both experts)."""
    data = tmp_path / "hub-data"
    settings = HubSettings(data_dir=data, db=db_url)
    ctx = build_context(settings)
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, version="1.0",
            model_dir=make_model_dir(tmp_path / "model", expert_shape=BIG_EXPERT))
    token = add_site(ctx.factory, center="D", name=None, actor="test").token
    ctx.factory.kw["bind"].dispose()
    experts = {n: np.full(BIG_EXPERT, 0.25 + i, np.float32) for i, n in enumerate(EXPERTS)}
    payload = push_bytes("D", extra=experts)
    manifest = push_manifest(payload, "D", router_only=False).model_dump_json()
    yield data, settings, token, payload, manifest


def test_kill9_during_push_upload_and_store_then_retry(seeded, db_url):
    data, settings, token, payload, manifest = seeded
    blobs, before = data / "blobs", _counts(settings)
    body, tail = _multipart(manifest, payload)

    # 1. the server dies while the body is still arriving (the client is blocked half-way)
    server, halfway, release = HubProcess(data, db_url), threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        half = len(body) // 2
        for i in range(0, half, 1 << 20):
            yield body[i:min(i + (1 << 20), half)]
        halfway.set()
        release.wait(30)
        yield body[half:] + tail

    def upload() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server is gone: that is the point
            httpx.post(f"{server.base}/v1/routers", content=slow_body(), headers=_headers(token), timeout=60)

    client = threading.Thread(target=upload)
    client.start()
    assert halfway.wait(60)
    time.sleep(0.3)  # let the server read what was sent
    server.kill9()
    release.set()
    client.join(30)
    assert _counts(settings) == before and _parts(blobs) == []

    # 2. the server dies while it stores the complete push (a temp part is being written)
    server = HubProcess(data, db_url)
    client = threading.Thread(target=lambda: _post_ignoring_errors(server.base, body + tail, token))
    client.start()
    seen = _kill_when_a_part_appears(blobs, server.kill9, server.proc)
    client.join(30)
    assert _parts(blobs) == seen  # the crash left its part behind
    assert _counts(settings) == before  # but no row: the transaction never committed

    # 3. restart: the dead writer's part is removed at start-up, and the same push now lands
    server = HubProcess(data, db_url)
    try:
        assert _parts(blobs) == []
        r = httpx.post(f"{server.base}/v1/routers", content=body + tail, headers=_headers(token), timeout=60)
        assert r.status_code == 201, r.text
        assert r.json()["created"] is True
        listed = httpx.get(f"{server.base}/v1/routers", params={"center": "D"},
                           headers={"Authorization": f"Bearer {token}"}).json()
        assert [x["id"] for x in listed] == [r.json()["router"]["id"]]
    finally:
        server.kill9()
    after = _counts(settings)
    assert (after["versions"], after["routers"]) == (before["versions"], before["routers"] + 1)
    report = _collect(settings, dry_run=True)
    assert (report.stale_parts, report.missing_blobs) == ([], [])


def _post_ignoring_errors(base: str, content: bytes, token: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(f"{base}/v1/routers", content=content, headers=_headers(token), timeout=60)


def test_kill9_during_hub_publish_leaves_no_version(seeded, db_url, tmp_path: Path):
    data, settings, _, _, _ = seeded
    blobs, before = data / "blobs", _counts(settings)
    model = make_model_dir(tmp_path / "model2", expert_shape=BIG_EXPERT, seed=7)
    args = [sys.executable, "-m", "hub", "publish", str(model), "--version", "2.0", *hub_args(data, db_url)]
    proc = subprocess.Popen(args, env=hub_env(), cwd=ROOT, stdout=subprocess.DEVNULL)

    def kill() -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    seen = _kill_when_a_part_appears(blobs, kill, proc)
    # On a busy machine the part seen may have been completed and renamed before the signal landed: then it
    # is an orphan blob rather than a stale part, and gc must find it as such.
    left = _parts(blobs)
    assert proc.returncode == -signal.SIGKILL and set(left) <= set(seen)
    assert _counts(settings) == before  # no version, router or blob row from the killed publish

    # gc removes the dead part and any blob the killed publish stored before it died; a second run finds nothing
    report = _gc(data, db_url)
    assert report["stale_parts"] == left and report["missing_blobs"] == []
    assert left or report["orphan_blobs"], "the killed publish left nothing behind to clean up"
    stored_by_publish = {f["sha256"] for f in json.loads((model / "manifest.json").read_text())["files"]}
    assert set(report["orphan_blobs"]) <= stored_by_publish
    assert set(report["orphan_blobs"]).isdisjoint(p.name for p in blobs.iterdir())
    again = _collect(settings, dry_run=True)
    assert (again.stale_parts, again.orphan_blobs, again.missing_blobs) == ([], [], [])
    # and the same publish, run again to the end, succeeds
    ctx = build_context(settings, migrate=False)
    try:
        publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=model, version="2.0")
    finally:
        ctx.factory.kw["bind"].dispose()
    assert _counts(settings)["versions"] == before["versions"] + 1
