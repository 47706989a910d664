"""M4oE benchmark (seed 001 in shape, on synthetic datasets A, B and C).

Three datasets with different modalities and label sets (A: FLARE-like CT, five organs; B: AMOS-like CT and
T2-like MR, four organs; C: ATLAS-like T1-like MR, liver and tumours) train M4oE, the same Swin-UNETR without
experts (equal compute per token at top-1 routing) and a MONAI U-Net of similar size, side by side in one run;
each is scored by Dice per dataset on the held-out cases, with the paired bootstrap CI of M4oE minus each
baseline, parameter counts per group, and M4oE's expert usage per modality (heatmap). Then zero-shot gate
selection and 3-shot fine-tuning of a new center's gates on a closed MR center D.

    python benchmarks/m4oe/run.py [--quick] [--cases 40] [--steps 1500] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import torch  # noqa: E402

from benchmarks.m4oe.figures import dice_bars, usage_heatmap  # noqa: E402
from benchmarks.machine import machine_info  # noqa: E402
from models.evaluation.bootstrap import bootstrap_ci, paired_bootstrap_ci  # noqa: E402
from models.families.m4oe import runner  # noqa: E402
from models.families.m4oe.data import load_dataset, prepare  # noqa: E402
from models.families.m4oe.evaluation import score_cases, usage_by_modality  # noqa: E402
from models.fsutil import atomic_write_bytes  # noqa: E402
from models.groups import parameter_counts  # noqa: E402
from models.registry import get_spec  # noqa: E402

METHODS = ("m4oe", "no_experts", "unet")
TRAIN = ("A", "B", "C")
CLOSED = "D"


def _ci(values: list[float]) -> dict:
    mean, low, high = bootstrap_ci(values)
    return {"mean": mean, "ci": [low, high], "n": len(values)}


def _diff(a: list[float], b: list[float]) -> dict:
    mean, low, high = paired_bootstrap_ci(a, b)
    return {"mean": mean, "ci": [low, high], "above_zero": bool(low > 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="m4oe.small")
    parser.add_argument("--cases", type=int, default=40, help="cases per dataset (a quarter held out)")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny config, few cases and steps")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    if args.quick:
        args.config, args.cases, args.steps = "m4oe.tiny", 6, 20
    torch.set_num_threads(args.threads)
    spec = get_spec(args.config)
    device = torch.device("cpu")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="m4oe-bench-") as tmp:
        folders = {}
        for center in (*TRAIN, CLOSED):
            folders[center] = Path(tmp) / center
            runner.synth(folders[center], center=center, cases=args.cases, seed=args.seed)
        tests = {c: [prepare(x, spec.contract) for x in load_dataset(folders[c]) if x.split == "test"] for c in TRAIN}
        results: dict = {"config": args.config, "cases_per_dataset": args.cases, "steps": args.steps, "lr": args.lr,
                         "seed": args.seed, "datasets": {c: runner.PRESETS[c].description for c in (*TRAIN, CLOSED)},
                         "methods": {}}
        models = {}
        for method in METHODS:
            t0 = time.perf_counter()
            model, history = runner.train(spec, [folders[c] for c in TRAIN], list(TRAIN), method=method,
                                          steps=args.steps, lr=args.lr, seed=args.seed, device=device)
            seconds = time.perf_counter() - t0
            rows = {c: score_cases(model, tests[c], spec.contract, center=c, device=device) for c in TRAIN}
            every = [r for c in TRAIN for r in rows[c]]
            results["methods"][method] = {
                "parameters": sum(p.numel() for p in model.parameters()),
                "parameters_per_group": parameter_counts(model, "m4oe"),
                "train_seconds": round(seconds, 1), "seconds_per_step": round(seconds / args.steps, 4),
                "final_loss": history["summary"]["loss"],
                "dice_per_dataset": {c: _ci([r["mean_dice"] for r in rows[c]]) for c in TRAIN},
                "dice_mean": _ci([r["mean_dice"] for r in every]),
                "dice_per_class": {c: {k: _ci([r["dice"][k] for r in rows[c] if k in r["dice"]])
                                       for k in sorted({k for r in rows[c] for k in r["dice"]})} for c in TRAIN},
                "case_dice": [r["mean_dice"] for r in every],
            }
            if model.routers:
                usage = usage_by_modality(every, spec.contract)
                results["methods"][method]["expert_usage"] = usage
                results["methods"][method]["top_expert_share"] = {m: max(u) for m, u in usage.items()}
                results["methods"][method]["top_expert"] = {m: int(np.argmax(u)) for m, u in usage.items()}
            models[method] = model
            print(f"{method}: mean Dice {results['methods'][method]['dice_mean']['mean']:.3f} in {seconds:.0f} s",
                  flush=True)
        m4oe_cases = results["methods"]["m4oe"]["case_dice"]
        results["paired_difference"] = {f"m4oe - {b}": _diff(m4oe_cases, results["methods"][b]["case_dice"])
                                        for b in METHODS[1:]}
        share = results["methods"]["m4oe"]["top_expert_share"]
        top = results["methods"]["m4oe"]["top_expert"]
        results["targets"] = {
            "dice_above_no_experts": results["methods"]["m4oe"]["dice_mean"]["mean"]
            > results["methods"]["no_experts"]["dice_mean"]["mean"],
            "dice_above_no_experts_ci_above_zero": results["paired_difference"]["m4oe - no_experts"]["above_zero"],
            "top_expert_share_at_least_0.6": all(v >= 0.6 for v in share.values()),
            "modalities_on_distinct_experts": len(set(top.values())) == len(top),
        }
        # Closed center D: zero-shot gate selection on 3 cases, then 3-shot fine-tuning of D's own gates.
        model = models["m4oe"]
        ranking = runner.select_router(model, spec, folders[CLOSED], shots=3, device=device)
        best = ranking[0]["router"]
        _, outcome = runner.finetune(model, spec, folders[CLOSED], center=CLOSED, shots=3,
                                     steps=runner.FINETUNE_STEPS, init_from=best, seed=args.seed, device=device)
        results["closed_center"] = {"zero_shot_ranking": ranking, "init_from": best,
                                    "dice_before": outcome["before"]["dice"], "dice_after": outcome["after"]["dice"],
                                    "shots": outcome["cases"]}
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"] = machine_info()
    args.out.mkdir(parents=True, exist_ok=True)
    for method in METHODS:
        results["methods"][method].pop("case_dice")
    document = json.dumps(runner.strict_json(results), indent=1, default=_plain)
    atomic_write_bytes(args.out / "results.json", document.encode())
    dice_bars({m: results["methods"][m]["dice_per_dataset"] for m in METHODS}, args.out / "dice_per_dataset.png")
    usage_heatmap(results["methods"]["m4oe"]["expert_usage"], args.out / "expert_usage.png")
    print(json.dumps({"targets": results["targets"], "paired_difference": results["paired_difference"],
                      "top_expert_share": share, "closed_center": {k: results["closed_center"][k]
                                                                   for k in ("init_from", "dice_before", "dice_after")},
                      "seconds": results["seconds"]}, indent=1, default=_plain))


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


if __name__ == "__main__":
    main()
