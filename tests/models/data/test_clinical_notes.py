"""Clinical-note parser, formatter, NCCN risk groups, PSA clusters and features."""

from __future__ import annotations

import pytest

from models.data.clinical import (
    NOTE_FEATURE_SIZE,
    ClinicalNote,
    NoteParseError,
    RiskGroup,
    format_note,
    nccn_risk_group,
    note_features,
    parse_note,
    psa_cluster,
)

SEED_NOTE = "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6"


def test_parses_the_seed_example() -> None:
    note = parse_note(SEED_NOTE)

    assert note == ClinicalNote(grade=7, gleason_primary=4, gleason_secondary=3, t_stage="cT2a", n_stage="N0",
                                metastasis="negative", age=69, psa=11.6)


@pytest.mark.parametrize("text, t_stage, metastasis", [
    ("<grade>7(4+3)<stage>CT2A,n0<metastasis>NEGATIVE<age>69<psa>11.6", "cT2a", "negative"),
    ("  <Grade>   7 ( 4 + 3 )\n<Stage>  cT2a ,  N0  <Metastasis> Negative <Age> 69 <PSA>  11.6 ", "cT2a", "negative"),
    ("<Grade> 7 (4+3) <Stage> pT3a, N0 <Metastasis> Unknown <Age> 69 <PSA> 11.6", "pT3a", "unknown"),
])
def test_tolerates_case_and_spacing(text: str, t_stage: str, metastasis: str) -> None:
    note = parse_note(text)

    assert (note.grade, note.gleason_primary, note.t_stage, note.metastasis, note.psa) == (
        7, 4, t_stage, metastasis, 11.6)


def test_grade_without_patterns_and_unknown_age_psa() -> None:
    note = parse_note("<Grade> 6 <Stage> cT1c, Nx <Metastasis> unknown <Age> unknown <PSA> unknown")

    assert (note.grade, note.gleason_primary, note.n_stage, note.age, note.psa) == (6, None, "Nx", None, None)


@pytest.mark.parametrize("text, needle", [
    ("", "empty"),
    ("   ", "empty"),
    ("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69", "<PSA>"),
    ("<Grade> 7 (4+4) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "add up"),
    ("<Grade> 12 <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "Gleason range"),
    ("<Grade> seven <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "<Grade>"),
    ("<Grade> 7 <Stage> cT5, N0 <Metastasis> negative <Age> 69 <PSA> 11", "<Stage>"),
    ("<Grade> 7 <Stage> cT2a, N0 <Metastasis> maybe <Age> 69 <PSA> 11", "<Metastasis>"),
    ("<Grade> 7 <Stage> cT2a, N0 <Metastasis> negative <Age> old <PSA> 11", "<Age>"),
    ("<Grade> 7 <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> -3", "<PSA>"),
    ("<Grade> 7 <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11 <Color> red", "unknown tag"),
    ("<Grade> 7 <Grade> 8 <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "repeats"),
    ("Gleason 7 <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "start with"),
])
def test_malformed_notes_raise_one_clear_sentence(text: str, needle: str) -> None:
    with pytest.raises(NoteParseError) as info:
        parse_note(text)

    message = str(info.value)
    assert needle in message
    assert "\n" not in message and isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", [
    SEED_NOTE,
    "<Grade> 9 (5+4) <Stage> cT3a, N0 <Metastasis> unknown <Age> 78 <PSA> 38.4",
    "<Grade> 7 (4+3) <Stage> pT3a, N1 <Metastasis> negative <Age> 61 <PSA> 8.31",
    "<Grade> 6 <Stage> cT1c, Nx <Metastasis> positive <Age> unknown <PSA> 0.01",
])
def test_format_round_trips(text: str) -> None:
    note = parse_note(text)

    written = format_note(note)

    assert written == text
    assert parse_note(written) == note


@pytest.mark.parametrize("text, risk", [
    ("<Grade> 6 (3+3) <Stage> cT1c, N0 <Metastasis> negative <Age> 60 <PSA> 6.0", RiskGroup.LOW),
    ("<Grade> 6 (3+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 60 <PSA> 12.0", RiskGroup.INTERMEDIATE),
    ("<Grade> 7 (3+4) <Stage> cT1c, N0 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.INTERMEDIATE),
    ("<Grade> 6 (3+3) <Stage> cT2b, N0 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.INTERMEDIATE),
    ("<Grade> 8 (4+4) <Stage> cT2a, N0 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.HIGH),
    ("<Grade> 7 (4+3) <Stage> cT3a, N0 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.HIGH),
    ("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 60 <PSA> 25.0", RiskGroup.HIGH),
    ("<Grade> 7 (4+3) <Stage> cT3b, N0 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.VERY_HIGH),
    ("<Grade> 9 (5+4) <Stage> cT2a, N0 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.VERY_HIGH),
    ("<Grade> 8 (4+4) <Stage> cT3a, N0 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.VERY_HIGH),
    ("<Grade> 6 (3+3) <Stage> cT1c, N1 <Metastasis> negative <Age> 60 <PSA> 4.0", RiskGroup.REGIONAL),
    ("<Grade> 6 (3+3) <Stage> cT1c, N1 <Metastasis> positive <Age> 60 <PSA> 4.0", RiskGroup.METASTATIC),
])
def test_nccn_risk_groups(text: str, risk: RiskGroup) -> None:
    assert nccn_risk_group(parse_note(text)) is risk


@pytest.mark.parametrize("psa, cluster", [
    (0.0, 0), (4.99, 0), (5.0, 1), (9.99, 1), (10.0, 2), (19.99, 2), (20.0, 3), (29.99, 3), (30.0, 4), (3865.0, 4),
    (None, 0),
])
def test_psa_clusters_at_boundaries(psa: float | None, cluster: int) -> None:
    assert psa_cluster(psa) == cluster


def test_note_features_are_fixed_length_and_bounded() -> None:
    low = note_features(parse_note("<Grade> 6 (3+3) <Stage> cT1c, N0 <Metastasis> negative <Age> 60 <PSA> 4")
                        )
    high = note_features(parse_note("<Grade> 9 (5+4) <Stage> cT3b, N1 <Metastasis> unknown <Age> 80 <PSA> 90"))

    assert len(low) == len(high) == NOTE_FEATURE_SIZE
    assert all(0.0 <= v <= 1.0 for v in low + high)
    assert high[0] > low[0] and high[1] > low[1] and high[2] == 1.0 and high[5] > low[5]
    assert sum(low[6:]) == sum(high[6:]) == 1.0 and low[6:] != high[6:]


@pytest.mark.parametrize("text, digit", [
    ("<Grade> ７ (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6", "７"),
    ("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> ６9 <PSA> 11.6", "６"),
    ("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> １1.6", "１"),
    ("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 1١.6", "١"),  # Arabic-Indic one
])
def test_digits_other_than_ascii_are_refused_by_name(text: str, digit: str) -> None:
    with pytest.raises(NoteParseError) as err:
        parse_note(text)

    assert repr(digit) in str(err.value) and "0-9" in str(err.value)
