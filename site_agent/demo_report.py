"""``mome-demo/REPORT.md``: what the demo did, over which cases, with two figures and the next commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.fsutil import atomic_write_bytes

__all__ = ["write_report"]


def _ci(d: dict[str, Any]) -> str:
    return f"{d['mean']:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]"


def write_report(summary: dict[str, Any], out: Path) -> Path:
    """Write REPORT.md (+ dice_by_router.png, expert_activation.png) into ``out``; returns the report's path."""
    from models.evaluation.plots import plot_dice_by_router, plot_expert_activation

    before, after = summary["dice_zero_shot"], summary["dice_finetuned"]
    bars = {f"{z['router']} (zero-shot)": z["dice"] for z in summary["zero_shot"]}
    bars["D (fine-tuned, held-out)"] = after["mean"]
    plot_dice_by_router(bars, out / "dice_by_router.png", title="Site D: Dice by router")
    activation = {f"{d['router']} ({label})": d.get("expert_activation") or {}
                  for label, d in (("zero-shot", before), ("fine-tuned", after))}
    figures = ["![Dice by router](dice_by_router.png)"]
    if any(activation.values()):
        plot_expert_activation(activation, out / "expert_activation.png", title="Expert activation at D")
        figures.append("![Expert activation](expert_activation.png)")
    p = summary["push"]
    ranking = ", ".join(f"{z['router']} {z['dice']:.3f}" for z in summary["zero_shot"])
    rec = summary.get("recommendation_for_E")
    lines = [
        "# MoME Hub demo report", "",
        f"Model `{summary['config']}` on `{summary['device']}`; everything is in `{summary['out']}`.", "",
        "## Site D: zero-shot router vs its own fine-tuned router", "",
        f"Zero-shot ranking of the base model's routers on D's first {len(summary['zero_shot_cases'])} labelled "
        f"cases ({', '.join(summary['zero_shot_cases'])}): {ranking}.",
        f"Router D was fine-tuned from router {summary['init_router']} on the shots {', '.join(summary['shots'])} "
        f"(plus one validation case), then both were scored on the {summary['held_out_cases']} held-out cases "
        f"({', '.join(summary['held_out_case_ids'])}); the ranking above is over another set of cases, so its "
        "numbers differ. Zero steps chosen by leave-one-out means the starting router was kept.",
        "", "| router | held-out Dice [95% CI] |", "| --- | --- |",
        f"| {before['router']} (zero-shot) | {_ci(before)} |", f"| D (fine-tuned) | {_ci(after)} |", "",
        *figures, "",
        "## What left the site", "",
        f"Router D + experts: {p['payload_bytes']:,} of {p['model_bytes']:,} model bytes "
        f"({p['percent_of_model']:.1f}%); router D alone would be {p['router_only_bytes']:,} bytes. "
        "No image, mask, note or per-case result left the site.", "",
    ]
    if rec:
        lines += ["## The hub's advice for a new site E", "",
                  f"Start from router {rec['router']}: {'; '.join(rec['reasons'][:3])}.", ""]
    port = summary["hub_url"].rsplit(":", 1)[1]
    lines += ["## Go on", "", "```bash",
              f"hub serve --data-dir {summary['hub_data']} --port {port} &   # the demo's hub, again, "
              f"at the address {summary['site_config']} holds",
              f"site-agent doctor --workdir {summary['out']}/site-D   # the site's view of that hub",
              f"site-agent evaluate --model {summary['out']}/site-D/finetuned/<version>+D --data "
              f"{summary['out']}/data/D   # metrics with CIs",
              f"site-agent predict --model {summary['out']}/base --data {summary['out']}/data/E --out masks-E",
              f"site-agent synth --center F --cases 6 --out {summary['out']}/data/F --risk-mix balanced --randomize",
              "```", ""]
    path = out / "REPORT.md"
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path
