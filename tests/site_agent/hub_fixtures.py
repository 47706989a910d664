"""A real ``hub serve`` on 127.0.0.1 for the site-agent hub tests, driven with the ``hub`` CLI.

Import the fixtures into a test module (``from tests.site_agent.hub_fixtures import served_hub``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import app as hub_app
from site_agent.cli import app as site_app
from site_agent.loopback_hub import LoopbackHub

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@dataclass
class ServedHub:
    """``hub serve`` in a subprocess (the product's ``LoopbackHub``); ``hub(...)`` runs the operator CLI
    in-process on the same data folder."""

    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)
    server: LoopbackHub = field(init=False)

    def __post_init__(self) -> None:
        self.server = LoopbackHub(self.data_dir)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def hub(self, *args: str) -> Any:
        """Run ``hub ARGS --data-dir D --json`` and return the parsed JSON."""
        result = runner.invoke(hub_app, [*map(str, args), "--data-dir", str(self.data_dir), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def blob(self, sha256: str) -> Path:
        return self.data_dir / "blobs" / sha256


def site(*args: object, env: dict[str, str] | None = None):
    """Run ``site-agent ARGS`` in-process."""
    return runner.invoke(site_app, [str(a) for a in args], env=env)


def site_json(*args: object) -> Any:
    result = site(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def hub_base_model(centers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mome_ro.tiny model with the routers of every center but D after a few steps (plumbing, not Dice)."""
    from models.training.loop import TrainSettings
    from models.training.train import train_multicenter

    out = tmp_path_factory.mktemp("hub-models") / "base"
    train_multicenter([path for code, path in sorted(centers.items()) if code != "D"], out, config_name="mome_ro.tiny",
                      settings=replace(TrainSettings(), steps=2, val_every=2, lr=3e-3))
    return out


@pytest.fixture(scope="module")
def served_hub(hub_base_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """A hub with the tiny base model published as 1.0 and a site token for center D."""
    served = ServedHub(tmp_path_factory.mktemp("hub") / "hub-data")
    served.hub("publish", hub_base_model, "--version", "1.0")
    served.tokens["D"] = served.hub("sites", "add", "--center", "D", "--name", "delta")["token"]
    served.start()
    yield served
    served.stop()
