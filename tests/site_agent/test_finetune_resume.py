"""Ctrl-C during fine-tuning keeps the completed leave-one-out folds; --resume skips them and ends where an
uninterrupted run ends."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from models.training.finetune import FINETUNE_DEFAULTS, finetune_center
from models.training.fold_journal import FoldJournal, journal_path, kept_folds

SETTINGS = replace(FINETUNE_DEFAULTS, steps=4, val_every=2, lr=3e-3)


def _run(base: Path, data: Path, out: Path, **kwargs: object):
    return finetune_center(base, data, out, center="D", shots=2, init_router="C", settings=SETTINGS, **kwargs)


def test_resume_skips_kept_folds_and_matches_an_uninterrupted_run(base_model: Path, centers: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    # Prepare: an uninterrupted reference run, and a run stopped by Ctrl-C in its second fold
    reference = _run(base_model, centers["D"], tmp_path / "reference")
    out = tmp_path / "ft"
    journal = journal_path(out)

    def stop_in_second_fold(step: int, loss: float, val: float | None) -> None:
        if step > SETTINGS.steps:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(base_model, centers["D"], out, journal=journal, on_step=stop_in_second_fold)
    assert kept_folds(journal) == 1 and not out.exists()
    # Execute: resume, counting which steps were trained again
    steps: list[tuple[int, float]] = []
    resumed = _run(base_model, centers["D"], out, journal=journal, resume=True,
                   on_step=lambda step, loss, val: steps.append((step, loss)))
    # Assert: fold 1 was not retrained, the selection equals the reference, the journal is gone
    assert [s for s, loss in steps if math.isnan(loss)] == [SETTINGS.steps]
    assert all(s > SETTINGS.steps for s, loss in steps if not math.isnan(loss))
    assert resumed.selection is not None and reference.selection is not None
    assert resumed.selection.steps == reference.selection.steps
    assert resumed.selection.curve == pytest.approx(reference.selection.curve, abs=1e-6)
    assert not journal.exists()


def test_a_journal_of_another_run_is_ignored(base_model: Path, centers: dict[str, Path], tmp_path: Path) -> None:
    # Prepare: a journal whose key belongs to another run, with a curve no real fold gives
    out = tmp_path / "ft"
    FoldJournal(journal_path(out), key="another run").record([{0: 0.99, 2: 0.99, 4: 0.99}])
    # Execute
    steps: list[float] = []
    result = _run(base_model, centers["D"], out, journal=journal_path(out), resume=True,
                  on_step=lambda step, loss, val: steps.append(loss))
    # Assert: every fold was trained, and the foreign curve is not in the selection
    assert not any(math.isnan(loss) for loss in steps)
    assert result.selection is not None and result.selection.dice_at_start != pytest.approx(0.99)


def test_the_interrupted_line_counts_the_kept_folds(tmp_path: Path) -> None:
    from site_agent.finetune import interrupted_line

    journal = tmp_path / ".ft.folds.json"
    journal.write_text(json.dumps({"key": "k", "curves": [{"0": 0.5}, {"0": 0.6}]}))

    line = interrupted_line("fine-tuning", tmp_path / "ft", None, journal)

    assert "2 completed leave-one-out folds are kept" in line and "--resume" in line
    assert "--resume" not in interrupted_line("fine-tuning", tmp_path / "ft", None, tmp_path / "none.json")
