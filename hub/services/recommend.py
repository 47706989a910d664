"""Rank a version's routers for a site: fingerprint similarity blended with reported zero-shot Dice."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import Center, Router, ZeroShotReportRow
from hub.services import registry
from hub.services.features import Features, encode, similarities
from hub.services.similarity import similarity
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import Evidence, RecommendationRequest, RecommendationResponse, RouterRecommendation

PRIOR_CASES = 10
"""Zero-shot evidence weighs cases / (cases + PRIOR_CASES) against fingerprint similarity."""


@dataclass(frozen=True)
class Candidate:
    router_id: int
    center: str
    fingerprint: SiteFingerprint | None
    dice: float | None
    cases: int
    sites: int


@dataclass
class Index:
    """Candidates of one version plus their fingerprints and report aggregates as arrays."""

    version: str
    candidates: list[Candidate]
    vocabs: list[dict[str, int]] = field(default_factory=lambda: [{}, {}, {}])
    features: Features | None = None
    dice: np.ndarray | None = None
    cases: np.ndarray | None = None
    ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.features = encode([c.fingerprint for c in self.candidates], self.vocabs, grow=True)
        self.dice = np.array([np.nan if c.dice is None else c.dice for c in self.candidates], dtype=float)
        self.cases = np.array([c.cases for c in self.candidates], dtype=float)
        self.ids = np.array([c.router_id for c in self.candidates], dtype=np.int64)


def load_index(session: Session, version: str | None) -> Index:
    row = registry.get_version(session, version) if version else registry.latest_published(session)
    agg = dict(((rid, (d, c, n)) for rid, d, c, n in session.execute(
        select(ZeroShotReportRow.router_id, func.sum(ZeroShotReportRow.dice * ZeroShotReportRow.case_count),
               func.sum(ZeroShotReportRow.case_count), func.count(ZeroShotReportRow.id))
        .join(Router).where(Router.model_version_id == row.id).group_by(ZeroShotReportRow.router_id))))
    out, fps = [], {}
    for rid, code, fp_json in session.execute(select(Router.id, Center.code, Center.fingerprint_json).join(Center)
                                              .where(Router.model_version_id == row.id)):
        if code not in fps:
            fps[code] = SiteFingerprint.model_validate_json(fp_json) if fp_json else None
        d, c, n = agg.get(rid, (None, 0, 0))
        out.append(Candidate(rid, code, fps[code], (d / c) if c else None, int(c or 0), int(n)))
    return Index(row.version, out)


def _explain(cand: Candidate, req: RecommendationRequest, version: str, score: float) -> RouterRecommendation:
    sim, reasons = similarity(req.fingerprint, cand.fingerprint) if cand.fingerprint else (
        None, [f"center {cand.center} has published no fingerprint"])
    evidence = [Evidence.FINGERPRINT] if sim is not None else []
    if cand.dice is not None:
        w = cand.cases / (cand.cases + PRIOR_CASES)
        evidence.append(Evidence.ZERO_SHOT)
        reasons.insert(0, f"zero-shot Dice {cand.dice:.3f} over {cand.cases} cases reported by "
                          f"{cand.sites} site{'s' if cand.sites != 1 else ''} (weight {w:.0%})")
    if sim is not None:
        reasons.insert(0, f"fingerprint similarity to center {cand.center}: {sim:.0%}")
    return RouterRecommendation(rank=0, router_id=cand.router_id, center=cand.center, model_version=version,
                                score=round(score, 6), fingerprint_similarity=None if sim is None else round(sim, 6),
                                zero_shot_dice=cand.dice, zero_shot_cases=cand.cases, zero_shot_sites=cand.sites,
                                evidence=evidence, reasons=reasons)


def scores(index: Index, fingerprint: SiteFingerprint) -> tuple[np.ndarray, np.ndarray]:
    """(score, similarity) of every candidate, vectorised; similarity NaN where nothing is comparable."""
    sim = similarities(index.features, encode([fingerprint], index.vocabs, grow=False))
    w = index.cases / (index.cases + PRIOR_CASES)
    prior = np.nan_to_num(sim, nan=0.0)
    return np.where(np.isnan(index.dice), prior, (1 - w) * prior + w * np.nan_to_num(index.dice)), sim


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
        [Evidence.ZERO_SHOT] if not np.isnan(index.dice).all() else [])
    notes = []
    if Evidence.ZERO_SHOT not in used:
        notes.append("cold start: no zero-shot reports yet, ranked by fingerprint similarity only")
    if Evidence.FINGERPRINT not in used:
        notes.append("no center has a fingerprint comparable with yours")
    return RecommendationResponse(model_version=index.version, evidence_used=used, notes=notes, routers=top)


class IndexCache:
    """Ranking inputs per version, rebuilt after ``ttl_s`` or when a write in this process invalidates them."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[str | None, tuple[float, int, Index]] = {}
        self._generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def peek(self, version: str | None) -> Index | None:
        """The cached index when still fresh, without touching the database."""
        hit = self._entries.get(version)
        if hit and hit[1] == self._generation and time.monotonic() - hit[0] < self.ttl_s:
            return hit[2]
        return None

    def get(self, session: Session, version: str | None) -> Index:
        if (hit := self.peek(version)) is not None:
            return hit
        now = time.monotonic()
        gen = self._generation
        index = load_index(session, version)
        with self._lock:
            if gen == self._generation:
                self._entries[version] = (now, gen, index)
        return index
