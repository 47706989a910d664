"""Counterfactual note check: does the clinical note steer the contour?

The same image is predicted with three notes that differ only in risk: low (Gleason 6, cT1c,
N0, PSA 4), intermediate (Gleason 7 (4+3), cT2b, N0, PSA 14) and very high, node-positive
(Gleason 9, cT3b, N1, PSA 64). Every policy irradiates the pelvic nodes for the last, so its
PTV must be much larger than the low-risk one under every router; the intermediate note is
where centers differ (nodes from intermediate risk at A/B/D, from high risk at C/E). Ratios
are of predicted PTV voxel counts, per case and per router.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "COUNTERFACTUAL_NOTES",
    "CounterfactualResult",
    "note_steering",
    "steering_summary",
]

COUNTERFACTUAL_NOTES: dict[str, str] = {
    "low": "<Grade> 6 (3+3) <Stage> cT1c, N0 <Metastasis> negative <Age> 68 <PSA> 4",
    "intermediate": "<Grade> 7 (4+3) <Stage> cT2b, N0 <Metastasis> negative <Age> 68 <PSA> 14",
    "very_high_n1": "<Grade> 9 (4+5) <Stage> cT3b, N1 <Metastasis> negative <Age> 68 <PSA> 64",
}
"""The three notes of the check, in the seed's tagged format."""

VolumeFn = Callable[[object, str, str], int]
"""``volume(sample, router, note) -> predicted PTV voxels``."""


@dataclass
class CounterfactualResult:
    """Predicted PTV voxels per router, case and note, and the two ratios against the low note."""

    volumes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # router -> case -> note -> voxels

    def ratios(self, router: str, note: str) -> dict[str, float]:
        """Per case: PTV(note) / PTV(low); an empty low-risk PTV counts as an infinite ratio."""
        out = {}
        for case, v in self.volumes[router].items():
            low = v["low"]
            out[case] = float(v[note]) / low if low else (float("inf") if v[note] else 1.0)
        return out


def note_steering(samples: Sequence[object], routers: Sequence[str], volume: VolumeFn,
                  notes: Mapping[str, str] = COUNTERFACTUAL_NOTES,
                  on_case: Callable[[str], None] | None = None) -> CounterfactualResult:
    """Predict every sample under every router with each note; ``volume`` does one prediction."""
    if "low" not in notes:
        raise ValueError("the counterfactual notes need a 'low' reference note")
    result = CounterfactualResult({r: {} for r in routers})
    for s in samples:
        case_id = getattr(s, "case_id", str(s))
        for r in routers:
            result.volumes[r][case_id] = {name: int(volume(s, r, text)) for name, text in notes.items()}
        if on_case:
            on_case(case_id)
    return result


def steering_summary(result: CounterfactualResult, *, nodes_from_intermediate: Sequence[str],
                     high_ratio: float = 1.5, no_growth_ratio: float = 1.2) -> dict[str, dict[str, float]]:
    """Per router: median ratios and the share of cases meeting the issue's targets.

    ``very_high_ok``: share with very-high/low >= ``high_ratio`` (every router).
    ``intermediate_ok``: for routers of nodes-from-intermediate practices, share with
    intermediate/low >= ``high_ratio``; for the others, share with intermediate/low <= ``no_growth_ratio``.
    """
    out = {}
    for router in result.volumes:
        high = np.asarray(list(result.ratios(router, "very_high_n1").values()), dtype=float)
        mid = np.asarray(list(result.ratios(router, "intermediate").values()), dtype=float)
        grows = router in nodes_from_intermediate
        out[router] = {
            "median_very_high_over_low": float(np.median(high)),
            "median_intermediate_over_low": float(np.median(mid)),
            "very_high_ok": float(np.mean(high >= high_ratio)),
            "intermediate_ok": float(np.mean(mid >= high_ratio) if grows else np.mean(mid <= no_growth_ratio)),
            "intermediate_expected": "grow" if grows else "stay",
            "cases": int(high.size),
        }
    return out
