"""The README's main job, shrunk: hub on loopback, train, publish, enrol, select, fine-tune, push, advise."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from site_agent.cli import app


def test_demo_runs_the_story_against_a_loopback_hub(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--config", "mome_ro.tiny", "--train-steps", "4",
                                      "--finetune-steps", "3", "--scale", "0.4", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {z["router"] for z in summary["zero_shot"]} == {"A", "B", "C"}
    assert summary["init_router"] == summary["zero_shot"][0]["router"]
    assert len(summary["shots"]) == 3
    push = summary["push"]
    assert 0 < push["router_only_bytes"] < 0.01 * push["model_bytes"] < push["payload_bytes"] < push["model_bytes"]
    pushed = [r for r in summary["hub_routers"] if r["center"] == "D"]
    assert pushed and pushed[0]["init_router"] == summary["init_router"]
    assert summary["recommendation_for_E"]["router"] in {"A", "B", "C"}
    assert (out / "hub-data").is_dir() and Path(push["receipt"]).is_file()
    served = (out / "hub-serve.log").read_text()
    assert "Uvicorn running on" in served and "POST /v1/routers" in served  # a log to read when something fails
    assert not (out / "hub-data" / "blobs" / ".tmp").exists()
    report = Path(summary["report"]).read_text()
    assert "| D (fine-tuned) |" in report and "## Go on" in report
    port = summary["hub_url"].rsplit(":", 1)[1]
    site = json.loads((out / "site-D" / "site.json").read_text())
    assert site["hub_url"] == summary["hub_url"] and f"--port {port}" in report  # the restart matches site.json
    assert all(case in report for case in summary["held_out_case_ids"] + summary["zero_shot_cases"])
    assert (out / "dice_by_router.png").stat().st_size > 0 and (out / "expert_activation.png").is_file()
    again = CliRunner().invoke(app, ["demo", "--out", str(out), "--config", "mome_ro.tiny"])
    assert again.exit_code == 2 and "not empty" in again.output


def test_demo_announces_its_expected_duration_scaled_by_the_steps() -> None:
    from site_agent.demo import expected_duration

    default, longer = expected_duration("mome_ro.small", 200, 100), expected_duration("mome_ro.small", 800, 400)
    minutes = [int(text.split("about ")[1].split(" min")[0]) for text in (default, longer)]
    assert 2 <= minutes[0] <= 5 and minutes[1] >= 3 * minutes[0]
    assert "no reference timing" in expected_duration("mome_ro.tiny", 4, 3)
