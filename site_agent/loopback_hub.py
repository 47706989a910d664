"""A hub on this machine's loopback, driven through the ``hub`` command line (never imported).

The demo uses it to run the whole story locally; hub and site agent stay separate programs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackHub:
    """``hub serve`` on 127.0.0.1 in a subprocess; ``cli(...)`` runs operator commands on its data folder."""

    def __init__(self, data_dir: Path, *, port: int | None = None, start_timeout_s: float = 60.0) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: object) -> Any:
        """Run ``hub ARGS --data-dir DIR --json`` and return its JSON; a failure is one clear sentence."""
        cmd = [sys.executable, "-m", "hub", *map(str, args), "--data-dir", str(self.data_dir), "--json"]
        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"`hub {' '.join(map(str, args))}` failed: {last}")
        return json.loads(done.stdout)

    def __enter__(self) -> LoopbackHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start ``hub serve`` and wait until ``/healthz`` answers; a clear error if it does not."""
        log = open(self.data_dir.parent / "hub-serve.log", "ab")  # noqa: SIM115 (closed with the process)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "info"], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"hub serve exited with code {self._proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"hub serve did not answer on {self.url} within {self.start_timeout_s:.0f} s")

    def stop(self) -> None:
        """Stop the server (terminate, then kill if it does not exit); the data folder stays."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
