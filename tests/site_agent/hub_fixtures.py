"""A real ``hub serve`` on 127.0.0.1 for the site-agent hub tests, driven with the ``hub`` CLI.

Import the fixtures into a test module (``from tests.site_agent.hub_fixtures import served_hub``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hub.cli import app as hub_app
from site_agent.cli import app as site_app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServedHub:
    """``hub serve`` in a subprocess; ``hub(...)`` runs the operator CLI on the same data folder."""

    data_dir: Path
    port: int
    proc: subprocess.Popen | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--data-dir", str(self.data_dir),
                                      "--port", str(self.port), "--log-level", "warning"], env=env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        pytest.fail("hub serve did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

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
    served = ServedHub(tmp_path_factory.mktemp("hub") / "hub-data", free_port())
    served.hub("publish", hub_base_model, "--version", "1.0")
    served.tokens["D"] = served.hub("sites", "add", "--center", "D", "--name", "delta")["token"]
    served.start()
    yield served
    served.stop()
