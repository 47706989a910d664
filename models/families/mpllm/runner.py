"""The site agent's entry points for mpLLM: synth, load_dataset, train, evaluate, finetune, select_router, predict
and ask (one question about one case)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from models.families.mpllm.batches import encode_questions
from models.families.mpllm.data import VqaCase, load_dataset, prepare_sequences
from models.families.mpllm.evaluation import answer, case_scores, head_answers, pretty, summarise
from models.families.mpllm.lm import build_tokenizer
from models.families.mpllm.network import MpllmNet
from models.families.mpllm.synth import PRESETS, synth
from models.families.mpllm.training import PreparedCase, fit, prepare
from models.families.mpllm.vqa import UNSPECIFIED, parse_answer
from models.families.reports import strict_json
from models.fsutil import atomic_write_bytes
from models.registry import ModelSpec, build_network

__all__ = ["DEFAULT_STEPS", "FINETUNE_STEPS", "PRESETS", "ask", "evaluate", "finetune", "load_dataset", "predict",
           "select_router", "synth", "train"]

DEFAULT_STEPS = 600
FINETUNE_STEPS = 60
FINETUNE_LR = 5e-4


def _tokenizer(spec: ModelSpec):
    return build_tokenizer(spec.architecture["lm"], spec.contract.vocab)


def _split(cases: list[VqaCase], split: str) -> list[VqaCase]:
    """The cases of one split, or all of them when the split is empty (a dataset of one case)."""
    chosen = [c for c in cases if c.split == split and c.qa]
    return chosen or [c for c in cases if c.qa]


def _readout(model: MpllmNet) -> str:
    return "heads" if model.heads else "answer"


def train(spec: ModelSpec, data: list[Path], centers: list[str], *, method: str, steps: int, lr: float, seed: int,
          device: torch.device, on_step: Callable[[int, float], None] | None = None) -> tuple[nn.Module, dict]:
    """Train a model over several centers' datasets (``centers[i]`` is the router of ``data[i]``), end to end."""
    if len(data) != len(centers) or not data:
        raise ValueError(f"give one center per dataset ({len(data)} datasets, {len(centers)} centers)")
    torch.manual_seed(seed)
    model = build_network(spec, method=method, centers=list(dict.fromkeys(centers)))
    cases = [p for folder, center in zip(data, centers, strict=True)
             for p in prepare(_split(load_dataset(folder), "training"), spec.contract, center)]
    start = time.perf_counter()
    losses = fit(model, cases, _tokenizer(spec), spec.contract, steps=steps, lr=lr, seed=seed, device=device,
                 on_step=on_step)
    tail = losses[-max(1, len(losses) // 10):]
    return model, {"summary": {"loss": float(np.mean(tail))}, "losses": losses[:: max(1, len(losses) // 100)],
                   "cases": len(cases), "seconds": time.perf_counter() - start, "method": method}


def _report(model: MpllmNet, spec: ModelSpec, cases: list[PreparedCase], center: str, device: torch.device, *,
            generate: bool, seed: int = 0) -> dict[str, Any]:
    rows = answer(model, cases, _tokenizer(spec), spec.contract, center=center, device=device,
                  generate=generate or not model.heads)
    per_case = case_scores(rows, _readout(model))
    report = {"readout": _readout(model), "summary": summarise(per_case, seed), "cases": per_case, "rows": rows}
    if generate and model.heads:
        text_cases = case_scores(rows, "answer")
        report["answer_summary"] = summarise(text_cases, seed)
        report["answer_cases"] = text_cases
    return report


def evaluate(model: MpllmNet, spec: ModelSpec, data: Path, *, center: str, device: torch.device,
             seed: int = 0, generate: bool = True) -> dict:
    """Per-question-type accuracy (heads; the parsed answers too) with bootstrap CIs on the test cases."""
    cases = prepare(_split(load_dataset(data), "test"), spec.contract, center)
    report = _report(model, spec, cases, center, device, generate=generate, seed=seed)
    report.pop("rows")
    return strict_json(report)


def select_router(model: MpllmNet, spec: ModelSpec, data: Path, *, shots: int, device: torch.device) -> list[dict]:
    """Zero-shot: every router's mean accuracy over the four tasks on ``shots`` labelled cases, best first.
    The sequences are encoded once per case; only the router (and what follows it) is run per router."""
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    cases = prepare(_split(load_dataset(data), "training")[:shots], spec.contract, "")
    ranking = []
    for router in model.routers:
        per_case = case_scores(answer(model, cases, _tokenizer(spec), spec.contract, center=router, device=device,
                                      generate=not model.heads), _readout(model))
        scores = summarise(per_case)
        ranking.append({"router": router, "score": scores["mean"]["mean"], "out_of_scope": scores["out_of_scope"]
                        ["mean"], "cases": [c.case.case_id for c in cases]})
    return strict_json(sorted(ranking, key=lambda r: -r["score"] if math.isfinite(r["score"]) else math.inf))


def finetune(model: MpllmNet, spec: ModelSpec, data: Path, *, center: str, shots: int, steps: int,
             init_from: str | None, seed: int, device: torch.device,
             on_step: Callable[[int, float], None] | None = None) -> tuple[nn.Module, dict]:
    """Closed-center few-shot: a router for ``center`` (copied from ``init_from``'s), then the new router and the
    projection experts train on ``shots`` cases; encoder, language model and heads stay frozen."""
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    cases = load_dataset(data)
    pool = _split(cases, "training")
    order = np.random.default_rng(seed).permutation(len(pool))
    shot_cases = [pool[int(i)] for i in order[:shots]]
    held_out = [c for c in _split(cases, "test") if c not in shot_cases] or shot_cases
    if center not in model.routers:
        model.add_center(center, init_from=init_from if model.routers else None)
    evaluate_on = prepare(held_out, spec.contract, center)
    before = _report(model, spec, evaluate_on, center, device, generate=False)["summary"]
    for p in model.parameters():
        p.requires_grad_(False)
    trainable = list(model.projector.experts.parameters()) if model.routers else list(model.projector.parameters())
    if model.routers:
        trainable += list(model.projector.routers[center].parameters())
    for p in trainable:
        p.requires_grad_(True)
    fit(model, prepare(shot_cases, spec.contract, center), _tokenizer(spec), spec.contract, steps=steps,
        lr=FINETUNE_LR, seed=seed, device=device, parameters=trainable, on_step=on_step)
    for p in model.parameters():
        p.requires_grad_(True)
    after = _report(model, spec, evaluate_on, center, device, generate=False)["summary"]
    return model, strict_json({"before": before, "after": after, "cases": [c.case_id for c in shot_cases],
                               "evaluated_on": [c.case_id for c in held_out]})


def predict(model: MpllmNet, spec: ModelSpec, data: Path, out: Path, *, center: str,
            device: torch.device) -> list[dict]:
    """Answers to every question of every case, written to ``out/answers.json``; one summary row per case."""
    cases = prepare([c for c in load_dataset(data) if c.qa], spec.contract, center)
    rows = answer(model, cases, _tokenizer(spec), spec.contract, center=center, device=device)
    path = Path(out) / "answers.json"
    atomic_write_bytes(path, json.dumps(strict_json({"center": center, "answers": rows}), indent=1).encode())
    summary = []
    for case in cases:
        mine = [r for r in rows if r["case"] == case.case.case_id]
        summary.append({"case": case.case.case_id, "questions": len(mine), "file": str(path),
                        "refused": sum(bool((r["heads"] or r["parsed"] or {}).get("out_of_scope")) for r in mine)})
    return summary


@torch.no_grad()
def ask(model: MpllmNet, spec: ModelSpec, image_paths: dict[str, Path], question: str, *, center: str,
        device: torch.device) -> dict:
    """One answer to one question about one case; ``refused`` when the model judges it out of scope (fully:
    it names no in-scope task; partly: it answers those and declines the rest)."""
    if not question.strip():
        raise ValueError("the question is empty")
    tokenizer = _tokenizer(spec)
    images = prepare_sequences(image_paths, spec.contract).unsqueeze(0).to(device)
    model.to(device).eval()
    q_ids, q_mask = encode_questions([question], tokenizer, spec.contract.max_question_tokens)
    ids, out = model.generate(model.encode(images), torch.zeros(1, dtype=torch.long, device=device),
                              q_ids.to(device), q_mask.to(device), [center], sep_id=tokenizer.eos_id,
                              eos_id=tokenizer.eos_id, max_new_tokens=spec.contract.max_answer_tokens)
    row = ids[0].tolist()
    text = pretty(tokenizer.decode(row[: row.index(tokenizer.eos_id)] if tokenizer.eos_id in row else row))
    heads = head_answers(out.heads)[0] if out.heads else None
    stated = heads or parse_answer(text)
    refused = bool(stated["out_of_scope"])
    asked = [t for t in ("volume", "shape", "spread") if stated.get(t) not in (None, UNSPECIFIED)]
    asked += ["region"] if stated.get("region") and UNSPECIFIED not in stated["region"] else []
    scope = "in scope" if not refused else ("partly out of scope" if asked else "out of scope")
    return {"question": question, "answer": text, "refused": refused, "scope": scope, "heads": heads,
            "routing": out.routing[0].tolist() if out.routing is not None else None}
