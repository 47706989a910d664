"""Fast checks without training: both sides refuse non-expert tensors, DP clipping, settings, deployment files."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict  # noqa: E402
from flwr.common.constant import SUPERLINK_NODE_ID  # noqa: E402
from flwr.serverapp.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg, FedProx  # noqa: E402
from flwr.supercore.task_identity import TaskIdentity  # noqa: E402

from hub.federation.settings import FederationSettings, build_strategy  # noqa: E402
from hub.federation.strategy import ExpertsOnly  # noqa: E402

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


def test_server_rejects_non_expert_arrays_and_unenrolled_sites() -> None:
    strategy = ExpertsOnly(FedAvg(), enrolled={"D", "E"})
    one, two = np.ones(3, np.float32), np.full(3, 4.0, np.float32)
    replies = [reply(instruction({EXPERT: one}, node=1), {EXPERT: one}, site="D", n=1),
               reply(instruction({EXPERT: one}, node=2), {EXPERT: two}, site="E", n=3),
               reply(instruction({EXPERT: one}, node=3), {EXPERT: two, ROUTER: two}, site="D", n=5),
               reply(instruction({EXPERT: one}, node=4), {EXPERT: two}, site="Z", n=5)]
    arrays, metrics = strategy.aggregate_train(1, replies)
    assert np.array_equal(arrays[EXPERT].numpy(), np.full(3, 3.25, np.float32))  # (1*1 + 3*4) / 4
    assert metrics["num-examples"] == 4
    reasons = [f["reason"] for f in strategy.reports[0].failures]
    assert len(reasons) == 2 and ROUTER in reasons[0] and "not enrolled" in reasons[1]


def test_server_never_sends_non_expert_arrays() -> None:
    with pytest.raises(ValueError, match="only experts"):
        ExpertsOnly(FedAvg()).configure_train(1, ArrayRecord({ENCODER: Array(np.ones(2))}), ConfigRecord(), None)


def test_client_filter_turns_a_leaking_reply_into_an_error() -> None:
    from site_agent.federate import experts_only_mod

    msg = instruction({EXPERT: np.ones(2, np.float32)})
    ctx = Context(run_id=1, node_id=7, node_config={}, state=RecordDict(), run_config={})
    leaky = experts_only_mod(msg, ctx, lambda m, c: reply(m, {EXPERT: np.ones(2), ROUTER: np.ones(2)}, site="D", n=1))
    assert leaky.has_error() and ROUTER in leaky.error.reason
    clean = experts_only_mod(msg, ctx, lambda m, c: reply(m, {EXPERT: np.ones(2)}, site="D", n=1))
    assert clean.has_content()
    bad_in = experts_only_mod(instruction({ENCODER: np.ones(2)}), ctx, lambda m, c: pytest.fail("must not run"))
    assert bad_in.has_error() and ENCODER in bad_in.error.reason


def test_dp_clipping_mod_clips_only_when_the_server_asks() -> None:
    from site_agent.federate import dp_clipping_mod

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
    assert isinstance(build_strategy(s, enrolled=None).inner, FedProx)
    dp = build_strategy(FederationSettings(hub_data_dir="/h", version="v1", dp_clip=1.0, dp_noise=0.5), enrolled=None)
    assert isinstance(dp, DifferentialPrivacyClientSideFixedClipping) and isinstance(dp.strategy, ExpertsOnly)
    with pytest.raises(ValueError, match="unknown"):
        FederationSettings.from_run_config({"hub-data-dir": "/h", "version": "v", "bogus": 1})
    with pytest.raises(ValueError, match="dp_clip"):
        FederationSettings(hub_data_dir="/h", version="v", dp_noise=1.0)


def test_flower_app_for_deployment_is_valid(tmp_path) -> None:
    import tomllib

    from flwr.common.config import validate_config

    from hub.federation.deploy import write_flower_app

    app_dir = write_flower_app(tmp_path / "app", FederationSettings(hub_data_dir="/h", version="v1", rounds=3))
    config = tomllib.loads((app_dir / "pyproject.toml").read_text())
    ok, errors, _ = validate_config(config, check_module=True, project_dir=app_dir)
    assert ok, errors
    assert FederationSettings.from_run_config(config["tool"]["flwr"]["app"]["config"]).rounds == 3


def test_site_agent_federate_makes_a_key_and_the_supernode_command(tmp_path) -> None:
    from typer.testing import CliRunner

    from site_agent.cli import app

    runner = CliRunner()
    common = ["federate", "--center", "D", "--model", str(tmp_path), "--data", str(tmp_path),
              "--superlink", "hub.example:9092", "--key", str(tmp_path / "site.key")]
    made = runner.invoke(app, [*common, "--new-key"])
    assert made.exit_code == 0 and made.output.startswith("ecdsa-sha2-nistp384 ")
    cmd = runner.invoke(app, [*common, "--root-certificates", str(tmp_path / "ca.crt"), "--dry-run"])
    assert cmd.exit_code == 0
    assert "flower-supernode --superlink hub.example:9092" in cmd.output
    assert "--auth-supernode-private-key" in cmd.output and 'center="D"' in cmd.output


def test_fedprox_optimizer_pulls_experts_towards_the_global_weights() -> None:
    import torch

    from site_agent.federate import ProximalAdamW

    w = torch.nn.Parameter(torch.ones(3))
    opt = ProximalAdamW([w], {id(w): torch.zeros(3)}, mu=1.0, lr=0.1)
    (w * 0).sum().backward()  # no data gradient: only the proximal term acts
    opt.step()
    assert (w.detach() < 1).all()
