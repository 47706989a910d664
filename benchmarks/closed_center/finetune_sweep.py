"""Fine-tuning settings at one closed center, on the closed-center benchmark's trained base model.

Runs after ``run.py`` (it reuses ``scratch/models/mome`` and the pool/test data): 3-shot mome
fine-tuning with a few learning rates and trained groups, leave-one-out step selection as the
CLI does, scored on the center's 12 test cases against the zero-shot router.

    python benchmarks/closed_center/finetune_sweep.py --center E [--threads 2]
"""

from __future__ import annotations

import argparse
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
from models.training.finetune import FINETUNE_DEFAULTS  # noqa: E402
from models.training.loop import TrainSettings  # noqa: E402

SETTINGS = {"lr 1e-3, experts+router": (1e-3, ("experts", "router")),
            "lr 3e-4, experts+router": (3e-4, ("experts", "router")),
            "lr 1e-3, router only": (1e-3, ("router",)),
            "lr 3e-3, router only": (3e-3, ("router",))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--center", default="E")
    ap.add_argument("--init", default="C")
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--work", type=Path, default=HERE / "scratch")
    ap.add_argument("--out", type=Path, default=HERE / "finetune_sweep.json")
    args = ap.parse_args()
    threads = set_torch_threads(args.threads)
    results: dict = {"machine": machine_info(), "args": {"center": args.center, "init": args.init,
                                                         "steps": args.steps, "threads": threads}, "runs": {}}
    base = Bench(work=args.work, config="mome_ro.small", scale=1.0, seed=0, quick=False, train_settings=TrainSettings(),
                 finetune_settings=FINETUNE_DEFAULTS, reuse_models=True, device="cpu", out_file=args.out)
    zero = base.evaluate(base.model_dir("mome"), "test", args.center, args.init)
    results["zero_shot"] = zero["dice"]
    for name, (lr, groups) in SETTINGS.items():
        t0 = time.perf_counter()
        bench = replace(base, finetune_settings=replace(FINETUNE_DEFAULTS, steps=args.steps, lr=lr,
                                                        val_every=max(args.steps // 5, 1)))
        out, ft = bench.finetune("mome", "pool", args.center, 3, args.init, groups=groups, tag="sweep")
        row = bench.evaluate(out, "test", args.center, args.center)
        cases = sorted(row["per_case"])
        mean, low, high = paired_bootstrap_ci([row["per_case"][c] for c in cases],
                                              [zero["per_case"][c] for c in cases])
        results["runs"][name] = {"dice": row["dice"], "gain": {"mean": mean, "ci_low": low, "ci_high": high},
                                 "steps_chosen": ft.selection.steps if ft.selection else None,
                                 "loo_curve": ft.selection.curve if ft.selection else None,
                                 "seconds": time.perf_counter() - t0}
        print(f"{name}: dice {row['dice']['mean']:.3f}, gain {mean:+.3f} [{low:+.3f}, {high:+.3f}], "
              f"steps {results['runs'][name]['steps_chosen']}", flush=True)
        base.save(results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
