"""A round's report in the hub's terms: the ``FederationRoundInfo`` the hub stores and shows."""

from __future__ import annotations

import math

from federation.strategy import RoundReport
from federation.wire import WEIGHT_KEY
from protocols.federation import MAX_REASON_CHARS, FederationRoundInfo, RoundFailure, SiteRoundMetrics


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def site_metrics(metrics: dict[str, float]) -> SiteRoundMetrics:
    """A site's reply metrics (``num-examples``, ``train-loss``, ``val-dice``, ``seconds``) as typed fields."""
    dice = metrics.get("val-dice")
    return SiteRoundMetrics(cases=int(metrics.get(WEIGHT_KEY, 0)), train_loss=_finite(metrics.get("train-loss")),
                            val_dice=_finite(dice) if dice is not None and dice >= 0 else None,
                            seconds=_finite(metrics.get("seconds")))


def round_info(report: RoundReport, *, run: str, base_version: str, secagg: bool) -> FederationRoundInfo:
    """Convert the strategy's ``RoundReport`` (reasons cut to the wire limit)."""
    failures = [RoundFailure(node=f["node"][:32], center=f.get("center"), reason=f["reason"][:MAX_REASON_CHARS])
                for f in report.failures]
    return FederationRoundInfo(run=run, base_version=base_version, round=report.round, aggregated=report.aggregated,
                               secagg=secagg, seconds=max(report.seconds, 0.0), bytes_to_sites=report.bytes_to_sites,
                               bytes_to_hub=report.bytes_to_hub,
                               sites={s: site_metrics(m) for s, m in report.sites.items()}, failures=failures)
