"""Ablation: what makes the clinical note steer the PTV.

Trains ``mome`` on synthetic A, B and C three ways and predicts held-out C images with the
three counterfactual notes (low, intermediate, very high node-positive) under every router:

- ``center_mix+film``: each center's own risk mix (nearly every patient gets nodal irradiation),
  parsed note fields with FiLM;
- ``balanced+tokens``: risk-balanced patients, the note only as MiniLM tokens + prompts
  through the two-way attention (the seed's text path alone);
- ``balanced+film``: risk-balanced patients, plus the parsed fields (structured token + FiLM),
  the default.

    python benchmarks/note_steering/run.py [--steps 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.machine import machine_info  # noqa: E402
from models.data.dataset import load_dataset  # noqa: E402
from models.data.synthetic.generator import generate_center  # noqa: E402
from models.device import set_torch_threads  # noqa: E402
from models.evaluation.counterfactual import steering_summary  # noqa: E402
from models.registry import note_encoder  # noqa: E402
from models.training.loop import TrainSettings  # noqa: E402
from models.training.samples import load_samples  # noqa: E402
from models.training.steering import counterfactual_volumes  # noqa: E402
from models.training.train import train_multicenter  # noqa: E402
from models.weights import load_model_dir  # noqa: E402

TRAIN = {"A": 10, "B": 6, "C": 10}
VARIANTS = {"center_mix+film": ("center", True), "balanced+tokens": ("balanced", False),
            "balanced+film": ("balanced", True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="mome_ro.small")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--test-cases", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--work", type=Path, default=HERE / "scratch")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()
    threads = set_torch_threads(args.threads)
    results: dict = {"machine": machine_info(), "args": {"config": args.config, "steps": args.steps,
                                                         "test_cases": args.test_cases, "threads": threads},
                     "variants": {}}
    test = generate_center("C", args.test_cases, args.work / "test" / "C", seed=1000, risk_mix="balanced",
                           overwrite=True)
    for name, (risk_mix, parsed) in VARIANTS.items():
        t0 = time.perf_counter()
        folders = [generate_center(c, n, args.work / risk_mix / c, seed=0, risk_mix=risk_mix, overwrite=True)
                   for c, n in TRAIN.items()]
        train_multicenter(folders, args.work / "models" / name, config_name=args.config, overwrite=True,
                          structured_note=parsed, settings=replace(TrainSettings(), steps=args.steps,
                                                                   val_every=args.steps))
        model, spec, _ = load_model_dir(args.work / "models" / name)
        samples = load_samples(load_dataset(test).training, spec.contract, center="C")
        res = counterfactual_volumes(model, spec, note_encoder(spec), samples, model.routers)
        summary = steering_summary(res, nodes_from_intermediate=("A", "B"))
        results["variants"][name] = {"volumes": res.volumes, "summary": summary,
                                     "seconds": time.perf_counter() - t0}
        print(name, {r: (round(s["median_very_high_over_low"], 3), round(s["median_intermediate_over_low"], 3))
                     for r, s in summary.items()}, flush=True)
        args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
