"""Draw a patient's clinical note and treatment intent from a center's clinical mix."""

from __future__ import annotations

import math

import numpy as np

from models.data.clinical import ClinicalNote, RiskGroup, format_note, nccn_risk_group
from models.data.synthetic.presets import ClinicalMix

__all__ = ["BALANCED_GROUPS", "RISK_MIXES", "sample_note", "sample_note_for_risk"]

# Sub-categories within a T category (AJCC 8), roughly as they occur in RT cohorts.
_T_SUB = {"T1": (("c", 0.8), ("b", 0.1), ("a", 0.1)), "T2": (("a", 0.4), ("b", 0.2), ("c", 0.4)),
          "T3": (("a", 0.65), ("b", 0.35)), "T4": (("", 1.0),)}
_PATTERNS = {5: ((2, 3),), 6: ((3, 3),), 7: ((3, 4), (4, 3)), 8: ((4, 4), (3, 5), (5, 3)),
             9: ((4, 5), (5, 4)), 10: ((5, 5),)}
_PATTERN_P = {8: (0.8, 0.1, 0.1)}


def _choice(rng: np.random.Generator, shares: dict[str, float]) -> str:
    keys = list(shares)
    p = np.asarray([shares[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def sample_note(mix: ClinicalMix, rng: np.random.Generator) -> tuple[ClinicalNote, str]:
    """One note and intent ('definitive', 'postoperative' or 'salvage').

    After prostatectomy the stage is pathological (``pT``), otherwise clinical (``cT``).
    Fields are drawn independently from the center's marginal shares.
    """
    intent = _choice(rng, mix.intent)
    t_cat = _choice(rng, mix.t_category)
    subs = _T_SUB[t_cat]
    sub = subs[int(rng.choice(len(subs), p=[p for _, p in subs]))][0]
    if intent != "definitive" and t_cat == "T1":  # no pathological T1 after prostatectomy
        t_cat, sub = "T2", "a"
    prefix = "c" if intent == "definitive" else "p"
    grade = int(_choice(rng, mix.gleason))
    options = _PATTERNS[grade]
    primary, secondary = options[int(rng.choice(len(options), p=_PATTERN_P.get(grade)))]
    lo, hi = mix.psa_range
    psa = float(np.exp(rng.normal(math.log(mix.psa_median), mix.psa_log_sd)))
    psa = round(min(max(psa, max(lo, 0.01)), hi), 2)
    age = int(round(min(max(rng.normal(mix.age_mean, mix.age_sd), 40), 90)))
    n_stage = "N1" if rng.random() < mix.n1_fraction else "N0"
    if rng.random() < mix.m1_fraction:
        metastasis = "positive"
    else:
        metastasis = "unknown" if rng.random() < mix.metastasis_unknown_fraction else "negative"
    note = ClinicalNote(grade=grade, gleason_primary=primary, gleason_secondary=secondary,
                        t_stage=f"{prefix}{t_cat}{sub}", n_stage=n_stage, metastasis=metastasis,
                        age=age, psa=psa)
    return note, intent


RISK_MIXES = ("center", "balanced")
"""How a synthetic center draws its patients' risk groups: from its own clinical mix, or evenly
over the groups that decide a delineation policy (low, intermediate, high, very high, node-positive)."""

BALANCED_GROUPS = (RiskGroup.LOW, RiskGroup.INTERMEDIATE, RiskGroup.HIGH, RiskGroup.VERY_HIGH, RiskGroup.REGIONAL)


def _psa(rng: np.random.Generator, lo: float, hi: float) -> float:
    return round(float(rng.uniform(lo, hi)), 1)


def sample_note_for_risk(mix: ClinicalMix, risk: RiskGroup, rng: np.random.Generator) -> tuple[ClinicalNote, str]:
    """A note whose NCCN risk group is ``risk`` (intent and age from the center's mix).

    Each group is built from the features that define it (``nccn_risk_group``), with the other
    fields drawn below their thresholds, so every group is seen with varied notes: a policy's
    nodal and seminal-vesicle decisions by risk group can only be learnt from data that has
    every group.
    """
    intent = _choice(rng, mix.intent)
    prefix = "c" if intent == "definitive" else "p"
    # Start from a low-risk patient, then add the features of the requested group.
    t, grade, pattern, psa = ("T1c" if prefix == "c" else "T2a"), 6, (3, 3), _psa(rng, 2.0, 9.5)
    n_stage = "N0"
    intermediate = [lambda: ("T2b" if rng.random() < 0.5 else "T2c", None, None),
                    lambda: (None, 7, (3, 4) if rng.random() < 0.5 else (4, 3)),
                    lambda: (None, None, _psa(rng, 10.0, 19.5))]
    high = [lambda: ("T3a", None, None), lambda: (None, 8, (4, 4)), lambda: (None, 9, (4, 5)),
            lambda: (None, None, _psa(rng, 21.0, 60.0))]

    def apply(features: list, count: int) -> None:
        nonlocal t, grade, pattern, psa
        picks = rng.choice(len(features), size=count, replace=False)
        for i in picks:
            new_t, new_grade, new_value = features[int(i)]()
            t = new_t or t
            if new_grade is not None:
                grade, pattern = new_grade, new_value
            elif new_value is not None:
                psa = new_value

    if risk is RiskGroup.INTERMEDIATE:
        apply(intermediate, int(rng.integers(1, 3)))
    elif risk is RiskGroup.HIGH:
        apply(intermediate, int(rng.integers(0, 2)))
        apply(high, 1)
    elif risk in (RiskGroup.VERY_HIGH, RiskGroup.REGIONAL):
        kind = int(rng.integers(0, 3))
        if kind == 0:
            apply(intermediate[1:] + high[1:], int(rng.integers(0, 2)))
            t = "T3b" if rng.random() < 0.7 else "T4"
        elif kind == 1:
            grade, pattern = (9, (5, 4)) if rng.random() < 0.6 else (10, (5, 5))
        else:
            t, psa = "T3a", _psa(rng, 21.0, 90.0)
        if risk is RiskGroup.REGIONAL:
            n_stage = "N1"
            if rng.random() < 0.5:  # node-positive patients are not all very high risk locally
                t, grade, pattern = "T2c", 7, (4, 3)
    elif risk is not RiskGroup.LOW:
        raise ValueError(f"cannot draw a synthetic note for risk group {risk.value!r}")
    age = int(round(min(max(rng.normal(mix.age_mean, mix.age_sd), 40), 90)))
    note = ClinicalNote(grade=grade, gleason_primary=pattern[0], gleason_secondary=pattern[1],
                        t_stage=f"{prefix}{t}", n_stage=n_stage, metastasis="negative", age=age, psa=psa)
    if nccn_risk_group(note) is not risk:  # the construction above is the definition; a miss is a bug
        raise AssertionError(f"drew {format_note(note)!r} for risk group {risk.value}")
    return note, intent
