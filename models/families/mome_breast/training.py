"""Training MOME networks on prepared cases: batches grouped by which sequences are present (a forward pass needs
one set), cross-entropy, AdamW with cosine decay, and sequence dropout for the methods that may meet missing
sequences (so that inference without one is not out of distribution)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.families.mome_breast.network import MomeBreastNet

DROP_SEQUENCE = 0.3
"""Chance that a training batch loses a random proper subset of its sequences (methods that can run so)."""


@dataclass(frozen=True)
class Prepared:
    """A case ready for the network: its sequences, label and the center whose gates it trains."""

    case_id: str
    sequences: dict[str, Tensor]
    label: int | None
    center: str


def usable(model: MomeBreastNet, cases: list[Prepared]) -> list[Prepared]:
    """The cases a method can read: early fusion only complete ones, a single-sequence model those with its
    sequence."""
    if model.requires_all:
        return [c for c in cases if all(s in c.sequences for s in model.sequences)]
    return [c for c in cases if any(s in c.sequences for s in model.supported)]


def forward_cases(model: MomeBreastNet, cases: list[Prepared], device: torch.device,
                  keep: frozenset[str] | None = None) -> Tensor:
    """Logits [N, 2] of the cases in their order, one forward pass per set of present sequences; ``keep``
    restricts every case to those sequences."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, c in enumerate(cases):
        present = tuple(s for s in c.sequences if keep is None or s in keep)
        groups.setdefault(present, []).append(i)
    out = torch.empty(len(cases), 2, device=device)
    for present, rows in groups.items():
        inputs = {s: torch.stack([cases[i].sequences[s] for i in rows]).to(device) for s in present}
        out[rows] = model(inputs, [cases[i].center for i in rows]).float()
    return out


def fit(model: MomeBreastNet, cases: list[Prepared], *, steps: int, lr: float, seed: int, device: torch.device,
        batch_size: int = 8, parameters: list[nn.Parameter] | None = None,
        on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train for ``steps`` steps; returns the loss per step."""
    cases = [c for c in usable(model, cases) if c.label is not None]
    if not cases:
        raise ValueError(f"no labelled case has the sequences method {model.method} needs")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model.to(device).train()
    params = parameters if parameters is not None else [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
    can_drop = not model.requires_all and len(model.supported) > 1
    losses = []
    for step in range(1, steps + 1):
        batch = [cases[int(i)] for i in rng.choice(len(cases), size=min(batch_size, len(cases)), replace=False)]
        keep = None
        if can_drop and rng.random() < DROP_SEQUENCE:
            size = int(rng.integers(1, len(model.supported)))
            keep = frozenset(rng.choice(list(model.supported), size=size, replace=False).tolist())
            batch = [c for c in batch if any(s in keep for s in c.sequences)] or batch
            keep = keep if all(any(s in keep for s in c.sequences) for c in batch) else None
        logits = forward_cases(model, batch, device, keep)
        labels = torch.tensor([c.label for c in batch], device=device)
        loss = F.cross_entropy(logits, labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    return losses
