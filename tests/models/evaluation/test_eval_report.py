"""The evaluation report: summaries, JSON round trip and the rich table."""

from __future__ import annotations

import math

import pytest
from rich.console import Console

from models.evaluation.bootstrap import bootstrap_ci
from models.evaluation.metrics import CaseMetrics
from models.evaluation.report import EvaluationReport, MetricSummary, render_table, summarise

ROWS = [
    CaseMetrics("d001", dice=0.8, iou=0.6667, hd95_mm=6.0, gpr_pred=0.2, gpr_true=0.25),
    CaseMetrics("d002", dice=0.9, iou=0.8182, hd95_mm=float("nan"), gpr_pred=0.1, gpr_true=0.15),
    CaseMetrics("d003", dice=1.0, iou=1.0, hd95_mm=2.25, gpr_pred=None, gpr_true=None),
]


def make_report(rows=ROWS, **kw):
    args = dict(
        model_version="v3",
        router="CenterA",
        center="CenterD",
        expert_activation={"enc.0": [0.5, 0.25, 0.25]},
        device="cpu (requested)",
        seconds=12.5,
    )
    args.update(kw)
    return summarise(rows, **args)


def test_summaries_match_bootstrap_and_skip_undefined_values():
    r = make_report()
    assert r.n_cases == 3
    assert r.dice.n == 3
    assert r.dice.mean == pytest.approx(0.9)
    mean, low, high = bootstrap_ci([0.8, 0.9, 1.0])
    assert (r.dice.mean, r.dice.ci_low, r.dice.ci_high) == pytest.approx((mean, low, high))
    assert r.dice.ci_low <= r.dice.mean <= r.dice.ci_high
    # The NaN HD95 (one empty mask) is left out: two values remain.
    assert r.hd95_mm.n == 2
    assert r.hd95_mm.mean == pytest.approx((6.0 + 2.25) / 2)
    # GPR only where a GTV exists.
    assert r.gpr_pred.n == 2 and r.gpr_pred.mean == pytest.approx(0.15)
    assert r.gpr_true.n == 2 and r.gpr_true.mean == pytest.approx(0.2)
    assert r.expert_activation == {"enc.0": [0.5, 0.25, 0.25]}
    assert r.confidence == 0.95 and r.n_resamples == 1000


def test_cases_write_undefined_values_as_none():
    r = make_report()
    assert [c.case_id for c in r.cases] == ["d001", "d002", "d003"]
    assert r.cases[1].hd95_mm is None
    assert r.cases[2].gpr_pred is None
    assert r.cases[0].gpr_true == pytest.approx(0.25)


def test_gpr_summary_is_none_without_any_gtv():
    rows = [CaseMetrics("a", 0.7, 0.54, 4.0, None, None), CaseMetrics("b", 0.8, 0.67, 3.0, None, None)]
    r = make_report(rows)
    assert r.gpr_pred is None and r.gpr_true is None


def test_empty_metric_summary_is_none_valued():
    s = MetricSummary.from_values([float("nan"), None])
    assert s.n == 0 and s.mean is None and s.ci_low is None and s.ci_high is None


def test_json_round_trip_is_standard_json():
    r = make_report()
    text = r.model_dump_json()
    assert "NaN" not in text
    again = EvaluationReport.model_validate_json(text)
    assert again == r


def test_report_rejects_bad_values():
    with pytest.raises(ValueError):
        make_report(seconds=-1.0)


def render(report) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(render_table(report))
    return console.export_text()


def test_render_table_formats_cases_and_summary():
    text = render(make_report())
    assert "HD95 (mm)" in text and "GPR pred" in text
    lines = {line.split()[1]: line for line in text.splitlines() if line.strip().startswith("│ d00")}
    assert "0.800" in lines["d001"] and "0.667" in lines["d001"] and "6.0" in lines["d001"]
    assert "n/a" in lines["d002"]  # undefined HD95
    assert "2.2" in lines["d003"] or "2.3" in lines["d003"]
    r = make_report()
    expected = f"0.900 [{r.dice.ci_low:.3f}, {r.dice.ci_high:.3f}]"
    assert expected in text
    assert f"{r.hd95_mm.mean:.1f} [{r.hd95_mm.ci_low:.1f}, {r.hd95_mm.ci_high:.1f}]" in text
    assert "mean [95% CI]" in text
    assert "CenterD" in text and "v3" in text and "CenterA" in text


def test_render_table_hides_gpr_without_gtv():
    rows = [CaseMetrics("a", 0.7, 0.54, 4.0, None, None)]
    text = render(make_report(rows))
    assert "GPR" not in text
    assert "0.700 [0.700, 0.700]" in text
    assert not math.isnan(make_report(rows).dice.mean)
