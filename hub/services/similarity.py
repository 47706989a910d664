"""Similarity of two fingerprints in [0, 1], with the reasons that drove it."""

from __future__ import annotations

from dataclasses import dataclass

from protocols.fingerprint import SiteFingerprint

# weight of each facet; only facets present on both sides count, and weights are renormalised
WEIGHTS = {"manufacturer": 0.15, "model": 0.10, "kvp": 0.08, "filter": 0.05, "spacing": 0.08, "thickness": 0.09,
           "risk": 0.15, "intent": 0.12, "nodal": 0.18}


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


def facets(site: SiteFingerprint, center: SiteFingerprint) -> list[Facet]:
    out: list[Facet] = []
    if site.scanner and center.scanner:
        a, b = site.scanner, center.scanner
        same = _same(a.manufacturer, b.manufacturer)
        out.append(Facet("manufacturer", float(same), f"{'same' if same else 'different'} scanner manufacturer "
                         f"({b.manufacturer})"))
        if a.model and b.model:
            same = _same(a.model, b.model)
            out.append(Facet("model", float(same), f"{'same' if same else 'different'} scanner model ({b.model})"))
        if a.kvp and b.kvp:
            out.append(Facet("kvp", max(0.0, 1 - abs(a.kvp - b.kvp) / 40), f"tube voltage {b.kvp:g} kVp"))
        if a.filter and b.filter:
            same = _same(a.filter, b.filter)
            out.append(Facet("filter", float(same), f"{'same' if same else 'different'} kernel ({b.filter})"))
    if site.voxel_spacing_mm and center.voxel_spacing_mm:
        d = sum(abs(x - y) for x, y in zip(site.voxel_spacing_mm, center.voxel_spacing_mm, strict=True)) / 3
        out.append(Facet("spacing", max(0.0, 1 - d), f"voxel spacing {_mm(center.voxel_spacing_mm)} mm"))
    if site.slice_thickness_mm and center.slice_thickness_mm:
        d = abs(site.slice_thickness_mm - center.slice_thickness_mm)
        out.append(Facet("thickness", max(0.0, 1 - d / 3), f"slice thickness {center.slice_thickness_mm:g} mm"))
    a, b = site.clinical_mix, center.clinical_mix
    if a.risk_groups and b.risk_groups:
        out.append(Facet("risk", _tv(a.risk_groups, b.risk_groups), "NCCN risk-group mix"))
    if a.treatment_intent and b.treatment_intent:
        out.append(Facet("intent", _tv(a.treatment_intent, b.treatment_intent), "treatment-intent mix"))
    if a.nodal_irradiation_share is not None and b.nodal_irradiation_share is not None:
        out.append(Facet("nodal", 1 - abs(a.nodal_irradiation_share - b.nodal_irradiation_share),
                         f"pelvic nodal irradiation share {b.nodal_irradiation_share:.0%}"))
    return out


def _mm(v: tuple[float, ...]) -> str:
    return "x".join(f"{x:g}" for x in v)


def similarity(site: SiteFingerprint, center: SiteFingerprint) -> tuple[float | None, list[str]]:
    """Weighted mean over shared facets and up to three reasons (strongest agreement/disagreement first)."""
    fs = facets(site, center)
    if not fs:
        return None, ["no fingerprint facet in common with this center"]
    total = sum(WEIGHTS[f.name] for f in fs)
    score = sum(WEIGHTS[f.name] * f.score for f in fs) / total
    ranked = sorted(fs, key=lambda f: -WEIGHTS[f.name] * abs(f.score - 0.5))
    reasons = [f"{f.text}: {f.score:.0%} match" for f in ranked[:3]]
    return score, reasons
