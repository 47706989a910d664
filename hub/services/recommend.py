"""Rank a version's routers for a site: fingerprint similarity blended with reported zero-shot Dice."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import Center, Router, ZeroShotReportRow
from hub.services import registry
from hub.services.features import Features, encode, similarities
from hub.services.influence import SiteShare, influence_reasons, site_shares
from hub.services.similarity import similarity
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import Evidence, RecommendationRequest, RecommendationResponse, RouterRecommendation


@dataclass(frozen=True)
class Candidate:
    """A router, its center's fingerprint and each site's zero-shot report with the share it carries."""

    router_id: int
    center: str
    fingerprint: SiteFingerprint | None
    shares: tuple[SiteShare, ...] = ()

    @property
    def weight(self) -> float:
        return sum(s.share for s in self.shares)

    @property
    def dice(self) -> float | None:
        """Reported Dice averaged with the same (capped) shares the score uses."""
        return sum(s.share * s.dice for s in self.shares) / self.weight if self.weight > 0 else None

    @property
    def cases(self) -> int:
        return sum(s.cases for s in self.shares)


@dataclass
class Index:
    """Candidates of one version plus their fingerprints and zero-shot weights as arrays."""

    version: str
    candidates: list[Candidate]
    vocabs: list[dict[str, int]] = field(default_factory=lambda: [{}, {}, {}])
    features: Features | None = None
    weight: np.ndarray | None = None  # share of each router's score from zero-shot reports
    weighted_dice: np.ndarray | None = None  # sum of share * Dice
    reported: np.ndarray | None = None
    ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.features = encode([c.fingerprint for c in self.candidates], self.vocabs, grow=True)
        self.weight = np.array([c.weight for c in self.candidates], dtype=float)
        self.weighted_dice = np.array([sum(s.share * s.dice for s in c.shares) for c in self.candidates], dtype=float)
        self.reported = np.array([bool(c.shares) for c in self.candidates], dtype=bool)
        self.ids = np.array([c.router_id for c in self.candidates], dtype=np.int64)


def load_index(session: Session, version: str | None) -> Index:
    row = registry.get_version(session, version) if version else registry.latest_published(session)
    reports: dict[int, list[tuple[int, float, int]]] = {}
    for rid, site_id, dice, cases in session.execute(
            select(ZeroShotReportRow.router_id, ZeroShotReportRow.site_id, ZeroShotReportRow.dice,
                   ZeroShotReportRow.case_count).join(Router).where(Router.model_version_id == row.id)):
        reports.setdefault(rid, []).append((site_id, dice, cases))
    out, fps = [], {}
    for rid, code, fp_json in session.execute(select(Router.id, Center.code, Center.fingerprint_json).join(Center)
                                              .where(Router.model_version_id == row.id)):
        if code not in fps:
            fps[code] = SiteFingerprint.model_validate_json(fp_json) if fp_json else None
        out.append(Candidate(rid, code, fps[code], site_shares(reports.get(rid, []))))
    return Index(row.version, out)


def _explain(cand: Candidate, req: RecommendationRequest, version: str, score: float) -> RouterRecommendation:
    sim, reasons = similarity(req.fingerprint, cand.fingerprint) if cand.fingerprint else (
        None, [f"center {cand.center} has published no fingerprint"])
    evidence = [Evidence.FINGERPRINT] if sim is not None else []
    if cand.shares:
        n = len(cand.shares)
        evidence.append(Evidence.ZERO_SHOT)
        reasons[:0] = [f"zero-shot Dice {cand.dice:.3f} over {cand.cases} cases reported by {n} "
                       f"site{'s' if n != 1 else ''} (weight {cand.weight:.0%})", *influence_reasons(cand.shares)]
    if sim is not None:
        reasons.insert(0, f"fingerprint similarity to center {cand.center}: {sim:.0%}")
    return RouterRecommendation(rank=0, router_id=cand.router_id, center=cand.center, model_version=version,
                                score=round(score, 6), fingerprint_similarity=None if sim is None else round(sim, 6),
                                zero_shot_dice=cand.dice, zero_shot_cases=cand.cases, zero_shot_sites=len(cand.shares),
                                zero_shot_weight=round(cand.weight, 6), evidence=evidence, reasons=reasons)


def scores(index: Index, fingerprint: SiteFingerprint) -> tuple[np.ndarray, np.ndarray]:
    """(score, similarity) of every candidate, vectorised; similarity NaN where nothing is comparable."""
    sim = similarities(index.features, encode([fingerprint], index.vocabs, grow=False))
    return (1 - index.weight) * np.nan_to_num(sim, nan=0.0) + index.weighted_dice, sim


def rank(index: Index, req: RecommendationRequest) -> RecommendationResponse:
    """Score all candidates with numpy; build reasons only for the ``limit`` best."""
    if not index.candidates:
        return RecommendationResponse(model_version=index.version, evidence_used=[],
                                      notes=["this version has no routers yet"], routers=[])
    score, sim = scores(index, req.fingerprint)
    order = np.lexsort((-index.ids, -np.round(score, 6)))[: req.limit]
    top = [_explain(index.candidates[i], req, index.version, float(score[i])).model_copy(update={"rank": r + 1})
           for r, i in enumerate(order)]
    used = ([Evidence.FINGERPRINT] if not np.isnan(sim).all() else []) + (
        [Evidence.ZERO_SHOT] if index.reported.any() else [])
    notes = []
    if Evidence.ZERO_SHOT not in used:
        notes.append("cold start: no zero-shot reports yet, ranked by fingerprint similarity only")
    if Evidence.FINGERPRINT not in used:
        notes.append("no center has a fingerprint comparable with yours")
    return RecommendationResponse(model_version=index.version, evidence_used=used, notes=notes, routers=top)
