"""Zero-shot results: kept locally for ``finetune``, reported to the hub as aggregates only.

The hub receives, per router, the mean Dice and the number of cases it was measured on
(``POST /v1/reports/zero-shot``), never case ids or per-case Dice. The site's aggregate
fingerprint then asks the hub which routers it recommends (``POST /v1/recommendations``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.fsutil import atomic_write_bytes
from protocols.hub_api import (
    RecommendationRequest,
    RecommendationResponse,
    ZeroShotReport,
    ZeroShotReportAck,
    ZeroShotResult,
)
from site_agent.config import SiteConfig, site_token
from site_agent.fingerprint import compute_fingerprint
from site_agent.hub_client import HubClient, HubClientError

if TYPE_CHECKING:
    from models.training.select_router import RouterRanking


@dataclass
class HubExchange:
    """What the hub said about a local ranking; errors are kept as sentences, never raised."""

    report: ZeroShotReportAck | None = None
    report_error: str | None = None
    recommendation: RecommendationResponse | None = None
    recommendation_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"report": self.report.model_dump(mode="json") if self.report else None,
                "report_error": self.report_error,
                "recommendation": self.recommendation.model_dump(mode="json") if self.recommendation else None,
                "recommendation_error": self.recommendation_error}


def zero_shot_report(model_version: str, ranking: RouterRanking) -> ZeroShotReport:
    """Per-router mean Dice and case count: the only zero-shot facts that leave the site."""
    return ZeroShotReport(model_version=model_version, results=[
        ZeroShotResult(center=s.router, dice=min(1.0, max(0.0, round(s.mean_dice, 4))), case_count=ranking.n_cases)
        for s in ranking.scores])


def exchange_with_hub(config: SiteConfig, model_version: str, ranking: RouterRanking, data: Path, *,
                      send_report: bool = True, client: HubClient | None = None) -> HubExchange:
    """Report the ranking (unless ``send_report`` is false) and ask for a recommendation for ``data``."""
    out = HubExchange()
    own = client is None
    client = client or HubClient(config.hub_url, site_token(config))
    try:
        if send_report:
            try:
                out.report = client.report_zero_shot(zero_shot_report(model_version, ranking))
            except HubClientError as exc:
                out.report_error = str(exc)
        try:
            out.recommendation = recommend_for(client, data, model_version)
        except HubClientError as exc:
            out.recommendation_error = str(exc)
    finally:
        if own:
            client.close()
    return out


def recommend_for(client: HubClient, data: Path, model_version: str | None) -> RecommendationResponse:
    """The hub's router recommendation for the aggregate fingerprint of ``data``."""
    fingerprint = compute_fingerprint(data).fingerprint
    return client.recommend(RecommendationRequest(fingerprint=fingerprint, model_version=model_version))


def ranking_path(workdir: Path, model_version: str) -> Path:
    return Path(workdir) / "zero-shot" / f"{model_version}.json"


def save_local_ranking(workdir: Path, model_version: str, data: Path, ranking: RouterRanking) -> Path:
    """Keep the ranking on the site (per-case Dice included: this file never leaves) for ``finetune``."""
    path = ranking_path(workdir, model_version)
    doc = {"model_version": model_version, "data": str(Path(data).resolve()), "best": ranking.best,
           "n_cases": ranking.n_cases, "at": datetime.now(UTC).isoformat(),
           "scores": [{"router": s.router, "mean_dice": s.mean_dice, "per_case": s.per_case} for s in ranking.scores]}
    atomic_write_bytes(path, json.dumps(doc, indent=2).encode())
    return path


def local_best_router(workdir: Path, model_version: str, data: Path) -> str | None:
    """The best router of an earlier ``select-router`` on the same model version and data, if any."""
    path = ranking_path(workdir, model_version)
    if not path.is_file():
        return None
    doc = json.loads(path.read_text())
    return doc.get("best") if doc.get("data") == str(Path(data).resolve()) else None
