"""MOME breast benchmark (seed 002 Tables 1-2 in shape, on synthetic centers A, B and C).

Trains MOME and its baselines (single-sequence models, early fusion by channel concatenation, late fusion of
per-sequence models, and the seed's ablations without modality experts and with an MLP adapter instead of the
soft MoE) on the training cases of A, B and C (C acquires no DWI), side by side in one run. Scores every method
on the complete test cases (all sequences present, so all methods see the same cases) with AUROC, AUPRC,
sensitivity, specificity, F1 and MCC and 1000-resample bootstrap CIs; MOME on every subset of the sequences;
the paired bootstrap CI of MOME minus the best single-sequence model; ROC/PR curves; the global Shapley value per
sequence; then zero-shot gate selection and 3-shot fine-tuning on a closed center D.

    python benchmarks/mome_breast/run.py [--quick] [--cases 240] [--steps 1500] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import torch  # noqa: E402

from benchmarks.machine import machine_info  # noqa: E402
from benchmarks.mome_breast.figures import roc_pr, shapley_bars  # noqa: E402
from models.families.mome_breast import runner  # noqa: E402
from models.families.mome_breast.metrics import auroc, paired_auroc_difference, with_bootstrap  # noqa: E402
from models.families.mome_breast.network import METHODS, SEQUENCE_METHODS  # noqa: E402
from models.fsutil import atomic_write_bytes  # noqa: E402
from models.registry import get_spec  # noqa: E402

TRAIN = ("A", "B", "C")
CLOSED = "D"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="mome_breast.small")
    parser.add_argument("--cases", type=int, default=240, help="cases per center (a quarter held out)")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny config, few cases and steps")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    if args.quick:
        args.config, args.cases, args.steps = "mome_breast.tiny", 12, 5
    torch.set_num_threads(args.threads)
    spec = get_spec(args.config)
    device = torch.device("cpu")
    started = time.perf_counter()
    results: dict = {"config": args.config, "cases_per_center": args.cases, "steps": args.steps, "lr": args.lr,
                     "seed": args.seed, "methods": {}}
    with tempfile.TemporaryDirectory(prefix="mome-breast-bench-") as tmp:
        folders = {c: Path(tmp) / c for c in (*TRAIN, CLOSED)}
        for center, folder in folders.items():
            results.setdefault("centers", {})[center] = runner.synth(folder, center=center, cases=args.cases,
                                                                     seed=args.seed)
        test = [p for c in TRAIN for p in runner.prepare(runner._split(runner.load_dataset(folders[c]), "test"),
                                                         spec, c)]
        complete = [p for p in test if set(p.sequences) == set(spec.contract.sequences)]
        labels = np.asarray([p.label for p in complete])
        scores, models = {}, {}
        for method in METHODS:
            t0 = time.perf_counter()
            model, history = runner.train(spec, [folders[c] for c in TRAIN], list(TRAIN), method=method,
                                          steps=args.steps, lr=args.lr, seed=args.seed, device=device)
            seconds = time.perf_counter() - t0
            scores[method] = runner.probabilities(model, complete, device)
            models[method] = model
            results["methods"][method] = {"parameters": sum(p.numel() for p in model.parameters()),
                                          "train_cases": history["cases"], "train_seconds": round(seconds, 1),
                                          "complete_test": with_bootstrap(labels, scores[method])}
            print(f"{method}: AUROC {results['methods'][method]['complete_test']['auroc']['mean']:.3f} "
                  f"in {seconds:.0f} s", flush=True)
        mome = models["mome"]
        subsets = {}
        for keep in runner._subsets(mome):
            subsets["+".join(s for s in spec.contract.sequences if s in keep)] = with_bootstrap(
                labels, runner.probabilities(mome, complete, device, keep))
        results["mome_by_sequences"] = subsets
        all_cases = [p for p in test]
        results["mome_all_test_cases"] = with_bootstrap([p.label for p in all_cases],
                                                        runner.probabilities(mome, all_cases, device))
        best_single = max(SEQUENCE_METHODS, key=lambda m: auroc(labels, scores[m]))
        dce_only = runner.probabilities(mome, complete, device, frozenset({"dce"}))
        results["comparisons"] = {
            f"mome - {m}": paired_auroc_difference(labels, scores["mome"], scores[m]) for m in METHODS[1:]}
        results["comparisons"]["mome dce-only - mome full"] = paired_auroc_difference(labels, dce_only,
                                                                                      scores["mome"])
        early_ok = True
        try:
            models["early_fusion"]({"dce": complete[0].sequences["dce"][None]}, ["A"])
        except ValueError as exc:
            early_ok, early_message = False, str(exc)
        full = results["methods"]["mome"]["complete_test"]["auroc"]["mean"]
        results["targets"] = {
            "best_single_sequence_model": best_single,
            "mome_above_best_single_ci_above_zero": results["comparisons"][f"mome - {best_single}"]["above_zero"],
            "dce_only_within_0.05_of_full": bool(full - subsets["dce"]["auroc"]["mean"] <= 0.05),
            "early_fusion_refuses_a_missing_sequence": not early_ok,
            "early_fusion_message": early_message if not early_ok else None,
            "mome_runs_with_each_sequence_missing": all(k in subsets for k in ("dce+t2", "dce+dwi", "t2+dwi")),
        }
        explained = runner.explain(mome, spec, folders["A"], Path(tmp) / "explain", center="A", device=device)
        results["shapley"] = {k: explained[k] for k in ("global", "global_abs", "by_class", "prior", "n_cases")}
        ranking = runner.select_router(mome, spec, folders[CLOSED], shots=3, device=device)
        _, outcome = runner.finetune(mome, spec, folders[CLOSED], center=CLOSED, shots=3, steps=runner.FINETUNE_STEPS,
                                     init_from=ranking[0]["router"], seed=args.seed, device=device)
        results["closed_center"] = {"zero_shot_ranking": ranking, "auroc_before": outcome["before"]["auroc"],
                                    "auroc_after": outcome["after"]["auroc"], "shots": outcome["cases"]}
        curves = {m: scores[m] for m in ("mome", best_single, "early_fusion", "late_fusion")}
        curves["mome (dce only)"] = dce_only
        args.out.mkdir(parents=True, exist_ok=True)
        roc_pr(labels, curves, args.out / "roc_pr.png", banded="mome")
        shapley_bars(explained["by_class"], args.out / "shapley_global.png")
    results["complete_test_cases"] = int(len(labels))
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"] = machine_info()
    atomic_write_bytes(args.out / "results.json", json.dumps(runner.strict_json(results), indent=1).encode())
    print(json.dumps(runner.strict_json({"targets": results["targets"], "comparisons": results["comparisons"],
                                         "closed_center": {k: results["closed_center"][k]
                                                           for k in ("auroc_before", "auroc_after")},
                                         "seconds": results["seconds"]}), indent=1))


if __name__ == "__main__":
    main()
