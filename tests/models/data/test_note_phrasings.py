"""Clinical notes as clinicians write them: every field read from free text, or reported as missing."""

from __future__ import annotations

import pytest

from models.data.clinical import NoteParseError, RiskGroup, parse_note, read_note

KEYS = ("gleason_score", "gleason_pattern", "grade_group", "t_stage", "n_stage", "metastasis", "age", "psa",
        "risk_group")


def row(text: str, **expected: object) -> tuple[str, dict[str, object]]:
    """A phrasing and every field it must give; fields not named must be missing (risk group 'unknown')."""
    return text, {k: expected.get(k, "unknown" if k == "risk_group" else None) for k in KEYS}


PHRASINGS = [
    row("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6", gleason_score=7,
        gleason_pattern="4+3", grade_group=3, t_stage="cT2a", n_stage="N0", metastasis="negative", age=69, psa=11.6,
        risk_group="intermediate"),
    row("GS 4+3=7, cT2b N0 M0, iPSA 12.4 ng/mL, 71 yo", gleason_score=7, gleason_pattern="4+3", grade_group=3,
        t_stage="cT2b", n_stage="N0", metastasis="negative", age=71, psa=12.4, risk_group="intermediate"),
    row("Gleason 3+4=7, cT1c, PSA 6.2, 64 y/o", gleason_score=7, gleason_pattern="3+4", grade_group=2,
        t_stage="cT1c", age=64, psa=6.2, risk_group="intermediate"),
    row("GS 7 (4+3)", gleason_score=7, gleason_pattern="4+3", grade_group=3),
    row("Gleason score 9 (4+5), cT3a N0 M0, PSA 8", gleason_score=9, gleason_pattern="4+5", grade_group=5,
        t_stage="cT3a", n_stage="N0", metastasis="negative", psa=8.0, risk_group="very_high"),
    row("Gleason 7", gleason_score=7),
    row("gleason sum 6, cT1c, PSA 4.1", gleason_score=6, grade_group=1, t_stage="cT1c", psa=4.1, risk_group="low"),
    row("Biopsy: 3+4=7 in 4/12 cores", gleason_score=7, gleason_pattern="3+4", grade_group=2),
    row("GG3", grade_group=3),
    row("ISUP 2, T2c", grade_group=2, t_stage="cT2c"),
    row("ISUP grade group 4; cT2a; PSA 5", grade_group=4, t_stage="cT2a", psa=5.0),
    row("WHO/ISUP grade 1, cT1c, PSA 3", grade_group=1, t_stage="cT1c", psa=3.0, risk_group="low"),
    row("pT3a pN0", t_stage="pT3a", n_stage="N0"),
    row("ypT2 ypN0 after neoadjuvant ADT", t_stage="ypT2", n_stage="N0"),
    row("postoperative pT3b R1, GS 4+3=7, PSA 0.2", gleason_score=7, gleason_pattern="4+3", grade_group=3,
        t_stage="pT3b", psa=0.2, risk_group="very_high"),
    row("clinically cT2b, after prostatectomy pT3a pN1", t_stage="pT3a", n_stage="N1", risk_group="regional"),
    row("cT3bN1M0", t_stage="cT3b", n_stage="N1", metastasis="negative", risk_group="regional"),
    row("T3a N0 M0", t_stage="cT3a", n_stage="N0", metastasis="negative"),
    row("stage T2", t_stage="cT2"),
    row("cN1", n_stage="N1", risk_group="regional"),
    row("M1b (bone)", metastasis="positive", risk_group="metastatic"),
    row("cT4 N1 M1c, GS 5+5=10, PSA 3865", gleason_score=10, gleason_pattern="5+5", grade_group=5, t_stage="cT4",
        n_stage="N1", metastasis="positive", psa=3865.0, risk_group="metastatic"),
    row("no distant metastases", metastasis="negative"),
    row("PSA >100", psa=100.0),
    row("PSA <0.1 ng/ml", psa=0.1),
    row("iPSA <4", psa=4.0),
    row("PSA ≥ 20", psa=20.0),
    row("PSA 0,8", psa=0.8),
    row("PSA 4,7 ng/mL, GS 3+3=6, cT1c", gleason_score=6, gleason_pattern="3+3", grade_group=1, t_stage="cT1c",
        psa=4.7, risk_group="low"),
    row("PSA: 15.2 ng/ml", psa=15.2),
    row("prostate-specific antigen of 7", psa=7.0),
    row("Prostate specific antigen (PSA) was 9.4 µg/L", psa=9.4),
    row("initial PSA 24, PSA 0.3 after ADT, cT2a, GS 3+3", gleason_score=6, gleason_pattern="3+3", grade_group=1,
        t_stage="cT2a", psa=24.0, risk_group="high"),
    row("PSA at diagnosis was 12", psa=12.0),
    row("age 64", age=64),
    row("64 y/o", age=64),
    row("aged 71", age=71),
    row("a 71-year-old man", age=71),
    row("71\u2011year\u2011old, Gleason 4\u2009+\u20093\u2009=\u20097, cT2a\u2013N0", gleason_score=7,
        gleason_pattern="4+3", grade_group=3, t_stage="cT2a", n_stage="N0", age=71),
    row("Patient, 68 ans, ISUP 3", grade_group=3, age=68),
    row("GLEASON SCORE 4+3=7; CT2A; PSA 11,6 NG/ML; 69 YO", gleason_score=7, gleason_pattern="4+3", grade_group=3,
        t_stage="cT2a", age=69, psa=11.6, risk_group="intermediate"),
    row("Hx:\nGS 3+4=7\ncT2a N0\nPSA 9.8\n", gleason_score=7, gleason_pattern="3+4", grade_group=2, t_stage="cT2a",
        n_stage="N0", psa=9.8, risk_group="intermediate"),
    row("Gleason 3+4=7 (GG2); Gleason score 7", gleason_score=7, gleason_pattern="3+4", grade_group=2),
    row("History: TURP 2015. MRI: T2-weighted hypointense lesion, PI-RADS 4, PSA density 0.21, free PSA 1.2. "
        "CT 3 months ago: no nodes. Diagnosed 5 years ago."),
    row("Gleason 7 = 3 + 4 (grade group 2)", gleason_score=7, gleason_pattern="3+4", grade_group=2),
    row("Gleason-Score 3+4=7, PSA-Wert 4,7 ng/ml, ISUP-Grad 2", gleason_score=7, gleason_pattern="3+4",
        grade_group=2, psa=4.7),
    row("TNM: cT2c cN0 cM0", t_stage="cT2c", n_stage="N0", metastasis="negative"),
    row("Age at diagnosis: 71; M0 on PSMA PET (SUVmax 12)", age=71, metastasis="negative"),
    row("PSA 5 years ago, now rising"),
    row("<Grade> 6 <Stage> cT1c, Nx <Metastasis> unknown <Age> unknown <PSA> unknown", gleason_score=6,
        grade_group=1, t_stage="cT1c", n_stage="Nx", metastasis="unknown"),
    row("<Grade> 9 (5+4) <Stage> cT3a, N0 <Metastasis> unknown <Age> 78 <PSA> 38.4", gleason_score=9,
        gleason_pattern="5+4", grade_group=5, t_stage="cT3a", n_stage="N0", metastasis="unknown", age=78, psa=38.4,
        risk_group="very_high"),
]


@pytest.mark.parametrize("text, expected", PHRASINGS, ids=[t[:40] for t, _ in PHRASINGS])
def test_each_phrasing_gives_exactly_its_fields(text: str, expected: dict[str, object]) -> None:
    reading = read_note(text)

    got = {k: reading.fields[k].value for k in KEYS}
    assert got == expected
    assert not reading.errors and not reading.warnings
    for name, result in reading.fields.items():
        if result.value is not None and name != "risk_group":
            start, end = result.span
            assert text[start:end] == result.source  # the source is the user's own text, unchanged


def test_the_table_covers_enough_phrasings() -> None:
    assert len(PHRASINGS) >= 40


@pytest.mark.parametrize("text, needle", [
    ("Gleason 4+4=7", "do not add up"),
    ("Gleason 3+4=7, ISUP 3", "grade group 3"),
    ("GS 3+4=7, later GS 4+3=7", "two different values for the Gleason score"),
    ("PSA 12.4, repeat PSA 8.1", "two different values for the PSA"),
    ("cT2a ... cT3b", "two different values for the T stage"),
    ("pN0 and pN1", "two different values for the N stage"),
    ("M0, M1a", "two different values for the M stage"),
    ("aged 64, 71 yo", "two different values for the age"),
    ("GS 7 (4+3), PSA １2", "non-ASCII digit '１'"),
])
def test_a_note_that_contradicts_itself_is_refused_field_by_field(text: str, needle: str) -> None:
    reading = read_note(text)

    assert not reading.usable and any(needle in e for e in reading.errors)
    assert reading.risk_group is RiskGroup.UNKNOWN  # which of the two values holds is not known
    assert any(needle in p for r in reading.fields.values() for p in r.problems) or "digit" in needle
    with pytest.raises(NoteParseError, match=needle.split("'")[0]):
        parse_note(text)


@pytest.mark.parametrize("text, needle", [
    ("PSA 1,250", "decimal point"),
    ("Gleason 12", "range 2-10"),
    ("GG7", "range 1-5"),
    ("aged 230", "not an age"),
])
def test_a_value_that_cannot_be_read_is_a_warning_not_a_failure(text: str, needle: str) -> None:
    reading = read_note(text)

    assert reading.errors == () and any(needle in w for w in reading.warnings)
    assert all(r.value is None for k, r in reading.fields.items() if k != "risk_group")


@pytest.mark.parametrize("text", ["", "   ", None, "the patient is well", "CT 3 months ago, T2 hypointense"])
def test_text_without_any_field_does_not_parse(text: str | None) -> None:
    with pytest.raises(NoteParseError):
        parse_note(text)

    assert read_note(text).risk_group is RiskGroup.UNKNOWN


def test_the_unknown_risk_group_says_which_fields_would_decide_it() -> None:
    reading = read_note("Gleason 8, cT2a, PSA 5")

    assert reading.risk_group is RiskGroup.UNKNOWN
    assert reading.fields["risk_group"].problems == ("deciding the risk group needs the Gleason patterns",)
    assert reading.missing == ["N stage", "M stage", "age"]
