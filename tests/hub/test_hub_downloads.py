"""Range downloads resume to identical bytes; signed manifests verify and tampering is detected."""

from __future__ import annotations

import hashlib

from hub.services.signing import verify
from hub.settings import MetricsAccess
from protocols.hub_api import SignedManifest


def test_range_download_resumes_to_identical_bytes(hub):
    # Prepare
    info = hub.client.get("/v1/versions/1.0", headers=hub.auth(hub.site_a)).json()
    sha, size = info["files"][1]["sha256"], info["files"][1]["size"]
    # Execute: a transfer broken after 100 bytes, then resumed
    head = hub.client.get(f"/v1/blobs/{sha}", headers={**hub.auth(hub.site_a), "Range": "bytes=0-99"})
    tail = hub.client.get(f"/v1/blobs/{sha}", headers={**hub.auth(hub.site_a), "Range": "bytes=100-"})
    # Assert
    assert head.status_code == 206 and head.headers["content-range"] == f"bytes 0-99/{size}"
    assert tail.status_code == 206 and tail.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    assert hashlib.sha256(head.content + tail.content).hexdigest() == sha
    full = hub.client.get(f"/v1/blobs/{sha}", headers=hub.auth(hub.site_a))
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
    assert full.content == head.content + tail.content


def test_file_by_name_and_unknown_blob(hub):
    r = hub.client.get("/v1/versions/1.0/files/moe.safetensors", headers=hub.auth(hub.site_a))
    assert r.content == (hub.model_dir / "moe.safetensors").read_bytes()
    r = hub.client.get("/v1/blobs/" + "0" * 64, headers=hub.auth(hub.site_a))
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = hub.client.get("/v1/blobs/" + "0" * 64, headers={**hub.auth(hub.site_a), "Range": "bytes=0-1"})
    assert r.status_code == 404


def test_signed_manifest_verifies_and_tampering_fails(hub):
    # Prepare
    key = hub.client.get("/v1/info").json()["signing"]["public_key"]
    body = hub.client.get("/v1/versions/1.0/manifest", headers=hub.auth(hub.site_a)).json()
    signed = SignedManifest.model_validate(body)
    # Assert
    assert signed.manifest.version == "1.0"
    assert verify(key, body["manifest"], signed.signature)
    tampered = {**body["manifest"], "centers": ["A", "B", "X"]}
    assert not verify(key, tampered, signed.signature)
    swapped = dict(body["manifest"])
    swapped["files"] = [{**swapped["files"][0], "sha256": "f" * 64}, *swapped["files"][1:]]
    assert not verify(key, swapped, signed.signature)


def test_signing_key_is_private_and_stable(hub, settings):
    path = settings.signing_key_path
    assert path.stat().st_mode & 0o777 == 0o600
    from hub.services.signing import load_or_create_signer

    assert load_or_create_signer(path).key_id == hub.ctx.signer.key_id


def test_healthz_and_metrics(hub):
    assert hub.client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    hub.client.get("/v1/versions")
    hub.ctx.settings.metrics = MetricsAccess.PUBLIC  # TestClient is not a loopback client
    text = hub.client.get("/metrics").text
    assert 'mome_hub_requests_total{method="GET",route="/v1/versions",status="401"} 1' in text
    assert hub.client.get("/openapi.json").json()["paths"]["/v1/recommendations"]
