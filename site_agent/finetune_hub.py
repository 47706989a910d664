"""The hub side of ``site-agent finetune``: starting model and router, before/after evaluation, push."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.fsutil import atomic_write_bytes
from site_agent.config import SiteConfig, site_token
from site_agent.console import console
from site_agent.hub_client import HubClient, HubClientError, HubUnavailable
from site_agent.local_data import site_samples
from site_agent.pull import newest_pulled, pull
from site_agent.push import EVALUATION, build_push, send_push
from site_agent.report import local_best_router, recommend_for, save_local_ranking

if TYPE_CHECKING:
    from models.training.finetune import FinetuneResult


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        console.print(text, highlight=False)


def prepare_from_hub(config: SiteConfig, workdir: Path, data: Path, init_router: str | None, *, device: str,
                     quiet: bool = False) -> tuple[Path, str | None, str]:
    """(model folder, starting router, why that router): pull if needed, then pick the router."""
    from models.registry import note_encoder
    from models.training.select_router import rank_routers
    from models.weights import load_model_dir

    try:
        model = Path(pull(config, workdir).path)
    except HubUnavailable as exc:
        model = newest_pulled(workdir)
        if model is None:
            raise
        _say(f"[yellow]warning:[/] {exc}; using the pulled version in {model}", quiet)
    if init_router:
        return model, init_router, "given with --init-router"
    net, spec, manifest = load_model_dir(model, device=device)
    best = local_best_router(workdir, manifest.version, data)
    if best in net.routers:
        return model, best, "best of the earlier local zero-shot ranking (select-router)"
    try:
        samples = site_samples(data, spec, center="local")
        ranking = rank_routers(net, spec, note_encoder(spec), samples,
                               device=device)
        save_local_ranking(workdir, manifest.version, data, ranking)
        return model, ranking.best, f"best of a local zero-shot ranking on {ranking.n_cases} cases"
    except ValueError as exc:
        _say(f"local zero-shot ranking not possible ({exc}); asking the hub", quiet)
    with HubClient(config.hub_url, site_token(config)) as client:
        rec = recommend_for(client, data, manifest.version)
    fitting = [r.center for r in rec.routers if r.center in net.routers]
    if not fitting:
        return model, None, "no local ranking and no hub recommendation: the model's first router"
    return model, fitting[0], "the hub's recommendation for this site's fingerprint"


ACTIVATION_METRICS_MAX = 48
"""At most this many ``activation.<level>.<expert>`` shares travel with a push (the hub takes 64 metrics)."""


def activation_metrics(activation: dict[str, list[float]]) -> dict[str, float]:
    """The new router's share of tokens per expert and level on the held-out cases, as push metrics: aggregate
    routing statistics (what the hub's console plots), nothing about a single case."""
    flat = {f"activation.{level}.{i}": float(share) for level, shares in activation.items()
            for i, share in enumerate(shares)}
    return flat if len(flat) <= ACTIVATION_METRICS_MAX else {}


def evaluate_before_after(base_dir: Path, tuned_dir: Path, data: Path, result: FinetuneResult, *, center: str,
                          device: str) -> dict[str, Any]:
    """Dice of the starting router (base model) and of the new router on the held-out cases; kept locally."""
    from models.registry import note_encoder
    from models.training.evaluate import evaluate_samples
    from models.weights import load_model_dir

    base, spec, base_manifest = load_model_dir(base_dir, device=device)
    tuned, _, tuned_manifest = load_model_dir(tuned_dir, device=device)
    samples = site_samples(data, spec, center=center, exclude=tuned_manifest.lineage.cases)
    encoder = note_encoder(spec)
    start = result.init_router or (base.routers[0] if base.routers else center)
    reports = {"before": evaluate_samples(base, spec, encoder, samples, router=start, device=device,
                                          model_version=base_manifest.version),
               "after": evaluate_samples(tuned, spec, encoder, samples, router=center, device=device,
                                         model_version=tuned_manifest.version)}
    out: dict[str, Any] = {"cases": len(samples), "case_ids": [s.case_id for s in samples]}
    for key, rep in reports.items():
        out[key] = {"router": rep.router, **rep.dice.model_dump(), "expert_activation": rep.expert_activation}
    metrics = {"heldout_dice_before": out["before"]["mean"], "heldout_dice_after": out["after"]["mean"],
               "heldout_cases": float(len(samples))}
    metrics |= activation_metrics(out["after"]["expert_activation"])
    atomic_write_bytes(Path(tuned_dir) / EVALUATION, json.dumps({"metrics": metrics}, indent=2).encode())
    return out


def push_after(config: SiteConfig, workdir: Path, model_dir: Path) -> dict[str, Any]:
    plan = build_push(model_dir, config.center)
    try:
        result, receipt = send_push(config, workdir, plan)
    except HubClientError as exc:
        raise ValueError(f"{str(exc).rstrip('.')}; the fine-tuned model is kept in {model_dir}, push it later with "
                         f"`site-agent push --model {model_dir}`") from None
    return {"router_id": result.router.id, "created": result.created, "payload_bytes": len(plan.payload),
            "percent_of_model": plan.percent_of_model, "receipt_file": str(receipt)}
