"""Faults in a federation: a tampered site sending NaN, a site dropping, a node lying about its center, a slow site.

The run goes on with the others (``min_sites`` allows it) and the hub records who took part and why
the others did not.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict  # noqa: E402


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory):
    from federation.client_app import app as real_app
    from federation.settings import FederationSettings
    from hub.federation.simulate import SimulatedSite, simulate

    def faulty(msg, context):
        center, rnd = context.node_config["center"], int(msg.content["config"]["server-round"])
        if (center, rnd) == ("C", 1):  # a tampered site: skips the outbound filter and sends NaN
            arrays = {k: np.full(v.shape, np.nan, np.float32) for k, v in msg.content["arrays"].items()}
            return Message(RecordDict({"arrays": ArrayRecord({k: Array(v) for k, v in arrays.items()}),
                                       "metrics": MetricRecord({"num-examples": 1}),
                                       "site": ConfigRecord({"center": "C"})}), reply_to=msg)
        if (center, rnd) == ("C", 2):
            raise RuntimeError("local disk full")
        reply = real_app(msg, context)
        if (center, rnd) == ("D", 2):  # D's node speaks for E
            reply.content["site"] = ConfigRecord({"center": "E"})
        return reply

    data_dir = tmp_path_factory.mktemp("faults")
    settings = FederationSettings(hub_data_dir="", version="fed-base", rounds=2, min_sites=1, local_steps=1,
                                  draft_version="fed-faults")
    sites = [SimulatedSite(c, 2, 1) for c in ("C", "D", "E")]
    result = simulate(data_dir, sites, settings, client_app=faulty)
    return data_dir, result


def stored_rounds(data_dir):
    from hub.context import build_context
    from hub.services.federation_rounds import list_rounds
    from hub.settings import HubSettings

    ctx = build_context(HubSettings(data_dir=data_dir))
    with ctx.factory() as s:
        return list_rounds(s, run="fed-faults")


def test_rounds_go_on_without_the_faulty_sites_and_the_hub_records_why(faulty_run) -> None:
    data_dir, result = faulty_run
    one, two = stored_rounds(data_dir)
    assert one.aggregated and set(one.sites) == {"D", "E"}
    assert [(f.center, "not finite" in f.reason) for f in one.failures] == [("C", True)]
    assert two.aggregated and set(two.sites) == {"E"}
    reasons = {f.center: f.reason for f in two.failures}
    assert set(reasons) == {"C", "D"}
    assert "local disk full" in reasons["C"] and "bound to center D but claimed E" in reasons["D"]
    for r in (one, two):
        assert r.bytes_to_sites > 0 and r.bytes_to_hub > 0 and r.seconds > 0
        assert all(m.cases == 1 and m.train_loss is not None for m in r.sites.values())
    assert result.draft_version == "fed-faults"


def test_status_shows_the_rounds_and_their_failures(faulty_run) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    data_dir, _ = faulty_run
    shown = CliRunner().invoke(app, ["federate", "status", "--run", "fed-faults", "--data-dir", str(data_dir)])
    assert shown.exit_code == 0, shown.output
    assert "claimed E" in shown.output and "local disk full" in shown.output


def test_a_site_slower_than_the_round_timeout_is_left_out() -> None:
    from flwr.clientapp import ClientApp

    from federation.inprocess import run_inprocess
    from federation.server_app import build_strategy
    from federation.settings import FederationSettings

    def train(msg, context):
        if context.node_config["center"] == "S":
            time.sleep(1.5)
        arrays = msg.content["arrays"]
        return Message(RecordDict({"arrays": ArrayRecord({k: arrays[k] for k in arrays}),
                                   "metrics": MetricRecord({"num-examples": 1}),
                                   "site": ConfigRecord({"center": context.node_config["center"]})}), reply_to=msg)

    client = ClientApp()
    client.train()(train)
    settings = FederationSettings(hub_data_dir="", version="v", rounds=1, min_sites=1)
    strategy = build_strategy(settings, bindings={1: "F", 2: "S"})

    def server(grid, context):
        strategy.start(grid, ArrayRecord({"mome.0.experts.0.weight": Array(np.ones(2, np.float32))}), num_rounds=1,
                       timeout=0.5)

    run_inprocess(server, client, [{"center": "F"}, {"center": "S"}], {}, node_ids=[1, 2])
    (report,) = strategy.reports
    assert set(report.sites) == {"F"} and report.aggregated
    assert report.failures == [{"node": "2", "center": "S", "reason": "no reply within the round timeout"}]
