"""Seed 003's synthetic VQA protocol: question-answer pairs from a case's findings, their class targets for
the multi-task heads, and the rule-based reading of a generated answer back into classes.

Per label and case (Section 3.2.1): four multi-task pairs drawn without replacement from the 15 task
combinations so that every task is asked at least once, one partly out-of-scope pair and one fully
out-of-scope pair. Everything is drawn from the ``numpy`` generator it is given: same seed, same set.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from models.families.mpllm.descriptors import SHAPE_CLASSES, SPREAD_CLASSES
from models.families.mpllm.findings import NOT_FOUND, REGIONS, VOLUME_CLASSES, LabelFindings
from models.families.mpllm.templates import EXTRA_TASKS, MULTITASK, OUT_OF_SCOPE, TASKS

UNSPECIFIED = "unspecified"
HEAD_CLASSES: dict[str, tuple[str, ...]] = {
    "volume": (UNSPECIFIED, NOT_FOUND, *VOLUME_CLASSES),
    "shape": (UNSPECIFIED, NOT_FOUND, *SHAPE_CLASSES),
    "spread": (UNSPECIFIED, NOT_FOUND, *SPREAD_CLASSES),
    "region": (UNSPECIFIED, NOT_FOUND, *REGIONS),
    "out_of_scope": ("in scope", "out of scope"),
}
"""Classes of each multi-task head; ``region`` is multi-label (one bit each), the others multi-class. As in the
seed's Tables 6-8, "unspecified" (the question does not ask) and "N/A" (label absent) are classes too."""
KINDS = ("multi", "partial", "oos")
MULTI_PER_LABEL = 4


@dataclass(frozen=True)
class QAPair:
    """One question about one label, its answer and what the heads should say (None: task not asked)."""

    label: str
    kind: str
    tasks: tuple[str, ...]
    question: str
    answer: str
    targets: dict = field(default_factory=dict)
    """``volume``/``shape``/``spread``: class name or None; ``region``: list of names, ["N/A"] or None;
    ``out_of_scope``: bool."""

    def to_dict(self) -> dict:
        doc = asdict(self)
        doc["tasks"] = list(self.tasks)
        return doc

    @classmethod
    def from_dict(cls, doc: dict) -> QAPair:
        if doc.get("kind") not in KINDS:
            raise ValueError(f"question kind must be one of {', '.join(KINDS)}, got {doc.get('kind')!r}")
        return cls(label=str(doc["label"]), kind=doc["kind"], tasks=tuple(doc["tasks"]), question=str(doc["question"]),
                   answer=str(doc["answer"]), targets=dict(doc["targets"]))


def format_regions(regions: tuple[str, ...] | list[str]) -> str:
    """Regions as the answer spells them: alphabetical, "a, b and c" (seed Table 5); "N/A" when none."""
    names = sorted(regions)
    if not names:
        return NOT_FOUND
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _values(f: LabelFindings) -> dict[str, str]:
    return {"label": f.label, "volume": f.volume, "regions": format_regions(f.regions), "shape": f.shape,
            "spread": f.spread}


def _targets(f: LabelFindings, tasks: tuple[str, ...], out_of_scope: bool) -> dict:
    regions = list(f.regions) if f.present and f.regions else [NOT_FOUND]
    values = {"volume": f.volume, "region": regions, "shape": f.shape, "spread": f.spread}
    return {t: (values[t] if t in tasks else None) for t in TASKS} | {"out_of_scope": out_of_scope}


def _cover_all(rng: np.random.Generator) -> list[int]:
    """Four distinct task combinations that together ask every task (rejection sampling, as the seed states)."""
    while True:
        picks = rng.choice(len(MULTITASK), size=MULTI_PER_LABEL, replace=False).tolist()
        if set().union(*(MULTITASK[i][0] for i in picks)) == set(TASKS):
            return picks


def _multi(f: LabelFindings, index: int, rng: np.random.Generator) -> tuple[tuple[str, ...], str, str]:
    tasks, wordings, answer = MULTITASK[index]
    question = wordings[int(rng.integers(len(wordings)))]
    values = _values(f)
    return tasks, question.format(**values), answer.format(**values)


def label_qa(f: LabelFindings, rng: np.random.Generator) -> list[QAPair]:
    """The six pairs of one label: four multi-task, one partly and one fully out of scope."""
    pairs = []
    for index in _cover_all(rng):
        tasks, q, a = _multi(f, index, rng)
        pairs.append(QAPair(f.label, "multi", tasks, q, a, _targets(f, tasks, False)))
    tasks, q, a = _multi(f, int(rng.integers(len(MULTITASK))), rng)
    clause, refusal = EXTRA_TASKS[int(rng.integers(len(EXTRA_TASKS)))]
    if rng.random() < 0.5:
        q = f"{q[:-1]}, and {clause}?"
    else:
        q = f"{clause[0].upper()}{clause[1:]}, and {q[0].lower()}{q[1:]}"
    pairs.append(QAPair(f.label, "partial", tasks, q, f"{a} {refusal}", _targets(f, tasks, True)))
    question, refusal = OUT_OF_SCOPE[int(rng.integers(len(OUT_OF_SCOPE)))]
    pairs.append(QAPair(f.label, "oos", (), question.format(label=f.label), refusal.format(label=f.label),
                        _targets(f, (), True)))
    return pairs


def case_qa(findings: list[LabelFindings], seed: int | np.random.Generator) -> list[QAPair]:
    """Every pair of one case (six per label, labels in the given order), deterministic for a seed."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return [pair for f in findings for pair in label_qa(f, rng)]


def head_targets(pair: QAPair) -> dict[str, int | list[int]]:
    """Class indices of every head (``region``: 0/1 per class) for one pair."""
    out: dict[str, int | list[int]] = {}
    for task in ("volume", "shape", "spread"):
        value = pair.targets.get(task)
        out[task] = HEAD_CLASSES[task].index(UNSPECIFIED if value is None else value)
    region = pair.targets.get("region")
    names = {UNSPECIFIED} if region is None else set(region)
    out["region"] = [int(c in names) for c in HEAD_CLASSES["region"]]
    out["out_of_scope"] = int(bool(pair.targets.get("out_of_scope")))
    return out


def words(text: str) -> list[str]:
    """Lower-case word and single-punctuation pieces: the tokenisation the answers are read in."""
    return re.findall(r"\w+|[^\w\s]", text.lower())


def canon(text: str) -> str:
    return " ".join(words(text))


def _alternatives(names: tuple[str, ...]) -> str:
    return "|".join(re.escape(canon(n)) for n in sorted(names, key=len, reverse=True))


_VOLUME = re.compile(rf"volume of .*? is ({_alternatives((NOT_FOUND, *VOLUME_CLASSES))})")
_SHAPE = re.compile(rf"shape (?:of .*? )?is (?:described as )?({_alternatives((NOT_FOUND, *SHAPE_CLASSES))})")
_SPREAD = re.compile(rf"(?:characterized as|spread of .*? is) ({_alternatives((NOT_FOUND, *SPREAD_CLASSES))})")
_REGION_END = re.compile(r" , (?:and it|and its|its|it) | \. |$")
_REFUSAL = ("cannot", "outside my domain", "beyond what i can assess")


def parse_answer(text: str) -> dict:
    """Classes a generated answer states, read by the answer templates' wording (None: not stated)."""
    t = canon(text)
    out: dict = {}
    for task, pattern in (("volume", _VOLUME), ("shape", _SHAPE), ("spread", _SPREAD)):
        m = pattern.search(t)
        out[task] = None if m is None else _decanon(m.group(1), HEAD_CLASSES[task])
    start = t.find("located in ")
    if start < 0:
        out["region"] = None
    else:
        rest = t[start + len("located in "):]
        segment = rest[: _REGION_END.search(rest).start()]
        found = [r for r in REGIONS if re.search(rf"\b{r}\b", segment)]
        out["region"] = found or ([NOT_FOUND] if canon(NOT_FOUND) in segment else [])
    out["out_of_scope"] = any(marker in t for marker in _REFUSAL)
    return out


def _decanon(piece: str, classes: tuple[str, ...]) -> str:
    return next(c for c in classes if canon(c) == piece)
