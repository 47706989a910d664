"""Evaluation of seed 000: per-case metrics, bootstrap CIs, the report and its figures.

Names are loaded on first use (PEP 562), so ``import models.evaluation.plots`` or
``models.evaluation.bootstrap`` does not pay for importing MONAI. ``plots`` leaves
matplotlib's backend alone until a figure is drawn.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "bootstrap_ci": "bootstrap",
    "paired_t_test": "bootstrap",
    "CaseMetrics": "metrics",
    "case_metrics": "metrics",
    "dice": "metrics",
    "gpr": "metrics",
    "hd95_mm": "metrics",
    "iou": "metrics",
    "volume_ml": "metrics",
    "CaseRow": "report",
    "EvaluationReport": "report",
    "MetricSummary": "report",
    "render_table": "report",
    "summarise": "report",
    "plot_dice_vs_shots": "plots",
}

__all__ = [
    "CaseMetrics",
    "CaseRow",
    "EvaluationReport",
    "MetricSummary",
    "bootstrap_ci",
    "case_metrics",
    "dice",
    "gpr",
    "hd95_mm",
    "iou",
    "paired_t_test",
    "plot_dice_vs_shots",
    "render_table",
    "summarise",
    "volume_ml",
]
assert sorted(__all__) == sorted(_EXPORTS)

if TYPE_CHECKING:
    from models.evaluation.bootstrap import bootstrap_ci, paired_t_test
    from models.evaluation.metrics import (
        CaseMetrics,
        case_metrics,
        dice,
        gpr,
        hd95_mm,
        iou,
        volume_ml,
    )
    from models.evaluation.plots import plot_dice_vs_shots
    from models.evaluation.report import (
        CaseRow,
        EvaluationReport,
        MetricSummary,
        render_table,
        summarise,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
