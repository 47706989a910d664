"""The marginal loss for partially labelled datasets: each dataset sees the model's outputs merged onto its own
label set (an unlabelled organ is background, an unlabelled tumour is its organ), then cross-entropy plus soft
Dice over the classes it labels. Written here because MONAI's losses assume one label set for every sample."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

EPS = 1e-6


def merge_matrix(targets: list[list[int]], num_outputs: int, device: torch.device) -> Tensor:
    """[B, K+1, K+1] one-hot maps from model output k to the output each sample's dataset sees it as."""
    index = torch.tensor(targets, device=device)
    return F.one_hot(index, num_outputs).float()


def marginal_loss(logits: Tensor, labels: Tensor, targets: list[list[int]], labelled: Tensor) -> Tensor:
    """Cross-entropy + soft Dice of merged probabilities; ``labelled`` [B, K+1] marks each sample's labelled
    outputs (Dice is taken over those, background excluded)."""
    probs = logits.softmax(1)
    merged = torch.einsum("bkhw,bkj->bjhw", probs, merge_matrix(targets, logits.shape[1], logits.device))
    ce = F.nll_loss(torch.log(merged.clamp_min(EPS)), labels)
    truth = F.one_hot(labels, logits.shape[1]).permute(0, 3, 1, 2).float()
    weight = labelled.float().clone()
    weight[:, 0] = 0.0
    # Batch Dice per class over the samples that label it: a slice without an organ neither rewards nor punishes
    # that class on its own, as per-slice Dice would.
    inter = ((merged * truth).sum((2, 3)) * weight).sum(0)
    denom = ((merged.sum((2, 3)) + truth.sum((2, 3))) * weight).sum(0)
    present = weight.sum(0) > 0
    dice = 1.0 - (2 * inter[present] + EPS) / (denom[present] + EPS)
    return ce + (dice.mean() if dice.numel() else ce.new_zeros(()))
