"""The hub's Flower ServerApp: rounds over the shared experts, then a draft model version with lineage.

``app`` is what a SuperLink runs (``flwr run``, see ``deploy``) and what ``simulate`` runs in
one process; its settings come from the run config (``FederationSettings``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flwr.app import ArrayRecord, ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp

from hub.context import build_context
from hub.federation.draft import federation_lineage, write_draft
from hub.federation.hub_io import enrolled_centers, materialise_version, publish_draft
from hub.federation.settings import FederationSettings, build_strategy
from hub.federation.strategy import ExpertsOnly, RoundReport
from hub.federation.wire import is_expert
from hub.settings import HubSettings
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
    outcome = run_federation(grid, FederationSettings.from_run_config(dict(context.run_config)), context.run_id)
    context.state[OUTCOME] = ConfigRecord({
        "draft-version": outcome.draft_version,
        "reports": json.dumps([r.__dict__ for r in outcome.reports], sort_keys=True),
    })


def run_federation(grid: Grid, settings: FederationSettings, run_id: int) -> FederationOutcome:
    """Send the base version's experts, aggregate ``settings.rounds`` rounds, store the draft on the hub."""
    ctx = build_context(HubSettings(data_dir=Path(settings.hub_data_dir), db=settings.hub_db or None))
    work = Path(settings.hub_data_dir) / "federation" / str(run_id)
    base_dir = materialise_version(ctx, settings.version, work / "base")
    model, _, _ = load_model_dir(base_dir)
    initial = ArrayRecord({n: t for n, t in model.state_dict().items() if is_expert(n)})
    strategy = build_strategy(settings, enrolled=enrolled_centers(ctx) if settings.require_enrolled else None)
    experts_only: ExpertsOnly = getattr(strategy, "strategy", strategy)
    train_config = ConfigRecord({"local-steps": settings.local_steps, "lr": settings.lr})
    result = strategy.start(grid, initial, num_rounds=settings.rounds, timeout=settings.round_timeout,
                            train_config=train_config)
    if not any(r.sites for r in experts_only.reports):
        raise ValueError("no site returned usable experts in any round; no draft was created")
    final = result.arrays if len(result.arrays) else initial
    version = settings.draft_version or f"{settings.version}+fed.{datetime.now(UTC):%Y%m%d%H%M%S}"
    lineage = federation_lineage(base_version=settings.version, strategy=settings.strategy,
                                 reports=experts_only.reports, settings=_public(settings))
    out = work / "draft"
    write_draft(base_dir, final.to_torch_state_dict(), out, version=version, lineage=lineage)
    publish_draft(ctx, out, version=version, notes=lineage.notes or "")
    return FederationOutcome(version, out, experts_only.reports)


def _public(settings: FederationSettings) -> dict[str, object]:
    """Settings worth recording in lineage (no paths or database URLs)."""
    keep = ("rounds", "min_sites", "strategy", "proximal_mu", "local_steps", "lr", "dp_noise", "dp_clip")
    return {k: getattr(settings, k) for k in keep}
