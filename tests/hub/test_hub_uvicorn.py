"""Against a real ``hub serve`` (uvicorn subprocess on 127.0.0.1, random free port, SQLite)."""

from __future__ import annotations

import hashlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from hub.context import build_context
from hub.services.principals import add_site
from hub.services.publish import publish
from hub.settings import HubSettings
from tests.hub.hubfake import make_model_dir, push_bytes, push_form, push_manifest
from tests.hub.served import HubProcess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("served") / "hub-data"
    ctx = build_context(HubSettings(data_dir=data))
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, version="1.0",
            model_dir=make_model_dir(tmp_path_factory.mktemp("model")))
    tokens = {c: add_site(ctx.factory, center=c, name=None, actor="test").token for c in ("D", "E", "F", "G")}
    ctx.factory.kw["bind"].dispose()
    server = HubProcess(data)
    yield server.base, tokens, data, server.port
    server.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_concurrent_pushes_over_http_all_land(served):
    base, tokens, _, _ = served

    def one(center: str) -> int:
        data = push_bytes(center)
        return httpx.post(f"{base}/v1/routers", files=push_form(data, push_manifest(data, center)),
                          headers=_auth(tokens[center]), timeout=30).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, ["D", "E", "F", "G"])) == [201] * 4
    listed = httpx.get(f"{base}/v1/routers", headers=_auth(tokens["D"])).json()
    assert {"D", "E", "F", "G"} <= {r["center"] for r in listed}


def test_interrupted_upload_leaves_no_blob_and_no_row(served):
    base, tokens, data_dir, port = served
    before_blobs = sorted(p.name for p in (data_dir / "blobs").iterdir())
    before_rows = len(httpx.get(f"{base}/v1/routers", headers=_auth(tokens["D"])).json())
    payload = push_bytes("D", seed=99)
    manifest = push_manifest(payload, "D")
    boundary = "xBOUNDARYx"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"manifest\"\r\n\r\n{manifest.model_dump_json()}"
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.safetensors\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /v1/routers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {tokens['D']}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + body[: len(body) - 40])
        time.sleep(0.3)
    time.sleep(0.5)
    assert sorted(p.name for p in (data_dir / "blobs").iterdir()) == before_blobs
    assert not (data_dir / "blobs" / ".tmp").exists()  # the part is gone, and no empty folder is left
    assert len(httpx.get(f"{base}/v1/routers", headers=_auth(tokens["D"])).json()) == before_rows
    # the complete upload then succeeds
    r = httpx.post(f"{base}/v1/routers", files=push_form(payload, manifest), headers=_auth(tokens["D"]))
    assert r.status_code == 201, r.text


def test_streamed_download_resumes_after_break(served):
    base, tokens, _, _ = served
    info = httpx.get(f"{base}/v1/versions/1.0", headers=_auth(tokens["E"])).json()
    sha = info["files"][1]["sha256"]
    got = b""
    with httpx.stream("GET", f"{base}/v1/blobs/{sha}", headers=_auth(tokens["E"])) as r:
        for chunk in r.iter_bytes(64):
            got += chunk
            break  # connection dropped mid-transfer
    r = httpx.get(f"{base}/v1/blobs/{sha}", headers={**_auth(tokens["E"]), "Range": f"bytes={len(got)}-"})
    assert r.status_code == 206
    assert hashlib.sha256(got + r.content).hexdigest() == sha
