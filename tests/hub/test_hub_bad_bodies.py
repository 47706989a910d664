"""Malformed request bodies (multipart, compressed, hostile safetensors headers) are 4xx problems, not 500s."""

from __future__ import annotations

import gzip
import json
import struct

import pytest
from sqlalchemy import func, select

from hub.db.models import Router
from tests.hub.hubfake import push_bytes, push_form, push_manifest

BOUNDARY = "xx"


def _problem(r, status: int, code: str) -> dict:
    assert (r.status_code, r.headers["content-type"]) == (status, "application/problem+json"), r.text
    assert r.json()["code"] == code and "\n" not in r.json()["detail"]
    return r.json()


def _routers(hub) -> int:
    with hub.ctx.factory() as s:
        return s.scalar(select(func.count(Router.id)))


def _multipart(hub, body: bytes):
    return hub.client.post("/v1/routers", content=body, headers={
        **hub.auth(hub.site_d), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})


@pytest.mark.parametrize("body", [
    b"--xx\r\nContent-Disposition form-data\r\n\r\nabc\r\n--xx--\r\n",
    b"--xx\r\nContent-Disposition: form-data; name=\"manifest\"\r\nX\x00Y: 1\r\n\r\n{}\r\n--xx--\r\n",
    b'--xx\r\nContent-Disposition: form-data; name="file"; filename="' + b"a" * 5000 + b'"\r\n\r\nabc\r\n--xx--\r\n',
], ids=["header without colon", "NUL in header name", "5000-character file name"])
def test_malformed_multipart_is_400(hub, body):
    before = _routers(hub)
    assert _problem(_multipart(hub, body), 400, "bad_multipart")["field"] == "body"
    assert _routers(hub) == before


def test_long_file_name_in_a_real_push_is_400(hub):
    data = push_bytes("D")
    files = push_form(data, push_manifest(data, "D"))
    files["file"] = ("n" * 5000 + ".safetensors", data, "application/octet-stream")
    _problem(hub.client.post("/v1/routers", files=files, headers=hub.auth(hub.site_d)), 400, "bad_multipart")


def test_compressed_bodies_are_415(hub):
    data = push_bytes("D")
    request = hub.client.build_request("POST", "/v1/routers", files=push_form(data, push_manifest(data, "D")))
    push = hub.client.post("/v1/routers", content=gzip.compress(request.read()), headers={
        **hub.auth(hub.site_d), "Content-Type": request.headers["content-type"], "Content-Encoding": "gzip"})
    report = hub.client.post("/v1/reports/zero-shot", content=gzip.compress(b'{"model_version":"1.0"}'), headers={
        **hub.auth(hub.site_a), "Content-Type": "application/json", "Content-Encoding": "gzip"})
    for r in (push, report):
        assert _problem(r, 415, "unsupported_content_encoding")["field"] == "content-encoding"
    assert _routers(hub) == 2


def _with_header(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


@pytest.mark.parametrize(("header", "words"), [
    (b"[" * 20_000 + b"]" * 20_000, "nested deeper"),
    (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "nested deeper"),
    (json.dumps({"mome.gates.D.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}})
     .replace("[2, 4]", "[" + "9" * 5000 + ", 4]").encode(), "integer of 5000 digits"),
], ids=["deep arrays", "deep objects", "5000-digit integer"])
def test_hostile_safetensors_header_in_push_is_422(hub, header, words):
    data = _with_header(header, b"\0" * 32)
    r = hub.client.post("/v1/routers", files=push_form(data, push_manifest(data, "D")), headers=hub.auth(hub.site_d))
    assert words in _problem(r, 422, "bad_header")["detail"]
