"""Dice-vs-shots figure: written atomically, headless, without touching a chosen backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.evaluation.plots import plot_dice_vs_shots

RESULTS = {
    "MoME": {0: (0.70, 0.66, 0.74), 1: (0.78, 0.75, 0.81), 5: (0.83, 0.81, 0.85)},
    "vision-only": {5: (0.72, 0.69, 0.75), 0: (0.55, 0.50, 0.60), 1: (0.63, 0.59, 0.67)},
}
REPO = Path(__file__).resolve().parents[3]


def test_writes_png_and_leaves_no_temp_file(tmp_path):
    out = tmp_path / "figs" / "dice_vs_shots.png"
    written = plot_dice_vs_shots(RESULTS, out, "Center D")
    assert written == out
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000
    assert sorted(p.name for p in out.parent.iterdir()) == ["dice_vs_shots.png"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)


def test_svg_draws_one_band_and_line_per_method(tmp_path):
    out = tmp_path / "d.svg"
    plot_dice_vs_shots(RESULTS, out, "Center D")
    text = out.read_text()
    assert text.lstrip().startswith("<?xml")
    assert "Center D" in text and "MoME" in text and "vision-only" in text
    assert text.count('id="FillBetweenPolyCollection') + text.count('id="PolyCollection') == 2


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    out = tmp_path / "d.png"
    out.write_bytes(b"old")
    from matplotlib.figure import Figure

    def boom(self, *a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_dice_vs_shots(RESULTS, out, "x")
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["d.png"]


def test_rejects_bad_suffix_and_empty_results(tmp_path):
    with pytest.raises(ValueError, match="path must end"):
        plot_dice_vs_shots(RESULTS, tmp_path / "d.jpg", "x")
    with pytest.raises(ValueError, match="empty"):
        plot_dice_vs_shots({}, tmp_path / "d.png", "x")
    with pytest.raises(ValueError, match="empty"):
        plot_dice_vs_shots({"MoME": {}}, tmp_path / "d.png", "x")


SCRIPT = r"""
import sys, matplotlib
pre = sys.argv[1]
if pre != "none":
    matplotlib.use(pre)
import models.evaluation.plots as plots
before = matplotlib.rcParams._get_backend_or_none()
plots.plot_dice_vs_shots({"m": {0: (0.5, 0.4, 0.6), 1: (0.6, 0.5, 0.7)}}, sys.argv[2], "t")
print(before, matplotlib.get_backend().lower())
"""


@pytest.mark.parametrize(("pre", "expected"), [("none", "None agg"), ("svg", "svg svg")])
def test_backend_chosen_only_when_none_was(tmp_path, pre, expected):
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = str(REPO)
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, pre, str(tmp_path / "f.png")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == expected
    assert (tmp_path / "f.png").exists()


def test_package_exports_resolve():
    import models.evaluation as ev

    assert ev.plot_dice_vs_shots is plot_dice_vs_shots
    for name in ev.__all__:
        assert callable(getattr(ev, name))
    with pytest.raises(AttributeError):
        ev.no_such_name  # noqa: B018
