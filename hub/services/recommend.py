"""Rank a version's routers for a site: fingerprint similarity blended with reported zero-shot Dice."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from pydantic_core import to_json
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import Center, Router, ZeroShotReportRow
from hub.services import registry
from hub.services.features import FACETS, Features, by_facet, encode, encode_site, facet_scores
from hub.services.influence import SiteShare, influence_reasons, site_shares
from hub.services.similarity import NOTHING_SHARED, center_texts, reasons_of
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import Evidence, RecommendationRequest, RecommendationResponse


@dataclass(frozen=True)
class Candidate:
    """A router, its center's fingerprint and each site's zero-shot report with the share it carries."""

    router_id: int
    center: str
    fingerprint: SiteFingerprint | None
    shares: tuple[SiteShare, ...] = ()

    @cached_property
    def weight(self) -> float:
        return float(sum(s.share for s in self.shares))

    @cached_property
    def dice(self) -> float | None:
        """Reported Dice averaged with the same (capped) shares the score uses."""
        return sum(s.share * s.dice for s in self.shares) / self.weight if self.weight > 0 else None

    @cached_property
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
    texts: list[dict[str, str] | None] = field(default_factory=list)  # each center's side of its facet reasons
    zero_shot_reasons: list[list[str]] = field(default_factory=list)  # the request-independent reasons

    def __post_init__(self) -> None:
        self.texts = [center_texts(c.fingerprint) if c.fingerprint else None for c in self.candidates]
        self.zero_shot_reasons = [_zero_shot_reasons(c) for c in self.candidates]
        self.features = by_facet(encode([c.fingerprint for c in self.candidates], self.vocabs, grow=True))
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


def _zero_shot_reasons(cand: Candidate) -> list[str]:
    if not (n := len(cand.shares)):
        return []
    return [f"zero-shot Dice {cand.dice:.3f} over {cand.cases} cases reported by {n} site{'s' if n != 1 else ''} "
            f"(weight {cand.weight:.0%})", *influence_reasons(cand.shares)]


def _explain(index: Index, i: int, rank: int, score: float, sim: float,
             facet_score: list[float], shared: list[bool]) -> dict[str, Any]:
    """Router ``i`` as a ``RouterRecommendation`` dict (fields in declared order), built only for the routers
    returned; the facet scores come from ranking, the center's side of each reason from the index."""
    cand, texts = index.candidates[i], index.texts[i]
    if texts is None:
        similar, reasons = None, [f"center {cand.center} has published no fingerprint"]
    elif sim != sim:  # NaN: no facet shared
        similar, reasons = None, [NOTHING_SHARED]
    else:
        similar = sim
        reasons = [f"fingerprint similarity to center {cand.center}: {sim:.0%}",
                   *reasons_of([(f, x) for f, x, ok in zip(FACETS, facet_score, shared, strict=True) if ok], texts)]
    evidence = [Evidence.FINGERPRINT] if similar is not None else []
    if cand.shares:
        evidence.append(Evidence.ZERO_SHOT)
        reasons[1 if similar is not None else 0:0] = index.zero_shot_reasons[i]
    return {"rank": rank, "router_id": cand.router_id, "center": cand.center, "model_version": index.version,
            "score": round(score, 6), "fingerprint_similarity": None if similar is None else round(similar, 6),
            "zero_shot_dice": cand.dice, "zero_shot_cases": cand.cases, "zero_shot_sites": len(cand.shares),
            "zero_shot_weight": round(cand.weight, 6), "evidence": evidence, "reasons": reasons}


def _score_all(index: Index, fingerprint: SiteFingerprint) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sim, facet_score, shared = facet_scores(index.features, encode_site(fingerprint, index.vocabs))
    return (1 - index.weight) * np.fmax(sim, 0.0) + index.weighted_dice, sim, facet_score, shared  # NaN -> 0


def scores(index: Index, fingerprint: SiteFingerprint) -> tuple[np.ndarray, np.ndarray]:
    """(score, similarity) of every candidate, vectorised; similarity NaN where nothing is comparable."""
    return _score_all(index, fingerprint)[:2]


def _best(score: np.ndarray, ids: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the ``limit`` best: highest score first, the newer router (higher id) on ties.

    Only the candidates at or above the ``limit``-th best score are sorted (a partition finds them), so a request
    costs no full sort of every router.
    """
    pool = np.arange(len(score))
    if len(score) > 4 * limit:
        kth = np.partition(score, len(score) - limit)[len(score) - limit]
        pool = np.flatnonzero(score >= kth)
    return pool[np.lexsort((-ids[pool], -score[pool]))][:limit]


def ranked(index: Index, req: RecommendationRequest) -> dict[str, Any]:
    """A ``RecommendationResponse`` as plain data: all candidates scored with numpy, reasons for the best only."""
    if not index.candidates:
        return {"model_version": index.version, "evidence_used": [], "notes": ["this version has no routers yet"],
                "routers": []}
    score, sim, facet_score, shared = _score_all(index, req.fingerprint)
    order = _best(np.round(score, 6), index.ids, req.limit)
    # one conversion to Python values for the few routers returned, then plain Python per reason
    rows = zip(order.tolist(), score[order].tolist(), sim[order].tolist(), facet_score[:, order].T.tolist(),
               shared[:, order].T.tolist(), strict=True)
    top = [_explain(index, i, r + 1, sc, si, fs, sh) for r, (i, sc, si, fs, sh) in enumerate(rows)]
    used = ([Evidence.FINGERPRINT] if not np.isnan(sim).all() else []) + (
        [Evidence.ZERO_SHOT] if index.reported.any() else [])
    notes = []
    if Evidence.ZERO_SHOT not in used:
        notes.append("cold start: no zero-shot reports yet, ranked by fingerprint similarity only")
    if Evidence.FINGERPRINT not in used:
        notes.append("no center has a fingerprint comparable with yours")
    return {"model_version": index.version, "evidence_used": used, "notes": notes, "routers": top}


def rank(index: Index, req: RecommendationRequest) -> RecommendationResponse:
    """The recommendation as the validated wire model (for callers that want objects, such as the console)."""
    return RecommendationResponse.model_validate(ranked(index, req))


def rank_json(index: Index, req: RecommendationRequest) -> bytes:
    """The recommendation as JSON, byte for byte ``rank(...).model_dump_json()`` without building the models
    (the REST hot path: building six pydantic objects per request cost as much as scoring every center)."""
    return to_json(ranked(index, req))
