"""Percentile bootstrap and paired t-test (seed 000, Statistics & reproducibility)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.evaluation.bootstrap import bootstrap_ci, paired_bootstrap_ci, paired_t_test


def test_constant_sample_gives_degenerate_interval():
    assert bootstrap_ci([0.83] * 25) == (pytest.approx(0.83), pytest.approx(0.83), pytest.approx(0.83))


def test_single_value_and_empty():
    assert bootstrap_ci([0.7]) == (0.7, 0.7, 0.7)
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    assert all(math.isnan(v) for v in bootstrap_ci([float("nan"), None]))


def test_nan_and_none_values_are_dropped():
    assert bootstrap_ci([0.1, float("nan"), 0.5, None, 0.9]) == bootstrap_ci([0.1, 0.5, 0.9])
    assert bootstrap_ci([0.4, float("nan")]) == (0.4, 0.4, 0.4)


def test_two_values_hand_computed():
    # Resampled means of [0, 1] are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4,
    # so the 2.5 % and 97.5 % quantiles of 1000 of them are 0 and 1.
    assert bootstrap_ci([0.0, 1.0]) == (0.5, 0.0, 1.0)


def test_reproducible_with_seed():
    x = np.random.default_rng(11).normal(0.8, 0.1, 30)
    assert bootstrap_ci(x, seed=5) == bootstrap_ci(list(x), seed=5)
    assert bootstrap_ci(x, seed=5) != bootstrap_ci(x, seed=6)


def test_interval_contains_sample_mean():
    x = np.random.default_rng(7).normal(0.8, 0.05, 50)
    mean, low, high = bootstrap_ci(x)
    assert mean == pytest.approx(float(np.mean(x)))
    assert low < mean < high


def test_width_matches_normal_theory_and_shrinks_with_n():
    rng = np.random.default_rng(3)
    big = rng.normal(0.0, 1.0, 400)
    _, low, high = bootstrap_ci(big)
    # Standard error 1/sqrt(400) = 0.05: a 95 % interval about 2 * 1.96 * 0.05 = 0.196 wide.
    assert high - low == pytest.approx(0.196, rel=0.15)
    small = big[:25]
    _, s_low, s_high = bootstrap_ci(small)
    # Width scales like 1/sqrt(n): 25 -> 400 cases is 4x narrower.
    assert (s_high - s_low) / (high - low) == pytest.approx(4.0, rel=0.35)


def test_wider_confidence_gives_wider_interval():
    x = np.random.default_rng(2).normal(0.0, 1.0, 40)
    _, l90, h90 = bootstrap_ci(x, confidence=0.90)
    _, l99, h99 = bootstrap_ci(x, confidence=0.99)
    assert l99 < l90 and h90 < h99


def test_coverage_of_true_mean_is_about_95_percent():
    rng = np.random.default_rng(0)
    hits = 0
    trials = 200
    for i in range(trials):
        x = rng.normal(0.8, 0.05, 30)
        _, low, high = bootstrap_ci(x, seed=i)
        hits += low <= 0.8 <= high
    # Percentile bootstrap undercovers slightly at n = 30; binomial sd at 200 trials ~1.5 %.
    assert 0.87 <= hits / trials <= 0.99


def test_invalid_arguments():
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_ci([1.0, 2.0], n_resamples=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0, 2.0], confidence=1.0)


def test_paired_t_test_hand_computed():
    # Differences 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 2 sqrt 3 with 2 degrees of
    # freedom, where the two-tailed p = 1 - t / sqrt(t^2 + 2) = 1 - sqrt(12 / 14).
    a = [2.0, 4.0, 6.0]
    b = [1.0, 2.0, 3.0]
    expected = 1.0 - math.sqrt(12.0 / 14.0)
    assert paired_t_test(a, b) == pytest.approx(expected, rel=1e-9)
    assert paired_t_test(b, a) == pytest.approx(expected, rel=1e-9)  # two-tailed


def test_paired_t_test_drops_incomplete_pairs_and_degenerate_cases():
    a = [2.0, 4.0, float("nan"), 6.0, 0.3]
    b = [1.0, 2.0, 5.0, 3.0, None]
    assert paired_t_test(a, b) == pytest.approx(1.0 - math.sqrt(12.0 / 14.0))
    assert paired_t_test([0.8, 0.9, 0.7], [0.8, 0.9, 0.7]) == 1.0
    assert math.isnan(paired_t_test([1.0, 2.0, 3.0], [0.0, 1.0, 2.0]))  # constant difference
    assert math.isnan(paired_t_test([1.0], [2.0]))
    with pytest.raises(ValueError, match="same length"):
        paired_t_test([1.0, 2.0], [1.0])


def test_paired_t_test_detects_a_real_difference():
    rng = np.random.default_rng(4)
    base = rng.normal(0.75, 0.08, 40)
    better = base + 0.03 + rng.normal(0.0, 0.01, 40)
    assert paired_t_test(better, base) < 1e-6
    same = base + rng.normal(0.0, 0.01, 40)
    assert paired_t_test(same, base) > 0.01


def test_paired_bootstrap_excludes_zero_where_marginal_intervals_overlap():
    # Cases vary a lot (0.3-0.9) but method a beats b by 0.02-0.04 on every one of them.
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.9, size=20)
    a, b = base + rng.uniform(0.02, 0.04, size=20), base
    _, a_low, a_high = bootstrap_ci(a)
    _, b_low, b_high = bootstrap_ci(b)
    assert a_low < b_high  # the marginal CIs overlap ...
    mean, low, high = paired_bootstrap_ci(a, b)
    assert mean == pytest.approx(float(np.mean(a - b)))
    assert 0.0 < low <= mean <= high  # ... the paired one does not include zero


def test_paired_bootstrap_drops_incomplete_pairs_and_checks_lengths():
    assert paired_bootstrap_ci([0.5, None, 0.7], [0.4, 0.1, float("nan")]) == (pytest.approx(0.1),) * 3
    with pytest.raises(ValueError, match="same length"):
        paired_bootstrap_ci([0.1, 0.2], [0.1])


def test_paired_bootstrap_of_no_difference_straddles_zero():
    rng = np.random.default_rng(2)
    a = rng.uniform(0.4, 0.8, size=30)
    noise = rng.normal(0, 0.05, size=30)
    _, low, high = paired_bootstrap_ci(a + noise - noise.mean(), a)
    assert low < 0.0 < high
