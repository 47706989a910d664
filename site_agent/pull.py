"""``site-agent pull``: download a published model version, verified, resumable, side by side.

The manifest's signature is checked with the key pinned at ``init`` before any file is
fetched; every file is then checked against its signed sha256. Files arrive as ``*.part``
in ``WORKDIR/models/.<version>.partial/`` (a broken download resumes there with HTTP Range)
and the folder is renamed to ``WORKDIR/models/<version>/`` only when everything verified.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from models.fsutil import atomic_write_bytes, sha256_file
from protocols.hub_api import canonical_json
from site_agent.config import SiteConfig, WorkdirOpt, load_config, resolve_workdir, site_token
from site_agent.console import emit_json, expected_errors, progress, results
from site_agent.hub_client import HubClient
from site_agent.options import JsonOpt
from site_agent.trust import TrustError, verify_manifest

ORIGIN = "hub-origin.json"
"""Written beside a pulled model's manifest: hub, version, key id, signature, time of the pull."""


@dataclass
class PullResult:
    version: str
    path: str
    already_present: bool
    total_bytes: int
    fetched_bytes: int = 0
    resumed: list[str] = field(default_factory=list)
    refetched: list[str] = field(default_factory=list)


def models_root(workdir: Path) -> Path:
    return Path(workdir) / "models"


def pulled_versions(workdir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Pulled model folders with their origin record, newest pull first."""
    root = models_root(workdir)
    found = []
    for d in root.iterdir() if root.is_dir() else []:
        if d.name.startswith(".") or not (d / ORIGIN).is_file():
            continue
        found.append((d, json.loads((d / ORIGIN).read_text())))
    return sorted(found, key=lambda x: x[1].get("pulled_at", ""), reverse=True)


def newest_pulled(workdir: Path) -> Path | None:
    versions = pulled_versions(workdir)
    return versions[0][0] if versions else None


def hub_origin(model_dir: Path) -> dict[str, Any] | None:
    """The origin record when ``model_dir`` was pulled from a hub, else None."""
    path = Path(model_dir) / ORIGIN
    return json.loads(path.read_text()) if path.is_file() else None


def check_pulled(model_dir: Path, config: SiteConfig) -> None:
    """Re-verify a pulled folder: signature with the pinned key, then every file's sha256."""
    from models.weights import MANIFEST, read_manifest, verify_files

    origin = hub_origin(model_dir)
    if origin is None:
        raise TrustError(f"{model_dir} has no {ORIGIN}; delete the folder and pull again")
    raw = {"manifest": json.loads((Path(model_dir) / MANIFEST).read_text()), "key_id": origin["key_id"],
           "signature": origin["signature"], "algorithm": "ed25519"}
    verify_manifest(raw, config.signing, version=origin["version"])
    verify_files(model_dir, read_manifest(model_dir))


def pull(config: SiteConfig, workdir: Path, *, version: str | None = None, client: HubClient | None = None,
         on_start: Callable[[int], None] | None = None, on_bytes: Callable[[int], None] | None = None) -> PullResult:
    """Download ``version`` (default: the newest published) into ``WORKDIR/models/<version>/``."""
    from models.weights import MANIFEST, read_manifest, verify_files

    own = client is None
    client = client or HubClient(config.hub_url, site_token(config))
    try:
        version = version or client.newest_published().version
        target = models_root(workdir) / version
        if (target / MANIFEST).is_file():
            check_pulled(target, config)
            total = sum(f.size for f in read_manifest(target).files)
            return PullResult(version, str(target), True, total)
        raw = client.signed_manifest_raw(version)
        signed = verify_manifest(raw, config.signing, version=version)  # before anything is written
        staging = models_root(workdir) / f".{version}.partial"
        staging.mkdir(parents=True, exist_ok=True)
        files = signed.manifest.files
        result = PullResult(version, str(target), False, sum(f.size for f in files))
        if on_start:
            on_start(result.total_bytes)
        for entry in files:
            final, part = staging / entry.name, staging / f"{entry.name}.part"
            if final.is_file() and final.stat().st_size == entry.size and sha256_file(final) == entry.sha256:
                if on_bytes:
                    on_bytes(entry.size)
                continue
            for attempt in (1, 2):
                if part.is_file() and 0 < part.stat().st_size < entry.size:
                    result.resumed.append(entry.name)
                    if on_bytes:
                        on_bytes(part.stat().st_size)
                result.fetched_bytes += client.download(version, entry.name, part, size=entry.size,
                                                        on_bytes=on_bytes)
                if part.stat().st_size == entry.size and sha256_file(part) == entry.sha256:
                    os.replace(part, final)
                    break
                part.unlink()
                if attempt == 2:
                    raise ValueError(f"{entry.name} of model version {version} from {config.hub_url} does not match "
                                     f"its signed sha256 {entry.sha256[:12]}... even after a fresh download; it was "
                                     "deleted, ask the hub operator to check that blob")
                result.refetched.append(entry.name)
        atomic_write_bytes(staging / MANIFEST, json.dumps(raw["manifest"], indent=2).encode())
        origin = {"hub_url": config.hub_url, "version": version, "key_id": signed.key_id,
                  "signature": signed.signature,
                  "manifest_sha256": hashlib.sha256(canonical_json(raw["manifest"])).hexdigest(),
                  "pulled_at": datetime.now(UTC).isoformat()}
        atomic_write_bytes(staging / ORIGIN, json.dumps(origin, indent=2).encode())
        verify_files(staging, read_manifest(staging))
        os.replace(staging, target)
        return result
    finally:
        if own:
            client.close()


def pull_command(
    version: Annotated[str | None, typer.Option("--version", help="Model version to pull (default: the newest "
                                                                   "published).")] = None,
    workdir: WorkdirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Download a published model version: signature (pinned key) and every sha256 checked; resumes broken downloads."""
    with expected_errors():
        wd = resolve_workdir(workdir)
        config = load_config(wd)
        with progress(transient=json_output) as bar:
            task = bar.add_task(f"pulling {version or 'newest version'}", total=None, info="")
            result = pull(config, wd, version=version, on_start=lambda n: bar.update(task, total=n),
                          on_bytes=lambda n: bar.update(task, advance=n))
    if json_output:
        emit_json(asdict(result))
        return
    if result.already_present:
        results.print(f"version {result.version} is already here and verified: {result.path}", highlight=False)
        return
    extra = f"; resumed {', '.join(result.resumed)}" if result.resumed else ""
    if result.refetched:
        extra += f"; fetched again after a hash mismatch: {', '.join(result.refetched)}"
    results.print(f"[green]pulled version {result.version}[/] ({result.total_bytes:,} bytes, signature and sha256 "
                  f"verified) to {result.path}{extra}", highlight=False)
