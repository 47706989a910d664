"""The Flower ServerApp: rounds over the shared experts, then a draft model version with lineage on the hub.

``app`` is what a SuperLink runs (``flwr run``, see ``deploy``) and what the in-process runner
runs; its settings come from the run config (``FederationSettings``) and it reaches the hub
through the ``HubPort`` those settings name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flwr.app import ArrayRecord, ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg, FedProx, Strategy

from federation.draft import federation_lineage, write_draft
from federation.hub_port import HubPort, open_hub_port
from federation.rounds import round_info
from federation.settings import FederationSettings
from federation.strategy import ExpertsOnly, RoundReport
from federation.wire import is_expert
from models.weights import load_model_dir

OUTCOME = "federation"  # ConfigRecord in the ServerApp context's state after a run

app = ServerApp()


@dataclass
class FederationOutcome:
    """What a run produced: the draft version, where its files are, and the per-round reports."""

    draft_version: str
    model_dir: Path
    reports: list[RoundReport]


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Flower entry point: run the federation and leave a summary in ``context.state``."""
    settings = FederationSettings.from_run_config(dict(context.run_config))
    outcome = run_federation(grid, settings, context.run_id, open_hub_port(settings))
    context.state[OUTCOME] = ConfigRecord({
        "draft-version": outcome.draft_version,
        "reports": json.dumps([r.__dict__ for r in outcome.reports], sort_keys=True),
    })


def build_strategy(settings: FederationSettings, *, bindings: dict[int, str] | None,
                   on_round: Callable[[RoundReport], None] | None = None) -> ExpertsOnly | Strategy:
    """FedAvg or FedProx over all bound sites (at least ``min_sites``), experts-only, optionally client-side DP."""
    common = dict(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=settings.min_sites,
                  min_available_nodes=settings.min_sites)
    inner = (FedProx(**common, proximal_mu=settings.proximal_mu) if settings.strategy == "fedprox"
             else FedAvg(**common))
    strategy = ExpertsOnly(inner, bindings=bindings, min_sites=settings.min_sites, on_round=on_round)
    if not settings.dp:
        return strategy
    return DifferentialPrivacyClientSideFixedClipping(strategy, noise_multiplier=settings.dp_noise,
                                                      clipping_norm=settings.dp_clip,
                                                      num_sampled_clients=settings.min_sites)


def run_federation(grid: Grid, settings: FederationSettings, run_id: int, hub: HubPort) -> FederationOutcome:
    """Send the base version's experts, aggregate ``settings.rounds`` rounds, store the draft on the hub."""
    work = Path(settings.hub_data_dir or ".") / "federation" / f"run-{run_id}"
    base_dir = hub.materialise_version(settings.version, work / "base")
    model, _, _ = load_model_dir(base_dir)
    initial = ArrayRecord({n: t for n, t in model.state_dict().items() if is_expert(n)})
    version = settings.draft_version or f"{settings.version}+fed.{datetime.now(UTC):%Y%m%d%H%M%S}"
    bindings = hub.node_bindings() if settings.bind_nodes else None

    def record(report: RoundReport) -> None:
        hub.record_round(round_info(report, run=version, base_version=settings.version, secagg=settings.secagg))

    if settings.secagg:
        from federation.secagg import run_secagg_rounds

        final, reports = run_secagg_rounds(grid, settings, initial, bindings=bindings, on_round=record)
    else:
        strategy = build_strategy(settings, bindings=bindings, on_round=record)
        experts_only: ExpertsOnly = getattr(strategy, "strategy", strategy)
        result = strategy.start(grid, initial, num_rounds=settings.rounds, timeout=settings.round_timeout,
                                train_config=ConfigRecord({"local-steps": settings.local_steps, "lr": settings.lr}))
        final, reports = (result.arrays if len(result.arrays) else initial), experts_only.reports
    if not any(r.aggregated for r in reports):
        raise ValueError("no round had enough usable replies (min_sites); no draft was created")
    lineage = federation_lineage(base_version=settings.version, strategy=settings.strategy, reports=reports,
                                 settings=settings.public())
    out = work / "draft"
    write_draft(base_dir, final.to_torch_state_dict(), out, version=version, lineage=lineage)
    hub.publish_draft(out, version=version, notes=lineage.notes or "")
    return FederationOutcome(version, out, reports)
