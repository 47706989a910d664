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


def similarities(centers: Features, site: Features) -> np.ndarray:
    """Vectorised ``similarity.similarity`` scores; NaN where no facet is shared."""
    n = len(centers.nodal)
    num, den = np.zeros(n), np.zeros(n)

    def add(name: str, avail: np.ndarray, score: np.ndarray) -> None:
        nonlocal num, den
        w = WEIGHTS[name] * avail
        num, den = num + w * np.where(avail, score, 0.0), den + w

    has_scanner = centers.codes[:, 0] >= 0
    site_scanner = site.codes[0, 0] != -1
    for j, name in enumerate(("manufacturer", "model", "filter")):
        avail = (centers.codes[:, j] >= 0) & (site.codes[0, j] != -1) & has_scanner & site_scanner
        add(name, avail, (centers.codes[:, j] == site.codes[0, j]).astype(float))
    with np.errstate(invalid="ignore"):
        d = np.abs(centers.nums - site.nums[0])
        add("kvp", ~np.isnan(d[:, 0]) & has_scanner & site_scanner, np.maximum(0, 1 - d[:, 0] / 40))
        sp = d[:, 1:4].mean(axis=1)
        add("spacing", ~np.isnan(sp), np.maximum(0, 1 - sp))
        add("thickness", ~np.isnan(d[:, 4]), np.maximum(0, 1 - d[:, 4] / 3))
        for name, mat, vec in (("risk", centers.risk, site.risk[0]), ("intent", centers.intent, site.intent[0])):
            tv = 1 - 0.5 * np.abs(mat - vec).sum(axis=1)
            add(name, ~np.isnan(tv), tv)
        dn = 1 - np.abs(centers.nodal - site.nodal[0])
        add("nodal", ~np.isnan(dn), dn)
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
