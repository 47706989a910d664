"""Leave-one-out choice of the fine-tuning length."""

from __future__ import annotations

import pytest

from models.training.step_selection import MIN_GAIN, best_step_of, leave_one_out_folds


def test_each_shot_is_held_out_once_with_the_validation_case() -> None:
    folds = leave_one_out_folds(["s1", "s2", "s3"], ["v"])
    assert [sorted(train) for train, _ in folds] == [["s2", "s3"], ["s1", "s3"], ["s1", "s2"]]
    assert [held for _, held in folds] == [["s1", "v"], ["s2", "v"], ["s3", "v"]]
    assert leave_one_out_folds(["s1"], ["v"]) == [(["s1"], ["v"])]
    assert leave_one_out_folds(["s1"], []) == []


def test_best_mean_step_wins_and_ties_go_to_the_earlier_step() -> None:
    curves = [{0: 0.50, 25: 0.60, 50: 0.70, 75: 0.70}, {0: 0.40, 25: 0.30, 50: 0.50, 75: 0.50}]
    step, mean = best_step_of(curves)
    assert step == 50
    assert mean == [(0, pytest.approx(0.45)), (25, pytest.approx(0.45)), (50, pytest.approx(0.60)),
                    (75, pytest.approx(0.60))]


def test_a_gain_on_one_fold_that_another_fold_loses_keeps_the_starting_router() -> None:
    # One noisy held-out case would have adopted step 25; the mean over folds says no.
    assert best_step_of([{0: 0.6, 25: 0.8}, {0: 0.6, 25: 0.39}])[0] == 0
    assert best_step_of([{0: 0.6, 25: 0.6 + MIN_GAIN / 2}])[0] == 0
    assert best_step_of([{0: 0.6, 25: 0.6 + 2 * MIN_GAIN}])[0] == 25


def test_curves_must_share_their_steps() -> None:
    with pytest.raises(ValueError, match="same steps"):
        best_step_of([{0: 0.5, 25: 0.6}, {0: 0.5}])
    with pytest.raises(ValueError, match="step 0"):
        best_step_of([{25: 0.6}])
