"""Field extractors: each finds every mention of one field anywhere in a note.

Hand-written regular expressions, one set per field: no well-kept library parses prostate cancer
notes (Gleason, ISUP, TNM, PSA), and general clinical NLP packages need models and downloads.
The text is first normalised character for character (Unicode dashes, spaces, plus and equals
signs), so every span still points into the user's own text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Mention", "find_mentions", "normalise"]

F = re.I | re.A
_SAME_LENGTH = str.maketrans({**dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
                              **dict.fromkeys("\u00a0\u2007\u2009\u200a\u202f\u205f\u3000\t", " "),
                              "\uff0b": "+", "\uff1d": "=", "\uff1a": ":"})


@dataclass(frozen=True)
class Mention:
    """One place where the note gives a field; ``problem`` is set when the text there is not a valid value
    (``blocking`` when the note contradicts itself, e.g. Gleason patterns that do not add up)."""

    field: str
    value: object
    span: tuple[int, int]
    kind: str = ""
    problem: str | None = None
    blocking: bool = False


def normalise(text: str) -> str:
    """Same-length copy of ``text`` with Unicode dashes, spaces and full-width signs made ASCII."""
    return text.translate(_SAME_LENGTH)


_GLEASON_WORD = r"(?:\bgleason(?:'?s)?|\bgs|\bgl\.)(?:[\s-]*(?:score|sum|grade|pattern))*(?:\s+(?:of|was|is))?[\s:=]*"
_GLEASON = [
    re.compile(_GLEASON_WORD + r"(?P<p>\d)\s*\+\s*(?P<s>\d)(?:\s*=\s*(?P<sum>\d{1,2}))?(?!\d)", F),
    re.compile(_GLEASON_WORD + r"(?P<sum>\d{1,2})(?:\s*\(\s*(?P<p>\d)\s*\+\s*(?P<s>\d)\s*\)"
               r"|\s*=\s*(?P<p2>\d)\s*\+\s*(?P<s2>\d))?(?![\d.,]?\d|\s*\+)", F),
    re.compile(r"(?<![\d.+])(?P<p>[1-5])\s*\+\s*(?P<s>[1-5])\s*=\s*(?P<sum>\d{1,2})(?![\d.])", F),
    re.compile(r"<\s*grade\s*>\s*(?P<sum>\d{1,2})(?:\s*\(\s*(?P<p>\d)\s*\+\s*(?P<s>\d)\s*\))?(?![\d.])", F),
]
_GRADE_GROUP = re.compile(r"(?:\b(?:isup|who)(?:[\s/-]*(?:grade?[\s-]*group|grade?|group|gg))?|\bgrade[\s-]*group"
                          r"|\bgg)\s*[:=]?\s*(?P<gg>\d{1,2})(?![\d.]|,\d)", F)
_T = re.compile(r"(?<![a-z0-9])(?P<prefix>yp|yc|[cpr])?T(?P<cat>[1-4x])(?P<sub>[a-c])?"
                r"(?=$|[^a-z0-9+]|[nmr][0-9x+])(?![\s-]*(?:w|wi|weighted|hyper|hypo|signal|sequences?|images?"
                r"|flair|tse|fse|vertebra|spine)\b)", F)
_T_CONTEXT_AFTER = re.compile(r"[\s,;/]*(?:y?[cp])?[NM][0-9x+]", F)
_T_CONTEXT_BEFORE = re.compile(r"\bstage[\s:]*$", F)
_NM_AFTER = r"(?=$|[^a-z0-9+]|[mr][0-9x+])"
_N = re.compile(r"(?:(?<![a-z0-9])|(?<=T[1-4x])|(?<=T[1-4][a-c]))(?P<prefix>y?[cp])?N(?P<v>[01x+])" + _NM_AFTER, F)
_N_WORDS = re.compile(r"\bnodes?[\s-]*(?P<v>negative|positive)\b", F)
_M = re.compile(r"(?:(?<![a-z0-9])|(?<=N[01x+])|(?<=T[1-4x])|(?<=T[1-4][a-c]))(?P<prefix>y?[cp])?M(?P<v>[01x+])"
                r"(?P<sub>[a-c])?(?=$|[^a-z0-9+]|r[0-9x])", F)
_M_WORDS = re.compile(r"\bno\s+(?:evidence\s+of\s+)?(?:distant\s+)?metastas[ie]s\b|\bnon[\s-]?metastatic\b", F)
_M_SEED = re.compile(r"<\s*metastasis\s*>\s*(?P<v>negative|positive|unknown|none|no|yes|m0|m1[abc]?|mx)\b", F)
_AGE = [
    re.compile(r"(?<![\d.,])(?P<a>\d{1,3})[\s-]*(?:years?|yrs?|y)[\s-]*old\b", F),
    re.compile(r"(?<![\d.,])(?P<a>\d{1,3})[\s-]*(?:y/o|y\.o\.?|yoa|yo)(?![a-z])", F),
    re.compile(r"(?<![\d.,])(?P<a>\d{1,3})[\s-]*(?:ans|jahre|anni|jaar|a\u00f1os|anos)\b", F),
    re.compile(r"\bage[d]?(?:\s+at\s+diagnosis)?\s*(?:of\s+)?[:=]?\s*(?P<a>\d{1,3})(?![\d.,]?\d)", F),
    re.compile(r"<\s*age\s*>\s*(?P<a>\d{1,3})(?![\d.])", F),
]
_NUMBER = r"(?P<num>\d+(?:[.,]\d+)?)(?![\d])"
_QUALIFIER = r"(?P<q><=|>=|[<>\u2264\u2265]|less\s+than|below|under|greater\s+than|more\s+than|above|over)?\s*"
_PSA = [
    re.compile(r"(?<![a-z0-9<%/])(?<!free )(?<!free-)"
               r"(?P<init>i|initial\s+|pre-?treatment\s+|diagnostic\s+|baseline\s+|t|total\s+)?"
               r"(?:psa|prostate[\s-]*specific[\s-]*antigen(?:\s*\(\s*psa\s*\))?)"
               r"(?!\s*(?:density|doubling|dt|d|velocity|vel|v|nadir|kinetics|free|ratio)\b)(?![a-z0-9])"
               r"(?:\s*\([^)\d]{0,20}\))?(?:[\s:=~\u2248-]|\b(?:level|value|was|is|of|at|diagnosis|dx|initial"
               r"|initially|measured|pre-?treatment|wert|valeur|valor|taux)\b){0,8}?" + _QUALIFIER + _NUMBER
               + r"(?!\s*(?:years?|yrs?|months?|weeks?|days?)\b)", F),
    re.compile(r"<\s*psa\s*>\s*" + _QUALIFIER + _NUMBER, F),
]
_BOUNDS = {"<": "<", "<=": "<=", "\u2264": "<=", "less than": "<", "below": "<", "under": "<",
           ">": ">", ">=": ">=", "\u2265": ">=", "greater than": ">", "more than": ">", "above": ">", "over": ">"}


def find_mentions(text: str) -> list[Mention]:
    """Every mention of every field in the normalised ``text``, in order of appearance."""
    found = [*_gleason(text), *_grade_group(text), *_t_stage(text), *_n_stage(text), *_metastasis(text),
             *_age(text), *_psa(text)]
    return sorted(found, key=lambda m: m.span)


def _gleason(text: str) -> list[Mention]:
    out: list[Mention] = []
    for pattern in _GLEASON:
        for m in pattern.finditer(text):
            if any(o.span[0] <= m.start() < o.span[1] for o in out):
                continue  # a bare "3+4=7" inside a "Gleason 3+4=7" already read
            g = m.groupdict()
            p, s = g.get("p") or g.get("p2"), g.get("s") or g.get("s2")
            total = int(g["sum"]) if g.get("sum") else int(p) + int(s)
            out.append(_gleason_mention(total, int(p) if p else None, int(s) if s else None, m.span()))
    return out


def _gleason_mention(total: int, p: int | None, s: int | None, span: tuple[int, int]) -> Mention:
    shown = f"{p}+{s}={total}" if p is not None else str(total)
    if p is not None and not (1 <= p <= 5 and 1 <= s <= 5):
        return Mention("gleason", None, span, problem=f"the Gleason patterns in {shown} are not patterns 1-5",
                       blocking=True)
    if p is not None and p + s != total:
        return Mention("gleason", None, span, problem=f"the Gleason patterns {p}+{s} do not add up to {total}",
                       blocking=True)
    if not 2 <= total <= 10:
        return Mention("gleason", None, span, problem=f"the Gleason score {total} is outside the range 2-10")
    return Mention("gleason", (total, p, s), span)


def _grade_group(text: str) -> list[Mention]:
    out = []
    for m in _GRADE_GROUP.finditer(text):
        gg = int(m.group("gg"))
        problem = None if 1 <= gg <= 5 else f"the ISUP grade group {gg} is outside the range 1-5"
        out.append(Mention("grade_group", None if problem else gg, m.span(), problem=problem))
    return out


def _t_stage(text: str) -> list[Mention]:
    out = []
    for m in _T.finditer(text):
        prefix, cat, sub = (m.group("prefix") or "").lower(), m.group("cat").lower(), (m.group("sub") or "").lower()
        if not prefix and not sub and not (_T_CONTEXT_AFTER.match(text, m.end())
                                           or _T_CONTEXT_BEFORE.search(text, max(0, m.start() - 20), m.start())):
            continue  # a bare "T2" is an MRI sequence or a vertebra as often as a stage
        kind = "pathological" if prefix in ("p", "yp") else "clinical"
        value = None if cat == "x" else f"{prefix or 'c'}T{cat}{sub}"
        out.append(Mention("t_stage", value, m.span(), kind))
    return out


def _n_stage(text: str) -> list[Mention]:
    out = []
    for m in _N.finditer(text):
        v = m.group("v").lower()
        kind = "pathological" if (m.group("prefix") or "").lower().endswith("p") else "clinical"
        out.append(Mention("n_stage", {"0": "N0", "1": "N1", "+": "N1", "x": "Nx"}[v], m.span(), kind))
    for m in _N_WORDS.finditer(text):
        out.append(Mention("n_stage", "N0" if m.group("v").lower() == "negative" else "N1", m.span(), "clinical"))
    return out


def _metastasis(text: str) -> list[Mention]:
    out = []
    for m in _M.finditer(text):
        v = m.group("v").lower()
        value = {"0": "negative", "1": "positive", "+": "positive", "x": "unknown"}[v]
        out.append(Mention("metastasis", value, m.span()))
    out += [Mention("metastasis", "negative", m.span()) for m in _M_WORDS.finditer(text)]
    for m in _M_SEED.finditer(text):
        v = m.group("v").lower()
        value = ("negative" if v in ("negative", "none", "no", "m0") else
                 "unknown" if v in ("unknown", "mx") else "positive")
        out.append(Mention("metastasis", value, m.span()))
    return out


def _age(text: str) -> list[Mention]:
    out: list[Mention] = []
    for pattern in _AGE:
        for m in pattern.finditer(text):
            age = int(m.group("a"))
            problem = None if 0 < age < 130 else f"the age {age} is not an age in years"
            out.append(Mention("age", None if problem else age, m.span(), problem=problem))
    return out


def _psa(text: str) -> list[Mention]:
    out = []
    for pattern in _PSA:
        for m in pattern.finditer(text):
            raw = m.group("num")
            g = m.groupdict()
            kind = "initial" if (g.get("init") or "").strip().lower() not in ("", "t", "total") else ""
            bound = _BOUNDS[" ".join(g["q"].lower().split())] if g.get("q") else None
            whole, _, frac = raw.partition(",")
            if frac and len(frac) == 3 and whole != "0":
                out.append(Mention("psa", None, m.span(), kind, problem=f"the PSA {raw} could be read as "
                                   f"{whole}.{frac} or {whole}{frac}; write it with a decimal point"))
                continue
            out.append(Mention("psa", (float(raw.replace(",", ".")), bound), m.span(), kind))
    return out
