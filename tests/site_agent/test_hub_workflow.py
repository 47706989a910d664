"""The closed-center workflow against a real ``hub serve``: init -> doctor -> pull -> select-router ->
finetune -> push, then hub down, revoked token, substituted manifest and wrong pinned key."""

from __future__ import annotations

import base64
import json
import sqlite3
import stat
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from safetensors import safe_open

from models.groups import tensor_group
from models.weights import load_model_dir, read_manifest
from site_agent.config import load_config, save_config
from site_agent.trust import key_id
from tests.site_agent.hub_fixtures import ServedHub, hub_base_model, served_hub, site, site_json  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(served_hub: ServedHub, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    wd = tmp_path_factory.mktemp("site") / "wd"
    result = site("init", "--hub", served_hub.url, "--center", "D", "--token", served_hub.tokens["D"],
                  "--workdir", wd)
    assert result.exit_code == 0, result.output
    return wd


def _one_sentence_error(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_init_pins_the_hub_key_in_a_private_config(served_hub: ServedHub, workdir: Path,  # noqa: F811
                                                   tmp_path: Path) -> None:
    config = load_config(workdir)
    assert stat.S_IMODE((workdir / "site.json").stat().st_mode) == 0o600
    assert config.signing.public_key == httpx.get(f"{served_hub.url}/v1/info").json()["signing"]["public_key"]
    assert config.center == "D" and config.token == served_hub.tokens["D"]
    again = site("init", "--hub", served_hub.url, "--center", "D", "--token", "x", "--workdir", workdir)
    assert "already exists" in _one_sentence_error(again)
    wrong = site("init", "--hub", served_hub.url, "--center", "E", "--token", served_hub.tokens["D"],
                 "--workdir", tmp_path / "e")
    assert "bound to center D" in _one_sentence_error(wrong)
    assert not (tmp_path / "e" / "site.json").exists()
    from_env = site("init", "--hub", served_hub.url, "--center", "D", "--workdir", tmp_path / "env",
                    env={"MOME_SITE_TOKEN": served_hub.tokens["D"]})
    assert from_env.exit_code == 0, from_env.output
    assert load_config(tmp_path / "env").token is None


def test_doctor_prints_each_check_with_its_fix(workdir: Path) -> None:
    report = site_json("doctor", "--workdir", workdir)
    status = {c["name"]: c["status"] for c in report["checks"]}
    for name in ("site config", "hub reachable", "protocol", "signing key", "token", "clock skew", "free disk"):
        assert status[name] == "OK", report
    assert status["TLS"] == "WARN"  # plain http on loopback
    assert "torch CUDA" in status and any(n.startswith("GPU") for n in status)
    screen = site("doctor", "--workdir", workdir)
    assert screen.exit_code == 0 and "hub reachable" in screen.output and "https" in screen.output


def test_pull_verifies_resumes_and_fetches_a_corrupted_file_again(workdir: Path,
                                                                  hub_base_model: Path) -> None:  # noqa: F811
    files = sorted(read_manifest(hub_base_model).files, key=lambda f: f.size)
    big, small = files[-1], files[-2]
    staging = workdir / "models" / ".1.0.partial"
    staging.mkdir(parents=True)
    (staging / f"{big.name}.part").write_bytes(b"\x13" * big.size)  # complete but corrupted
    half = (hub_base_model / small.name).read_bytes()[: small.size // 2]
    (staging / f"{small.name}.part").write_bytes(half)  # a broken download
    out = site_json("pull", "--workdir", workdir)
    assert out["version"] == "1.0" and out["refetched"] == [big.name] and out["resumed"] == [small.name]
    assert out["fetched_bytes"] == out["total_bytes"] - len(half)
    assert not staging.exists() and not list((workdir / "models" / "1.0").glob("*.part"))
    load_model_dir(workdir / "models" / "1.0")
    assert site_json("pull", "--workdir", workdir)["already_present"] is True


def test_fingerprint_is_aggregate_and_sent_only_with_send(workdir: Path, centers: dict[str, Path],
                                                          hub_base_model: Path) -> None:  # noqa: F811
    out = site_json("fingerprint", "--data", centers["D"], "--workdir", workdir)
    fp = out["fingerprint"]
    assert out["recommendation"] is None and fp["case_count"] == 5 and fp["scanner"]["manufacturer"] == "GE"
    assert sum(fp["clinical_mix"]["risk_groups"].values()) == pytest.approx(1, abs=0.01)
    assert fp["clinical_mix"]["treatment_intent"] and len(fp["voxel_spacing_mm"]) == 3
    assert "d001" not in json.dumps(out)
    sent = site_json("fingerprint", "--data", centers["D"], "--send", "--workdir", workdir)
    assert {r["center"] for r in sent["recommendation"]["routers"]} == set(read_manifest(hub_base_model).centers)
    screen = site("fingerprint", "--data", centers["D"], "--send", "--workdir", workdir)
    assert screen.exit_code == 0 and "hub recommendation" in screen.output


def test_select_router_reports_dice_and_case_count_to_the_hub(served_hub: ServedHub, workdir: Path,  # noqa: F811
                                                               centers: dict[str, Path]) -> None:
    out = site_json("select-router", "--data", centers["D"], "--cases", 2, "--workdir", workdir)
    assert out["model_version"] == "1.0" and out["hub"]["report"]["stored"] == 2
    assert {r["center"] for r in out["hub"]["recommendation"]["routers"]} == {r["router"] for r in out["ranking"]}
    assert (workdir / "zero-shot" / "1.0.json").is_file()
    events = served_hub.hub("audit", "--action", "report.zero_shot")
    assert len(events) == 1 and events[0]["target"] == "1.0"
    kept = site("select-router", "--data", centers["D"], "--cases", 1, "--no-report", "--workdir", workdir)
    assert kept.exit_code == 0 and "not reported (--no-report)" in kept.output and "hub recommends" in kept.output
    assert len(served_hub.hub("audit", "--action", "report.zero_shot")) == 1


def test_finetune_evaluates_then_pushes_only_experts_and_router_d(served_hub: ServedHub, workdir: Path,  # noqa: F811
                                                                  centers: dict[str, Path]) -> None:
    ranked = json.loads((workdir / "zero-shot" / "1.0.json").read_text())["best"]
    out = site_json("finetune", "--center", "D", "--data", centers["D"], "--shots", 2, "--steps", 2, "--push",
                    "--workdir", workdir)
    assert out["init_router"] == ranked and "zero-shot" in out["start"]
    ev = out["evaluation"]
    assert ev["cases"] == 2 and ev["before"]["router"] == ranked and ev["after"]["router"] == "D"
    receipt = json.loads(Path(out["push"]["receipt_file"]).read_text())
    pushed = served_hub.hub("routers", "list", "--center", "D")
    assert len(pushed) == 1 and pushed[0]["source"] == "pushed" and pushed[0]["init_router"] == ranked
    assert pushed[0]["shots"] == 2 and pushed[0]["sample_count"] == 3
    assert "heldout_dice_after" in pushed[0]["metrics"] and pushed[0]["experts_from"] == "pushed"
    shares = {k: v for k, v in pushed[0]["metrics"].items() if k.startswith("activation.")}
    by_level: dict[str, float] = {}
    for key, share in shares.items():
        by_level[key.split(".")[1]] = by_level.get(key.split(".")[1], 0.0) + share
    assert shares == {f"activation.{lv}.{i}": pytest.approx(v) for lv, vs in ev["after"]["expert_activation"].items()
                      for i, v in enumerate(vs)}
    assert by_level and all(total == pytest.approx(1.0) for total in by_level.values())  # what the console plots
    with safe_open(str(served_hub.blob(pushed[0]["push_sha256"])), framework="pt") as f:
        received = set(f.keys())
        assert json.loads(f.metadata()["mome.update"])["center"] == "D"
    assert {tensor_group(n) for n in received} == {"experts", "router.D"}
    lineage_cases = read_manifest(Path(out["model"])).lineage.cases
    assert not any(case in json.dumps(receipt) for case in lineage_cases)
    dry = site_json("push", "--dry-run", "--workdir", workdir)
    assert dry["receipt"] is None and {t["name"] for t in dry["tensors"]} == received
    assert dry["manifest"]["sha256"] == pushed[0]["push_sha256"]
    assert "case ids (the model's lineage keeps them locally)" in dry["never_leaves"]
    screen = site("push", "--dry-run", "--workdir", workdir)
    assert screen.exit_code == 0 and "never leaves" in screen.output and "nothing was sent" in screen.output
    assert len(served_hub.hub("routers", "list", "--center", "D")) == 1  # the dry runs sent nothing
    again = site_json("push", "--workdir", workdir)
    assert again["receipt"]["created"] is False  # exactly the same bytes
    small = site_json("push", "--router-only", "--workdir", workdir)
    assert small["percent_of_model"] < 1.0 and {t["group"] for t in small["tensors"]} == {"router.D"}
    assert small["receipt"]["created"] is True and small["receipt"]["router"]["experts_from"] == "base"
    assert len(list((workdir / "receipts").glob("*.json"))) == 3


def test_hub_down_is_one_sentence_and_the_push_can_be_rerun(served_hub: ServedHub, workdir: Path) -> None:  # noqa: F811
    receipts = sorted((workdir / "receipts").glob("*.json"))
    model = max((workdir / "finetuned").iterdir())
    served_hub.stop()
    try:
        down = site("push", "--workdir", workdir)
        message = _one_sentence_error(down)
        assert "cannot reach the hub" in message and "run the command again" in message
        assert sorted((workdir / "receipts").glob("*.json")) == receipts
        load_model_dir(model)  # nothing lost locally
    finally:
        served_hub.start()
    assert site_json("push", "--workdir", workdir)["receipt"]["created"] is False


def test_revoked_token_is_a_clear_error(served_hub: ServedHub, tmp_path: Path) -> None:  # noqa: F811
    created = served_hub.hub("sites", "add", "--center", "D", "--name", "delta-2")
    wd = tmp_path / "wd"
    assert site("init", "--hub", served_hub.url, "--center", "D", "--token", created["token"],
                "--workdir", wd).exit_code == 0
    served_hub.hub("sites", "revoke", created["site"]["id"])
    message = _one_sentence_error(site("pull", "--workdir", wd))
    assert "revoked" in message and "new token" in message
    doctor = site("doctor", "--workdir", wd)
    assert doctor.exit_code == 1 and "FAIL" in doctor.output


def test_substituted_manifest_or_wrong_pinned_key_is_refused_before_download(
        served_hub: ServedHub, workdir: Path, hub_base_model: Path, tmp_path: Path) -> None:  # noqa: F811
    served_hub.hub("publish", hub_base_model, "--version", "1.1")
    served_hub.hub("versions", "set-status", "1.1", "deprecated")  # keeps 1.0 the newest published
    with sqlite3.connect(served_hub.data_dir / "hub.sqlite3") as db:
        (raw,) = db.execute("SELECT manifest_json FROM model_versions WHERE version='1.1'").fetchone()
        doc = json.loads(raw)
        doc["lineage"]["notes"] = "substituted"
        db.execute("UPDATE model_versions SET manifest_json=? WHERE version='1.1'", (json.dumps(doc),))
    message = _one_sentence_error(site("pull", "--version", "1.1", "--workdir", workdir))
    assert "does not verify with the pinned hub key" in message
    assert not list((workdir / "models").glob("*1.1*"))
    other = tmp_path / "other"
    fake = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                    serialization.PublicFormat.Raw)
    config = load_config(workdir)
    b64 = base64.b64encode(fake).decode()
    save_config(config.model_copy(update={"signing": config.signing.model_copy(
        update={"public_key": b64, "key_id": key_id(b64)})}), other)
    message = _one_sentence_error(site("pull", "--workdir", other))
    assert "not the pinned key" in message and not (other / "models").exists()
