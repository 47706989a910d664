"""Closed-center benchmark: seed 000 Tables 1-3 in shape, on synthetic centers A-E.

Train on A plus few-shot B and C with each method; zero-shot router selection on D and E
(timed against running full inference once per router); 1-, 2- and 3-shot fine-tuning on D
and E for vision_only, multimodal and mome, scored on held-out cases with bootstrap CIs.

    python benchmarks/closed_center/run.py [--config mome_ro.small] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.machine import machine_info  # noqa: E402
from models.data.dataset import load_dataset  # noqa: E402
from models.data.synthetic.generator import generate_center  # noqa: E402
from models.evaluation.plots import plot_dice_vs_shots  # noqa: E402
from models.registry import note_encoder  # noqa: E402
from models.training.evaluate import evaluate_samples  # noqa: E402
from models.training.finetune import FINETUNE_DEFAULTS, finetune_center  # noqa: E402
from models.training.loop import TrainSettings  # noqa: E402
from models.training.samples import load_samples  # noqa: E402
from models.training.select_router import rank_routers  # noqa: E402
from models.training.train import train_multicenter  # noqa: E402
from models.weights import load_model_dir  # noqa: E402

TRAIN_CASES = {"A": 16, "B": 4, "C": 4}   # A in full, B and C few-shot (+1 validation case)
POOL_CASES = 6                           # D/E local pool the shots and the validation case come from
TEST_CASES = {"A": 6, "B": 6, "C": 6, "D": 8, "E": 8}


def suffix(args: argparse.Namespace) -> str:
    return "+notes" if args.structured_note else ""


def models_dir(args: argparse.Namespace, method: str) -> Path:
    return args.work / "models" / f"{method}{suffix(args)}"


def make_data(work: Path, scale: float, seed: int) -> None:
    for code, n in TRAIN_CASES.items():
        generate_center(code, n, work / "train" / code, seed=seed, scale=scale, overwrite=True)
    for code in "DE":
        generate_center(code, POOL_CASES, work / "pool" / code, seed=seed, scale=scale, overwrite=True)
    for code, n in TEST_CASES.items():
        generate_center(code, n, work / "test" / code, seed=seed + 1000, scale=scale, overwrite=True)


def test_samples(work: Path, spec, center: str):
    return load_samples(load_dataset(work / "test" / center).training, spec.contract, center=center)


def summary(report) -> dict:
    out = {m: getattr(report, m).model_dump() for m in ("dice", "iou", "hd95_mm")}
    out["gpr_pred"] = report.gpr_pred.model_dump() if report.gpr_pred else None
    out["gpr_true"] = report.gpr_true.model_dump() if report.gpr_true else None
    return out


def evaluate(model_dir: Path, work: Path, center: str, router: str) -> dict:
    model, spec, manifest = load_model_dir(model_dir)
    enc = note_encoder(spec)
    router = router if model.method == "mome" else (model.routers[0] if model.routers else center)
    return summary(evaluate_samples(model, spec, enc, test_samples(work, spec, center), router=router,
                                    model_version=manifest.version))


def timed_finetune_cli(base: Path, work: Path, out: Path, center: str, init: str, steps: int) -> dict:
    """3-shot fine-tuning through the CLI in a fresh process: wall time and peak memory."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-m", "site_agent", "finetune", "--center", center, "--model", str(base),
                    "--data", str(work / "pool" / center), "--out", str(out), "--shots", "3", "--init-router", init,
                    "--steps", str(steps), "--overwrite", "--json"], check=True, capture_output=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": time.perf_counter() - start, "peak_rss_mib": max(peak, before) / 1024, "steps": steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="mome_ro.small")
    ap.add_argument("--train-steps", type=int, default=300)
    ap.add_argument("--finetune-steps", type=int, default=100)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="mome,multimodal,vision_only,vanilla_moe,text_prompt")
    ap.add_argument("--work", type=Path, default=HERE / "scratch")
    ap.add_argument("--structured-note", action="store_true",
                    help="train with the note's parsed fields as an extra token (models/<method>+notes)")
    ap.add_argument("--reuse-models", action="store_true", help="skip training where work/models/<method> exists")
    ap.add_argument("--zero-shot-only", action="store_true", help="re-measure router selection with the trained "
                    "models and update that section of the results file")
    ap.add_argument("--table1-only", action="store_true", help="train and score only (the ablation of Table 3)")
    ap.add_argument("--out", type=Path, default=None, help="results file (default: results.json here)")
    ap.add_argument("--quick", action="store_true", help="tiny config and few steps: checks the script runs")
    args = ap.parse_args()
    if args.quick:
        args.config, args.train_steps, args.finetune_steps, args.scale = "mome_ro.tiny", 20, 10, 0.6
    methods = args.methods.split(",")
    root = HERE.parent.parent  # paths are recorded relative to the repository, never as this machine's
    recorded = {k: str(v.resolve().relative_to(root)) if isinstance(v, Path) and v.resolve().is_relative_to(root)
                else str(v) for k, v in vars(args).items()}
    results: dict = {"machine": machine_info(), "args": recorded, "seconds": {}}
    t0 = time.perf_counter()
    if not (args.zero_shot_only and (args.work / "pool").is_dir()):
        make_data(args.work, args.scale, args.seed)
    results["seconds"]["data"] = time.perf_counter() - t0

    # Table 1: multicenter training, evaluated on held-out A, B, C with each center's router.
    results["table1"] = {}
    for method in ([] if args.zero_shot_only else methods):
        t0 = time.perf_counter()
        if not (args.reuse_models and (models_dir(args, method) / "manifest.json").is_file()):
            train_multicenter([args.work / "train" / c for c in TRAIN_CASES], models_dir(args, method),
                              config_name=args.config, method=method, overwrite=True,
                              structured_note=args.structured_note or None,
                              settings=replace(TrainSettings(), steps=args.train_steps, seed=args.seed))
        results["seconds"][f"train_{method}"] = time.perf_counter() - t0
        results["table1"][method] = {c: evaluate(models_dir(args, method), args.work, c, c) for c in TRAIN_CASES}
        print(f"trained {method}", json.dumps({c: round(v["dice"]["mean"], 3)
                                               for c, v in results["table1"][method].items()}), flush=True)

    out_file = args.out or HERE / ("results_quick.json" if args.quick else f"results{suffix(args)}.json")
    if args.table1_only:
        out_file.write_text(json.dumps(results, indent=2))
        print(f"wrote {out_file}")
        return

    # Zero-shot router selection on D and E: shared encoder vs one full inference per router.
    base = models_dir(args, "mome")
    model, spec, _ = load_model_dir(base)
    enc = note_encoder(spec)
    results["zero_shot"] = {}
    for center in "DE":
        samples = load_samples(load_dataset(args.work / "pool" / center).training[:3], spec.contract, center=center)
        rank_routers(model, spec, enc, samples[:1])  # warm-up
        shared_s, naive_s = [], []
        for _ in range(3):  # interleaved, so that machine load hits both ways alike; medians reported
            shared = rank_routers(model, spec, enc, samples, shared_encoder=True)
            naive = rank_routers(model, spec, enc, samples, shared_encoder=False)
            shared_s.append(shared.seconds)
            naive_s.append(naive.seconds)
        results["zero_shot"][center] = {
            "ranking": [{"router": s.router, "dice": s.mean_dice} for s in shared.scores],
            "seconds_shared_encoder": statistics.median(shared_s),
            "seconds_per_router_inference": statistics.median(naive_s),
            "speedup": statistics.median(naive_s) / statistics.median(shared_s),
            "test_dice_by_router": {r: evaluate(base, args.work, center, r)["dice"]["mean"] for r in model.routers},
        }
        print(f"zero-shot {center}", [(s.router, round(s.mean_dice, 3)) for s in shared.scores],
              f"speedup {results['zero_shot'][center]['speedup']:.2f}x", flush=True)
    if args.zero_shot_only:
        merged = json.loads(out_file.read_text()) if out_file.is_file() else {}
        merged.update(zero_shot=results["zero_shot"], machine=results["machine"])
        out_file.write_text(json.dumps(merged, indent=2))
        print(f"updated zero_shot in {out_file}")
        return

    # Table 2: 1-3 shot fine-tuning on D and E.
    results["table2"] = {}
    for center in "DE":
        init = results["zero_shot"][center]["ranking"][0]["router"]
        results["table2"][center] = {}
        for method in [m for m in ("vision_only", "multimodal", "mome") if m in methods]:
            results["table2"][center][method] = {}
            for shots in (1, 2, 3):
                out = args.work / "ft" / f"{center}-{method}{suffix(args)}-{shots}"
                t0 = time.perf_counter()
                ft = finetune_center(models_dir(args, method), args.work / "pool" / center, out, center=center,
                                     shots=shots, init_router=init if method == "mome" else None, overwrite=True,
                                     settings=replace(FINETUNE_DEFAULTS, steps=args.finetune_steps, seed=args.seed))
                row = evaluate(out, args.work, center, center)
                row.update(seconds=time.perf_counter() - t0, shots_used=ft.shots, val_dice_before=ft.val_dice_before,
                           val_dice_after=ft.val_dice_after)
                results["table2"][center][method][str(shots)] = row
                print(f"finetune {center} {method} {shots}-shot dice {row['dice']['mean']:.3f}", flush=True)
        series = {m: {int(k): (v["dice"]["mean"], v["dice"]["ci_low"], v["dice"]["ci_high"])
                      for k, v in rows.items()} for m, rows in results["table2"][center].items()}
        plot_dice_vs_shots(series, HERE / f"dice_vs_shots_{center}{suffix(args)}.png", title=f"Closed center {center}")

    if "mome" in methods:  # the target: 3-shot fine-tuning of the config in minutes on this machine
        init = results["zero_shot"]["D"]["ranking"][0]["router"]
        results["finetune_3shot_cli"] = timed_finetune_cli(base, args.work, args.work / "ft" / "cli-D", "D", init,
                                                           args.finetune_steps)
    out_file.write_text(json.dumps(results, indent=2))
    print(f"wrote {out_file}")


if __name__ == "__main__":
    main()
