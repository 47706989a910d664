"""Clinical notes of prostate cancer patients: read the way clinicians write them, risk groups, features.

``read_note`` gives every field with the text it came from and its problems; ``parse_note`` gives the
fields of a usable note. The seed 000 tagged format (``<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis>
negative <Age> 69 <PSA> 11.6``) is one of the accepted forms and the one ``format_note`` writes.
"""

from models.data.notes.features import NOTE_FEATURE_SIZE, UNKNOWN_PSA_CLUSTER, format_note, note_features, psa_cluster
from models.data.notes.model import ClinicalNote, NoteParseError, RiskGroup
from models.data.notes.reading import FIELDS, FieldResult, NoteReading, parse_note, read_note
from models.data.notes.risk import grade_group, intermediate_unfavourable, nccn_risk_group, undecided_fields

__all__ = ["FIELDS", "NOTE_FEATURE_SIZE", "UNKNOWN_PSA_CLUSTER", "ClinicalNote", "FieldResult", "NoteParseError",
           "NoteReading", "RiskGroup", "format_note", "grade_group", "intermediate_unfavourable", "nccn_risk_group",
           "note_features", "parse_note", "psa_cluster", "read_note", "undecided_fields"]
