"""The evaluation report: per-case metrics, bootstrap summaries, expert activation.

A pydantic v2 model so it serialises to JSON (``report.model_dump_json()``) for the hub and
validates on the way back (``EvaluationReport.model_validate_json(...)``). Undefined values
(an HD95 against an empty mask, a GPR without GTV) are ``None`` in the report, never NaN,
so the JSON stays standard.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field
from rich.table import Table

from models.evaluation.bootstrap import bootstrap_ci
from models.evaluation.metrics import CaseMetrics

__all__ = ["CaseRow", "EvaluationReport", "MetricSummary", "render_table", "summarise"]


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class MetricSummary(BaseModel):
    """Mean and bootstrap CI of one metric over the cases where it is defined (``n``).

    ``mean``, ``ci_low`` and ``ci_high`` are None when ``n`` is 0.
    """

    model_config = ConfigDict(frozen=True)

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int = Field(ge=0)

    @classmethod
    def from_values(
        cls,
        values: Iterable[float | None],
        *,
        n_resamples: int = 1000,
        confidence: float = 0.95,
        seed: int = 0,
    ) -> MetricSummary:
        kept = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        mean, low, high = bootstrap_ci(kept, n_resamples=n_resamples, confidence=confidence, seed=seed)
        return cls(mean=_clean(mean), ci_low=_clean(low), ci_high=_clean(high), n=len(kept))


class CaseRow(BaseModel):
    """One case of the report (a :class:`CaseMetrics` with NaN written as None)."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    dice: float
    iou: float
    hd95_mm: float | None
    gpr_pred: float | None = None
    gpr_true: float | None = None
    volume_pred_ml: float | None = None
    volume_true_ml: float | None = None
    spread_pred: int | None = Field(default=None, description="26-connected components of the predicted PTV")
    spread_true: int | None = None

    @classmethod
    def from_metrics(cls, m: CaseMetrics) -> CaseRow:
        return cls(
            case_id=m.case_id,
            dice=float(m.dice),
            iou=float(m.iou),
            hd95_mm=_clean(m.hd95_mm),
            gpr_pred=_clean(m.gpr_pred),
            gpr_true=_clean(m.gpr_true),
            volume_pred_ml=_clean(m.volume_pred_ml),
            volume_true_ml=_clean(m.volume_true_ml),
            spread_pred=m.spread_pred,
            spread_true=m.spread_true,
        )


class EvaluationReport(BaseModel):
    """Evaluation of one model version with one router on one center's labelled cases.

    ``expert_activation`` maps a layer name to the fraction of tokens routed to each expert
    (seed 000 Fig. 3b). ``gpr_pred``/``gpr_true`` are None when no case has a GTV label.
    ``seconds`` is the wall time of the evaluation, ``device`` where it ran.
    """

    model_version: str
    router: str
    center: str
    n_cases: int = Field(ge=0)
    dice: MetricSummary
    iou: MetricSummary
    hd95_mm: MetricSummary
    gpr_pred: MetricSummary | None = None
    gpr_true: MetricSummary | None = None
    volume_pred_ml: MetricSummary | None = None
    volume_true_ml: MetricSummary | None = None
    split_pred_share: float | None = Field(default=None, description="share of cases whose predicted PTV has more "
                                           "than one 26-connected component (seed 003's spread)")
    cases: list[CaseRow] = Field(default_factory=list)
    expert_activation: dict[str, list[float]] = Field(default_factory=dict)
    device: str = "cpu"
    seconds: float = Field(default=0.0, ge=0.0)
    confidence: float = Field(default=0.95, gt=0.0, lt=1.0)
    n_resamples: int = Field(default=1000, ge=1)


def summarise(
    case_rows: Sequence[CaseMetrics],
    *,
    model_version: str,
    router: str,
    center: str,
    expert_activation: Mapping[str, Sequence[float]] | None = None,
    device: str = "cpu",
    seconds: float = 0.0,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> EvaluationReport:
    """Bootstrap every metric over ``case_rows`` and build the report.

    Each metric uses the same ``seed`` (1000 resamples, 95 % CI by default, seed 000).
    NaN values (HD95 against an empty mask) are left out of that metric's summary and
    its ``n``; GPR summaries are None when no case has a GTV.
    """
    kw = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    rows = list(case_rows)

    def summary(attr: str) -> MetricSummary:
        return MetricSummary.from_values((getattr(r, attr) for r in rows), **kw)

    spread = [r for r in rows if getattr(r, "spread_pred", None) is not None]

    def gpr_summary(attr: str) -> MetricSummary | None:
        if all(getattr(r, attr) is None for r in rows):
            return None
        return summary(attr)

    return EvaluationReport(
        model_version=model_version,
        router=router,
        center=center,
        n_cases=len(rows),
        dice=summary("dice"),
        iou=summary("iou"),
        hd95_mm=summary("hd95_mm"),
        gpr_pred=gpr_summary("gpr_pred"),
        gpr_true=gpr_summary("gpr_true"),
        volume_pred_ml=gpr_summary("volume_pred_ml"),
        volume_true_ml=gpr_summary("volume_true_ml"),
        split_pred_share=(sum(r.spread_pred > 1 for r in spread) / len(spread)) if spread else None,
        cases=[CaseRow.from_metrics(r) for r in rows],
        expert_activation={k: [float(v) for v in vs] for k, vs in (expert_activation or {}).items()},
        device=device,
        seconds=float(seconds),
        confidence=confidence,
        n_resamples=n_resamples,
    )


_FORMATS = {
    "dice": "{:.3f}",
    "iou": "{:.3f}",
    "hd95_mm": "{:.1f}",
    "gpr_pred": "{:.3f}",
    "gpr_true": "{:.3f}",
    "volume_pred_ml": "{:.0f}",
    "volume_true_ml": "{:.0f}",
    "spread_pred": "{:d}",
}


def _fmt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def _fmt_summary(s: MetricSummary | None, fmt: str) -> str:
    if s is None or s.mean is None:
        return "n/a"
    return f"{fmt.format(s.mean)} [{fmt.format(s.ci_low)}, {fmt.format(s.ci_high)}]"


def render_table(report: EvaluationReport) -> Table:
    """A rich table: one row per case, then the mean [95 % CI] of each metric.

    Dice, IoU and GPR to 3 decimals, HD95 in mm to 1 decimal; undefined values read "n/a".
    The GPR columns appear only when the report has GPR.
    """
    ci_label = f"{report.confidence * 100:g}% CI"
    show_gpr = report.gpr_pred is not None or report.gpr_true is not None
    cols = ["dice", "iou", "hd95_mm"] + (["gpr_pred", "gpr_true"] if show_gpr else []) + (
        ["volume_pred_ml"] if report.volume_pred_ml is not None else [])
    headers = {
        "dice": "Dice",
        "iou": "IoU",
        "hd95_mm": "HD95 (mm)",
        "gpr_pred": "GPR pred",
        "gpr_true": "GPR true",
        "volume_pred_ml": "PTV (mL)",
    }
    show_parts = report.split_pred_share is not None
    table = Table(
        title=(
            f"{report.center}: model {report.model_version}, router {report.router} ({report.n_cases} cases)"
        ),
        caption=(
            f"{report.device}, {report.seconds:.1f} s; mean [{ci_label}] from "
            f"{report.n_resamples} bootstrap resamples; n = cases where the metric is defined"
        ),
    )
    table.add_column("Case", no_wrap=True)
    for c in cols:
        table.add_column(headers[c], justify="right")
    if show_parts:  # seed 003's spread: a PTV in several pieces is worth a look
        table.add_column("parts", justify="right")

    for row in report.cases:
        parts = [_fmt(row.spread_pred, _FORMATS["spread_pred"])] if show_parts else []
        table.add_row(row.case_id, *(_fmt(getattr(row, c), _FORMATS[c]) for c in cols), *parts)
    table.add_section()
    summaries = [getattr(report, c) for c in cols]
    table.add_row(
        f"mean [{ci_label}]",
        *(_fmt_summary(s, _FORMATS[c]) for s, c in zip(summaries, cols, strict=True)),
        *([f"{report.split_pred_share:.0%} split"] if show_parts else []),
        style="bold",
    )
    table.add_row("n", *("0" if s is None else str(s.n) for s in summaries), *([""] if show_parts else []))
    return table
