"""Closed-center benchmark: seed 000 Tables 1-3 in shape, on synthetic centers A-F.

Train on risk-balanced, domain-randomised A, B and C with each method (Table 1); check that
the note steers the PTV (counterfactual notes under every router); zero-shot router selection
on the closed centers D (A-like practice), E (C-like) and F (a practice no training center
has: nodes for very high risk only); 1-, 2- and 3-shot fine-tuning there for vision_only,
multimodal and mome (Table 2) with paired bootstrap CIs of the method differences on the same
test cases; the portable push (experts + router composed with the base model) against the
site's own model; and zero-shot / 3-shot Dice on a held-out renderer variant that training
never saw. Results are written after every section.

    python benchmarks/closed_center/run.py [--config mome_ro.small] [--threads 2] [--quick]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.closed_center.sections import Bench  # noqa: E402
from benchmarks.machine import machine_info  # noqa: E402
from models.device import set_torch_threads  # noqa: E402
from models.evaluation.bootstrap import paired_bootstrap_ci  # noqa: E402
from models.evaluation.counterfactual import steering_summary  # noqa: E402
from models.evaluation.plots import plot_dice_vs_shots  # noqa: E402
from models.training.finetune import ALL_GROUPS, FINETUNE_DEFAULTS  # noqa: E402
from models.training.loop import TrainSettings  # noqa: E402
from models.training.select_router import rank_routers  # noqa: E402
from models.training.steering import counterfactual_volumes  # noqa: E402
from models.updates import apply_update, read_update  # noqa: E402
from models.weights import load_model_dir  # noqa: E402
from site_agent.push import build_push  # noqa: E402

CLOSED = {"D": "A", "E": "C", "F": "C"}  # closed center -> the training router whose practice is closest
NODES_FROM_INTERMEDIATE = ("A", "B", "D")  # practices that irradiate the nodes from intermediate risk
TABLE2_METHODS = ("vision_only", "multimodal", "mome")


def paired(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """Mean difference a - b over the shared cases with its paired bootstrap 95% CI."""
    cases = sorted(set(a) & set(b))
    mean, low, high = paired_bootstrap_ci([a[c] for c in cases], [b[c] for c in cases])
    return {"mean": mean, "ci_low": low, "ci_high": high, "cases": len(cases)}


def table1(bench: Bench, methods: list[str], results: dict) -> None:
    results["table1"] = {}
    for method in methods:
        t0 = time.perf_counter()
        bench.train(method)
        results["seconds"][f"train_{method}"] = time.perf_counter() - t0
        results["table1"][method] = {c: bench.evaluate(bench.model_dir(method), "test", c, c)
                                     for c in bench.train_cases}
        print(f"trained {method}", {c: round(v["dice"]["mean"], 3) for c, v in results["table1"][method].items()},
              flush=True)
        bench.save(results)
    t1 = results["table1"]
    if {"multimodal", "vision_only"} <= set(t1):
        results["table1_paired"] = {"multimodal-vision_only": {c: paired(t1["multimodal"][c]["per_case"],
                                                                         t1["vision_only"][c]["per_case"])
                                                               for c in bench.train_cases}}
        if "mome" in t1:
            results["table1_paired"]["mome-multimodal"] = {c: paired(t1["mome"][c]["per_case"],
                                                                     t1["multimodal"][c]["per_case"])
                                                           for c in bench.train_cases}


def steering(bench: Bench, results: dict, *, models: dict[str, tuple[Path, list[str]]], key: str) -> None:
    """Counterfactual notes on the D test images under each model's routers."""
    results.setdefault("steering", {})[key] = {}
    for label, (model_dir, routers) in models.items():
        model, spec, _ = load_model_dir(model_dir)
        samples = bench.samples(spec, "test", "D")[: bench.steering_cases]
        res = counterfactual_volumes(model, spec, bench.encoder(spec), samples, routers)
        results["steering"][key][label] = {
            "volumes": res.volumes,
            "summary": steering_summary(res, nodes_from_intermediate=NODES_FROM_INTERMEDIATE),
        }
        print(f"steering {label}", {r: (round(v["median_very_high_over_low"], 2),
                                       round(v["median_intermediate_over_low"], 2))
                                    for r, v in results["steering"][key][label]["summary"].items()}, flush=True)
    bench.save(results)


def zero_shot(bench: Bench, results: dict) -> None:
    base = bench.model_dir("mome")
    model, spec, _ = load_model_dir(base)
    enc = bench.encoder(spec)
    results["zero_shot"] = {}
    for center in CLOSED:
        samples = bench.samples(spec, "pool", center)[:3]
        rank_routers(model, spec, enc, samples[:1])  # warm-up
        shared_s, naive_s = [], []
        for _ in range(2):  # interleaved, so that machine load hits both ways alike; medians reported
            shared = rank_routers(model, spec, enc, samples, shared_encoder=True)
            naive = rank_routers(model, spec, enc, samples, shared_encoder=False)
            shared_s.append(shared.seconds)
            naive_s.append(naive.seconds)
        results["zero_shot"][center] = {
            "ranking": [{"router": s.router, "dice": s.mean_dice} for s in shared.scores],
            "policy_matching_router": CLOSED[center],
            "picked_policy_match": shared.scores[0].router == CLOSED[center] or (
                center == "D" and shared.scores[0].router == "B"),
            "seconds_shared_encoder": statistics.median(shared_s),
            "seconds_per_router_inference": statistics.median(naive_s),
            "speedup": statistics.median(naive_s) / statistics.median(shared_s),
            "test_by_router": {r: bench.evaluate(base, "test", center, r) for r in model.routers},
        }
        print(f"zero-shot {center}", [(s.router, round(s.mean_dice, 3)) for s in shared.scores], flush=True)
        bench.save(results)


def table2(bench: Bench, results: dict, shot_counts: tuple[int, ...]) -> None:
    results["table2"], results["table2_paired"], results["portable"] = {}, {}, {}
    for center in CLOSED:
        init = results["zero_shot"][center]["ranking"][0]["router"]
        rows = results["table2"][center] = {}
        for method in TABLE2_METHODS:
            rows[method] = {}
            for shots in shot_counts:
                t0 = time.perf_counter()
                out, ft = bench.finetune(method, "pool", center, shots, init if method == "mome" else None)
                row = bench.evaluate(out, "test", center, center)
                sel = ft.selection
                row.update(seconds=time.perf_counter() - t0, shots_used=ft.shots, trained_groups=ft.trained_groups,
                           steps_chosen=None if sel is None else sel.steps,
                           loo_curve=None if sel is None else sel.curve)
                rows[method][str(shots)] = row
                print(f"finetune {center} {method} {shots}-shot dice {row['dice']['mean']:.3f} "
                      f"(steps {row['steps_chosen']})", flush=True)
                bench.save(results)
        zs = results["zero_shot"][center]["test_by_router"][init]["per_case"]
        results["table2_paired"][center] = {
            str(k): {"mome-multimodal": paired(rows["mome"][str(k)]["per_case"],
                                               rows["multimodal"][str(k)]["per_case"]),
                     "mome-vision_only": paired(rows["mome"][str(k)]["per_case"],
                                                rows["vision_only"][str(k)]["per_case"]),
                     "mome-zero_shot": paired(rows["mome"][str(k)]["per_case"], zs)}
            for k in shot_counts}
        results["portable"][center] = portable(bench, center, init, max(shot_counts), rows["mome"], zs)
        series = {m: {int(k): (v["dice"]["mean"], v["dice"]["ci_low"], v["dice"]["ci_high"])
                      for k, v in r.items()} for m, r in rows.items()}
        plot_dice_vs_shots(series, HERE / f"dice_vs_shots_{center}.png", title=f"Closed center {center}")
        bench.save(results)


def portable(bench: Bench, center: str, init: str, shots: int, mome_rows: dict, zero_shot_cases: dict) -> dict:
    """Dice of the pushed update composed with the base model, next to the site's own model.

    Done for the default (portable groups) fine-tune and for one that also trains decoder,
    alignment and prompts, which stay at the site.
    """
    out = {}
    for label, groups in (("portable_groups", None), ("all_groups", ALL_GROUPS)):
        if groups is None:
            local_dir, local = bench.ft_dir("mome", "pool", center, shots), mome_rows[str(shots)]
        else:
            local_dir, _ = bench.finetune("mome", "pool", center, shots, init, groups=groups, tag="all")
            local = bench.evaluate(local_dir, "test", center, center)
        model, spec, _ = load_model_dir(bench.model_dir("mome"))
        apply_update(model, read_update(build_push(local_dir, center).payload), center=center)
        composed = bench.evaluate_model(model, spec, "test", center, center)
        zs = statistics.fmean(zero_shot_cases.values())
        out[label] = {"local_dice": local["dice"]["mean"], "portable_dice": composed["dice"]["mean"],
                      "zero_shot_dice": zs, "local_gain": local["dice"]["mean"] - zs,
                      "portable_gain": composed["dice"]["mean"] - zs,
                      "portable_minus_local": paired(composed["per_case"], local["per_case"])}
        print(f"portable {center} {label}: local {out[label]['local_dice']:.3f} portable "
              f"{out[label]['portable_dice']:.3f} zero-shot {zs:.3f}", flush=True)
    return out


def renderer_variant(bench: Bench, results: dict) -> None:
    """Zero-shot and 3-shot Dice on scans from the held-out renderer variant."""
    results["renderer_variant"] = {}
    base = bench.model_dir("mome")
    for center, router in (("D", "A"), ("E", "C")):
        zs = bench.evaluate(base, "variant_test", center, router)
        out, ft = bench.finetune("mome", "variant_pool", center, 3, router, tag="variant")
        tuned = bench.evaluate(out, "variant_test", center, center)
        results["renderer_variant"][center] = {
            "router": router, "zero_shot": zs, "finetuned_3shot": tuned,
            "steps_chosen": None if ft.selection is None else ft.selection.steps,
            "gain": paired(tuned["per_case"], zs["per_case"]),
            "standard_renderer_zero_shot": results.get("zero_shot", {}).get(center, {}).get("test_by_router", {})
            .get(router, {}).get("dice")}
        print(f"variant {center}: zero-shot {zs['dice']['mean']:.3f} -> 3-shot {tuned['dice']['mean']:.3f}",
              flush=True)
        bench.save(results)


def timed_finetune_cli(bench: Bench, center: str, init: str, threads: int) -> dict:
    """3-shot fine-tuning through the CLI in a fresh process: wall time and peak memory."""
    out = bench.work / "ft" / "cli"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "site_agent", "finetune", "--center", center, "--model",
                    str(bench.model_dir("mome")), "--data", str(bench.work / "pool" / center), "--out", str(out),
                    "--shots", "3", "--init-router", init, "--steps", str(bench.finetune_steps), "--lr",
                    str(bench.finetune_lr), "--threads", str(threads), "--overwrite", "--json"],
                   check=True, capture_output=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": time.perf_counter() - start, "peak_rss_mib": peak / 1024, "steps": bench.finetune_steps,
            "threads": threads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="mome_ro.small")
    ap.add_argument("--train-steps", type=int, default=700)
    ap.add_argument("--finetune-steps", type=int, default=80)
    ap.add_argument("--finetune-lr", type=float, default=1e-3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the idle cores)")
    ap.add_argument("--methods", default="mome,multimodal,vision_only")
    ap.add_argument("--shots", default="1,2,3")
    ap.add_argument("--work", type=Path, default=HERE / "scratch")
    ap.add_argument("--reuse-models", action="store_true", help="skip training where work/models/<method> exists")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=None, help="results file (default: results.json here)")
    ap.add_argument("--quick", action="store_true", help="tiny config, small data, few steps: checks the script runs")
    args = ap.parse_args()
    if args.quick:
        args.config, args.train_steps, args.finetune_steps, args.scale = "mome_ro.tiny", 30, 10, 0.5
    threads = set_torch_threads(args.threads)
    methods = args.methods.split(",")
    shot_counts = tuple(int(s) for s in args.shots.split(","))
    root = HERE.parent.parent  # paths are recorded relative to the repository, never as this machine's
    recorded = {k: str(v.resolve().relative_to(root)) if isinstance(v, Path) and v.resolve().is_relative_to(root)
                else str(v) for k, v in vars(args).items()}
    out_file = args.out or HERE / ("results_quick.json" if args.quick else "results.json")
    bench = Bench(work=args.work, config=args.config, scale=args.scale, seed=args.seed, quick=args.quick,
                  train_settings=replace(TrainSettings(), steps=args.train_steps,
                                         val_every=max(args.train_steps // 4, 1), seed=args.seed),
                  finetune_settings=replace(FINETUNE_DEFAULTS, steps=args.finetune_steps, lr=args.finetune_lr,
                                            val_every=max(args.finetune_steps // 5, 1), seed=args.seed),
                  reuse_models=args.reuse_models, device=args.device, out_file=out_file)
    results: dict = {"machine": machine_info(), "args": recorded, "seconds": {}}
    t0 = time.perf_counter()
    bench.make_data()
    results["seconds"]["data"] = time.perf_counter() - t0
    table1(bench, methods, results)
    text_methods = [m for m in methods if m != "vision_only"]
    steering(bench, results, key="base", models={
        m: (bench.model_dir(m), list(bench.train_cases) if m == "mome" else ["A"]) for m in text_methods})
    if "mome" not in methods:
        return
    zero_shot(bench, results)
    if all(m in methods for m in TABLE2_METHODS):
        table2(bench, results, shot_counts)
        k = max(shot_counts)
        steering(bench, results, key="finetuned", models={
            f"mome {c} {k}-shot": (bench.ft_dir("mome", "pool", c, k), [c]) for c in CLOSED})
    renderer_variant(bench, results)
    results["finetune_3shot_cli"] = timed_finetune_cli(bench, "E", CLOSED["E"], threads)
    results["machine_after"] = machine_info()
    bench.save(results)
    print(f"wrote {out_file}")


if __name__ == "__main__":
    main()
