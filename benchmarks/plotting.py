"""Figure helpers every benchmark shares: a headless matplotlib figure and an atomic, world-readable PNG."""

from __future__ import annotations

from pathlib import Path

from models.fsutil import atomic_path


def figure(width: float, height: float):
    """A matplotlib Figure on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110)


def save(fig, path: Path) -> Path:
    """Lay out and write ``fig`` as a PNG, atomically, readable by others."""
    fig.tight_layout()
    with atomic_path(path, mode=0o644) as tmp:
        fig.savefig(tmp, format="png")
    return path
