"""The preprocessing contract an mpLLM config carries: sequences, input grid, labels and tokenizer vocabulary."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from models.families.mpllm.phantom import LABELS, MODALITIES


@dataclass(frozen=True)
class MpllmContract:
    """Sequences in input order (each z-scored inside the brain, resized to ``image_size``), the sub-region
    names questions ask about, the word-level vocabulary (empty when a local LM brings its tokenizer) and the
    longest question and answer in tokens."""

    modalities: tuple[str, ...] = MODALITIES
    image_size: tuple[int, int, int] = (32, 32, 32)
    axcodes: str = "RAS"
    labels: tuple[str, ...] = tuple(LABELS.values())
    vocab: tuple[str, ...] = ()
    max_question_tokens: int = 48
    max_answer_tokens: int = 72

    def __post_init__(self) -> None:
        if not self.modalities or len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"modalities must be distinct names, got {self.modalities}")
        if len(self.image_size) != 3 or min(self.image_size) < 8:
            raise ValueError(f"image_size must be three sizes of at least 8, got {self.image_size}")
        if self.max_question_tokens < 4 or self.max_answer_tokens < 4:
            raise ValueError("max_question_tokens and max_answer_tokens must be at least 4")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MpllmContract:
        return cls(modalities=tuple(d["modalities"]), image_size=tuple(d["image_size"]), axcodes=d["axcodes"],
                   labels=tuple(d["labels"]), vocab=tuple(d["vocab"]),
                   max_question_tokens=int(d["max_question_tokens"]), max_answer_tokens=int(d["max_answer_tokens"]))
