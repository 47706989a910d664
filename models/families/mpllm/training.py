"""End-to-end training of mpLLM on the synthetic VQA set (seed 003, Section 4.2: eq. 2, cosine schedule).

Each step draws a few cases, encodes their sequences once and asks a sample of their questions, each under
its case's center router. Augmentation: a left-right flip (the atlas is symmetric, so no answer changes)
and a small per-sequence intensity gain and shift (scanners differ).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from models.families.mpllm.batches import question_batch
from models.families.mpllm.contract import MpllmContract
from models.families.mpllm.data import VqaCase, prepare_sequences
from models.families.mpllm.lm import Tokenizer
from models.families.mpllm.losses import multitask_loss
from models.families.mpllm.network import MpllmNet


@dataclass(frozen=True)
class PreparedCase:
    """A case ready for the network: its prepared sequences [M, *image_size] and the router it trains."""

    case: VqaCase
    images: Tensor
    center: str


def prepare(cases: Iterable[VqaCase], contract: MpllmContract, center: str) -> list[PreparedCase]:
    """Load and prepare the sequences of every case once (they are reused at every step)."""
    return [PreparedCase(c, prepare_sequences(c.images, contract), center) for c in cases]


def augment(images: Tensor, rng: np.random.Generator) -> Tensor:
    """Random left-right flip and per-sequence gain/shift of one case's sequences [M, X, Y, Z]."""
    if rng.random() < 0.5:
        images = images.flip(1)
    m = images.shape[0]
    gain = torch.from_numpy(rng.uniform(0.9, 1.1, m).astype(np.float32)).view(m, 1, 1, 1)
    shift = torch.from_numpy(rng.uniform(-0.1, 0.1, m).astype(np.float32)).view(m, 1, 1, 1)
    return images * gain + shift


def cosine_lr(step: int, steps: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def fit(net: MpllmNet, cases: list[PreparedCase], tokenizer: Tokenizer, contract: MpllmContract, *, steps: int,
        lr: float, seed: int, device: torch.device, parameters: list[nn.Parameter] | None = None,
        cases_per_step: int = 4, questions_per_case: int = 8,
        on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train ``parameters`` (default: all) for ``steps`` AdamW steps; returns the loss of every step."""
    if not cases:
        raise ValueError("training needs at least one case with questions")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    params = [p for p in (parameters if parameters is not None else net.parameters()) if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: cosine_lr(s, steps, max(1, steps // 20)))
    net.to(device).train()
    if not any(p.requires_grad for p in net.encoder.parameters()):
        net.encoder.eval()  # a frozen encoder keeps its batch-norm statistics too
    losses = []
    for step in range(steps):
        chosen = rng.choice(len(cases), size=min(cases_per_step, len(cases)), replace=False)
        images, items, centers = [], [], []
        for row, index in enumerate(chosen):
            case = cases[int(index)]
            images.append(augment(case.images, rng))
            picks = rng.choice(len(case.case.qa), size=min(questions_per_case, len(case.case.qa)), replace=False)
            items += [(row, case.case.qa[int(q)]) for q in picks]
            centers += [case.center] * len(picks)
        batch = question_batch(items, centers, tokenizer, max_question_tokens=contract.max_question_tokens,
                               max_answer_tokens=contract.max_answer_tokens).to(device)
        output = net(torch.stack(images).to(device), batch.case_index, batch.question_ids, batch.question_mask,
                     batch.answer_ids, batch.answer_mask, batch.centers, tokenizer.eos_id)
        loss, _ = multitask_loss(output, batch)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1, losses[-1])
    net.eval()
    return losses
