"""``site-agent doctor``: one screen of what works and what does not, each with its fix."""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import typer
from rich.table import Table

from protocols.version import PROTOCOL_VERSION
from site_agent.config import SiteConfig, WorkdirOpt, config_path, find_config, resolve_workdir, site_token
from site_agent.console import console, emit_json, expected_errors
from site_agent.hub_client import HubClient, HubClientError, HubUnavailable, Timed
from site_agent.options import JsonOpt
from site_agent.trust import protocol_compatible

MIN_FREE_BYTES = 2 << 30
MAX_SKEW_S = 120.0


@dataclass
class Check:
    name: str
    status: str  # OK, WARN, FAIL
    detail: str
    fix: str = ""


def _ok(name: str, detail: str) -> Check:
    return Check(name, "OK", detail)


def _hub_checks(config: SiteConfig) -> list[Check]:
    checks: list[Check] = []
    try:
        token = site_token(config)
    except ValueError as exc:
        return [Check("token", "FAIL", str(exc), "run `site-agent init --force --token T`")]
    with HubClient(config.hub_url, token, timeout=10) as client:
        try:
            started = time.time()
            timed: Timed = client.info()
            client.healthz()
        except HubClientError as exc:
            fix = "start the hub or check the URL, proxy and firewall" if isinstance(exc, HubUnavailable) else \
                "ask the hub operator"
            return [Check("hub reachable", "FAIL", str(exc), fix)]
        checks.append(_ok("hub reachable", f"{config.hub_url} answered in {timed.seconds * 1000:.0f} ms "
                                           f"(hub {timed.info.hub_version})"))
        checks.append(_ok("TLS", "https") if config.hub_url.startswith("https://") else
                      Check("TLS", "WARN", "plain http: the token and weights travel unencrypted",
                            "serve the hub behind TLS and `site-agent init --force --hub https://...`"))
        theirs = timed.info.protocol_version
        checks.append(_ok("protocol", f"hub {theirs}, site agent {PROTOCOL_VERSION}") if protocol_compatible(theirs)
                      else Check("protocol", "FAIL", f"hub speaks {theirs}, site agent {PROTOCOL_VERSION}",
                                 "upgrade whichever side is older"))
        same = timed.info.signing.public_key == config.signing.public_key
        checks.append(_ok("signing key", f"matches the pinned key {config.signing.key_id}") if same else
                      Check("signing key", "FAIL", f"the hub now signs with key {timed.info.signing.key_id}, not the "
                                                   f"pinned {config.signing.key_id}; pulls are refused",
                            "confirm the key rotation with the hub operator, then `site-agent init --force`"))
        checks.append(_token_check(client, config))
        checks.append(_skew_check(timed, started))
    return checks


def _token_check(client: HubClient, config: SiteConfig) -> Check:
    from site_agent.init import check_token_scope

    try:
        check_token_scope(client, config.center)
    except HubUnavailable as exc:
        return Check("token", "FAIL", str(exc), "retry when the hub is up")
    except (HubClientError, ValueError) as exc:
        return Check("token", "FAIL", str(exc), "ask the hub operator for a site token of center "
                                                f"{config.center}, then `site-agent init --force`")
    return _ok("token", f"valid site token for center {config.center}")


def _skew_check(timed: Timed, started: float) -> Check:
    if not timed.date:
        return Check("clock skew", "WARN", "the hub sent no Date header", "")
    try:
        hub_time = parsedate_to_datetime(timed.date).timestamp()
    except (TypeError, ValueError):
        return Check("clock skew", "WARN", f"unreadable Date header {timed.date!r}", "")
    skew = started + timed.seconds / 2 - hub_time
    if abs(skew) > MAX_SKEW_S:
        return Check("clock skew", "FAIL", f"this clock is {skew:+.0f} s off the hub's",
                     "synchronise the clock with NTP (e.g. `timedatectl set-ntp true`)")
    return _ok("clock skew", f"{skew:+.1f} s against the hub (Date header, 1 s resolution)")


def _disk_check(workdir: Path) -> Check:
    probe = workdir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    detail = f"{free / (1 << 30):.1f} GiB free in {probe.resolve()}"
    return _ok("free disk", detail) if free >= MIN_FREE_BYTES else Check(
        "free disk", "FAIL", detail, f"free at least {MIN_FREE_BYTES >> 30} GiB or use another --workdir")


def _gpu_checks() -> list[Check]:
    import torch

    from models.device import gpu_inventory

    gpus = gpu_inventory()
    if gpus:
        out = [_ok(f"GPU {g.index}", f"{g.name}, {g.free_bytes / (1 << 30):.1f} of {g.total_bytes / (1 << 30):.1f} GiB "
                                     f"free, utilisation " + ("n/a" if g.utilization_percent is None
                                                              else f"{g.utilization_percent}%")) for g in gpus]
    else:
        out = [Check("GPUs (NVML)", "WARN", "no NVIDIA driver or GPU found via NVML; the site agent runs on CPU",
                     "fine for 1-3 shots; install the NVIDIA driver for a GPU")]
    if torch.cuda.is_available():
        out.append(_ok("torch CUDA", f"torch {torch.__version__} sees {torch.cuda.device_count()} CUDA device(s)"))
    elif gpus:
        out.append(Check("torch CUDA", "FAIL", f"NVML sees GPUs but torch {torch.__version__} cannot use CUDA",
                         "install a CUDA build of torch that matches the driver"))
    else:
        out.append(Check("torch CUDA", "WARN", f"torch {torch.__version__} has no CUDA device; CPU is used", ""))
    return out


def _torchvision_check() -> Check:
    """A torchvision that does not import next to this torch (nnU-Net installs one of another build)."""
    import torch

    from models.torchvision_guard import torchvision_problem

    found = torchvision_problem()
    if found is None:
        return _ok("torchvision", "none installed, or it imports next to this torch (the site agent does not use it)")
    version, error = found
    variant = torch.__version__.partition("+")[2]
    matching = (f"`pip install torchvision --index-url https://download.pytorch.org/whl/{variant}`" if variant
                else "the torchvision release made for this torch")
    return Check("torchvision", "WARN",
                 f"torchvision {version} is installed but fails to import next to torch {torch.__version__} "
                 f"({error}), so it was built for another torch; the site agent does not need torchvision and "
                 "loads its note encoder without it, but other tools in this environment (nnU-Net) will fail",
                 f"`pip uninstall torchvision`, or install the matching build: {matching}")


def run_doctor(workdir: Path | None = None) -> list[Check]:
    """Every check, in display order; never raises for a failing check."""
    wd = resolve_workdir(workdir)
    try:
        config = find_config(wd)
    except ValueError as exc:
        config, checks = None, [Check("site config", "FAIL", str(exc), "`site-agent init --force ...`")]
    else:
        checks = [_ok("site config", f"{config_path(wd)}: center {config.center}, hub {config.hub_url}") if config
                  else Check("site config", "FAIL", f"{config_path(wd)} does not exist",
                             "`site-agent init --hub URL --center CODE --token T` (or --workdir / MOME_SITE_WORKDIR)")]
    if config is not None:
        checks += _hub_checks(config)
    return [*checks, _disk_check(wd), *_gpu_checks(), _torchvision_check()]


def doctor_command(workdir: WorkdirOpt = None, json_output: JsonOpt = False) -> None:
    """Check the hub, TLS, token, protocol, signing key, clock, disk, GPUs, CUDA and torchvision; exit 1 if any
    check fails."""
    with expected_errors():
        checks = run_doctor(workdir)
    failed = [c for c in checks if c.status == "FAIL"]
    if json_output:
        emit_json({"ok": not failed, "checked_at": datetime.now(UTC).isoformat(),
                   "checks": [asdict(c) for c in checks]})
    else:
        table = Table(title="site-agent doctor")
        for col in ("check", "", "detail", "fix"):
            table.add_column(col, overflow="fold")
        colour = {"OK": "green", "WARN": "yellow", "FAIL": "red"}
        for c in checks:
            table.add_row(c.name, f"[{colour[c.status]}]{c.status}[/]", c.detail, c.fix)
        console.print(table)
    if failed:
        raise typer.Exit(1)

