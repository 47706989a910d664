"""The README's main job, shrunk: the demo runs end to end and reports what a push costs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from site_agent.cli import app


def test_demo_runs_end_to_end_and_router_push_is_under_one_percent(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--config", "mome_ro.tiny", "--train-steps", "4",
                                      "--finetune-steps", "3", "--scale", "0.4", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {z["router"] for z in summary["zero_shot"]} == {"A", "B", "C"}
    assert summary["init_router"] == summary["zero_shot"][0]["router"]
    assert len(summary["shots"]) == 3
    sizes = summary["bytes"]
    assert 0 < sizes["router_only"] < 0.01 * sizes["model"] < sizes["experts_and_router"]
    assert (out / "site-D" / "manifest.json").is_file()
    again = CliRunner().invoke(app, ["demo", "--out", str(out), "--config", "mome_ro.tiny"])
    assert again.exit_code == 2 and "not empty" in again.output
