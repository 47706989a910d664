"""A real Flower deployment on loopback: TLS SuperLink with SuperNode authentication, two SuperNodes, `hub federate`.

Every process is started and stopped by the test (process groups, bounded waits); the run ends with
a draft version on the hub whose lineage lists the rounds and sites, and the hub's record of the rounds.
"""

from __future__ import annotations

import json
import shutil

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("flower-superlink") is None or shutil.which("flower-supernode") is None:
        pytest.skip("the Flower CLIs (flwr package) are not installed")
    from hub.federation.loopback import run_loopback
    from hub.federation.simulate import SimulatedSite

    work = tmp_path_factory.mktemp("deployment")
    return run_loopback(work, [SimulatedSite("D", 2, 1), SimulatedSite("E", 2, 1)], rounds=2, local_steps=1,
                        timeout=240)


def test_two_rounds_on_a_real_superlink_make_a_draft_with_lineage(deployed) -> None:
    from sqlalchemy import select

    from hub.context import build_context
    from hub.db.models import ModelVersion
    from hub.settings import HubSettings
    from protocols import ModelManifest

    ctx = build_context(HubSettings(data_dir=deployed.hub_dir))
    with ctx.factory() as s:
        row = s.scalar(select(ModelVersion).where(ModelVersion.version == deployed.draft_version))
        assert row is not None and row.status == "draft"
        manifest = ModelManifest.model_validate_json(row.manifest_json)
    record = json.loads(manifest.lineage.notes)
    assert manifest.lineage.base_version == "fed-base"
    assert record["rounds"] == 2 and record["sites"] == ["D", "E"]
    assert [r["round"] for r in record["per_round"]] == [1, 2]
    assert all(set(r["sites"]) == {"D", "E"} and not r["failures"] for r in record["per_round"])


def test_the_sites_were_bound_by_their_node_keys_and_the_rounds_recorded(deployed) -> None:
    from hub.context import build_context
    from hub.services.federation_nodes import list_keys
    from hub.services.federation_rounds import list_rounds
    from hub.settings import HubSettings

    ctx = build_context(HubSettings(data_dir=deployed.hub_dir))
    with ctx.factory() as s:
        keys = list_keys(s)
        rounds = list_rounds(s, run=deployed.draft_version)
    assert sorted(k.center for k in keys) == ["D", "E"] and all(k.node_id for k in keys)
    assert [r.round for r in rounds] == [1, 2] and all(r.aggregated for r in rounds)
    assert all(set(r.sites) == {"D", "E"} and r.bytes_to_hub > 0 for r in rounds)
