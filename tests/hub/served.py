"""``hub serve`` as a real process on a free loopback port, for the tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def hub_env() -> dict[str, str]:
    """The environment for a ``python -m hub`` child: this checkout first on the path."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def hub_args(data: Path, db: str | None = None) -> list[str]:
    return ["--data-dir", str(data)] + (["--db", db] if db else [])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HubProcess:
    """``hub serve`` started and waited for (``/healthz``); ``stop`` terminates it, ``kill9`` sends SIGKILL."""

    def __init__(self, data: Path, db: str | None = None, *, timeout_s: float = 60) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "hub", "serve", *hub_args(data, db), "--port",
                                      str(self.port), "--log-level", "warning"], env=hub_env(), cwd=ROOT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill9()
        pytest.fail("hub serve did not come up")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill9()
