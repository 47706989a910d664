"""Tensors of a batch of questions: left-padded questions, answers ending with the end token, head targets."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from models.families.mpllm.lm import Tokenizer
from models.families.mpllm.vqa import QAPair, head_targets


@dataclass
class QuestionBatch:
    """Questions about ``B`` cases: row q asks about case ``case_index[q]`` under router ``centers[q]``."""

    case_index: Tensor
    question_ids: Tensor
    question_mask: Tensor
    answer_ids: Tensor
    answer_mask: Tensor
    targets: dict[str, Tensor]
    centers: list[str]

    def to(self, device: torch.device) -> QuestionBatch:
        return QuestionBatch(self.case_index.to(device), self.question_ids.to(device), self.question_mask.to(device),
                             self.answer_ids.to(device), self.answer_mask.to(device),
                             {k: v.to(device) for k, v in self.targets.items()}, self.centers)


def encode_questions(questions: list[str], tokenizer: Tokenizer, max_tokens: int) -> tuple[Tensor, Tensor]:
    """Left-padded ids and mask of questions (each cut to its first ``max_tokens`` tokens, at least one)."""
    ids = [tokenizer.encode(q)[:max_tokens] or [tokenizer.pad_id] for q in questions]
    width = max(len(i) for i in ids)
    out = torch.full((len(ids), width), tokenizer.pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, seq in enumerate(ids):
        out[row, width - len(seq):] = torch.tensor(seq)
        mask[row, width - len(seq):] = 1
    return out, mask


def question_batch(pairs: list[tuple[int, QAPair]], centers: list[str], tokenizer: Tokenizer, *,
                   max_question_tokens: int, max_answer_tokens: int) -> QuestionBatch:
    """A batch of (case row, pair) items; ``centers[q]`` is the router of item q."""
    if not pairs:
        raise ValueError("a batch needs at least one question")
    q_ids, q_mask = encode_questions([p.question for _, p in pairs], tokenizer, max_question_tokens)
    answers = [tokenizer.encode(p.answer)[: max_answer_tokens - 1] + [tokenizer.eos_id] for _, p in pairs]
    width = max(len(a) for a in answers)
    a_ids = torch.full((len(answers), width), tokenizer.pad_id, dtype=torch.long)
    a_mask = torch.zeros((len(answers), width), dtype=torch.long)
    for row, seq in enumerate(answers):
        a_ids[row, : len(seq)] = torch.tensor(seq)
        a_mask[row, : len(seq)] = 1
    heads = [head_targets(p) for _, p in pairs]
    targets = {k: torch.tensor([h[k] for h in heads], dtype=torch.float32 if k == "region" else torch.long)
               for k in heads[0]}
    return QuestionBatch(torch.tensor([i for i, _ in pairs], dtype=torch.long), q_ids, q_mask, a_ids, a_mask,
                         targets, list(centers))
