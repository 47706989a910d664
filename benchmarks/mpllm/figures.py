"""Figures of the mpLLM benchmark: accuracy per question type with CIs per method, and the correlation of the
high-level router's weights over the template prompts (seed 003, Fig. 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.fsutil import atomic_path


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110)


def accuracy_bars(summaries: dict[str, dict], metrics: tuple[str, ...], path: Path) -> Path:
    """Grouped bars: ``summaries[method][metric] = {"mean", "ci"}``, one group per metric."""
    fig = _figure(9, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(summaries)
    for k, (method, summary) in enumerate(summaries.items()):
        means = np.array([summary[m]["mean"] for m in metrics])
        lows = means - np.array([summary[m]["ci"][0] for m in metrics])
        highs = np.array([summary[m]["ci"][1] for m in metrics]) - means
        ax.bar(np.arange(len(metrics)) + k * width, means, width, yerr=[lows, highs], capsize=2, label=method)
    ax.set_xticks(np.arange(len(metrics)) + width * (len(summaries) - 1) / 2, metrics)
    ax.set_ylabel("accuracy (95% bootstrap CI over cases)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, ncols=len(summaries))
    ax.set_title("mpLLM benchmark: accuracy per question type (test cases of A, B, C)")
    fig.tight_layout()
    with atomic_path(path, mode=0o644) as tmp:
        fig.savefig(tmp, format="png")
    return path


def routing_heatmap(weights: np.ndarray, names: list[str], path: Path) -> Path:
    """Pearson correlation between the routing-weight vectors of the template prompts."""
    corr = np.corrcoef(weights)
    fig = _figure(7.5, 6.5)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(corr, vmin=-1, vmax=1, cmap="coolwarm")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=5)
    ax.set_yticks(range(len(names)), names, fontsize=5)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title("High-level router weights: correlation between template prompts")
    fig.tight_layout()
    with atomic_path(path, mode=0o644) as tmp:
        fig.savefig(tmp, format="png")
    return path
