"""The site agent's entry points for MOME breast: synth, load_dataset, train, evaluate (every metric with
bootstrap CIs, and AUROC for every subset of the sequences), finetune, select_router, predict and explain
(per-case exact Shapley contributions of the sequences and integrated-gradients overlays)."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.families.mome_breast.data import BreastCase, load_dataset, prepare_sequences
from models.families.mome_breast.explain import integrated_gradients, saliency_png, shapley
from models.families.mome_breast.metrics import auroc, with_bootstrap
from models.families.mome_breast.network import MomeBreastNet
from models.families.mome_breast.synth import PRESETS, synth
from models.families.mome_breast.training import Prepared, fit, forward_cases, usable
from models.families.reports import strict_json
from models.fsutil import atomic_write_bytes
from models.registry import ModelSpec, build_network

__all__ = ["DEFAULT_STEPS", "FINETUNE_STEPS", "PRESETS", "evaluate", "explain", "finetune", "load_dataset",
           "predict", "select_router", "synth", "train"]

DEFAULT_STEPS = 600
FINETUNE_STEPS = 60
FINETUNE_LR = 5e-4


def _split(cases: list[BreastCase], split: str) -> list[BreastCase]:
    labelled = [c for c in cases if c.label is not None]
    return [c for c in labelled if c.split == split] or labelled


def prepare(cases: list[BreastCase], spec: ModelSpec, center: str) -> list[Prepared]:
    return [Prepared(c.case_id, prepare_sequences(c, spec.contract), c.label, center) for c in cases]


@torch.no_grad()
def probabilities(model: MomeBreastNet, cases: list[Prepared], device: torch.device,
                  keep: frozenset[str] | None = None) -> np.ndarray:
    """Malignancy probability per case (``keep``: only those sequences)."""
    model.to(device).eval()
    return forward_cases(model, cases, device, keep).softmax(-1)[:, 1].cpu().numpy()


def train(spec: ModelSpec, data: list[Path], centers: list[str], *, method: str, steps: int, lr: float, seed: int,
          device: torch.device, on_step: Callable[[int, float], None] | None = None) -> tuple[nn.Module, dict]:
    """Train over several centers' datasets (``centers[i]`` is the gate of ``data[i]``) on their training splits."""
    if len(data) != len(centers) or not data:
        raise ValueError(f"give one center per dataset ({len(data)} datasets, {len(centers)} centers)")
    torch.manual_seed(seed)
    model = build_network(spec, method=method, centers=list(dict.fromkeys(centers)))
    cases = [p for folder, center in zip(data, centers, strict=True)
             for p in prepare(_split(load_dataset(folder), "training"), spec, center)]
    start = time.perf_counter()
    losses = fit(model, cases, steps=steps, lr=lr, seed=seed, device=device, on_step=on_step)
    tail = losses[-max(1, len(losses) // 10):]
    return model, {"summary": {"loss": float(np.mean(tail))}, "losses": losses[:: max(1, len(losses) // 100)],
                   "cases": len(usable(model, cases)), "seconds": time.perf_counter() - start, "method": method}


def _subsets(model: MomeBreastNet) -> list[frozenset[str]]:
    names = model.supported
    if model.requires_all:
        return [frozenset(names)]
    return [frozenset(s) for r in range(1, len(names) + 1) for s in itertools.combinations(names, r)]


def evaluate(model: MomeBreastNet, spec: ModelSpec, data: Path, *, center: str, device: torch.device,
             seed: int = 0) -> dict:
    """AUROC, AUPRC, sensitivity, specificity, F1 and MCC with bootstrap CIs on the test cases the method can
    read, and the AUROC of inference on every subset of the sequences (the complete cases only)."""
    cases = usable(model, prepare(_split(load_dataset(data), "test"), spec, center))
    if not cases:
        raise ValueError(f"no test case of {data} has the sequences method {model.method} needs")
    labels = np.asarray([c.label for c in cases])
    scores = probabilities(model, cases, device)
    complete = [c for c in cases if all(s in c.sequences for s in model.supported)]
    subsets = {}
    for keep in _subsets(model):
        if complete:
            subsets["+".join(sorted(keep))] = auroc(np.asarray([c.label for c in complete]),
                                                    probabilities(model, complete, device, keep))
    rows = [{"case": c.case_id, "label": c.label, "probability": float(p), "sequences": sorted(c.sequences)}
            for c, p in zip(cases, scores, strict=True)]
    return strict_json({"summary": with_bootstrap(labels, scores, seed=seed), "auroc_by_sequences": subsets,
                        "cases": rows})


def select_router(model: MomeBreastNet, spec: ModelSpec, data: Path, *, shots: int,
                  device: torch.device) -> list[dict]:
    """Zero-shot: every center's gates scored on ``shots`` labelled cases by the mean log-likelihood of their
    labels (AUROC is undefined on a handful of cases of one class), best first."""
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    chosen = _split(load_dataset(data), "training")[:shots]
    ranking = []
    for router in model.routers:
        cases = usable(model, prepare(chosen, spec, router))
        p = probabilities(model, cases, device)
        y = np.asarray([c.label for c in cases])
        ll = float(np.mean(np.log(np.where(y == 1, p, 1 - p).clip(1e-6))))
        ranking.append({"router": router, "score": ll, "cases": [c.case_id for c in cases]})
    return strict_json(sorted(ranking, key=lambda r: -r["score"] if math.isfinite(r["score"]) else math.inf))


def finetune(model: MomeBreastNet, spec: ModelSpec, data: Path, *, center: str, shots: int, steps: int,
             init_from: str | None, seed: int, device: torch.device,
             on_step: Callable[[int, float], None] | None = None) -> tuple[nn.Module, dict]:
    """Closed-center few-shot: soft-MoE gates for ``center`` copied from ``init_from``'s; the new gates and every
    expert (sparse and soft) train on ``shots`` cases, tokenisers, attention and head frozen."""
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    cases = load_dataset(data)
    pool = _split(cases, "training")
    order = np.random.default_rng(seed).permutation(len(pool))
    shot_cases = [pool[int(i)] for i in order[:shots]]
    held_out = [c for c in _split(cases, "test") if c not in shot_cases] or shot_cases
    if model.routers and center not in model.routers:
        model.add_center(center, init_from=init_from)
    elif center not in model.centers:
        model.add_center(center, init_from=None)
    gate = center if model.routers else model.centers[0]
    test = usable(model, prepare(held_out, spec, gate))

    def summary() -> dict:
        return with_bootstrap([c.label for c in test], probabilities(model, test, device), seed=seed)

    before = summary()
    for p in model.parameters():
        p.requires_grad_(False)
    if model.routers:
        core = model.core
        trainable = [p for b in core.sparse for p in b.experts.parameters()]
        for block in core.fusion:
            adapter = block.adapter
            trainable += [p for n, p in adapter.named_parameters() if not n.startswith("moe.phi.")]
            trainable.append(adapter.moe.phi[gate])
    else:
        trainable = list(model.parameters())
    for p in trainable:
        p.requires_grad_(True)
    fit(model, prepare(shot_cases, spec, gate), steps=steps, lr=FINETUNE_LR, seed=seed, device=device,
        batch_size=len(shot_cases), parameters=trainable, on_step=on_step)
    for p in model.parameters():
        p.requires_grad_(True)
    return model, strict_json({"before": before, "after": summary(), "cases": [c.case_id for c in shot_cases],
                               "evaluated_on": [c.case_id for c in test]})


def predict(model: MomeBreastNet, spec: ModelSpec, data: Path, out: Path, *, center: str,
            device: torch.device) -> list[dict]:
    """Malignancy probability of every case the method can read, written to ``out/predictions.json``."""
    cases = usable(model, prepare(load_dataset(data), spec, center))
    if not cases:
        raise ValueError(f"no case of {data} has the sequences method {model.method} needs")
    scores = probabilities(model, cases, device)
    rows = [{"case": c.case_id, "probability": float(p), "malignant": bool(p >= 0.5),
             "sequences": sorted(c.sequences)} for c, p in zip(cases, scores, strict=True)]
    path = Path(out) / "predictions.json"
    atomic_write_bytes(path, json.dumps(strict_json({"center": center, "predictions": rows}), indent=1).encode())
    return rows


def explain(model: MomeBreastNet, spec: ModelSpec, data: Path, out: Path, *, center: str,
            device: torch.device, on_case: Callable[[str, int], None] | None = None) -> dict:
    """Per case: each sequence's exact Shapley contribution to the malignancy probability (v(S) = inference on
    the sequences S; v(empty) = the mean probability over the explained cases) and an integrated-gradients
    overlay PNG; globally, the mean contribution per sequence, also per true class. ``on_case(case_id, total)``
    follows each explained case (the overlays take most of the time)."""
    if model.requires_all or len(model.supported) < 2:
        raise ValueError(f"method {model.method} cannot run on subsets of the sequences, so it has no Shapley "
                         f"contributions; explain a mome model")
    cases = [c for c in usable(model, prepare(load_dataset(data), spec, center))
             if all(s in c.sequences for s in model.supported)]
    if not cases:
        raise ValueError(f"no case of {data} has every sequence ({', '.join(model.supported)})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    subsets = [frozenset(s) for r in range(1, len(model.supported) + 1)
               for s in itertools.combinations(model.supported, r)]
    values = {s: probabilities(model, cases, device, s) for s in subsets}
    prior = float(values[frozenset(model.supported)].mean())
    rows = []
    model.eval()
    for i, case in enumerate(cases):
        phi = shapley(lambda s, i=i: float(values[s][i]) if s else prior, model.supported)
        inputs = {k: v[None].to(device) for k, v in case.sequences.items()}
        attributions = integrated_gradients(
            lambda x: model(x, [center]).softmax(-1)[0, 1], inputs)
        png = saliency_png({k: v.numpy() for k, v in case.sequences.items()},
                           {k: a[0].detach().cpu().numpy() for k, a in attributions.items()},
                           out / f"{case.case_id}_saliency.png",
                           f"{case.case_id}: p(malignant) = {values[frozenset(model.supported)][i]:.2f}")
        rows.append({"case": case.case_id, "label": case.label, "probability":
                     float(values[frozenset(model.supported)][i]), "shapley": phi, "saliency": str(png)})
        if on_case is not None:
            on_case(case.case_id, len(cases))
    global_ = {s: float(np.mean([r["shapley"][s] for r in rows])) for s in model.supported}
    by_class = {name: {s: float(np.mean([r["shapley"][s] for r in rows if r["label"] == y])) for s in model.supported}
                for y, name in ((1, "malignant"), (0, "benign")) if any(r["label"] == y for r in rows)}
    doc = strict_json({"global": global_, "global_abs": {s: float(np.mean([abs(r["shapley"][s]) for r in rows]))
                                                         for s in model.supported},
                       "by_class": by_class, "prior": prior, "n_cases": len(rows), "cases": rows})
    atomic_write_bytes(out / "shapley.json", json.dumps(doc, indent=1).encode())
    return doc
