"""Fingerprints as numeric arrays so that one site is scored against every center at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.services.similarity import WEIGHTS
from protocols.fingerprint import NccnRiskGroup, SiteFingerprint, TreatmentIntent

RISK = list(NccnRiskGroup)
INTENT = list(TreatmentIntent)
_NAN = float("nan")


def _code(vocab: dict[str, int], text: str | None, grow: bool) -> int:
    """-1 when absent; -2 for a value no center has (never equal)."""
    if not text:
        return -1
    key = text.strip().casefold()
    if key not in vocab:
        if not grow:
            return -2
        vocab[key] = len(vocab)
    return vocab[key]


@dataclass
class Features:
    codes: np.ndarray  # (n, 3) manufacturer, model, filter; -1 = absent
    nums: np.ndarray  # (n, 5) kvp, spacing x/y/z, thickness; NaN = absent
    risk: np.ndarray  # (n, len(RISK)); NaN rows = absent
    intent: np.ndarray
    nodal: np.ndarray  # (n,)


def encode(fps: list[SiteFingerprint | None], vocabs: list[dict[str, int]], grow: bool) -> Features:
    n = len(fps)
    f = Features(np.full((n, 3), -1), np.full((n, 5), _NAN), np.full((n, len(RISK)), _NAN),
                 np.full((n, len(INTENT)), _NAN), np.full(n, _NAN))
    for i, fp in enumerate(fps):
        if fp is None:
            continue
        if fp.scanner:
            s = fp.scanner
            f.codes[i] = [_code(v, t, grow) for v, t in zip(vocabs, (s.manufacturer, s.model, s.filter), strict=True)]
            f.nums[i, 0] = s.kvp or _NAN
        if fp.voxel_spacing_mm:
            f.nums[i, 1:4] = fp.voxel_spacing_mm
        f.nums[i, 4] = fp.slice_thickness_mm or _NAN
        mix = fp.clinical_mix
        if mix.risk_groups:
            f.risk[i] = [mix.risk_groups.get(k, 0.0) for k in RISK]
        if mix.treatment_intent:
            f.intent[i] = [mix.treatment_intent.get(k, 0.0) for k in INTENT]
        if mix.nodal_irradiation_share is not None:
            f.nodal[i] = mix.nodal_irradiation_share
    return f


def encode_site(fp: SiteFingerprint, vocabs: list[dict[str, int]]) -> Features:
    """``encode([fp], vocabs, grow=False)`` for the one fingerprint of a request, with one array per field."""
    s, mix = fp.scanner, fp.clinical_mix
    codes = [_code(v, t, False) for v, t in zip(vocabs, (s.manufacturer, s.model, s.filter), strict=True)] if s \
        else [-1, -1, -1]
    spacing = list(fp.voxel_spacing_mm) if fp.voxel_spacing_mm else [_NAN] * 3
    nums = [(s.kvp or _NAN) if s else _NAN, *spacing, fp.slice_thickness_mm or _NAN]
    risk = [mix.risk_groups.get(k, 0.0) for k in RISK] if mix.risk_groups else [_NAN] * len(RISK)
    intent = [mix.treatment_intent.get(k, 0.0) for k in INTENT] if mix.treatment_intent else [_NAN] * len(INTENT)
    nodal = _NAN if mix.nodal_irradiation_share is None else mix.nodal_irradiation_share
    return Features(np.array([codes]), np.array([nums], dtype=float), np.array([risk], dtype=float),
                    np.array([intent], dtype=float), np.array([nodal], dtype=float))


FACETS = tuple(WEIGHTS)
"""Column order of ``facet_scores`` (the order ``similarity.facets`` lists them in)."""
_W = np.array([WEIGHTS[f] for f in FACETS])
_CODES = [FACETS.index(f) for f in ("manufacturer", "model", "filter")]  # the columns of Features.codes
_VALUED = [FACETS.index(f) for f in ("kvp", "spacing", "thickness", "risk", "intent", "nodal")]


def by_facet(f: Features) -> Features:
    """``f`` with one row per value and one column per center, contiguous: per-center sums then run over rows,
    which numpy does several times faster than a sum along short rows."""
    return Features(*(np.ascontiguousarray(a.T) for a in (f.codes, f.nums, f.risk, f.intent)), f.nodal)


def facet_scores(centers: Features, site: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(similarity (n,), facet scores (9, n), facet shared (9, n)): ``similarity.facets`` for all centers at once.

    ``centers`` comes from ``by_facet``; ``site`` is one encoded fingerprint. Scores are 0 where a facet is not
    shared; similarity is NaN where no facet is.
    """
    n = len(centers.nodal)
    score, shared = np.empty((len(FACETS), n)), np.empty((len(FACETS), n), dtype=bool)
    codes = site.codes[0][:, None]
    scanners = (centers.codes[0] >= 0) & (site.codes[0, 0] != -1)
    shared[_CODES] = (centers.codes >= 0) & (codes != -1) & scanners
    score[_CODES] = centers.codes == codes
    d = np.abs(centers.nums - site.nums[0][:, None])  # NaN where either side lacks the value
    # the other facets' values, NaN where not shared, one row each; then one pass for "shared" and the scores
    values = np.empty((len(_VALUED), n))
    values[0] = 1 - d[0] / 40
    values[1] = 1 - (d[1] + d[2] + d[3]) / 3
    values[2] = 1 - d[4] / 3
    values[3] = 1 - 0.5 * np.abs(centers.risk - site.risk[0][:, None]).sum(axis=0)
    values[4] = 1 - 0.5 * np.abs(centers.intent - site.intent[0][:, None]).sum(axis=0)
    values[5] = 1 - np.abs(centers.nodal - site.nodal[0])
    np.maximum(values[:3], 0, out=values[:3])  # kvp, spacing and thickness agreement floor at 0
    ok = ~np.isnan(values)
    ok[0] &= scanners  # tube voltage compares only where both sides describe a scanner
    shared[_VALUED], score[_VALUED] = ok, np.where(ok, values, 0.0)
    weights = shared * _W[:, None]
    den = weights.sum(axis=0)
    sim = np.divide((weights * score).sum(axis=0), den, out=np.full(n, np.nan), where=den > 0)
    return sim, score, shared
