"""Training M4oE networks on axial slices of several datasets: foreground-weighted slice sampling, light
intensity augmentation (scanners differ in gain and offset), the marginal loss and, for ``m4oe``, the gates'
load-balancing loss and their pull towards each modality's own expert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from models.families.m4oe.contract import M4oEContract
from models.families.m4oe.data import SliceStack
from models.families.m4oe.losses import marginal_loss
from models.families.m4oe.network import M4oENet

BALANCE_WEIGHT = 0.01
MODALITY_WEIGHT = 0.5
MODALITY_WARMUP = 0.3
"""Weight of the gate-to-modality loss over the first 30% of the steps, a tenth of it afterwards: seed 001
pre-trains each modality's expert on its own modality before the gate learns to mix them; this keeps that
assignment as a prior that the segmentation loss may then override."""


@dataclass(frozen=True)
class CenterStack:
    """A prepared case with the center (router) it trains."""

    stack: SliceStack
    center: str


def _slice_pool(cases: list[CenterStack], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(case, slice) pairs and their sampling weights: slices holding a labelled organ three times as likely."""
    pairs, weights = [], []
    for i, c in enumerate(cases):
        labels = c.stack.labels
        for z in range(c.stack.images.shape[0]):
            pairs.append((i, z))
            weights.append(3.0 if labels is not None and bool((labels[z] > 0).any()) else 1.0)
    w = np.asarray(weights)
    return np.asarray(pairs), w / w.sum()


def batch(cases: list[CenterStack], picks: np.ndarray, contract: M4oEContract, rng: np.random.Generator | None,
          device: torch.device) -> tuple[Tensor, Tensor, list[list[int]], Tensor, Tensor, list[str]]:
    """Images, labels, merge targets, labelled masks, modality indices and centers of the picked slices."""
    images = torch.stack([cases[i].stack.images[z] for i, z in picks])
    if rng is not None:  # gain and offset as another scanner's would be
        gain = torch.from_numpy(rng.uniform(0.9, 1.1, (len(picks), 1, 1, 1))).float()
        shift = torch.from_numpy(rng.uniform(-0.05, 0.05, (len(picks), 1, 1, 1))).float()
        images = images * gain + shift
    labels = torch.stack([cases[i].stack.labels[z] for i, z in picks])
    labelled = torch.stack([cases[i].stack.labelled for i, _ in picks])
    targets = [contract.merge_targets(cases[i].stack.labelled.tolist()) for i, _ in picks]
    modality = torch.tensor([cases[i].stack.modality for i, _ in picks])
    centers = [cases[i].center for i, _ in picks]
    return images.to(device), labels.to(device), targets, labelled.to(device), modality.to(device), centers


def fit(model: M4oENet, cases: list[CenterStack], contract: M4oEContract, *, steps: int, lr: float, seed: int,
        device: torch.device, batch_size: int = 12, parameters: list[nn.Parameter] | None = None,
        modality_weight: float = MODALITY_WEIGHT, on_step: Callable[[int, float], None] | None = None,
        ) -> list[float]:
    """Train for ``steps`` steps (AdamW, cosine decay); returns the loss per step."""
    if not cases:
        raise ValueError("no labelled case to train on")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    pairs, weights = _slice_pool(cases, rng)
    model.to(device).train()
    params = parameters if parameters is not None else [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
    losses = []
    for step in range(1, steps + 1):
        picks = pairs[rng.choice(len(pairs), size=batch_size, p=weights)]
        images, labels, targets, labelled, modality, centers = batch(cases, picks, contract, rng, device)
        logits, aux, _ = model.forward_with_aux(images, centers, modality if modality_weight > 0 else None)
        loss = marginal_loss(logits, labels, targets, labelled)
        pull = modality_weight if step <= MODALITY_WARMUP * steps else modality_weight / 10
        loss = loss + BALANCE_WEIGHT * aux.get("balance", 0.0) + pull * aux.get("modality", 0.0)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    return losses
