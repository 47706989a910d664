"""End to end on the in-process engine: exact sample-weighted means, experts-only messages, failures, lineage."""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import select

from federation.settings import FederationSettings
from federation.wire import is_expert


def expected_mean(replies: dict[str, tuple[float, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """sum_i w_i x_i / sum_i w_i over the sites in code order, accumulated in float64."""
    sites = sorted(replies)
    total = sum(replies[s][0] for s in sites)
    out = {}
    for key, first in replies[sites[0]][1].items():
        acc = np.zeros(first.shape, dtype=np.float64)
        for s in sites:
            acc += replies[s][0] * replies[s][1][key].astype(np.float64)
        out[key] = (acc / total).astype(first.dtype)
    return out


def draft_experts(run) -> dict[str, np.ndarray]:
    from hub.federation.port import open_port
    from models.weights import load_model_dir

    port = open_port(FederationSettings(hub_data_dir=str(run.data_dir), version="fed-base"))
    model, _, _ = load_model_dir(port.materialise_version("fed-test", run.data_dir / "check"))
    return {k: v.numpy() for k, v in model.state_dict().items() if is_expert(k)}


def test_round_one_aggregate_is_the_exact_sample_weighted_mean(federation_run) -> None:
    rec, sites = federation_run.recorded, federation_run.sites
    assert set(rec.replies[1]) == set(sites)
    assert {s: w for s, (w, _) in rec.replies[1].items()} == {c: float(shots) for c, (_, shots) in sites.items()}
    expected = expected_mean(rec.replies[1])
    for arrays in rec.sent[2].values():  # what every site received for round 2
        assert arrays.keys() == expected.keys()
        for key in expected:
            assert np.array_equal(arrays[key], expected[key]), key


def test_last_round_lands_exactly_in_the_draft_version(federation_run) -> None:
    rec = federation_run.recorded
    expected = expected_mean(rec.replies[2])
    draft = draft_experts(federation_run)
    assert draft.keys() == expected.keys()
    for key in expected:
        assert np.array_equal(draft[key], expected[key]), key


def test_no_message_carries_anything_but_experts(federation_run) -> None:
    rec = federation_run.recorded
    carried = [name for _, msg in rec.messages if msg.has_content()
               for record in msg.content.array_records.values() for name in record]
    assert carried and all(is_expert(n) for n in carried)
    for group in ("encoder.", "decoder.", "alignment.", "prompt", ".gates."):
        assert not any(group in n for n in carried), group


def test_a_site_failing_mid_round_is_left_out_and_reported(federation_run) -> None:
    site, rnd = federation_run.fails
    rec, sites = federation_run.recorded, federation_run.sites
    assert site not in rec.replies[rnd] and set(rec.replies[rnd]) == set(sites) - {site}
    errors = [m for d, m in rec.messages if d == "to-hub" and m.has_error()]
    assert len(errors) == 1 and "local disk full" in errors[0].error.reason
    report = federation_run.result.reports[rnd - 1]
    assert report["round"] == rnd and len(report["failures"]) == 1
    assert "local disk full" in report["failures"][0]["reason"]
    assert set(report["sites"]) == set(sites) - {site}


def test_draft_version_records_lineage(federation_run) -> None:
    from hub.context import build_context
    from hub.db.models import ModelVersion
    from hub.settings import HubSettings
    from protocols import ModelManifest

    ctx = build_context(HubSettings(data_dir=federation_run.data_dir))
    with ctx.factory() as s:
        row = s.scalar(select(ModelVersion).where(ModelVersion.version == "fed-test"))
        assert row is not None and row.status == "draft"
        manifest = ModelManifest.model_validate_json(row.manifest_json)
    lineage, sites = manifest.lineage, federation_run.sites
    assert lineage.base_version == "fed-base"
    assert lineage.metrics["rounds"] == 2 and lineage.metrics["sites"] == 3 and lineage.metrics["failures"] == 1
    assert lineage.metrics["D.num-examples"] == 2
    record = json.loads(lineage.notes)
    assert record["kind"] == "federated-experts" and record["sites"] == sorted(sites)
    assert record["strategy"] == "fedavg" and record["rounds"] == 2
    assert record["per_round"][1]["failures"][0]["reason"].endswith("local disk full")
    assert manifest.centers == ["A", "B"]  # the sites' own routers never reach the hub
