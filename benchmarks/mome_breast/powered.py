"""MOME vs the best single-sequence model (DCE) on a test set large enough to resolve the difference.

``run.py`` scores every method on the 80 complete test cases of centers A and B; there, even the Bayes-optimal
reader of the phantom's true findings gains only +0.023 AUROC from T2 and DWI over DCE, with a paired CI that
spans zero (README). This trains the two methods exactly as ``run.py`` does (same centers, cases, steps, rate and
seed) and scores them on a separate, larger complete-sequence test set of A and B (another synth seed), next to
the oracle's AUROC on the same cases, with paired bootstrap CIs.

    python benchmarks/mome_breast/powered.py [--cases 160] [--test-cases 250] [--steps 800] [--threads 2]
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
from models.families.mome_breast import runner  # noqa: E402
from models.families.mome_breast.metrics import paired_auroc_difference, with_bootstrap  # noqa: E402
from models.families.mome_breast.phantom import SEPARATION, oracle_score  # noqa: E402
from models.fsutil import atomic_write_bytes  # noqa: E402
from models.registry import get_spec  # noqa: E402

TRAIN = ("A", "B", "C")
COMPLETE = ("A", "B")
TEST_SEED_OFFSET = 1000
"""The held-out set's synth seed is the training seed plus this: other lesions, other noise."""


def _oracle(findings: list[dict[str, float]], sequences: tuple[str, ...]) -> np.ndarray:
    return np.asarray([oracle_score(f, sequences) for f in findings])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="mome_breast.small")
    parser.add_argument("--cases", type=int, default=160, help="training cases per center, as in run.py")
    parser.add_argument("--test-cases", type=int, default=250, help="held-out cases per complete center (A, B)")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "powered.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec, device = get_spec(args.config), torch.device("cpu")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mome-breast-powered-") as tmp:
        train = {c: Path(tmp) / "train" / c for c in TRAIN}
        for center, folder in train.items():
            runner.synth(folder, center=center, cases=args.cases, seed=args.seed)
        test, findings = [], []
        for center in COMPLETE:
            folder = Path(tmp) / "test" / center
            runner.synth(folder, center=center, cases=args.test_cases, seed=args.seed + TEST_SEED_OFFSET)
            doc = json.loads((folder / "dataset.json").read_text())
            entries = {e["id"]: e for e in doc["training"] + doc["test"]}
            cases = [c for c in runner.load_dataset(folder) if c.label is not None]
            test += runner.prepare(cases, spec, center)
            findings += [entries[c.case_id]["findings"] for c in cases]
        labels = np.asarray([p.label for p in test])
        scores, trained = {}, {}
        for method in ("mome", "single_dce"):
            t0 = time.perf_counter()
            model, _ = runner.train(spec, list(train.values()), list(TRAIN), method=method, steps=args.steps,
                                    lr=args.lr, seed=args.seed, device=device)
            trained[method] = round(time.perf_counter() - t0, 1)
            scores[method] = runner.probabilities(model, test, device)
            if method == "mome":
                scores["mome (dce only)"] = runner.probabilities(model, test, device, frozenset({"dce"}))
            print(f"{method}: trained in {trained[method]:.0f} s", flush=True)
    scores["oracle (true findings)"] = _oracle(findings, tuple(SEPARATION))
    scores["oracle (dce finding)"] = _oracle(findings, ("dce",))
    results = {
        "config": args.config, "cases_per_center": args.cases, "test_cases": int(len(labels)),
        "test_seed": args.seed + TEST_SEED_OFFSET, "steps": args.steps, "lr": args.lr, "seed": args.seed,
        "train_seconds": trained,
        "auroc": {name: with_bootstrap(labels, s)["auroc"] for name, s in scores.items()},
        "comparisons": {
            "mome - single_dce": paired_auroc_difference(labels, scores["mome"], scores["single_dce"]),
            "mome dce-only - mome full": paired_auroc_difference(labels, scores["mome (dce only)"], scores["mome"]),
            "oracle full - oracle dce": paired_auroc_difference(labels, scores["oracle (true findings)"],
                                                                scores["oracle (dce finding)"]),
        },
        "seconds": round(time.perf_counter() - started, 1), "machine": machine_info(),
    }
    atomic_write_bytes(args.out, json.dumps(runner.strict_json(results), indent=1).encode())
    print(json.dumps(runner.strict_json({"auroc": {k: v["mean"] for k, v in results["auroc"].items()},
                                         "comparisons": results["comparisons"]}), indent=1))


if __name__ == "__main__":
    main()
