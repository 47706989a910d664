"""A whole federation on one machine, as hospitals would run it across many: hub, TLS SuperLink, SuperNodes.

Used by the deployment test and ``benchmarks/federation/run.py --deployment``. It prepares a hub
with synthetic sites (``simulate.prepare``, keys registered but not yet bound), starts a
``flower-superlink`` with a private CA and SuperNode authentication, binds the sites' keys on
it with ``hub federate register-nodes``, starts one ``flower-supernode`` per site with its own
key and data, and runs the rounds with ``hub federate``: the same commands an operator types.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from federation.loopback import LoopbackDeployment
from hub.federation.simulate import SimulatedSite, prepare


@dataclass
class LoopbackResult:
    """What the run made and how long its parts took."""

    hub_dir: Path
    draft_version: str
    seconds: dict[str, float] = field(default_factory=dict)


class LoopbackError(RuntimeError):
    """A step of the loopback deployment failed; the message carries the step's output and the process logs."""


def _hub(*args: str, timeout: float) -> str:
    """Run the ``hub`` CLI in a fresh interpreter (as an operator would); return stdout or raise with stderr."""
    try:
        done = subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as err:
        raise LoopbackError(f"`hub {args[0]} {args[1]}` did not finish within {timeout:g} s") from err
    if done.returncode != 0:
        raise LoopbackError(f"`hub {' '.join(args[:2])}` exited with {done.returncode}: {done.stderr[-4000:]}")
    return done.stdout


def run_loopback(work: Path, sites: list[SimulatedSite], *, rounds: int = 2, local_steps: int = 1,
                 min_sites: int | None = None, secagg: bool = False, timeout: float = 600.0) -> LoopbackResult:
    """Prepare, start, bind, run and stop; every wait is bounded and every process is stopped on the way out."""
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    hub_dir = work / "hub"
    prepared = prepare(hub_dir, sites, bind_simulated_nodes=False)
    seconds["prepare"] = time.perf_counter() - clock
    deployment = LoopbackDeployment(work / "flower")
    try:
        with deployment:
            deployment.start_superlink()
            link = ["--superlink", deployment.address, "--root-certificates", str(deployment.ca),
                    "--data-dir", str(hub_dir)]
            _hub("federate", "register-nodes", *link, "--json", timeout=120)
            for site in sites:
                config = prepared[site.center].node_config
                deployment.start_supernode(site.center, center=site.center, model=Path(config["model-dir"]),
                                           data=Path(config["data-dir"]), key=hub_dir / "sites" / site.center /
                                           "node.key", shots=site.shots)
            seconds["start"] = time.perf_counter() - clock - seconds["prepare"]
            started = time.perf_counter()
            out = _hub("federate", "--version", "fed-base", "--rounds", str(rounds), "--local-steps",
                       str(local_steps), "--min-sites", str(min_sites or len(sites)), "--round-timeout",
                       str(timeout), "--run-timeout", str(timeout), *(["--secagg"] if secagg else []), *link,
                       "--json", timeout=timeout + 30)
            seconds["federate"] = time.perf_counter() - started
    except (LoopbackError, TimeoutError, RuntimeError) as err:
        logs = "\n".join(f"--- {name}.log (tail)\n{deployment.log(name)[-3000:]}"
                         for name in ["superlink", *[s.center for s in sites]])
        raise LoopbackError(f"{err}\n{logs}") from err
    draft = json.loads(out[out.rindex("{"):])["draft_version"]
    seconds["total"] = time.perf_counter() - clock
    return LoopbackResult(hub_dir, draft, {k: round(v, 2) for k, v in seconds.items()})
