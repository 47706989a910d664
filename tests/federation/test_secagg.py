"""SecAgg+ over the experts: the hub gets the weighted mean of the sites' updates but never one site's update.

The sites' clear updates are recorded inside their ClientApps (behind every mod); what travels to
the hub is recorded by the in-process grid.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("flwr")


@pytest.fixture(scope="module")
def secagg_run(tmp_path_factory: pytest.TempPathFactory):
    from flwr.clientapp import ClientApp

    from federation import client_app as c
    from federation.settings import FederationSettings
    from hub.federation.simulate import SimulatedSite, simulate

    clear: dict[str, tuple[int, dict[str, np.ndarray]]] = {}  # the last round's clear updates
    to_hub: list = []

    def recording_train(msg, context):
        out = c.train(msg, context)
        clear[context.node_config["center"]] = (int(out.content["metrics"]["num-examples"]),
                                                {k: v.numpy().copy() for k, v in out.content["arrays"].items()})
        return out

    app = ClientApp(mods=[c.secagg_mod, c.legacy_bridge_mod, c.experts_only_mod, c.dp_clipping_mod])
    app.train()(recording_train)
    data_dir = tmp_path_factory.mktemp("secagg")
    settings = FederationSettings(hub_data_dir="", version="fed-base", rounds=2, min_sites=2, local_steps=1,
                                  secagg=True, draft_version="fed-secagg")
    sites = [SimulatedSite("D", 2, 1), SimulatedSite("E", 3, 2)]
    hook = lambda direction, msg: to_hub.append(msg) if direction == "to-hub" else None  # noqa: E731
    result = simulate(data_dir, sites, settings, client_app=app, on_message=hook)
    return data_dir, result, clear, to_hub


def test_the_hub_never_receives_a_sites_experts_in_clear(secagg_run) -> None:
    from flwr.common import bytes_to_ndarray

    _, _, clear, to_hub = secagg_run
    assert set(clear) == {"D", "E"} and to_hub
    assert all(len(r) == 0 for m in to_hub for r in m.content.array_records.values())  # no tensors at all
    masked = [v for m in to_hub for rec in m.content.config_records.values() for k, v in rec.items()
              if k == "masked_params"]
    assert len(masked) == 4  # one masked vector per site and round, nothing else carries weights
    sizes = {sum(a.size for a in site_arrays.values()) for _, site_arrays in clear.values()}
    for vector in masked:
        values = np.concatenate([bytes_to_ndarray(b).ravel() for b in vector]).astype(np.float64)
        assert values.size in {s + 1 for s in sizes} | sizes  # the quantised experts (and the weight factor)
        for _, site_arrays in clear.values():
            plain = np.concatenate([a.ravel() for a in site_arrays.values()]).astype(np.float64)
            n = min(plain.size, values.size)
            assert abs(np.corrcoef(plain[:n], values[-n:])[0, 1]) < 0.2  # the masks hide the update


def test_the_draft_holds_the_weighted_mean_of_the_sites(secagg_run) -> None:
    from federation.settings import FederationSettings
    from federation.wire import is_expert
    from hub.federation.port import open_port
    from models.weights import load_model_dir

    data_dir, result, clear, _ = secagg_run
    port = open_port(FederationSettings(hub_data_dir=str(data_dir), version="fed-base"))
    model, _, _ = load_model_dir(port.materialise_version("fed-secagg", data_dir / "check"))
    draft = {k: v.numpy() for k, v in model.state_dict().items() if is_expert(k)}
    total = sum(w for w, _ in clear.values())
    for key, value in draft.items():
        expected = sum(w * arrays[key].astype(np.float64) for w, arrays in clear.values()) / total
        np.testing.assert_allclose(value, expected, atol=1e-4)
    assert all(r["aggregated"] and set(r["sites"]) == {"D", "E"} for r in result.reports)
    # the aggregate goes back out in the experts' own dtype: round 2 sends what round 1 sent
    assert result.reports[0]["bytes_to_sites"] == result.reports[1]["bytes_to_sites"] > 0
