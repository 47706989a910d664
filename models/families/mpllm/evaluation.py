"""Answers of a trained mpLLM and their per-question-type accuracy with bootstrap CIs (seed 003, Section 4.2).

Two readouts of every question: the multi-task heads (the seed's task evaluation) and the generated answer
read back by the answer templates (the only readout of the ``no_multitask`` baseline). Accuracy for volume,
shape, spread and out-of-scope; per-label accuracy (N/A and the nine regions) for region, plus its F1.
Each case's questions are averaged first, so the bootstrap resamples cases (1000 resamples).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch

from models.evaluation.bootstrap import bootstrap_ci
from models.families.mpllm.batches import question_batch
from models.families.mpllm.contract import MpllmContract
from models.families.mpllm.findings import NOT_FOUND, REGIONS
from models.families.mpllm.lm import Tokenizer
from models.families.mpllm.network import MpllmNet
from models.families.mpllm.templates import TASKS
from models.families.mpllm.training import PreparedCase
from models.families.mpllm.vqa import HEAD_CLASSES, UNSPECIFIED, parse_answer

REGION_LABELS = (NOT_FOUND, *REGIONS)


def pretty(text: str) -> str:
    """A generated word sequence as a sentence: no space before punctuation, "<1%", "1-5%", "N/A"."""
    out = text.replace(" n / a", " N/A").replace("< ", "<").replace(" %", "%")
    for mark in (" ,", " .", " ?", " '", " :"):
        out = out.replace(mark, mark.strip())
    out = out.replace(" - ", "-").replace("' ", "'")
    return out[:1].upper() + out[1:]


def head_answers(heads: dict[str, torch.Tensor]) -> list[dict]:
    """Each row's head outputs as classes: name per multi-class head, region names with probability > 0.5."""
    rows = []
    n = next(iter(heads.values())).shape[0]
    for i in range(n):
        row = {t: HEAD_CLASSES[t][int(heads[t][i].argmax())] for t in ("volume", "shape", "spread")}
        bits = torch.sigmoid(heads["region"][i]) > 0.5
        row["region"] = [c for c, b in zip(HEAD_CLASSES["region"], bits.tolist(), strict=True) if b]
        row["out_of_scope"] = bool(heads["out_of_scope"][i].argmax() == 1)
        rows.append(row)
    return rows


@torch.no_grad()
def answer(net: MpllmNet, cases: list[PreparedCase], tokenizer: Tokenizer, contract: MpllmContract, *,
           center: str, device: torch.device, generate: bool = True, cases_per_batch: int = 4) -> list[dict]:
    """One row per question of every case: truth, generated answer (if ``generate``), parsed and head classes."""
    net.to(device).eval()
    rows = []
    for start in range(0, len(cases), cases_per_batch):
        chunk = cases[start:start + cases_per_batch]
        items = [(row, pair) for row, c in enumerate(chunk) for pair in c.case.qa]
        if not items:
            continue
        batch = question_batch(items, [center] * len(items), tokenizer,
                               max_question_tokens=contract.max_question_tokens,
                               max_answer_tokens=contract.max_answer_tokens).to(device)
        v = net.encode(torch.stack([c.images for c in chunk]).to(device))
        if generate:
            ids, out = net.generate(v, batch.case_index, batch.question_ids, batch.question_mask, batch.centers,
                                    sep_id=tokenizer.eos_id, eos_id=tokenizer.eos_id,
                                    max_new_tokens=contract.max_answer_tokens)
            texts = [pretty(tokenizer.decode(_until(r, tokenizer.eos_id))) for r in ids.tolist()]
        else:
            out = net.decode(v, batch.case_index, batch.question_ids, batch.question_mask, batch.answer_ids,
                             batch.answer_mask, batch.centers, tokenizer.eos_id)
            texts = [None] * len(items)
        heads = head_answers(out.heads) if out.heads else [None] * len(items)
        for (row, pair), text, head in zip(items, texts, heads, strict=True):
            rows.append({"case": chunk[row].case.case_id, "label": pair.label, "kind": pair.kind,
                         "tasks": list(pair.tasks), "question": pair.question, "truth": pair.answer,
                         "targets": pair.targets, "answer": text, "parsed": parse_answer(text) if text else None,
                         "heads": head})
    return rows


def _until(ids: list[int], eos: int) -> list[int]:
    return ids[: ids.index(eos)] if eos in ids else ids


def _region_set(value: list[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {v for v in value if v != UNSPECIFIED}


def correctness(pair_targets: dict, predicted: dict | None) -> dict[str, float]:
    """Per asked task: 1/0 (region: per-label accuracy, and ``region_f1``); ``out_of_scope`` always."""
    scores: dict[str, float] = {}
    for task in TASKS:
        truth = pair_targets.get(task)
        if truth is None:
            continue
        guess = None if predicted is None else predicted.get(task)
        if task != "region":
            scores[task] = float(guess == truth)
            continue
        true_set, pred_set = set(truth), _region_set(guess) or set()
        scores[task] = float(np.mean([(r in true_set) == (r in pred_set) for r in REGION_LABELS]))
        hits = len(true_set & pred_set)
        denom = len(true_set) + len(pred_set)
        scores["region_f1"] = 1.0 if denom == 0 else 2.0 * hits / denom
    oos = None if predicted is None else predicted.get("out_of_scope")
    scores["out_of_scope"] = float(oos == bool(pair_targets.get("out_of_scope")))
    return scores


METRICS = (*TASKS, "mean", "out_of_scope", "region_f1")


def case_scores(rows: Iterable[dict], readout: str) -> list[dict]:
    """Per case: the mean of each metric over its questions (NaN if none asks it); ``mean`` averages the four
    tasks. ``readout``: ``heads`` or ``answer`` (the generated text, parsed)."""
    by_case: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        predicted = row["heads"] if readout == "heads" else row["parsed"]
        for key, value in correctness(row["targets"], predicted).items():
            by_case.setdefault(row["case"], {}).setdefault(key, []).append(value)
    out = []
    for case, values in by_case.items():
        doc = {"case": case, **{k: float(np.mean(values[k])) if k in values else math.nan for k in METRICS}}
        task_means = [doc[t] for t in TASKS if not math.isnan(doc[t])]
        doc["mean"] = float(np.mean(task_means)) if task_means else math.nan
        out.append(doc)
    return out


def summarise(cases: list[dict], seed: int = 0) -> dict[str, dict]:
    """``{metric: {"mean", "ci"}}`` over cases (percentile bootstrap, 1000 resamples)."""
    summary = {}
    for key in METRICS:
        mean, low, high = bootstrap_ci([c[key] for c in cases], seed=seed)
        summary[key] = {"mean": mean, "ci": [low, high]}
    return summary
