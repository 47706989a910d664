"""Figures of the evaluation, headless: Dice against the number of fine-tuning shots, Dice per
router, and expert activation per router and level.

Like seed 000 Fig. 4a: one line per method (mean Dice) with its bootstrap CI as a shaded
band. Importing this module does not touch matplotlib's backend; the function picks Agg
only when no backend has been chosen, and draws on a stand-alone ``Figure`` (no pyplot
state, nothing left open).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from models.fsutil import atomic_path

__all__ = ["plot_dice_by_router", "plot_dice_vs_shots", "plot_expert_activation"]

_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def _ensure_backend() -> None:
    import matplotlib

    get = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
    chosen = get() if get is not None else os.environ.get("MPLBACKEND")
    if chosen is None:
        matplotlib.use("Agg")


def plot_dice_vs_shots(
    results: Mapping[str, Mapping[int, tuple[float, float, float]]],
    path: str | os.PathLike[str],
    title: str = "Dice vs. number of shots",
) -> Path:
    """Plot ``results[method][shots] = (mean, low, high)`` and write it atomically to ``path``.

    The format follows the suffix (.png, .pdf or .svg). The figure is rendered to a
    temporary file in the same folder and moved over ``path`` with ``os.replace``, so a
    reader never sees a half-written file. Returns the path written.
    """
    path = Path(path)
    if not results or all(not series for series in results.values()):
        raise ValueError("results is empty: nothing to plot")
    fig, ax = _figure(path)
    all_shots: set[int] = set()
    for method, series in results.items():
        if not series:
            continue
        shots = sorted(series)
        mean = [series[s][0] for s in shots]
        low = [series[s][1] for s in shots]
        high = [series[s][2] for s in shots]
        (line,) = ax.plot(shots, mean, marker="o", label=str(method))
        ax.fill_between(shots, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        all_shots.update(int(s) for s in shots)
    ax.set_xticks(sorted(all_shots))
    ax.set_xlabel("Number of shots (labelled cases)")
    ax.set_ylabel("Dice")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_dice_by_router(dice: Mapping[str, float], path: str | os.PathLike[str], title: str = "Dice by router") -> Path:
    """Bar chart of ``dice[router label] = mean Dice``, written atomically to ``path``."""
    path = Path(path)
    if not dice:
        raise ValueError("dice is empty: nothing to plot")
    fig, ax = _figure(path)
    labels = list(dice)
    ax.bar(range(len(labels)), [dice[k] for k in labels], color="#4C72B0")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("Dice")
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def plot_expert_activation(activation: Mapping[str, Mapping[str, Sequence[float]]], path: str | os.PathLike[str],
                           title: str = "Expert activation") -> Path:
    """Heatmap of ``activation[router][level] = share of tokens per expert`` (seed 000 Fig. 3b)."""
    path = Path(path)
    rows = [(f"{router} {level}", list(shares)) for router, levels in activation.items()
            for level, shares in levels.items()]
    if not rows:
        raise ValueError("activation is empty: nothing to plot")
    fig, ax = _figure(path)
    image = ax.imshow([shares for _, shares in rows], aspect="auto", cmap="viridis", vmin=0.0)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.set_xticks(range(len(rows[0][1])), [str(i) for i in range(len(rows[0][1]))])
    ax.set_xlabel("expert")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="share of tokens")
    return _save(fig, path)


def _figure(path: Path):
    """A stand-alone Agg figure with one axes, after checking the output format."""
    if path.suffix.lower() not in _FORMATS:
        raise ValueError(f"path must end in one of {sorted(_FORMATS)}, got {path.name!r}")
    _ensure_backend()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.0), dpi=150)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig, path: Path) -> Path:
    """Render ``fig`` to a temporary file beside ``path`` and move it into place."""
    fmt = _FORMATS[path.suffix.lower()]
    fig.tight_layout()
    with atomic_path(path, mode=0o644) as tmp:  # a figure is meant to be read by others
        fig.savefig(tmp, format=fmt)
    return path
