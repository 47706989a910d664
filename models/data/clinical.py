"""Clinical notes in the seed 000 format (Supplementary Table 2) and their NCCN risk group.

A note reads ``<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ClinicalNote",
    "NoteParseError",
    "RiskGroup",
    "format_note",
    "note_features",
    "nccn_risk_group",
    "parse_note",
    "psa_cluster",
    "NOTE_FEATURE_SIZE",
]


class NoteParseError(ValueError):
    """A clinical note does not follow the seed format; the message says which part."""


class RiskGroup(StrEnum):
    LOW = "low"
    INTERMEDIATE = "intermediate"
    HIGH = "high"
    VERY_HIGH = "very_high"
    REGIONAL = "regional"
    METASTATIC = "metastatic"


@dataclass(frozen=True)
class ClinicalNote:
    grade: int
    gleason_primary: int | None
    gleason_secondary: int | None
    t_stage: str
    n_stage: str
    metastasis: str
    age: int | None
    psa: float | None

    @property
    def t_category(self) -> int:
        """The T category as a number 1-4 (``cT2a`` -> 2)."""
        return int(self.t_stage[2])


_FIELDS = ("grade", "stage", "metastasis", "age", "psa")
_TAG = re.compile(r"<\s*([a-z]+)\s*>", re.IGNORECASE)
_GRADE = re.compile(r"^([0-9]{1,2})(?:\s*\(\s*([0-9])\s*\+\s*([0-9])\s*\))?$")
_STAGE = re.compile(r"^([cp]?)\s*t\s*([1-4])([abc]?)\s*,?\s*n\s*([01x])$", re.IGNORECASE)
_UNKNOWN = {"unknown", "na", "n/a", "-", ""}


def parse_note(text: str) -> ClinicalNote:
    """Parse a note in the seed format, tolerant of case and spacing."""
    if not isinstance(text, str) or not text.strip():
        raise NoteParseError("the clinical note is empty")
    _refuse_other_digits(text)
    parts = _TAG.split(text.strip())
    if parts[0].strip():
        raise NoteParseError(f"the clinical note must start with <Grade>, found {parts[0].strip()[:20]!r}")
    values: dict[str, str] = {}
    for tag, value in zip(parts[1::2], parts[2::2], strict=True):
        key = tag.lower()
        if key not in _FIELDS:
            raise NoteParseError(f"the clinical note has an unknown tag <{tag}>")
        if key in values:
            raise NoteParseError(f"the clinical note repeats the tag <{tag}>")
        values[key] = " ".join(value.split())
    missing = [f"<{f.capitalize() if f != 'psa' else 'PSA'}>" for f in _FIELDS if f not in values]
    if missing:
        raise NoteParseError(f"the clinical note lacks {', '.join(missing)}")
    grade, primary, secondary = _parse_grade(values["grade"])
    t_stage, n_stage = _parse_stage(values["stage"])
    return ClinicalNote(
        grade=grade,
        gleason_primary=primary,
        gleason_secondary=secondary,
        t_stage=t_stage,
        n_stage=n_stage,
        metastasis=_parse_metastasis(values["metastasis"]),
        age=_parse_age(values["age"]),
        psa=_parse_psa(values["psa"]),
    )


def _refuse_other_digits(text: str) -> None:
    """Digits other than ASCII 0-9 (e.g. full-width '７') would parse but reach the text encoder unchanged."""
    other = next((ch for ch in text if ch.isdigit() and ch not in "0123456789"), None)
    if other is not None:
        raise NoteParseError(f"the clinical note has the non-ASCII digit {other!r} (U+{ord(other):04X}); write numbers "
                             "with the digits 0-9")


def _parse_grade(value: str) -> tuple[int, int | None, int | None]:
    m = _GRADE.match(value)
    if not m:
        raise NoteParseError(f"the <Grade> field {value!r} is not a Gleason score like '7 (4+3)'")
    grade = int(m.group(1))
    if not 2 <= grade <= 10:
        raise NoteParseError(f"the <Grade> field {value!r} is outside the Gleason range 2-10")
    if m.group(2) is None:
        return grade, None, None
    primary, secondary = int(m.group(2)), int(m.group(3))
    if primary + secondary != grade or not (1 <= primary <= 5 and 1 <= secondary <= 5):
        raise NoteParseError(f"the <Grade> field {value!r} has patterns that do not add up to {grade}")
    return grade, primary, secondary


def _parse_stage(value: str) -> tuple[str, str]:
    m = _STAGE.match(value)
    if not m:
        raise NoteParseError(f"the <Stage> field {value!r} is not a stage like 'cT2a, N0'")
    t_stage = f"{(m.group(1) or 'c').lower()}T{m.group(2)}{m.group(3).lower()}"
    n = m.group(4).lower()
    return t_stage, "Nx" if n == "x" else f"N{n}"


def _parse_metastasis(value: str) -> str:
    v = value.lower()
    if v in {"negative", "m0", "no"}:
        return "negative"
    if v in {"positive", "m1", "yes"}:
        return "positive"
    if v in _UNKNOWN or v == "mx":
        return "unknown"
    raise NoteParseError(f"the <Metastasis> field {value!r} is not negative, positive or unknown")


def _parse_age(value: str) -> int | None:
    if value.lower() in _UNKNOWN:
        return None
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 130:
        raise NoteParseError(f"the <Age> field {value!r} is not an age in years")
    return int(value)


def _parse_psa(value: str) -> float | None:
    if value.lower() in _UNKNOWN:
        return None
    try:
        psa = float(value)
    except ValueError:
        raise NoteParseError(f"the <PSA> field {value!r} is not a number") from None
    if not math.isfinite(psa) or psa < 0:
        raise NoteParseError(f"the <PSA> field {value!r} is not a non-negative number")
    return psa


def format_note(note: ClinicalNote) -> str:
    """Write a note in the exact seed format; ``parse_note(format_note(n)) == n``."""
    grade = str(note.grade)
    if note.gleason_primary is not None:
        grade += f" ({note.gleason_primary}+{note.gleason_secondary})"
    age = "unknown" if note.age is None else str(note.age)
    psa = "unknown" if note.psa is None else repr(float(note.psa)).removesuffix(".0")
    return (
        f"<Grade> {grade} <Stage> {note.t_stage}, {note.n_stage} "
        f"<Metastasis> {note.metastasis} <Age> {age} <PSA> {psa}"
    )


def grade_group(note: ClinicalNote) -> int:
    """ISUP grade group (1-5) from the Gleason score."""
    if note.grade <= 6:
        return 1
    if note.grade == 7:
        return 3 if note.gleason_primary == 4 else 2
    return 4 if note.grade == 8 else 5


def nccn_risk_group(note: ClinicalNote) -> RiskGroup:
    """NCCN risk group from the fields a note carries.

    Simplifications (the note has no biopsy core counts or PSA density): very-low is merged
    into low; favourable and unfavourable intermediate are one group; very high is T3b-T4,
    primary Gleason pattern 5, or two or more high-risk features (T3a, grade group 4-5,
    PSA > 20); a missing PSA counts as not elevated; the pathological T stage of a
    postoperative note is used as the T stage; metastasis 'unknown' counts as M0.
    """
    if note.metastasis == "positive":
        return RiskGroup.METASTATIC
    if note.n_stage == "N1":
        return RiskGroup.REGIONAL
    t = note.t_stage[2:]
    psa = note.psa if note.psa is not None else 0.0
    gg = grade_group(note)
    high_features = sum((t == "3a", gg >= 4, psa > 20.0))
    if t in {"3b", "3c", "4", "4a", "4b"} or note.gleason_primary == 5 or high_features >= 2:
        return RiskGroup.VERY_HIGH
    if high_features:
        return RiskGroup.HIGH
    if t in {"2b", "2c", "3"} or gg in (2, 3) or psa >= 10.0:
        return RiskGroup.INTERMEDIATE
    return RiskGroup.LOW


_PSA_BOUNDS = (5.0, 10.0, 20.0, 30.0)


def psa_cluster(psa: float | None) -> int:
    """Seed 000 PSA cluster: 0 <5, 1 <10, 2 <20, 3 <30, 4 >=30 (a missing PSA is cluster 0)."""
    if psa is None:
        return 0
    return sum(psa >= b for b in _PSA_BOUNDS)


_RISKS = tuple(RiskGroup)
NOTE_FEATURE_SIZE = 6 + len(_RISKS)


def note_features(note: ClinicalNote) -> list[float]:
    """A fixed-length vector in about [0, 1] for optional structured conditioning.

    [grade, T category, N1, M1, age, log PSA, one-hot risk group (6)]; missing age or PSA
    become the middle of their range.
    """
    age = 0.5 if note.age is None else min(max((note.age - 40) / 50, 0.0), 1.0)
    log_psa = 0.5 if note.psa is None else min(math.log1p(note.psa) / math.log1p(1000.0), 1.0)
    risk = nccn_risk_group(note)
    return [
        (note.grade - 2) / 8,
        (note.t_category - 1) / 3,
        1.0 if note.n_stage == "N1" else 0.0,
        1.0 if note.metastasis == "positive" else 0.0,
        age,
        log_psa,
        *(1.0 if r is risk else 0.0 for r in _RISKS),
    ]
