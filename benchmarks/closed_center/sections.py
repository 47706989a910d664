"""The closed-center benchmark's data, training, fine-tuning and scoring steps (``Bench``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from models.data.dataset import load_dataset
from models.data.synthetic.generator import generate_center
from models.registry import note_encoder
from models.training.evaluate import evaluate_samples
from models.training.finetune import FinetuneResult, finetune_center
from models.training.loop import TrainSettings
from models.training.samples import load_samples
from models.training.train import train_multicenter
from models.weights import load_model_dir

TRAIN_CASES = {"A": 15, "B": 8, "C": 15}   # risk-balanced, domain-randomised
POOL_CASES = 6                             # a closed center's local pool: shots + validation case
TEST_CASES = {"A": 8, "B": 8, "C": 8, "D": 12, "E": 12, "F": 12}
VARIANT_CASES = {"D": 8, "E": 8}           # held-out renderer: test sets and pools
QUICK = {"train": {"A": 4, "B": 2, "C": 4}, "pool": 4, "test": 3, "variant": 3}


@dataclass
class Bench:
    work: Path
    config: str
    scale: float
    seed: int
    quick: bool
    train_settings: TrainSettings
    finetune_settings: TrainSettings
    reuse_models: bool
    device: str
    out_file: Path
    steering_cases: int = 8

    @property
    def train_cases(self) -> dict[str, int]:
        return QUICK["train"] if self.quick else TRAIN_CASES

    @property
    def finetune_steps(self) -> int:
        return self.finetune_settings.steps

    @property
    def finetune_lr(self) -> float:
        return self.finetune_settings.lr

    # -- data ----------------------------------------------------------------------------
    def make_data(self) -> None:
        """Training (standard renderer, randomised), closed-center pools and test sets, variant-renderer sets."""
        pool = QUICK["pool"] if self.quick else POOL_CASES
        test = {c: QUICK["test"] for c in TEST_CASES} if self.quick else TEST_CASES
        variant = {c: QUICK["variant"] for c in VARIANT_CASES} if self.quick else VARIANT_CASES
        plan = [("train", c, n, self.seed, "standard") for c, n in self.train_cases.items()]
        plan += [("pool", c, pool, self.seed + 500, "standard") for c in "DEF"]
        plan += [("test", c, n, self.seed + 1000, "standard") for c, n in test.items()]
        plan += [("variant_test", c, n, self.seed + 2000, "variant") for c, n in variant.items()]
        plan += [("variant_pool", c, pool, self.seed + 2500, "variant") for c in variant]
        for split, center, n, seed, renderer in plan:
            folder = self.work / split / center
            marker = folder / ".complete"
            if marker.is_file() and marker.read_text() == f"{n} {seed} {renderer} {self.scale}":
                continue
            generate_center(center, n, folder, seed=seed, scale=self.scale, overwrite=True, risk_mix="balanced",
                            randomize=True, renderer=renderer)
            marker.write_text(f"{n} {seed} {renderer} {self.scale}")

    def samples(self, spec, split: str, center: str):
        return load_samples(load_dataset(self.work / split / center).training, spec.contract, center=center)

    # -- models ----------------------------------------------------------------------------
    def model_dir(self, method: str) -> Path:
        return self.work / "models" / method

    def ft_dir(self, method: str, split: str, center: str, shots: int, tag: str = "") -> Path:
        return self.work / "ft" / f"{split}-{center}-{method}{'-' + tag if tag else ''}-{shots}"

    @staticmethod
    def encoder(spec):
        return note_encoder(spec)

    def train(self, method: str) -> None:
        if self.reuse_models and (self.model_dir(method) / "manifest.json").is_file():
            return
        train_multicenter([self.work / "train" / c for c in self.train_cases], self.model_dir(method),
                          config_name=self.config, method=method, overwrite=True, settings=self.train_settings,
                          device=self.device)

    def finetune(self, method: str, split: str, center: str, shots: int, init: str | None,
                 groups: tuple[str, ...] | None = None, tag: str = "") -> tuple[Path, FinetuneResult]:
        out = self.ft_dir(method, split, center, shots, tag)
        result = finetune_center(self.model_dir(method), self.work / split / center, out, center=center, shots=shots,
                                 init_router=init, groups=groups, overwrite=True, settings=self.finetune_settings,
                                 device=self.device)
        return out, result

    # -- scoring -------------------------------------------------------------------------
    def evaluate(self, model_dir: Path, split: str, center: str, router: str) -> dict:
        model, spec, _ = load_model_dir(model_dir, device=self.device)
        if model.method != "mome":
            router = model.routers[0] if model.routers else center
        return self.evaluate_model(model, spec, split, center, router)

    def evaluate_model(self, model, spec, split: str, center: str, router: str) -> dict:
        """Dice/IoU/HD95/GPR with bootstrap CIs, plus per-case Dice for paired comparisons."""
        report = evaluate_samples(model, spec, self.encoder(spec), self.samples(spec, split, center), router=router,
                                  model_version="bench", device=self.device)
        out = {m: getattr(report, m).model_dump() for m in ("dice", "iou", "hd95_mm")}
        out["gpr_pred"] = report.gpr_pred.model_dump() if report.gpr_pred else None
        out["gpr_true"] = report.gpr_true.model_dump() if report.gpr_true else None
        out["per_case"] = {c.case_id: c.dice for c in report.cases}
        return out

    def save(self, results: dict) -> None:
        """Write the results so far (atomically: a stopped run leaves the last complete section)."""
        tmp = self.out_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2))
        os.replace(tmp, self.out_file)
