"""``site-agent push``: send only ``experts`` + ``router.<own center>`` (or the gate alone) to the hub.

An outbound filter checks every tensor before anything is sent: it must belong to an allowed
group (by the manifest and by its name), be finite, and it is written as safetensors with
``__metadata__``. ``--dry-run`` prints the privacy manifest of exactly those bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from models.fsutil import atomic_write_bytes
from protocols.groups import router_group
from protocols.hub_api import PushResult
from protocols.manifest import ModelManifest
from protocols.router_update import RouterUpdateManifest
from site_agent.config import SiteConfig, WorkdirOpt, load_config, resolve_workdir, site_token
from site_agent.console import emit_json, expected_errors, results
from site_agent.hub_client import HubClient
from site_agent.options import JsonOpt

if TYPE_CHECKING:
    import torch

METADATA_KEY = "mome.update"
EVALUATION = "evaluation.json"
"""Aggregate before/after Dice that ``finetune`` writes beside a fine-tuned model (optional)."""
NEVER_LEAVES = ("images", "masks and labels", "clinical notes and questions",
                "per-case results (metrics, predictions)", "case ids (the model's lineage keeps them locally)",
                "other centers' routers")


def never_leaves(manifest: ModelManifest, sent: set[str]) -> list[str]:
    """What stays on site: the data, and every weight group of this model that is not sent."""
    kept = sorted({s.group for s in manifest.tensors.values()
                   if not s.group.startswith("router.") and s.group not in sent})
    return [*NEVER_LEAVES, f"{', '.join(kept)} weights"] if kept else list(NEVER_LEAVES)


def shareable_groups(manifest: ModelManifest) -> set[str]:
    """Fixed groups this site lets leave: those the model's manifest AND this agent's own declaration of its family
    call shareable, so a manifest edited upstream cannot widen what leaves."""
    from models.families import get_family

    return set(manifest.shareable_groups) & set(get_family(manifest.family).shareable_groups)


@dataclass
class TensorRow:
    name: str
    group: str
    shape: list[int]
    dtype: str
    bytes: int


@dataclass
class PushPlan:
    model_dir: str
    tensors: list[TensorRow]
    payload: bytes
    manifest: RouterUpdateManifest
    model_bytes: int
    kept: list[str]

    @property
    def percent_of_model(self) -> float:
        return 100.0 * len(self.payload) / self.model_bytes

    def privacy_manifest(self) -> dict[str, Any]:
        return {"model": self.model_dir, "center": self.manifest.center, "base_version": self.manifest.base_version,
                "router_only": self.manifest.router_only, "tensors": [asdict(t) for t in self.tensors],
                "tensor_bytes": sum(t.bytes for t in self.tensors), "payload_bytes": len(self.payload),
                "model_bytes": self.model_bytes, "percent_of_model": round(self.percent_of_model, 4),
                "manifest": self.manifest.model_dump(mode="json"), "never_leaves": list(self.kept)}


def newest_finetuned(workdir: Path) -> Path | None:
    """The most recently written model folder under ``WORKDIR/finetuned/``."""
    root = Path(workdir) / "finetuned"
    dirs = [d for d in root.iterdir() if not d.name.startswith(".") and (d / "manifest.json").is_file()] \
        if root.is_dir() else []
    return max(dirs, key=lambda d: (d / "manifest.json").stat().st_mtime) if dirs else None


def outbound_filter(tensors: dict[str, torch.Tensor], manifest: ModelManifest, allowed: set[str]) -> list[TensorRow]:
    """Refuse any tensor outside ``allowed`` groups (by manifest and by name) or with NaN/Inf values."""
    import torch

    from models.groups import tensor_group

    rows = []
    for name, t in sorted(tensors.items()):
        spec = manifest.tensors.get(name)
        group = spec.group if spec else None
        if group not in allowed or tensor_group(name, manifest.family) != group:
            raise ValueError(f"outbound filter: tensor {name!r} (group {group}) may not leave the site; only "
                             f"{', '.join(sorted(allowed))} may")
        if not torch.isfinite(t).all():
            raise ValueError(f"outbound filter: tensor {name!r} contains NaN or Inf values; nothing was sent")
        rows.append(TensorRow(name, group, list(t.shape), spec.dtype, t.numel() * t.element_size()))
    return rows


def _metrics(model_dir: Path, manifest: ModelManifest) -> dict[str, float]:
    """Aggregate metrics for the update manifest; the hub refuses non-finite numbers, so they stay here."""
    metrics = dict(manifest.lineage.metrics)
    path = model_dir / EVALUATION
    if path.is_file():
        doc = json.loads(path.read_text())
        metrics |= {k: float(v) for k, v in doc.get("metrics", {}).items() if isinstance(v, int | float)}
    return {k: v for k, v in metrics.items() if math.isfinite(v)}


def build_push(model_dir: Path, center: str, *, router_only: bool = False) -> PushPlan:
    """The bytes and manifest of an update from a fine-tuned model folder (nothing is sent)."""
    from safetensors.torch import save

    from models.weights import manifest_bytes, read_manifest, read_tensors, verify_files

    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    verify_files(model_dir, manifest)
    lineage, gate = manifest.lineage, router_group(center)
    if lineage.center != center or not lineage.base_version:
        raise ValueError(f"{model_dir} was not fine-tuned for center {center} from a hub version (its lineage says "
                         f"center {lineage.center}, base {lineage.base_version}); fine-tune with "
                         f"`site-agent finetune --center {center}`")
    allowed = {gate} if router_only else {gate, *shareable_groups(manifest)}
    if not any(s.group == gate for s in manifest.tensors.values()):
        raise ValueError(f"{model_dir} has no {gate} tensors to push")
    tensors: dict[str, torch.Tensor] = {}
    for entry in manifest.files:
        wanted = {n for n, s in manifest.tensors.items() if s.file == entry.name and s.group in allowed}
        if wanted:
            tensors |= {n: t for n, t in read_tensors(model_dir / entry.name).items() if n in wanted}
    rows = outbound_filter(tensors, manifest, allowed)
    # One metadata key: safetensors writes a several-key __metadata__ map in random order, and the
    # same update must give the same bytes (the hub recognises a repeated push by its sha256).
    about = {"center": center, "base_version": lineage.base_version, "groups": sorted(allowed), "format": "pt"}
    payload = save(dict(sorted(tensors.items())), metadata={METADATA_KEY: json.dumps(about, sort_keys=True)})
    update = RouterUpdateManifest(
        family=manifest.family, center=center, base_version=lineage.base_version, init_router=lineage.init_router,
        shots=lineage.shots or 0, sample_count=len(lineage.cases), metrics=_metrics(model_dir, manifest),
        router_only=router_only, sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    return PushPlan(str(model_dir), rows, payload, update, manifest_bytes(manifest), never_leaves(manifest, allowed))


def send_push(config: SiteConfig, workdir: Path, plan: PushPlan, *, client: HubClient | None = None) -> tuple[
        PushResult, Path]:
    """Send exactly ``plan.payload``; keep the hub's receipt in ``WORKDIR/receipts/``."""
    own = client is None
    client = client or HubClient(config.hub_url, site_token(config), timeout=120)
    try:
        result = client.push(plan.manifest, plan.payload)
    finally:
        if own:
            client.close()
    now = datetime.now(UTC)
    name = f"{now:%Y%m%dT%H%M%S.%f}-{plan.manifest.center}-{plan.manifest.sha256[:12]}.json"
    receipt = Path(workdir) / "receipts" / name
    atomic_write_bytes(receipt, json.dumps({
        "hub_url": config.hub_url, "pushed_at": now.isoformat(), "model": plan.model_dir,
        "update": plan.manifest.model_dump(mode="json"), "receipt": result.model_dump(mode="json")}, indent=2).encode())
    return result, receipt


def print_privacy_manifest(plan: PushPlan) -> None:
    m = plan.manifest
    table = Table(title=f"would leave this site: update of center {m.center} on base {m.base_version}")
    for col, justify in (("tensor", "left"), ("group", "left"), ("shape", "left"), ("dtype", "left"),
                         ("bytes", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for t in plan.tensors:
        table.add_row(t.name, t.group, "x".join(map(str, t.shape)), t.dtype, f"{t.bytes:,}")
    results.print(table)
    results.print(f"{len(plan.tensors)} tensors, file of {len(plan.payload):,} bytes = {plan.percent_of_model:.2f}% of "
                  f"the model's {plan.model_bytes:,} bytes; also sent: init_router {m.init_router}, shots {m.shots}, "
                  f"sample_count {m.sample_count}, metrics {json.dumps(m.metrics)}", highlight=False)
    results.print("never leaves: " + "; ".join(plan.kept), highlight=False)


def push_command(
    model: Annotated[Path | None, typer.Option(
        "--model", help="Fine-tuned model folder (default: the newest under WORKDIR/finetuned).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would leave the site; send nothing.")] = False,
    router_only: Annotated[bool, typer.Option(
        "--router-only", help="Send the gate router.<center> alone (the smallest useful update).")] = False,
    workdir: WorkdirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Push this site's router (and experts) to the hub; --dry-run shows exactly which tensors and bytes would go."""
    with expected_errors():
        wd = resolve_workdir(workdir)
        config = load_config(wd)
        model = model or newest_finetuned(wd)
        if model is None:
            raise FileNotFoundError(f"no fine-tuned model under {wd / 'finetuned'}; run `site-agent finetune` or "
                                    "pass --model")
        plan = build_push(model, config.center, router_only=router_only)
        result = receipt = None
        if not dry_run:
            result, receipt = send_push(config, wd, plan)
    doc = plan.privacy_manifest() | {"dry_run": dry_run, "receipt_file": str(receipt) if receipt else None,
                                     "receipt": result.model_dump(mode="json") if result else None}
    if json_output:
        emit_json(doc)
        return
    print_privacy_manifest(plan)
    if result is not None:
        state = "recorded" if result.created else "already held (same bytes pushed before)"
        results.print(f"[green]pushed:[/] router {result.router.id} of center {result.router.center} on "
                      f"{result.router.model_version} {state}; receipt in {receipt}", highlight=False)
    else:
        results.print("dry run: nothing was sent", highlight=False)
