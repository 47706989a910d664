"""Segmenting prepared cases slice by slice and scoring them: Dice per labelled class on the dataset's own label
set (the prediction merged the way the marginal loss merges it), bootstrap CIs over cases, and the experts' usage
per modality (the share of each modality's tokens whose top expert is e, over every MoE layer)."""

from __future__ import annotations

import math

import numpy as np
import torch

from models.evaluation.bootstrap import bootstrap_ci
from models.families.m4oe.contract import M4oEContract
from models.families.m4oe.data import SliceStack
from models.families.m4oe.network import M4oENet, expert_usage


@torch.no_grad()
def segment(model: M4oENet, stack: SliceStack, center: str, device: torch.device,
            slices_per_batch: int = 16) -> tuple[torch.Tensor, np.ndarray | None]:
    """Class probabilities [K+1, Z, H, W] of one case and its mean expert usage [E] (None without experts)."""
    model.to(device).eval()
    probs, usage = [], []
    for start in range(0, stack.images.shape[0], slices_per_batch):
        chunk = stack.images[start:start + slices_per_batch].to(device)
        logits, _, gates = model.forward_with_aux(chunk, [center] * len(chunk))
        probs.append(logits.float().softmax(1).cpu())
        if gates:
            usage.append(expert_usage(gates).cpu().sum(0))
    volume = torch.cat(probs).permute(1, 0, 2, 3)
    mean_usage = (torch.stack(usage).sum(0) / stack.images.shape[0]).numpy() if usage else None
    return volume, mean_usage


def dice_per_class(pred: torch.Tensor, stack: SliceStack, contract: M4oEContract) -> dict[str, float]:
    """Dice of every class the case's dataset labels and holds, from an argmax map [Z, H, W]."""
    if stack.labels is None:
        raise ValueError(f"case {stack.case.case_id!r} has no label map")
    merged = torch.tensor(contract.merge_targets(stack.labelled.tolist()))[pred]
    out = {}
    for k, name in enumerate(contract.classes, start=1):
        if not stack.labelled[k]:
            continue
        truth, guess = stack.labels == k, merged == k
        if not truth.any():
            continue
        out[name] = float(2 * (truth & guess).sum() / (truth.sum() + guess.sum()))
    return out


def _ci(values: list[float], seed: int) -> dict[str, float | list[float] | int]:
    mean, low, high = bootstrap_ci(values, seed=seed)
    return {"mean": mean, "ci": [low, high], "n": len([v for v in values if v == v])}


def score_cases(model: M4oENet, stacks: list[SliceStack], contract: M4oEContract, *, center: str,
                device: torch.device) -> list[dict]:
    """One row per case: its modality, Dice per labelled class, mean Dice and expert usage."""
    rows = []
    for stack in stacks:
        probs, usage = segment(model, stack, center, device)
        per_class = dice_per_class(probs.argmax(0), stack, contract)
        rows.append({"case": stack.case.case_id, "modality": stack.case.modality, "dice": per_class,
                     "mean_dice": float(np.mean(list(per_class.values()))) if per_class else math.nan,
                     "expert_usage": usage.tolist() if usage is not None else None})
    return rows


def summarise(rows: list[dict], contract: M4oEContract, seed: int = 0) -> dict:
    """Mean Dice over cases and per class with bootstrap 95% CIs (1000 resamples), and per modality."""
    summary = {"dice": _ci([r["mean_dice"] for r in rows], seed)}
    for name in contract.classes:
        values = [r["dice"][name] for r in rows if name in r["dice"]]
        if values:
            summary[f"dice_{name}"] = _ci(values, seed)
    for modality in contract.modalities:
        values = [r["mean_dice"] for r in rows if r["modality"] == modality]
        if values:
            summary[f"dice_{modality}"] = _ci(values, seed)
    return summary


def usage_by_modality(rows: list[dict], contract: M4oEContract) -> dict[str, list[float]]:
    """Mean expert usage per modality over the rows' cases (modalities without cases are left out)."""
    out = {}
    for modality in contract.modalities:
        usage = [r["expert_usage"] for r in rows if r["modality"] == modality and r["expert_usage"] is not None]
        if usage:
            out[modality] = np.mean(np.asarray(usage), axis=0).tolist()
    return out
