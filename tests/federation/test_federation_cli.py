"""``hub federate --simulate`` on a fresh data directory, then the operator sees and publishes the draft."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("flwr")


def test_hub_federate_simulate_runs_on_a_fresh_data_dir(tmp_path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    runner = CliRunner()
    data = tmp_path / "fresh"
    done = runner.invoke(app, ["federate", "--simulate", "--sites", "D,E", "--rounds", "1", "--local-steps", "1",
                               "--data-dir", str(data), "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output[done.output.index("{\n"):])
    draft = summary["draft_version"]
    assert draft.startswith("fed-base+fed.") and len(summary["rounds"]) == 1
    assert set(summary["rounds"][0]["sites"]) == {"D", "E"}
    listed = json.loads(runner.invoke(app, ["versions", "list", "--data-dir", str(data), "--json"]).output)
    assert {v["version"]: v["status"] for v in listed}[draft] == "draft"
    published = runner.invoke(app, ["versions", "set-status", draft, "published", "--data-dir", str(data), "--json"])
    assert published.exit_code == 0 and json.loads(published.output)["status"] == "published"


def test_hub_federate_without_simulate_writes_the_flower_app(tmp_path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    done = CliRunner().invoke(app, ["federate", "--version", "v1", "--rounds", "3", "--min-sites", "2",
                                    "--data-dir", str(tmp_path), "--dry-run"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"flwr run {tmp_path.resolve()}/federation/app mome-hub --stream"
    pyproject = (tmp_path / "federation" / "app" / "pyproject.toml").read_text()
    assert 'version = "v1"' in pyproject and "min-sites = 2" in pyproject
