"""The ceiling the MOME breast benchmark can reach: the AUROC of the Bayes-optimal score on the lesion findings
the phantom drew (``dataset.json`` keeps them), for every subset of the sequences, on the same complete test
cases as ``run.py`` (centers A and B; C acquires no DWI). A network sees only the rendered, noisy images, so it
should stay below these.

    python benchmarks/mome_breast/oracle.py [--cases 160] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import norm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.machine import machine_info  # noqa: E402
from models.families.mome_breast.metrics import with_bootstrap  # noqa: E402
from models.families.mome_breast.phantom import SEPARATION, oracle_score  # noqa: E402
from models.families.mome_breast.synth import synth  # noqa: E402
from models.families.reports import strict_json  # noqa: E402
from models.fsutil import atomic_write_bytes  # noqa: E402

COMPLETE = ("A", "B")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=160, help="cases per center, as given to run.py")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "oracle.json")
    args = parser.parse_args()
    findings, labels = [], []
    with tempfile.TemporaryDirectory(prefix="mome-breast-oracle-") as tmp:
        for center in COMPLETE:
            synth(Path(tmp) / center, center=center, cases=args.cases, seed=args.seed)
            doc = json.loads((Path(tmp) / center / "dataset.json").read_text())
            findings += [case["findings"] for case in doc["test"]]
            labels += [case["label"] for case in doc["test"]]
    y = np.asarray(labels)
    subsets = {}
    for r in range(1, len(SEPARATION) + 1):
        for subset in itertools.combinations(SEPARATION, r):
            score = np.asarray([oracle_score(f, subset) for f in findings])
            d = float(np.sqrt(sum(SEPARATION[s] ** 2 for s in subset)))
            subsets["+".join(subset)] = {"analytic_auroc": float(norm.cdf(d / np.sqrt(2))),
                                         "test_cases": with_bootstrap(y, score)["auroc"]}
    result = {"cases_per_center": args.cases, "seed": args.seed, "centers": list(COMPLETE), "n": int(len(y)),
              "separation": SEPARATION, "by_sequences": subsets, "machine": machine_info()}
    atomic_write_bytes(args.out, json.dumps(strict_json(result), indent=1).encode())
    for name, v in subsets.items():
        print(f"{name}: analytic {v['analytic_auroc']:.3f}, test cases {v['test_cases']['mean']:.3f}")


if __name__ == "__main__":
    main()
