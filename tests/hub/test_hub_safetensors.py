"""The torch-free safetensors reader: bounded, strict header; finiteness for every float dtype."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
from safetensors.numpy import save

from hub.errors import PushRejected
from hub.services.blobs import BlobStore
from hub.services.safetensors_io import TensorEntry, all_finite, read_header


def _raw(header: dict, data: bytes) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def _with_header(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


def _parse(blob: bytes, limit: int = 1 << 20):
    return read_header(io.BytesIO(blob), len(blob), max_header_bytes=limit)


def test_reads_numpy_safetensors_with_metadata():
    blob = save({"a": np.zeros((2, 3), np.float32), "b": np.ones(4, np.int64)}, metadata={"k": "v"})
    h = _parse(blob)
    assert h.metadata == {"k": "v"} and h.tensors["a"].shape == (2, 3) and h.tensors["b"].dtype == "I64"


@pytest.mark.parametrize(("blob", "words"), [
    (b"\x01\x00", "too short"),
    (struct.pack("<Q", 2 << 20) + b"{}", "over the limit"),
    (struct.pack("<Q", 100) + b"{}", "longer than the file"),
    (_raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 12), "not covered"),
    (_raw({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8), "do not match"),
    (_raw({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8), "does not start"),
    (_raw({"a": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0"), "unsupported dtype"),
    (_raw({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}, b"\0" * 4), "exactly"),
    (struct.pack("<Q", 9) + b'{"a":1,"a' + b"\0", "not valid JSON"),
    (_raw({"__metadata__": {"k": 1}}, b""), "__metadata__"),
    pytest.param(_with_header(b"[" * 100_000 + b"]" * 100_000), "nested deeper than 4", id="deep arrays"),
    pytest.param(_with_header(b'{"a":' * 10_000 + b"1" + b"}" * 10_000), "nested deeper than 4", id="deep objects"),
    pytest.param(_with_header(b'{"a":{"dtype":"U8","shape":[' + b"9" * 5000 + b'],"data_offsets":[0,1]}}', b"\0"),
                 "integer of 5000 digits", id="5000-digit integer"),
    pytest.param(_with_header(b'{"a":"\\"}'), "unterminated string", id="unterminated string"),
])
def test_malformed_headers_are_rejected(blob, words):
    with pytest.raises(PushRejected, match=words):
        _parse(blob)


def test_valid_header_with_brackets_in_names_and_metadata():
    blob = save({"a[{]": np.zeros(2, np.uint8)}, metadata={"note": "}}]] {[ \\\" nested"})
    h = _parse(blob)
    assert set(h.tensors) == {"a[{]"} and h.metadata["note"].startswith("}}]]")


def test_duplicate_keys_rejected():
    h = b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    with pytest.raises(PushRejected, match="repeats"):
        _parse(struct.pack("<Q", len(h)) + h + b"\0")


@pytest.mark.parametrize(("dtype", "bits", "finite"), [
    ("BF16", [0x3F80, 0x4000], True), ("BF16", [0x3F80, 0x7F80], False), ("BF16", [0xFFC0, 0], False),
    ("F16", [0x3C00, 0x7C00], False), ("F16", [0x3C00, 0x0001], True),
])
def test_half_precision_finiteness(dtype, bits, finite):
    data = np.array(bits, dtype="<u2").tobytes()
    entry = TensorEntry("t", dtype, (2,), 0, len(data))
    assert all_finite(io.BytesIO(data), entry) is finite


def test_interrupted_stream_leaves_no_blob(tmp_path):
    store = BlobStore(tmp_path / "blobs")

    def chunks():
        yield b"x" * 1000
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_chunks(chunks())
    assert list(store.root.iterdir()) == []  # no blob, no part, and no empty temp folder
