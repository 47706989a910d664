"""Read a note into per-field results (value, source text, problems) and a :class:`ClinicalNote`.

Several mentions of one field must agree; the pathological T and N stages win over the clinical
ones and an initial PSA (``iPSA``) over other PSA values. Mentions that disagree, Gleason patterns
that do not add up, a grade group that is not the Gleason score's, and digits other than 0-9 make
the note contradict itself (``errors``); a value that cannot be read is a ``warning``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from models.data.notes.extract import Mention, find_mentions, normalise
from models.data.notes.model import ClinicalNote, NoteParseError, RiskGroup
from models.data.notes.risk import grade_group, grade_groups_for, nccn_risk_group, undecided_fields

__all__ = ["FIELDS", "FieldResult", "NoteReading", "parse_note", "read_note"]

FIELDS = {"gleason_score": "Gleason score", "gleason_pattern": "Gleason patterns", "grade_group": "ISUP grade group",
          "t_stage": "T stage", "n_stage": "N stage", "metastasis": "M stage", "age": "age", "psa": "PSA",
          "risk_group": "risk group"}
"""Reported fields and their names in sentences."""

_SEED_TAG = re.compile(r"<\s*(grade|stage|metastasis|age|psa)\s*>", re.I)
_TAG_FIELDS = {"grade": ("gleason", "grade_group"), "stage": ("t_stage",), "metastasis": ("metastasis",),
               "age": ("age",), "psa": ("psa",)}
_ANY_TAG = re.compile(r"<\s*[a-z]+\s*>", re.I)
_UNKNOWN = {"", "unknown", "na", "n/a", "-", "nk", "unk", "not known", "not available"}
_NOT_STATED = {"t_stage": None, "n_stage": "Nx", "metastasis": "unknown"}
_PREFERRED = {"t_stage": "pathological", "n_stage": "pathological", "psa": "initial"}


@dataclass(frozen=True)
class FieldResult:
    """One field as read: its value (``None`` when not found), the text it came from and any problems."""

    value: object = None
    source: str | None = None
    span: tuple[int, int] | None = None
    problems: tuple[str, ...] = ()
    qualifier: str | None = None

    def to_json(self) -> dict:
        out = {"value": self.value, "source": self.source, "span": list(self.span) if self.span else None,
               "problems": list(self.problems)}
        return {**out, "qualifier": self.qualifier} if self.qualifier else out


@dataclass(frozen=True)
class NoteReading:
    """What a note says, field by field; ``errors`` make it unusable, ``warnings`` do not."""

    text: str
    note: ClinicalNote
    fields: dict[str, FieldResult]
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    risk_group: RiskGroup = RiskGroup.UNKNOWN
    mentions: tuple[Mention, ...] = field(default=(), repr=False)

    @property
    def empty(self) -> bool:
        return not self.text.strip()

    @property
    def usable(self) -> bool:
        """Not empty, and it neither contradicts itself nor hides foreign digits."""
        return not self.empty and not self.errors

    @property
    def found_any(self) -> bool:
        return bool(self.mentions)

    @property
    def missing(self) -> list[str]:
        """Names of the note's fields it does not give (a grade group stands for the Gleason score)."""
        f = self.fields
        present = {"gleason_score": f["gleason_score"].value is not None or f["grade_group"].value is not None,
                   **{k: f[k].value is not None for k in ("t_stage", "n_stage", "metastasis", "age", "psa")}}
        return [FIELDS[k] for k, ok in present.items() if not ok]

    def to_json(self) -> dict:
        return {"text": self.text, "usable": self.usable, "risk_group": self.risk_group.value,
                "missing": self.missing, "errors": list(self.errors), "warnings": list(self.warnings),
                "fields": {k: v.to_json() for k, v in self.fields.items()}}


def read_note(text: str | None) -> NoteReading:
    """Read every field ``text`` gives; never raises (``None`` and ``""`` are a case without a note)."""
    text = text if isinstance(text, str) else ""
    norm = normalise(text)
    mentions = find_mentions(norm)
    errors: list[str] = _foreign_digits(text)
    warnings: list[str] = []
    fields: dict[str, FieldResult] = {}
    for name in ("gleason", "grade_group", "t_stage", "n_stage", "metastasis", "age", "psa"):
        fields[name] = _resolve(text, [m for m in mentions if m.field == name], name, errors, warnings)
    _cross_check(fields, errors)
    warnings += _unread_seed_values(norm, mentions)
    gleason = fields.pop("gleason")
    total, primary, secondary = gleason.value or (None, None, None)
    psa, bound = fields["psa"].value or (None, None)
    note = ClinicalNote(grade=total, gleason_primary=primary, gleason_secondary=secondary,
                        t_stage=fields["t_stage"].value, n_stage=fields["n_stage"].value,
                        metastasis=fields["metastasis"].value, age=fields["age"].value, psa=psa,
                        grade_group=fields["grade_group"].value, psa_qualifier=bound)
    risk = nccn_risk_group(note) if not errors else RiskGroup.UNKNOWN  # which of two values holds is unknown
    open_fields = undecided_fields(note) if not errors else []
    out = {"gleason_score": FieldResult(total, gleason.source, gleason.span, gleason.problems),
           "gleason_pattern": FieldResult(f"{primary}+{secondary}" if primary else None,
                                          gleason.source if primary else None, gleason.span if primary else None),
           "grade_group": _grade_group_result(fields["grade_group"], gleason, note),
           **{k: fields[k] for k in ("t_stage", "n_stage", "metastasis", "age")},
           "psa": FieldResult(psa, *_where(fields["psa"]), qualifier=bound),
           "risk_group": FieldResult(risk.value, problems=(_needs(open_fields),) if open_fields else
                                     ("the note contradicts itself",) if errors else ())}
    return NoteReading(text, note, out, tuple(errors), tuple(warnings), risk, tuple(mentions))


def parse_note(text: str | None) -> ClinicalNote:
    """The note's fields (missing ones ``None``); raises :class:`NoteParseError` for an empty note, one that
    contradicts itself or has foreign digits, and text that names none of the fields."""
    reading = read_note(text)
    if reading.empty:
        raise NoteParseError("the clinical note is empty")
    if reading.errors:
        raise NoteParseError(reading.errors[0])
    if not reading.found_any:
        raise NoteParseError("the clinical note names none of Gleason score, grade group, T, N or M stage, age "
                             "and PSA")
    return reading.note


def _needs(names: list[str]) -> str:
    listed = ", the ".join(names[:-1]) + (" and the " if len(names) > 1 else "") + names[-1]
    return f"deciding the risk group needs the {listed}"


def _where(result: FieldResult) -> tuple:
    return result.source, result.span, result.problems


def _foreign_digits(text: str) -> list[str]:
    """Digits other than ASCII 0-9 (e.g. full-width '７') would reach the text encoder unchanged."""
    other = next((ch for ch in text if ch.isdecimal() and ch not in "0123456789"), None)
    if other is None:
        return []
    return [f"the clinical note has the non-ASCII digit {other!r} (U+{ord(other):04X}); write numbers with the "
            "digits 0-9"]


def _resolve(text: str, found: list[Mention], name: str, errors: list[str], warnings: list[str]) -> FieldResult:
    problems = [m.problem for m in found if m.problem]
    errors += [m.problem for m in found if m.problem and m.blocking]
    warnings += [m.problem for m in found if m.problem and not m.blocking]
    good = [m for m in found if m.problem is None]
    preferred = [m for m in good if name in _PREFERRED and m.kind == _PREFERRED[name]]
    good = preferred or good
    stated = [m for m in good if m.value != _NOT_STATED.get(name, ())]
    good = stated or good[:1]
    if not good:
        return FieldResult(None, text[found[0].span[0]:found[0].span[1]] if found else None,
                           found[0].span if found else None, tuple(problems))
    value, first = good[0].value, good[0]
    for m in good[1:]:
        merged = _merge(name, value, m.value)
        if merged is None:
            label = "Gleason score" if name == "gleason" else FIELDS[name]
            sentence = (f"the note gives two different values for the {label} "
                        f"({text[first.span[0]:first.span[1]]!r} and {text[m.span[0]:m.span[1]]!r})")
            errors.append(sentence)
            sources = " / ".join(dict.fromkeys(text[g.span[0]:g.span[1]] for g in good))
            return FieldResult(None, sources, first.span, (*problems, sentence))
        value = merged
    return FieldResult(value, text[first.span[0]:first.span[1]], first.span, tuple(problems))


def _merge(name: str, a, b):
    """The value two agreeing mentions give (the more detailed one), or ``None`` when they disagree."""
    if a == b:
        return a
    if name == "gleason" and a[0] == b[0] and None in (a[1], b[1]):
        return a if a[1] is not None else b
    if name == "t_stage":
        da, db = a[a.index("T") + 1:], b[b.index("T") + 1:]  # "cT2" and "cT2b" agree; "cT2a" and "cT2b" do not
        if da[0] == db[0] and min(len(da), len(db)) == 1:
            return a if len(da) > len(db) else b
    return None


def _cross_check(fields: dict[str, FieldResult], errors: list[str]) -> None:
    """A written grade group must be one the Gleason score can give."""
    gleason, group = fields["gleason"], fields["grade_group"]
    if gleason.value is None or group.value is None:
        return
    total, primary, _ = gleason.value
    if group.value not in grade_groups_for(total, primary):
        sentence = (f"the ISUP grade group {group.value} ({group.source!r}) is not the one the Gleason score "
                    f"({gleason.source!r}) gives")
        errors.append(sentence)
        fields["grade_group"] = FieldResult(None, group.source, group.span, (*group.problems, sentence))


def _grade_group_result(written: FieldResult, gleason: FieldResult, note: ClinicalNote) -> FieldResult:
    if written.value is not None or written.problems:
        return written
    derived = grade_group(note)
    return FieldResult(derived, gleason.source, gleason.span) if derived is not None else FieldResult()


def _unread_seed_values(norm: str, mentions: list[Mention]) -> list[str]:
    """In the seed format, a ``<Tag>`` whose value no extractor understood (``<Stage> cT9``)."""
    out = []
    for m in _SEED_TAG.finditer(norm):
        nxt = _ANY_TAG.search(norm, m.end())
        end = nxt.start() if nxt else len(norm)
        value = " ".join(norm[m.end():end].split())
        wanted = _TAG_FIELDS[m.group(1).lower()]
        if value.lower() in _UNKNOWN or any(x.span[0] < end and x.span[1] > m.start() for x in mentions
                                            if x.field in wanted):
            continue
        out.append(f"the <{m.group(1)}> value {value!r} was not understood")
    return out
