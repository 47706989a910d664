"""One small federation run shared by the tests: three tiny synthetic sites, two rounds, one site failing in round 2."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("flwr")

SITES = {"C": (2, 1), "D": (3, 2), "E": (2, 1)}  # center: (cases on disk, shots = weight)
FAILS = ("C", 2)  # this site raises in this round


@dataclass
class Recorded:
    """Every message both ways, and the arrays each site sent per round."""

    messages: list[tuple[str, object]] = field(default_factory=list)
    sent: dict[int, dict[str, dict[str, np.ndarray]]] = field(default_factory=dict)  # round -> node -> arrays
    replies: dict[int, dict[str, tuple[float, dict[str, np.ndarray]]]] = field(default_factory=dict)

    def hook(self, direction: str, msg) -> None:
        self.messages.append((direction, msg))
        if not msg.has_content():
            return
        if direction == "to-site":
            rnd = int(msg.content["config"]["server-round"])
            arrays = {k: v.numpy() for k, v in msg.content["arrays"].items()}
            self.sent.setdefault(rnd, {})[str(msg.metadata.dst_node_id)] = arrays
        else:
            rnd = max(self.sent)  # delivery is synchronous: a reply answers the latest round
            site = str(msg.content["site"]["center"])
            weight = float(msg.content["metrics"]["num-examples"])
            self.replies.setdefault(rnd, {})[site] = (weight, {k: v.numpy() for k, v in msg.content["arrays"].items()})


@dataclass
class Run:
    data_dir: Path
    result: object
    recorded: Recorded
    sites: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(SITES))
    fails: tuple[str, int] = FAILS


@pytest.fixture(scope="session")
def federation_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from federation.client_app import app as real_app
    from federation.settings import FederationSettings
    from hub.federation.simulate import SimulatedSite, simulate

    def flaky(msg, context):
        rnd = int(msg.content["config"]["server-round"])
        if (context.node_config["center"], rnd) == FAILS:
            raise RuntimeError("local disk full")
        return real_app(msg, context)

    data_dir = tmp_path_factory.mktemp("federation")
    recorded = Recorded()
    settings = FederationSettings(hub_data_dir="", version="fed-base", rounds=2, min_sites=2, local_steps=2,
                                  draft_version="fed-test")
    sites = [SimulatedSite(c, cases, shots) for c, (cases, shots) in SITES.items()]
    result = simulate(data_dir, sites, settings, on_message=recorded.hook, client_app=flaky)
    return Run(data_dir, result, recorded)
