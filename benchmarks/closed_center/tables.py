"""Print the README's closed-center tables (markdown) from a results file, so quoted numbers are traceable.

    python benchmarks/closed_center/tables.py [benchmarks/closed_center/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ci(d: dict) -> str:
    return f"{d['mean']:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]"


def diff(d: dict) -> str:
    return f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"


def table1(r: dict) -> list[str]:
    t1 = r["table1"]
    centers = list(next(iter(t1.values())))
    rows = ["| Table 1 | " + " | ".join(centers) + " |", "| --- |" + " --- |" * len(centers)]
    rows += [f"| {m} | " + " | ".join(ci(t1[m][c]["dice"]) for c in centers) + " |" for m in t1]
    for name, per_center in r.get("table1_paired", {}).items():
        rows.append(f"| {name} (paired) | " + " | ".join(diff(per_center[c]) for c in centers) + " |")
    return rows


def steering(r: dict) -> list[str]:
    rows = ["| model, router | very-high/low median | share >= 1.5x | intermediate/low median | share on target "
            "| expected |", "| --- | --- | --- | --- | --- | --- |"]
    for key, models in r.get("steering", {}).items():
        for label, doc in models.items():
            for router, s in doc["summary"].items():
                rows.append(f"| {label} ({key}), {router} | {s['median_very_high_over_low']:.2f} | "
                            f"{s['very_high_ok']:.0%} | {s['median_intermediate_over_low']:.2f} | "
                            f"{s['intermediate_ok']:.0%} | {s['intermediate_expected']} |")
    return rows


def zero_shot(r: dict) -> list[str]:
    rows = ["| closed center | ranking (Dice on 3 local cases) | picks policy match | speed-up |",
            "| --- | --- | --- | --- |"]
    for c, z in r.get("zero_shot", {}).items():
        ranking = ", ".join(f"{x['router']} {x['dice']:.3f}" for x in z["ranking"])
        rows.append(f"| {c} | {ranking} | {'yes' if z['picked_policy_match'] else 'no'} | {z['speedup']:.2f}x |")
    return rows


def table2(r: dict) -> list[str]:
    t2 = r.get("table2", {})
    if not t2:
        return []
    shots = list(next(iter(next(iter(t2.values())).values())))
    head = [f"{c} {k}" for c in t2 for k in shots]
    rows = ["| Table 2 | " + " | ".join(head) + " |", "| --- |" + " --- |" * len(head)]
    methods = list(next(iter(t2.values())))
    for m in methods:
        rows.append(f"| {m} | " + " | ".join(f"{t2[c][m][k]['dice']['mean']:.3f}" for c in t2 for k in shots) + " |")
    rows.append("| mome steps chosen | " + " | ".join(str(t2[c]["mome"][k]["steps_chosen"]) for c in t2 for k in shots)
                + " |")
    for name in ("mome-multimodal", "mome-vision_only", "mome-zero_shot"):
        rows.append(f"| {name} (paired) | " + " | ".join(diff(r["table2_paired"][c][k][name]) for c in t2
                                                         for k in shots) + " |")
    return rows


def portable(r: dict) -> list[str]:
    rows = ["| center, groups trained | zero-shot | site's own model | pushed update on the base | local gain | "
            "portable gain |", "| --- | --- | --- | --- | --- | --- |"]
    for c, doc in r.get("portable", {}).items():
        for label, p in doc.items():
            rows.append(f"| {c}, {label} | {p['zero_shot_dice']:.3f} | {p['local_dice']:.3f} | "
                        f"{p['portable_dice']:.3f} | {p['local_gain']:+.3f} | {p['portable_gain']:+.3f} |")
    return rows


def variant(r: dict) -> list[str]:
    rows = ["| held-out renderer | router | zero-shot Dice | 3-shot Dice | paired gain |",
            "| --- | --- | --- | --- | --- |"]
    for c, v in r.get("renderer_variant", {}).items():
        rows.append(f"| {c} | {v['router']} | {ci(v['zero_shot']['dice'])} | {ci(v['finetuned_3shot']['dice'])} | "
                    f"{diff(v['gain'])} |")
    return rows


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    r = json.loads(path.read_text())
    for section in (table1, steering, zero_shot, table2, portable, variant):
        lines = section(r)
        if lines:
            print("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
