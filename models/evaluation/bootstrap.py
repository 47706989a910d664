"""Statistics of seed 000 (Methods, "Statistics & reproducibility").

Non-parametric percentile bootstrap of the mean (1000 resamples with replacement, 95 % CI)
and the two-tailed paired Student's t-test used to compare methods on the same cases.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import stats

__all__ = ["bootstrap_ci", "paired_bootstrap_ci", "paired_t_test"]

# Resample indices are drawn in blocks of at most this many elements so that a large
# sample does not allocate n_resamples x n integers at once; each block is vectorised.
_MAX_BLOCK_ELEMENTS = 20_000_000


def _finite_array(values: Iterable[float | None]) -> np.ndarray:
    arr = np.asarray([np.nan if v is None else v for v in values], dtype=float).ravel()
    return arr[~np.isnan(arr)]


def bootstrap_ci(
    values: Iterable[float | None],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile-bootstrap confidence interval.

    ``n_resamples`` samples of the same size are drawn with replacement (numpy
    ``default_rng(seed)``, so the result is reproducible), the mean of each is taken, and
    the interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of
    those means. The point estimate returned is the sample mean (the centre of the
    bootstrap distribution, without its resampling noise).

    NaN and None values are dropped first. One value gives ``(v, v, v)``; no value gives
    ``(nan, nan, nan)``. Returns ``(mean, low, high)``.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    x = _finite_array(values)
    n = x.size
    if n == 0:
        nan = float("nan")
        return nan, nan, nan
    mean = float(x.mean())
    if n == 1 or np.all(x == x[0]):
        return mean, mean, mean

    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples, dtype=float)
    block = max(1, _MAX_BLOCK_ELEMENTS // n)
    for start in range(0, n_resamples, block):
        stop = min(start + block, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = x[idx].mean(axis=1)
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    # Guard against floating-point rounding placing the mean a hair outside the interval.
    return mean, float(min(low, mean)), float(max(high, mean))


def _pairs(a: Iterable[float | None], b: Iterable[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """Both samples as float arrays with the pairs where either value is NaN/None dropped."""
    xa = np.asarray([np.nan if v is None else v for v in a], dtype=float).ravel()
    xb = np.asarray([np.nan if v is None else v for v in b], dtype=float).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples must have the same length, got {xa.size} and {xb.size}")
    keep = ~(np.isnan(xa) | np.isnan(xb))
    return xa[keep], xb[keep]


def paired_bootstrap_ci(
    a: Iterable[float | None], b: Iterable[float | None], n_resamples: int = 1000, confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of the per-case differences ``a[i] - b[i]`` and its percentile-bootstrap CI.

    The cases are resampled as pairs, so what varies between cases (an easy or a hard
    patient) cancels: this is the interval that says whether one method beats another on
    the same cases, which two overlapping marginal intervals cannot. Returns ``(mean, low, high)``.
    """
    xa, xb = _pairs(a, b)
    return bootstrap_ci(xa - xb, n_resamples=n_resamples, confidence=confidence, seed=seed)


def paired_t_test(a: Iterable[float | None], b: Iterable[float | None]) -> float:
    """Two-tailed p-value of Student's paired t-test of ``a`` against ``b``.

    ``a[i]`` and ``b[i]`` must be the same case under two methods. Pairs where either value
    is NaN/None are dropped. Returns NaN when fewer than two pairs remain or the
    differences have no variance (the test is undefined), except that identical samples
    give 1.0 (no difference at all).
    """
    xa, xb = _pairs(a, b)
    if xa.size < 2:
        return float("nan")
    d = xa - xb
    if np.all(d == 0):
        return 1.0
    if np.all(d == d[0]):
        return float("nan")
    return float(stats.ttest_rel(xa, xb, alternative="two-sided").pvalue)
