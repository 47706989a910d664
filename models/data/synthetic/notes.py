"""Draw a patient's clinical note and treatment intent from a center's clinical mix."""

from __future__ import annotations

import math

import numpy as np

from models.data.clinical import ClinicalNote
from models.data.synthetic.presets import ClinicalMix

__all__ = ["sample_note"]

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
