"""Classification metrics with 1000-resample bootstrap CIs over cases (seed 002's reporting): AUROC (MONAI),
AUPRC (average precision), and sensitivity, specificity, F1 and MCC at a probability threshold."""

from __future__ import annotations

import math

import numpy as np
import torch
from monai.metrics import compute_roc_auc

METRICS = ("auroc", "auprc", "sensitivity", "specificity", "f1", "mcc")


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    if len(set(labels.tolist())) < 2:
        return math.nan
    return float(compute_roc_auc(torch.as_tensor(scores, dtype=torch.float64), torch.as_tensor(labels)))


def auprc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision: the mean of the precision at each positive, ranked by score (ties broken by order)."""
    if labels.sum() == 0:
        return math.nan
    order = np.argsort(-scores, kind="stable")
    hits = labels[order] == 1
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def threshold_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Sensitivity, specificity, F1 and Matthews' correlation of ``scores >= threshold``."""
    pred = scores >= threshold
    tp = float(np.sum(pred & (labels == 1)))
    tn = float(np.sum(~pred & (labels == 0)))
    fp = float(np.sum(pred & (labels == 0)))
    fn = float(np.sum(~pred & (labels == 1)))
    sens = tp / (tp + fn) if tp + fn else math.nan
    spec = tn / (tn + fp) if tn + fp else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan
    denom = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = (tp * tn - fp * fn) / denom if denom else 0.0
    return {"sensitivity": sens, "specificity": spec, "f1": f1, "mcc": mcc}


def all_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {"auroc": auroc(labels, scores), "auprc": auprc(labels, scores), **threshold_metrics(labels, scores)}


def with_bootstrap(labels: list[int] | np.ndarray, scores: list[float] | np.ndarray, *, n_resamples: int = 1000,
                   seed: int = 0) -> dict[str, dict]:
    """Every metric with its percentile-bootstrap 95% CI (cases resampled; resamples with one class skipped)."""
    y, s = np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)
    point = all_metrics(y, s)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in METRICS}
    for _ in range(n_resamples):
        idx = rng.integers(0, len(y), len(y))
        if len(set(y[idx].tolist())) < 2:
            continue
        for k, v in all_metrics(y[idx], s[idx]).items():
            if not math.isnan(v):
                draws[k].append(v)
    return {k: {"mean": point[k], "ci": [float(np.quantile(draws[k], 0.025)), float(np.quantile(draws[k], 0.975))]
                if draws[k] else [math.nan, math.nan], "n": len(y)} for k in METRICS}


def paired_auroc_difference(labels: list[int] | np.ndarray, a: list[float] | np.ndarray,
                            b: list[float] | np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """AUROC(a) - AUROC(b) on the same cases with the paired bootstrap 95% CI (the same resample for both)."""
    y, sa, sb = np.asarray(labels, dtype=int), np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(y), len(y))
        if len(set(y[idx].tolist())) >= 2:
            diffs.append(auroc(y[idx], sa[idx]) - auroc(y[idx], sb[idx]))
    low, high = (float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))) if diffs else (math.nan,) * 2
    return {"mean": auroc(y, sa) - auroc(y, sb), "ci": [low, high], "above_zero": bool(low > 0)}


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every threshold (for plots)."""
    order = np.argsort(-scores, kind="stable")
    y = np.asarray(labels)[order]
    tpr = np.concatenate([[0.0], np.cumsum(y == 1) / max((y == 1).sum(), 1)])
    fpr = np.concatenate([[0.0], np.cumsum(y == 0) / max((y == 0).sum(), 1)])
    return fpr, tpr


def pr_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision at every threshold (for plots)."""
    order = np.argsort(-scores, kind="stable")
    hits = np.asarray(labels)[order] == 1
    recall = np.cumsum(hits) / max(hits.sum(), 1)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return recall, precision
