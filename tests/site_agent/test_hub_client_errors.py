"""Hub answers become one-sentence errors; the outbound filter refuses what may not leave (no hub, no training)."""

from __future__ import annotations

import json

import httpx
import pytest
import torch

from protocols.manifest import FileEntry, ModelManifest, TensorSpec
from site_agent.hub_client import HubAuthError, HubClient, HubForbidden, HubRejected, HubUnavailable
from site_agent.push import outbound_filter


def _client(status: int, body: dict) -> HubClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})

    return HubClient("http://hub.test", "mhs_x", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("status, code, kind, words", [
    (401, "token_revoked", HubAuthError, "this site token has been revoked"),
    (403, "wrong_center", HubForbidden, "may not push for center D"),
    (422, "group_not_allowed", HubRejected, "tensor 'encoder.w' is in group encoder (field encoder.w)"),
])
def test_problem_details_become_one_sentence_errors(status: int, code: str, kind: type, words: str) -> None:
    detail = {401: "this site token has been revoked", 403: "this token belongs to center E and may not push for "
              "center D", 422: "tensor 'encoder.w' is in group encoder, which may not leave a site"}[status]
    body = {"type": "t", "title": "x", "status": status, "detail": detail, "code": code,
            "field": "encoder.w" if status == 422 else None}
    with pytest.raises(kind) as err, _client(status, body) as client:
        client.versions()
    assert err.value.code == code and "\n" not in str(err.value)
    assert words.split(" (field")[0] in str(err.value)
    if status == 422:
        assert "(field encoder.w)" in str(err.value)


def test_a_hub_that_does_not_answer_is_unavailable() -> None:
    with pytest.raises(HubUnavailable, match="cannot reach the hub at http://127.0.0.1:9.*run the command again"), \
            HubClient("http://127.0.0.1:9", "t", timeout=2) as client:
        client.versions()


def _manifest() -> ModelManifest:
    names = {"mome.0.gates.D.weight": "router.D", "mome.0.experts.0.fc.weight": "experts",
             "encoder.conv.weight": "encoder", "mome.0.gates.A.weight": "router.A"}
    tensors = {n: TensorSpec(group=g, file=f"{g}.safetensors", shape=[2], dtype="F32") for n, g in names.items()}
    files = [FileEntry(name=f"{g}.safetensors", sha256="0" * 64, size=1) for g in set(names.values())]
    return ModelManifest(family="mome_ro", config_name="mome_ro.tiny", config={}, version="1.0+D",
                         centers=["A", "D"], files=files, tensors=tensors)


def test_outbound_filter_lets_only_allowed_finite_tensors_leave() -> None:
    m, ok = _manifest(), torch.ones(2)
    rows = outbound_filter({"mome.0.gates.D.weight": ok, "mome.0.experts.0.fc.weight": ok}, m,
                           {"router.D", "experts"})
    assert [(r.name, r.group, r.bytes) for r in rows] == [("mome.0.experts.0.fc.weight", "experts", 8),
                                                         ("mome.0.gates.D.weight", "router.D", 8)]
    for name in ("encoder.conv.weight", "mome.0.gates.A.weight", "mome.0.experts.0.fc.weight"):
        with pytest.raises(ValueError, match=f"tensor '{name}'.*may not leave the site"):
            outbound_filter({name: ok}, m, {"router.D"})
    with pytest.raises(ValueError, match="NaN or Inf"):
        outbound_filter({"mome.0.gates.D.weight": torch.tensor([1.0, float("nan")])}, m, {"router.D"})
    json.dumps([r.__dict__ for r in rows])  # the privacy manifest rows are plain JSON
