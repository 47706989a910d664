"""Clinical-note parser, formatter, NCCN risk groups, PSA clusters and features."""

from __future__ import annotations

import pytest

from models.data.clinical import (
    NOTE_FEATURE_SIZE,
    UNKNOWN_PSA_CLUSTER,
    ClinicalNote,
    NoteParseError,
    RiskGroup,
    format_note,
    nccn_risk_group,
    note_features,
    parse_note,
    psa_cluster,
    read_note,
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
    (None, "empty"),
    ("<Grade> 7 (4+4) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "add up"),
    ("<Grade> 7 (3+4) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11 (ISUP 3)", "grade group 3"),
    ("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11, PSA 9", "two different values"),
    ("the patient is well", "names none"),
])
def test_unusable_notes_raise_one_clear_sentence(text: str | None, needle: str) -> None:
    with pytest.raises(NoteParseError) as info:
        parse_note(text)

    message = str(info.value)
    assert needle in message
    assert "\n" not in message and isinstance(info.value, ValueError)


@pytest.mark.parametrize("text, tag, field", [
    ("<Grade> 12 <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "range 2-10", "gleason_score"),
    ("<Grade> seven <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11", "<Grade>", "gleason_score"),
    ("<Grade> 7 <Stage> cT5, N0 <Metastasis> negative <Age> 69 <PSA> 11", "<Stage>", "t_stage"),
    ("<Grade> 7 <Stage> cT2a, N0 <Metastasis> maybe <Age> 69 <PSA> 11", "<Metastasis>", "metastasis"),
    ("<Grade> 7 <Stage> cT2a, N0 <Metastasis> negative <Age> old <PSA> 11", "<Age>", "age"),
    ("<Grade> 7 <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> -3", "<PSA>", "psa"),
])
def test_an_unreadable_seed_value_is_a_warning_and_leaves_only_that_field_missing(text: str, tag: str,
                                                                                 field: str) -> None:
    reading = read_note(text)

    assert reading.usable and any(tag in w for w in reading.warnings)
    assert reading.fields[field].value is None
    assert len(reading.missing) == 1


def test_the_seed_format_with_extra_tags_or_no_leading_grade_still_reads() -> None:
    extra = parse_note(SEED_NOTE + " <Center> B")
    reordered = parse_note("<PSA> 11.6 <Age> 69 <Stage> cT2a, N0 <Grade> 7 (4+3) <Metastasis> negative")

    assert extra == reordered == parse_note(SEED_NOTE)


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
    (None, UNKNOWN_PSA_CLUSTER),
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


# note_features of complete notes as trained models saw them (computed before notes could lack fields);
# a change here invalidates the parsed-note FiLM weights of every trained model.
_PINNED = [
    ("<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6",
     [0.625, 1 / 3, 0.0, 0.0, 0.58, 0.36673711759799443, 0, 1, 0, 0, 0, 0]),
    ("<Grade> 6 (3+3) <Stage> cT1c, N0 <Metastasis> negative <Age> 58 <PSA> 4.2",
     [0.5, 0.0, 0.0, 0.0, 0.36, 0.2386332527713182, 1, 0, 0, 0, 0, 0]),
    ("<Grade> 9 (5+4) <Stage> cT3a, N0 <Metastasis> unknown <Age> 78 <PSA> 38.4",
     [0.875, 2 / 3, 0.0, 0.0, 0.76, 0.5317551329659471, 0, 0, 0, 1, 0, 0]),
    ("<Grade> 7 (4+3) <Stage> pT3a, N1 <Metastasis> negative <Age> 61 <PSA> 8.31",
     [0.625, 2 / 3, 1.0, 0.0, 0.42, 0.32293650050640765, 0, 0, 0, 0, 1, 0]),
    ("<Grade> 8 (4+4) <Stage> cT2c, Nx <Metastasis> positive <Age> 85 <PSA> 250",
     [0.75, 1 / 3, 0.0, 1.0, 0.9, 0.7997755189799128, 0, 0, 0, 0, 0, 1]),
    ("<Grade> 8 (4+4) <Stage> cT2b, N0 <Metastasis> negative <Age> 66 <PSA> 12",
     [0.75, 1 / 3, 0.0, 0.0, 0.52, 0.3712607321280216, 0, 0, 1, 0, 0, 0]),
    ("<Grade> 7 (3+4) <Stage> pT3b, N0 <Metastasis> unknown <Age> 70 <PSA> 0.4",
     [0.625, 2 / 3, 0.0, 0.0, 0.6, 0.04870229836910832, 0, 0, 0, 1, 0, 0]),
]


@pytest.mark.parametrize("text, expected", _PINNED)
def test_features_of_complete_notes_are_the_ones_trained_models_saw(text: str, expected: list[float]) -> None:
    features = note_features(parse_note(text))

    assert len(features) == NOTE_FEATURE_SIZE == 12
    assert features == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("text", ["", None, "   "])
def test_a_case_without_a_note_reads_as_every_field_unknown(text: str | None) -> None:
    reading = read_note(text)

    assert reading.empty and not reading.usable and reading.risk_group is RiskGroup.UNKNOWN
    assert note_features(reading.note) == [0.5, 0.5, 0.0, 0.0, 0.5, 0.5, 0, 0, 0, 0, 0, 0]


def test_missing_fields_take_the_middle_of_their_range_and_unknown_risk_is_all_zero() -> None:
    features = note_features(parse_note("GS 4+3=7, 71 yo"))

    assert features[0] == 0.625 and features[1] == 0.5 and features[5] == 0.5
    assert features[4] == pytest.approx(0.62) and features[6:] == [0.0] * 6


@pytest.mark.parametrize("text, risk", [
    ("M1b", RiskGroup.METASTATIC),
    ("cN1, PSA 4", RiskGroup.REGIONAL),
    ("Gleason 5+4=9", RiskGroup.VERY_HIGH),
    ("cT3b", RiskGroup.VERY_HIGH),
    ("cT4 N0", RiskGroup.VERY_HIGH),
    ("GG4, cT3a", RiskGroup.VERY_HIGH),
    ("PSA 25, cT3a", RiskGroup.VERY_HIGH),
    ("GG5", RiskGroup.UNKNOWN),  # 4+5 is high without a second feature, 5+4 very high
    ("Gleason 8, cT2a, PSA 5", RiskGroup.UNKNOWN),  # 5+3 would be very high
    ("Gleason 8 (4+4), cT2a, PSA 5", RiskGroup.HIGH),
    ("GG3, cT2a, PSA 5", RiskGroup.INTERMEDIATE),
    ("GG1, cT2a, PSA 5", RiskGroup.LOW),
    ("GG1, cT2, PSA 5", RiskGroup.UNKNOWN),  # T2a low, T2b intermediate
    ("GG2, cT2, PSA 5", RiskGroup.INTERMEDIATE),
    ("GG1, cT1c", RiskGroup.UNKNOWN),  # the PSA decides between low, intermediate and high
    ("GG1, cT1c, PSA <4", RiskGroup.LOW),
    ("GG1, cT1c, PSA >100", RiskGroup.HIGH),
    ("GG1, cT1c, PSA <15", RiskGroup.UNKNOWN),
    ("Gleason 3+3=6, PSA 6", RiskGroup.UNKNOWN),  # no T stage: T3b would be very high
    ("cT3, Gleason 8 (4+4)", RiskGroup.VERY_HIGH),  # T3a or T3b with grade group 4: very high either way
])
def test_the_risk_group_is_decided_by_the_fields_present_or_unknown(text: str, risk: RiskGroup) -> None:
    assert nccn_risk_group(parse_note(text)) is risk


class _FlatEncoder:
    """A stand-in text encoder: one zero token per note."""

    dim = 16

    def encode(self, notes: list[str]):
        import torch

        return torch.zeros(len(notes), 1, self.dim), torch.ones(len(notes), 1, dtype=torch.bool)


def test_the_structured_token_reads_partial_notes_and_a_missing_note_as_neutral() -> None:
    from models.text import StructuredNoteEncoder

    notes = ["", "GS 4+3=7, cT2b N0 M0, iPSA 12.4 ng/mL, 71 yo", "PSA 12, PSA 9", "not a note",
             "<Center> B"]
    text, mask = StructuredNoteEncoder(_FlatEncoder()).encode(notes)

    token = text[:, -1, :NOTE_FEATURE_SIZE].tolist()
    assert token[0] == pytest.approx(note_features(read_note("").note))
    assert token[1] == pytest.approx(note_features(parse_note(notes[1])))
    assert token[2] == token[3] == [0.0] * NOTE_FEATURE_SIZE  # contradicting, or nothing read: zero token
    assert token[4] == token[0] and mask.all()


def test_a_case_without_a_psa_is_its_own_shot_cluster() -> None:
    from pathlib import Path

    from models.data.dataset import Case
    from models.training.shots import cluster_of

    def case(note: str | None) -> Case:
        return Case(case_id="x", image=Path("/x.nii.gz"), label=None, organ=None, gtv=None, clinical=note)

    assert [cluster_of(case(n)) for n in (None, "", "GS 3+4=7", "PSA 12, PSA 9", "PSA <5", "PSA 4,9", "iPSA >100")
            ] == [UNKNOWN_PSA_CLUSTER] * 4 + [0, 0, 4]


def test_verify_warns_for_missing_note_fields_and_fails_only_for_contradictions(tiny_dataset) -> None:
    import json

    from models.data.verify import verify_dataset

    doc = json.loads((tiny_dataset / "dataset.json").read_text())
    ids = [entry["id"] for entry in doc["training"]]
    doc["training"][0]["clinical"] = "GS 4+3=7, cT2b, 71 yo"
    doc["training"][1]["clinical"] = ""
    doc["training"][2]["clinical"] = "GS 4+3=7, PSA 12.4, PSA 8.1"
    (tiny_dataset / "dataset.json").write_text(json.dumps(doc))

    problems = {p.case_id: p for p in verify_dataset(tiny_dataset)}

    assert set(problems) == set(ids)
    assert problems[ids[0]].warning and "gives no N stage, M stage, PSA (risk group unknown)" in str(problems[ids[0]])
    assert problems[ids[1]].warning and "has no clinical note" in str(problems[ids[1]])
    assert not problems[ids[2]].warning and "two different values for the PSA" in str(problems[ids[2]])


def test_a_dataset_whose_notes_only_lack_fields_passes_verify(tiny_dataset) -> None:
    import json

    from site_agent.verify import verify

    doc = json.loads((tiny_dataset / "dataset.json").read_text())
    doc["training"][0]["clinical"] = "GG2, PSA 0,8"
    (tiny_dataset / "dataset.json").write_text(json.dumps(doc))

    report = verify(tiny_dataset)

    assert report["ok"] is True and [p["warning"] for p in report["problems"]] == [True]
