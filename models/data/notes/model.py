"""What a clinical note says about a prostate cancer patient, with every field optional.

A field is ``None`` when the note does not give it; ``n_stage="Nx"`` and ``metastasis="unknown"``
are what a note says when it states that the field was not assessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ClinicalNote", "NoteParseError", "RiskGroup"]


class NoteParseError(ValueError):
    """A clinical note cannot be used (empty, contradicts itself, foreign digits); the message says why."""


class RiskGroup(StrEnum):
    """NCCN risk groups of the note (very low is merged into low, intermediate is not split).

    ``regional`` is NCCN's group for node-positive disease without distant metastasis (any T, N1, M0);
    ``unknown`` means the fields the note gives cannot decide the group.
    """

    LOW = "low"
    INTERMEDIATE = "intermediate"
    HIGH = "high"
    VERY_HIGH = "very_high"
    REGIONAL = "regional"
    METASTATIC = "metastatic"
    UNKNOWN = "unknown"


_T_STAGE = re.compile(r"^(?:y?[cp]|r)?T([1-4])([abc]?)$")


@dataclass(frozen=True)
class ClinicalNote:
    """The fields of one note; ``grade`` is the Gleason score (2-10), ``t_stage`` e.g. ``cT2a`` or ``ypT3b``,
    ``grade_group`` the ISUP grade group when the note writes one, ``psa`` in ng/mL and ``psa_qualifier``
    ``'<'`` or ``'>'`` when the note gives only a bound (``PSA >100``)."""

    grade: int | None = None
    gleason_primary: int | None = None
    gleason_secondary: int | None = None
    t_stage: str | None = None
    n_stage: str | None = None
    metastasis: str | None = None
    age: int | None = None
    psa: float | None = None
    grade_group: int | None = None
    psa_qualifier: str | None = None

    @property
    def t_category(self) -> int | None:
        """The T category as a number 1-4 (``cT2a`` -> 2), ``None`` without a T stage."""
        m = _T_STAGE.match(self.t_stage or "")
        return int(m.group(1)) if m else None

    @property
    def t_detail(self) -> str | None:
        """The T stage without its prefix (``pT3b`` -> ``3b``), ``None`` without a T stage."""
        m = _T_STAGE.match(self.t_stage or "")
        return m.group(1) + m.group(2) if m else None

    @property
    def psa_estimate(self) -> float | None:
        """The PSA as one number: a bound (``<0.1``, ``>100``) becomes the nearest value inside it."""
        if self.psa is None or self.psa_qualifier is None:
            return self.psa
        return math.nextafter(self.psa, 0.0 if self.psa_qualifier == "<" else math.inf)
