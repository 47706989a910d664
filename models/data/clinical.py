"""Clinical notes: the public names of :mod:`models.data.notes`, kept importable from here."""

from models.data.notes import (
    FIELDS,
    NOTE_FEATURE_SIZE,
    UNKNOWN_PSA_CLUSTER,
    ClinicalNote,
    FieldResult,
    NoteParseError,
    NoteReading,
    RiskGroup,
    format_note,
    grade_group,
    intermediate_unfavourable,
    nccn_risk_group,
    note_features,
    parse_note,
    psa_cluster,
    read_note,
    undecided_fields,
)

__all__ = ["FIELDS", "NOTE_FEATURE_SIZE", "UNKNOWN_PSA_CLUSTER", "ClinicalNote", "FieldResult", "NoteParseError",
           "NoteReading", "RiskGroup", "format_note", "grade_group", "intermediate_unfavourable", "nccn_risk_group",
           "note_features", "parse_note", "psa_cluster", "read_note", "undecided_fields"]
