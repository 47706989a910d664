"""Figures of the MOME breast benchmark: ROC and PR curves (MOME with a bootstrap band) and the global Shapley
contributions per sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.plotting import figure as _figure
from benchmarks.plotting import save as _save
from models.families.mome_breast.metrics import pr_curve, roc_curve

GRID = np.linspace(0, 1, 101)


def _band(labels: np.ndarray, scores: np.ndarray, curve, seed: int = 0, n: int = 1000) -> tuple[np.ndarray, ...]:
    """Pointwise 95% bootstrap band of a curve interpolated on a common x grid."""
    rng = np.random.default_rng(seed)
    ys = []
    for _ in range(n):
        idx = rng.integers(0, len(labels), len(labels))
        if len(set(labels[idx].tolist())) < 2:
            continue
        x, y = curve(labels[idx], scores[idx])
        ys.append(np.interp(GRID, x, y))
    return np.quantile(ys, 0.025, axis=0), np.quantile(ys, 0.975, axis=0)


def roc_pr(labels: np.ndarray, scores: dict[str, np.ndarray], path: Path, banded: str) -> Path:
    """ROC and PR curves of every method on the same cases; ``banded`` gets its 95% bootstrap band."""
    fig = _figure(9, 4)
    for k, (curve, xlabel, ylabel) in enumerate(((roc_curve, "1 - specificity", "sensitivity"),
                                                 (pr_curve, "recall", "precision")), start=1):
        ax = fig.add_subplot(1, 2, k)
        for name, s in scores.items():
            x, y = curve(labels, s)
            ax.plot(x, y, label=name, lw=2 if name == banded else 1)
        low, high = _band(labels, scores[banded], curve)
        ax.fill_between(GRID, low, high, alpha=0.2, label=f"{banded} 95% CI")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
    fig.suptitle("MOME breast benchmark: ROC and PR on the complete test cases", fontsize=10)
    return _save(fig, path)


def shapley_bars(by_class: dict[str, dict[str, float]], path: Path) -> Path:
    """Mean Shapley contribution per sequence, one bar group per true class (seed 002, Fig. 5m)."""
    fig = _figure(5.5, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    sequences = list(next(iter(by_class.values())))
    width = 0.8 / len(by_class)
    for k, (name, values) in enumerate(by_class.items()):
        ax.bar(np.arange(len(sequences)) + k * width, [values[s] for s in sequences], width, label=name)
    ax.set_xticks(np.arange(len(sequences)) + width * (len(by_class) - 1) / 2, sequences)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel("mean Shapley contribution to p(malignant)")
    ax.legend(fontsize=8)
    ax.set_title("Global Shapley value per sequence (every case of center A)", fontsize=10)
    return _save(fig, path)
