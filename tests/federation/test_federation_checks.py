"""Fast checks without training: both sides refuse non-expert tensors, DP clipping, settings, deployment files."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict  # noqa: E402
from flwr.common.constant import SUPERLINK_NODE_ID  # noqa: E402
from flwr.serverapp.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg, FedProx  # noqa: E402
from flwr.supercore.task_identity import TaskIdentity  # noqa: E402

from federation.server_app import build_strategy  # noqa: E402
from federation.settings import FederationSettings  # noqa: E402
from federation.strategy import ExpertsOnly  # noqa: E402

EXPERT, ROUTER, ENCODER = "mome.0.experts.0.weight", "mome.0.gates.D.weight", "encoder.model.0.conv.weight"


@pytest.fixture(autouse=True)
def _task_identity():
    saved = (TaskIdentity._task_id, TaskIdentity._run_id, TaskIdentity._node_id)
    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, 1, SUPERLINK_NODE_ID
    yield
    TaskIdentity._task_id, TaskIdentity._run_id, TaskIdentity._node_id = saved


def instruction(arrays: dict[str, np.ndarray], config: dict | None = None, node: int = 7) -> Message:
    msg = Message(RecordDict({"arrays": ArrayRecord({k: Array(v) for k, v in arrays.items()}),
                              "config": ConfigRecord(config or {"server-round": 1})}), node, "train")
    msg.metadata.__dict__["_message_id"] = f"m{node}"
    return msg


def reply(to: Message, arrays: dict[str, np.ndarray], *, site: str, n: int) -> Message:
    return Message(RecordDict({"arrays": ArrayRecord({k: Array(v) for k, v in arrays.items()}),
                               "metrics": MetricRecord({"num-examples": n}),
                               "site": ConfigRecord({"center": site})}), reply_to=to)


def test_server_refuses_non_expert_arrays_unbound_nodes_and_false_center_claims() -> None:
    strategy = ExpertsOnly(FedAvg(), bindings={1: "D", 2: "E", 3: "D", 5: "D", 6: "E"}, min_sites=2)
    one, two, bad = np.ones(3, np.float32), np.full(3, 4.0, np.float32), np.array([1, np.nan, 1], np.float32)
    replies = [reply(instruction({EXPERT: one}, node=1), {EXPERT: one}, site="D", n=1),
               reply(instruction({EXPERT: one}, node=2), {EXPERT: two}, site="E", n=3),
               reply(instruction({EXPERT: one}, node=3), {EXPERT: two, ROUTER: two}, site="D", n=5),
               reply(instruction({EXPERT: one}, node=4), {EXPERT: two}, site="Z", n=5),
               reply(instruction({EXPERT: one}, node=5), {EXPERT: two}, site="E", n=5),
               reply(instruction({EXPERT: one}, node=6), {EXPERT: bad}, site="E", n=5)]
    arrays, metrics = strategy.aggregate_train(1, replies)
    assert np.array_equal(arrays[EXPERT].numpy(), np.full(3, 3.25, np.float32))  # (1*1 + 3*4) / 4
    assert metrics["num-examples"] == 4
    failures = strategy.reports[0].failures
    assert [f["node"] for f in failures] == ["3", "4", "5", "6"]
    assert ROUTER in failures[0]["reason"] and "no key registered" in failures[1]["reason"]
    assert "bound to center D but claimed E" in failures[2]["reason"] and failures[2]["center"] == "D"
    assert "not finite" in failures[3]["reason"]
    assert strategy.reports[0].aggregated and set(strategy.reports[0].sites) == {"D", "E"}


def test_a_round_under_min_sites_keeps_the_experts_and_says_why() -> None:
    seen = []
    strategy = ExpertsOnly(FedAvg(), bindings={1: "D", 2: "E"}, min_sites=2, on_round=seen.append)
    arrays, metrics = strategy.aggregate_train(1, [reply(instruction({EXPERT: np.ones(2)}, node=1),
                                                         {EXPERT: np.ones(2)}, site="D", n=1)])
    assert arrays is None and metrics is None
    assert seen == strategy.reports and not seen[0].aggregated and set(seen[0].sites) == {"D"}
    assert "fewer than min_sites=2" in seen[0].failures[-1]["reason"]


def test_server_never_sends_non_expert_arrays() -> None:
    with pytest.raises(ValueError, match="only experts"):
        ExpertsOnly(FedAvg()).configure_train(1, ArrayRecord({ENCODER: Array(np.ones(2))}), ConfigRecord(), None)


def test_client_filter_turns_a_leaking_reply_into_an_error() -> None:
    from federation.client_app import experts_only_mod

    msg = instruction({EXPERT: np.ones(2, np.float32)})
    ctx = Context(run_id=1, node_id=7, node_config={}, state=RecordDict(), run_config={})
    leaky = experts_only_mod(msg, ctx, lambda m, c: reply(m, {EXPERT: np.ones(2), ROUTER: np.ones(2)}, site="D", n=1))
    assert leaky.has_error() and ROUTER in leaky.error.reason
    clean = experts_only_mod(msg, ctx, lambda m, c: reply(m, {EXPERT: np.ones(2)}, site="D", n=1))
    assert clean.has_content()
    bad_in = experts_only_mod(instruction({ENCODER: np.ones(2)}), ctx, lambda m, c: pytest.fail("must not run"))
    assert bad_in.has_error() and ENCODER in bad_in.error.reason


def test_dp_clipping_mod_clips_only_when_the_server_asks() -> None:
    from federation.client_app import dp_clipping_mod

    ctx = Context(run_id=1, node_id=7, node_config={}, state=RecordDict(), run_config={})
    far = lambda m, c: reply(m, {EXPERT: np.full(4, 10.0, np.float32)}, site="D", n=1)  # noqa: E731
    start = {EXPERT: np.zeros(4, np.float32)}
    plain = dp_clipping_mod(instruction(start), ctx, far)
    assert np.linalg.norm(plain.content["arrays"][EXPERT].numpy()) == pytest.approx(20.0)
    clipped = dp_clipping_mod(instruction(start, {"server-round": 1, "clipping_norm": 1.0}), ctx, far)
    assert np.linalg.norm(clipped.content["arrays"][EXPERT].numpy()) == pytest.approx(1.0, rel=1e-5)


def test_settings_round_trip_and_strategy_choice() -> None:
    s = FederationSettings(hub_data_dir="/h", version="v1", strategy="fedprox", proximal_mu=0.1)
    assert FederationSettings.from_run_config(s.to_run_config()) == s
    assert isinstance(build_strategy(s, bindings=None).inner, FedProx)
    dp = build_strategy(FederationSettings(hub_data_dir="/h", version="v1", dp_clip=1.0, dp_noise=0.5), bindings=None)
    assert isinstance(dp, DifferentialPrivacyClientSideFixedClipping) and isinstance(dp.strategy, ExpertsOnly)
    with pytest.raises(ValueError, match="unknown"):
        FederationSettings.from_run_config({"hub-data-dir": "/h", "version": "v", "bogus": 1})
    with pytest.raises(ValueError, match="dp_clip"):
        FederationSettings(hub_data_dir="/h", version="v", dp_noise=1.0)


def test_flower_app_for_deployment_is_valid(tmp_path) -> None:
    import tomllib

    from flwr.common.config import validate_config

    from federation.deploy import write_flower_app

    app_dir = write_flower_app(tmp_path / "app", FederationSettings(hub_data_dir="/h", version="v1", rounds=3))
    config = tomllib.loads((app_dir / "pyproject.toml").read_text())
    ok, errors, _ = validate_config(config, check_module=True, project_dir=app_dir)
    assert ok, errors
    assert FederationSettings.from_run_config(config["tool"]["flwr"]["app"]["config"]).rounds == 3


def test_fedprox_optimizer_pulls_experts_towards_the_global_weights() -> None:
    import torch

    from federation.client_app import ProximalAdamW

    w = torch.nn.Parameter(torch.ones(3))
    opt = ProximalAdamW([w], {id(w): torch.zeros(3)}, mu=1.0, lr=0.1)
    (w * 0).sum().backward()  # no data gradient: only the proximal term acts
    opt.step()
    assert (w.detach() < 1).all()
