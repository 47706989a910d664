"""Figures of the M4oE benchmark: Dice per dataset per method with CIs, and expert usage per modality."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.plotting import figure as _figure
from benchmarks.plotting import save as _save


def dice_bars(dice: dict[str, dict[str, dict]], path: Path) -> Path:
    """Grouped bars: ``dice[method][dataset] = {"mean", "ci"}``, one group per dataset."""
    fig = _figure(8, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    datasets = list(next(iter(dice.values())))
    width = 0.8 / len(dice)
    for k, (method, per) in enumerate(dice.items()):
        means = np.array([per[d]["mean"] for d in datasets])
        err = [means - np.array([per[d]["ci"][0] for d in datasets]),
               np.array([per[d]["ci"][1] for d in datasets]) - means]
        ax.bar(np.arange(len(datasets)) + k * width, means, width, yerr=err, capsize=2, label=method)
    ax.set_xticks(np.arange(len(datasets)) + width * (len(dice) - 1) / 2, datasets)
    ax.set_ylabel("mean Dice (95% bootstrap CI over cases)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, ncols=len(dice))
    ax.set_title("M4oE benchmark: Dice per dataset (test cases)")
    return _save(fig, path)


def usage_heatmap(usage: dict[str, list[float]], path: Path) -> Path:
    """Modality x expert heatmap of the share of each modality's tokens whose top expert is e."""
    modalities = list(usage)
    matrix = np.asarray([usage[m] for m in modalities])
    fig = _figure(1.6 + 1.1 * matrix.shape[1], 1.2 + 0.7 * len(modalities))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(matrix.shape[1]), [f"expert {e}" for e in range(matrix.shape[1])])
    ax.set_yticks(range(len(modalities)), modalities)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center",
                    color="white" if matrix[i, j] < 0.5 else "black", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.05, label="share of tokens (top expert)")
    ax.set_title("M4oE expert usage per modality")
    return _save(fig, path)
