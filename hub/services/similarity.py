"""Similarity of two fingerprints in [0, 1], with the reasons that drove it."""

from __future__ import annotations

from dataclasses import dataclass

from protocols.fingerprint import SiteFingerprint

# weight of each facet; only facets present on both sides count, and weights are renormalised
WEIGHTS = {"manufacturer": 0.15, "model": 0.10, "kvp": 0.08, "filter": 0.05, "spacing": 0.08, "thickness": 0.09,
           "risk": 0.15, "intent": 0.12, "nodal": 0.18}


NOTHING_SHARED = "no fingerprint facet in common with this center"


@dataclass(frozen=True)
class Facet:
    name: str
    score: float
    text: str


def _tv(a: dict, b: dict) -> float:
    """1 - total variation distance of two share maps."""
    keys = set(a) | set(b)
    return 1.0 - 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


SAME_OR_DIFFERENT = frozenset({"manufacturer", "model", "filter"})
"""Facets whose reason starts with 'same' or 'different' (the rest of each reason is the center's own value)."""


def center_texts(center: SiteFingerprint) -> dict[str, str]:
    """The center's side of every facet's reason; computed once per center, not once per request."""
    out: dict[str, str] = {}
    if b := center.scanner:
        out["manufacturer"] = f"scanner manufacturer ({b.manufacturer})"
        if b.model:
            out["model"] = f"scanner model ({b.model})"
        if b.kvp:
            out["kvp"] = f"tube voltage {b.kvp:g} kVp"
        if b.filter:
            out["filter"] = f"kernel ({b.filter})"
    if center.voxel_spacing_mm:
        out["spacing"] = f"voxel spacing {_mm(center.voxel_spacing_mm)} mm"
    if center.slice_thickness_mm:
        out["thickness"] = f"slice thickness {center.slice_thickness_mm:g} mm"
    out["risk"], out["intent"] = "NCCN risk-group mix", "treatment-intent mix"
    if (share := center.clinical_mix.nodal_irradiation_share) is not None:
        out["nodal"] = f"pelvic nodal irradiation share {share:.0%}"
    return out


def facet_text(name: str, texts: dict[str, str], score: float) -> str:
    if name in SAME_OR_DIFFERENT:
        return f"{'same' if score else 'different'} {texts[name]}"
    return texts[name]


def reasons_of(scored: list[tuple[str, float]], texts: dict[str, str]) -> list[str]:
    """Up to three reasons from (facet, score) pairs: strongest agreement or disagreement first."""
    ranked = sorted(scored, key=lambda f: -WEIGHTS[f[0]] * abs(f[1] - 0.5))
    return [f"{facet_text(name, texts, score)}: {score:.0%} match" for name, score in ranked[:3]]


def facets(site: SiteFingerprint, center: SiteFingerprint) -> list[Facet]:
    """The reference (one center at a time) of ``features.facet_scores``; shared facets only."""
    out: list[Facet] = []
    texts = center_texts(center)

    def add(name: str, score: float) -> None:
        out.append(Facet(name, score, facet_text(name, texts, score)))

    if site.scanner and center.scanner:
        a, b = site.scanner, center.scanner
        add("manufacturer", float(_same(a.manufacturer, b.manufacturer)))
        if a.model and b.model:
            add("model", float(_same(a.model, b.model)))
        if a.kvp and b.kvp:
            add("kvp", max(0.0, 1 - abs(a.kvp - b.kvp) / 40))
        if a.filter and b.filter:
            add("filter", float(_same(a.filter, b.filter)))
    if site.voxel_spacing_mm and center.voxel_spacing_mm:
        d = sum(abs(x - y) for x, y in zip(site.voxel_spacing_mm, center.voxel_spacing_mm, strict=True)) / 3
        add("spacing", max(0.0, 1 - d))
    if site.slice_thickness_mm and center.slice_thickness_mm:
        add("thickness", max(0.0, 1 - abs(site.slice_thickness_mm - center.slice_thickness_mm) / 3))
    a, b = site.clinical_mix, center.clinical_mix
    if a.risk_groups and b.risk_groups:
        add("risk", _tv(a.risk_groups, b.risk_groups))
    if a.treatment_intent and b.treatment_intent:
        add("intent", _tv(a.treatment_intent, b.treatment_intent))
    if a.nodal_irradiation_share is not None and b.nodal_irradiation_share is not None:
        add("nodal", 1 - abs(a.nodal_irradiation_share - b.nodal_irradiation_share))
    return out


def _mm(v: tuple[float, ...]) -> str:
    return "x".join(f"{x:g}" for x in v)


def similarity(site: SiteFingerprint, center: SiteFingerprint) -> tuple[float | None, list[str]]:
    """Weighted mean over shared facets and up to three reasons (strongest agreement/disagreement first)."""
    fs = facets(site, center)
    if not fs:
        return None, [NOTHING_SHARED]
    total = sum(WEIGHTS[f.name] for f in fs)
    score = sum(WEIGHTS[f.name] * f.score for f in fs) / total
    return score, reasons_of([(f.name, f.score) for f in fs], center_texts(center))
