"""Numbers from a note: the structured-conditioning vector, PSA clusters, and the seed-format writer."""

from __future__ import annotations

import math

from models.data.notes.model import ClinicalNote, RiskGroup
from models.data.notes.risk import nccn_risk_group

__all__ = ["NOTE_FEATURE_SIZE", "UNKNOWN_PSA_CLUSTER", "format_note", "note_features", "psa_cluster"]

_PSA_BOUNDS = (5.0, 10.0, 20.0, 30.0)
UNKNOWN_PSA_CLUSTER = -1
"""The cluster of a case whose PSA is unknown: its own, so that few-shot selection neither counts it as
a low PSA nor leaves such cases out."""


def psa_cluster(psa: float | None) -> int:
    """Seed 000 PSA cluster: 0 <5, 1 <10, 2 <20, 3 <30, 4 >=30; ``UNKNOWN_PSA_CLUSTER`` (-1) without a PSA."""
    if psa is None:
        return UNKNOWN_PSA_CLUSTER
    return sum(psa >= b for b in _PSA_BOUNDS)


_RISKS = tuple(r for r in RiskGroup if r is not RiskGroup.UNKNOWN)
NOTE_FEATURE_SIZE = 6 + len(_RISKS)
_GROUP_SCORE = {1: 6.0, 2: 7.0, 3: 7.0, 4: 8.0, 5: 9.5}


def note_features(note: ClinicalNote) -> list[float]:
    """A fixed-length vector in [0, 1] for the parsed-note conditioning of trained models.

    [grade, T category, N1, M1, age, log PSA, one-hot risk group (low, intermediate, high, very high,
    regional, metastatic)]. The layout and the values of complete notes are those trained models were
    fitted on. A missing Gleason score, T category, age or PSA becomes the middle of its range (a written
    grade group stands for its Gleason score); a missing N or M stage reads 0 as ``Nx`` and an ``unknown``
    metastasis always did; an ``unknown`` risk group is all zeros.
    """
    score = note.grade if note.grade is not None else _GROUP_SCORE.get(note.grade_group)
    t = note.t_category
    psa = note.psa_estimate
    risk = nccn_risk_group(note)
    return [
        0.5 if score is None else (score - 2) / 8,
        0.5 if t is None else (t - 1) / 3,
        1.0 if note.n_stage == "N1" else 0.0,
        1.0 if note.metastasis == "positive" else 0.0,
        0.5 if note.age is None else min(max((note.age - 40) / 50, 0.0), 1.0),
        0.5 if psa is None else min(math.log1p(psa) / math.log1p(1000.0), 1.0),
        *(1.0 if r is risk else 0.0 for r in _RISKS),
    ]


def format_note(note: ClinicalNote) -> str:
    """The note in the seed format; exact for complete notes, and ``parse_note(format_note(n)) == n`` for them.

    Missing fields are written as ``unknown``, ``Tx`` and ``Nx``; a grade group without a Gleason score as
    ``GG3``; a PSA bound with its sign (``<PSA> >100``).
    """
    if note.grade is not None:
        grade = str(note.grade)
        if note.gleason_primary is not None:
            grade += f" ({note.gleason_primary}+{note.gleason_secondary})"
    else:
        grade = f"GG{note.grade_group}" if note.grade_group is not None else "unknown"
    age = "unknown" if note.age is None else str(note.age)
    psa = "unknown" if note.psa is None else (note.psa_qualifier or "") + repr(float(note.psa)).removesuffix(".0")
    return (
        f"<Grade> {grade} <Stage> {note.t_stage or 'Tx'}, {note.n_stage or 'Nx'} "
        f"<Metastasis> {note.metastasis or 'unknown'} <Age> {age} <PSA> {psa}"
    )
