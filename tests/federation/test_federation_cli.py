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
    status = runner.invoke(app, ["federate", "status", "--run", draft, "--data-dir", str(data), "--json"])
    assert status.exit_code == 0, status.output
    (stored,) = json.loads(status.output)
    assert stored["round"] == 1 and stored["aggregated"] and set(stored["sites"]) == {"D", "E"}
    assert stored["sites"]["D"]["cases"] == 2 and stored["bytes_to_sites"] > 0 and stored["bytes_to_hub"] > 0
    listed = json.loads(runner.invoke(app, ["versions", "list", "--data-dir", str(data), "--json"]).output)
    assert {v["version"]: v["status"] for v in listed}[draft] == "draft"
    published = runner.invoke(app, ["versions", "set-status", draft, "published", "--data-dir", str(data), "--json"])
    assert published.exit_code == 0 and json.loads(published.output)["status"] == "published"


def test_hub_federate_without_simulate_writes_the_flower_app(tmp_path) -> None:
    import tomllib

    from typer.testing import CliRunner

    from hub.cli import app

    (tmp_path / "ca.crt").write_text("x")
    done = CliRunner().invoke(app, ["federate", "--version", "v1", "--rounds", "3", "--min-sites", "2",
                                    "--superlink", "hub.example:9093", "--root-certificates", str(tmp_path / "ca.crt"),
                                    "--data-dir", str(tmp_path), "--dry-run"])
    assert done.exit_code == 0, done.output
    home = tmp_path.resolve() / "federation" / "flwr-home"
    assert done.output.strip() == f"FLWR_HOME={home} flwr run {tmp_path.resolve()}/federation/app mome-hub --stream"
    pyproject = (tmp_path / "federation" / "app" / "pyproject.toml").read_text()
    assert 'version = "v1"' in pyproject and "min-sites = 2" in pyproject
    assert 'hub-port = "hub.federation.port:open_port"' in pyproject
    connection = tomllib.loads((home / "config.toml").read_text())["superlink"]["mome-hub"]
    assert connection == {"address": "hub.example:9093", "root-certificates": str((tmp_path / "ca.crt").resolve())}


def test_hub_federate_needs_a_version_without_simulate(tmp_path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    done = CliRunner().invoke(app, ["federate", "--data-dir", str(tmp_path), "--dry-run"])
    assert done.exit_code == 1 and "--version is required" in done.output
