"""Seed 003's multi-task loss (eq. 2): next-token cross-entropy on the answer plus one loss per head."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from models.families.mpllm.batches import QuestionBatch
from models.families.mpllm.network import MpllmOutput


def next_token_loss(output: MpllmOutput, batch: QuestionBatch) -> Tensor:
    """Mean cross-entropy of the answer tokens (the end token included, padding excluded)."""
    logits = output.answer_logits.reshape(-1, output.answer_logits.shape[-1])
    target = batch.answer_ids.reshape(-1).masked_fill(batch.answer_mask.reshape(-1) == 0, -100)
    return F.cross_entropy(logits, target, ignore_index=-100)


def multitask_loss(output: MpllmOutput, batch: QuestionBatch) -> tuple[Tensor, dict[str, float]]:
    """L = L_next-token + L_volume + L_region + L_shape + L_spread + L_out-of-scope (eq. 2): categorical
    cross-entropy for the multi-class heads, binary cross-entropy for the multi-label region head; without
    heads (the ``no_multitask`` baseline) only the next-token term."""
    parts = {"next_token": next_token_loss(output, batch)}
    for task, logits in output.heads.items():
        target = batch.targets[task]
        if task == "region":
            parts[task] = F.binary_cross_entropy_with_logits(logits, target)
        else:
            parts[task] = F.cross_entropy(logits, target)
    total = sum(parts.values())
    return total, {k: float(v.detach()) for k, v in parts.items()}
