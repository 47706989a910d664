"""NCCN risk group of a note, decided from the fields it gives and ``unknown`` where they cannot decide.

Rules (NCCN prostate cancer, simplified to what a note carries; no biopsy core counts or PSA density):

* M1 (metastasis positive) -> ``metastatic``, whatever else the note says or lacks.
* N1 without M1 -> ``regional`` (NCCN's group for any T, N1, M0).
* A missing N stage or ``Nx`` counts as N0, a missing or ``unknown`` metastasis as M0: notes rarely
  write N0 and M0 out, and the seed format's ``unknown`` metastasis always counted as M0.
* Otherwise, on the local fields: very high is T3b-T4, primary Gleason pattern 5, or two or more
  high-risk features (T3a, grade group 4-5, PSA > 20); high is one such feature; intermediate is
  T2b-T2c, grade group 2-3 or PSA 10-20; low is the rest (very low merged into low). The
  pathological T stage of a postoperative note is used as the T stage.
* A missing or partial local field (no T stage, ``cT2`` without a letter, Gleason 8 without its
  patterns, grade group 5, no PSA, ``PSA <15``) stands for every value it could be; the group is the
  one all of them give, and ``unknown`` when they differ. So primary pattern 5 or T3b decide
  ``very_high`` on their own, while grade group 5 alone (4+5 or 5+4) does not.
"""

from __future__ import annotations

import math
from itertools import product

from models.data.notes.model import ClinicalNote, RiskGroup

__all__ = ["grade_group", "grade_groups_for", "intermediate_unfavourable", "nccn_risk_group", "undecided_fields"]

_T_OPTIONS = {"2": ("2a", "2b"), "3": ("3a", "3b")}
_ANY_T = ("1c", "2a", "2b", "3a", "3b", "4")
# (grade group, primary pattern is 5) each Gleason score or grade group can stand for
_BY_SCORE = {6: {(1, False)}, 7: {(2, False), (3, False)}, 8: {(4, False), (4, True)}, 9: {(5, False), (5, True)},
             10: {(5, True)}}
_BY_GROUP = {1: {(1, False)}, 2: {(2, False)}, 3: {(3, False)}, 4: {(4, False), (4, True)},
             5: {(5, False), (5, True)}}
_ANY_GLEASON = set().union(*_BY_SCORE.values())
_ANY_PSA = (0.0, 15.0, 25.0)
_TOP_PSA = 1e6


def _gleason_options(note: ClinicalNote) -> set[tuple[int, bool]]:
    if note.grade is not None and note.gleason_primary is not None:
        gg = 1 if note.grade <= 6 else (3 if note.gleason_primary == 4 else 2) if note.grade == 7 else \
            4 if note.grade == 8 else 5
        return {(gg, note.gleason_primary == 5)}
    by_score = _BY_SCORE[min(max(note.grade, 6), 10)] if note.grade is not None else _ANY_GLEASON
    by_group = _BY_GROUP.get(note.grade_group, _ANY_GLEASON)
    return (by_score & by_group) or by_score


def _t_options(note: ClinicalNote) -> tuple[str, ...]:
    t = note.t_detail
    return _ANY_T if t is None else _T_OPTIONS.get(t, (t,))


def _psa_options(note: ClinicalNote) -> tuple[float, ...]:
    psa, bound = note.psa, note.psa_qualifier
    if psa is None:
        return _ANY_PSA
    return {None: (psa,), "<": (0.0, math.nextafter(psa, 0.0)), "<=": (0.0, psa),
            ">": (math.nextafter(psa, math.inf), _TOP_PSA), ">=": (psa, _TOP_PSA)}[bound]


def _local(t: str, gg: int, primary_5: bool, psa: float) -> RiskGroup:
    high_features = sum((t == "3a", gg >= 4, psa > 20.0))
    if t in {"3b", "3c"} or t.startswith("4") or primary_5 or high_features >= 2:
        return RiskGroup.VERY_HIGH
    if high_features:
        return RiskGroup.HIGH
    if t in {"2b", "2c"} or gg in (2, 3) or psa >= 10.0:
        return RiskGroup.INTERMEDIATE
    return RiskGroup.LOW


def _outcomes(note: ClinicalNote, rule) -> set:
    return {rule(t, gg, p5, psa) for t, (gg, p5), psa in
            product(_t_options(note), sorted(_gleason_options(note)), _psa_options(note))}


def nccn_risk_group(note: ClinicalNote) -> RiskGroup:
    """NCCN risk group from the fields the note gives; ``UNKNOWN`` when they cannot decide (module docstring)."""
    if note.metastasis == "positive":
        return RiskGroup.METASTATIC
    if note.n_stage == "N1":
        return RiskGroup.REGIONAL
    groups = _outcomes(note, _local)
    return groups.pop() if len(groups) == 1 else RiskGroup.UNKNOWN


def undecided_fields(note: ClinicalNote) -> list[str]:
    """The fields whose absence or vagueness leaves the risk group open (empty when it is decided)."""
    if nccn_risk_group(note) is not RiskGroup.UNKNOWN:
        return []
    axes = [_t_options(note), sorted(_gleason_options(note)), _psa_options(note)]
    out = []
    gleason = "Gleason score" if note.grade is None and note.grade_group is None else "Gleason patterns"
    for i, name in enumerate(("T stage", gleason, "PSA")):
        others = product(*(axis for j, axis in enumerate(axes) if j != i))
        if any(len({_local(*_insert(rest, i, option)) for option in axes[i]}) > 1 for rest in others):
            out.append(name)
    return out


def _insert(rest: tuple, i: int, option) -> tuple:
    t, gleason, psa = (*rest[:i], option, *rest[i:])
    return (t, *gleason, psa)


def intermediate_unfavourable(note: ClinicalNote) -> bool | None:
    """For an intermediate note: unfavourable (grade group 3, or two or more of T2b-c, grade group 2-3,
    PSA 10-20)? ``None`` when the note is not intermediate or its fields cannot decide."""
    if nccn_risk_group(note) is not RiskGroup.INTERMEDIATE:
        return None

    def unfavourable(t: str, gg: int, _p5: bool, psa: float) -> bool:
        return gg == 3 or sum((t in {"2b", "2c"}, gg in (2, 3), 10.0 <= psa <= 20.0)) >= 2

    answers = _outcomes(note, unfavourable)
    return answers.pop() if len(answers) == 1 else None


def grade_group(note: ClinicalNote) -> int | None:
    """ISUP grade group (1-5): as written, or from the Gleason score when that decides it."""
    if note.grade_group is not None:
        return note.grade_group
    if note.grade is None:
        return None
    groups = {gg for gg, _ in _gleason_options(note)}
    return groups.pop() if len(groups) == 1 else None


def grade_groups_for(score: int, primary: int | None = None) -> set[int]:
    """The ISUP grade groups a Gleason score (with its primary pattern when known) can be."""
    return {gg for gg, _ in _gleason_options(ClinicalNote(grade=score, gleason_primary=primary))}
