"""Deployment files: the compose file parses and wires hub, database, volume and health checks."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_compose_runs_hub_on_postgres_with_volume_and_health_checks() -> None:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    hub, db = doc["services"]["hub"], doc["services"]["db"]
    assert hub["environment"]["MOME_HUB_DB"].startswith("postgresql+psycopg://")
    assert hub["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in hub and "healthcheck" in db
    assert any(v.endswith(":/data") for v in hub["volumes"])
    assert set(doc["volumes"]) >= {"pgdata", "hubdata"}
    assert (DEPLOY / hub["build"]["dockerfile"].removeprefix("deploy/")).is_file()


def test_systemd_unit_runs_hub_serve() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "mome-hub.service")
    assert " serve " in unit["Service"]["ExecStart"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_site_agent_example_config_is_a_valid_site_config() -> None:
    import json

    from site_agent.config import SiteConfig

    config = SiteConfig.model_validate(json.loads((DEPLOY / "site-agent.example.json").read_text()))
    assert config.token is None  # the example keeps the token in MOME_SITE_TOKEN
