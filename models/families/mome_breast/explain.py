"""Explanations a reader can check: exact Shapley values of the sequences (every subset is a real inference,
since MOME runs with any sequence missing) and integrated-gradients saliency drawn over the central slice."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from models.fsutil import atomic_path


def shapley(value: Callable[[frozenset[str]], float], players: Sequence[str]) -> dict[str, float]:
    """Exact Shapley values: phi_i = sum over S not holding i of |S|!(n-|S|-1)!/n! (v(S + i) - v(S)); ``value``
    is called once per subset (2^n of them, 8 for three sequences), the empty one included."""
    n = len(players)
    cache = {frozenset(s): value(frozenset(s)) for r in range(n + 1) for s in itertools.combinations(players, r)}
    phi = {}
    for i in players:
        others = [p for p in players if p != i]
        total = 0.0
        for r in range(n):
            weight = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
            for s in itertools.combinations(others, r):
                total += weight * (cache[frozenset(s) | {i}] - cache[frozenset(s)])
        phi[i] = total
    return phi


def integrated_gradients(forward: Callable[[dict[str, Tensor]], Tensor], inputs: dict[str, Tensor], *,
                         steps: int = 16) -> dict[str, Tensor]:
    """Integrated gradients of a scalar output from an all-zero baseline: (x - 0) * mean over the straight path
    of the gradient (Riemann midpoint rule, ``steps`` points), per input tensor."""
    grads = {k: torch.zeros_like(v) for k, v in inputs.items()}
    for step in range(steps):
        alpha = (step + 0.5) / steps
        scaled = {k: (v * alpha).detach().requires_grad_(True) for k, v in inputs.items()}
        output = forward(scaled)
        found = torch.autograd.grad(output, list(scaled.values()))
        for k, g in zip(scaled, found, strict=True):
            grads[k] += g / steps
    return {k: inputs[k] * grads[k] for k in inputs}


def saliency_png(images: dict[str, np.ndarray], attributions: dict[str, np.ndarray], path: Path,
                 title: str) -> Path:
    """One panel per sequence: its central axial slice in grey (DCE: last minus first time point) with the
    absolute attribution in red above its 80th percentile."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2 * len(images), 3.4), dpi=100)
    for i, (name, volume) in enumerate(images.items(), start=1):
        z = volume.shape[-1] // 2
        base = volume[-1, :, :, z] - volume[0, :, :, z] if volume.shape[0] > 1 else volume[0, :, :, z]
        heat = np.abs(attributions[name]).sum(0)[:, :, z]
        ax = fig.add_subplot(1, len(images), i)
        ax.imshow(base.T, cmap="gray", origin="lower")
        cut = np.quantile(heat, 0.8)
        masked = np.ma.masked_where(heat <= cut, heat)
        ax.imshow(masked.T, cmap="Reds", alpha=0.6, origin="lower")
        ax.set_title(f"{name}{' (subtraction)' if volume.shape[0] > 1 else ''}", fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path, mode=0o644) as tmp:
        fig.savefig(tmp, format="png")
    return path
