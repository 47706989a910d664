"""Turn aggregated experts into a model directory: the base version with its experts replaced, plus lineage."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from federation.strategy import RoundReport
from federation.wire import WEIGHT_KEY, check_experts_only, is_expert
from models.weights import load_model_dir, save_model_dir
from protocols import Lineage, ModelManifest


def federation_lineage(*, base_version: str, strategy: str, reports: list[RoundReport],
                       settings: dict[str, object]) -> Lineage:
    """Which sites took part, how many rounds ran, their metrics and failures.

    ``metrics`` holds flat numbers (``rounds``, ``sites``, ``<site>.<metric>`` of the last round
    each site contributed to); ``notes`` holds the whole per-round record as JSON.
    """
    sites = sorted({s for r in reports for s in r.sites})
    metrics: dict[str, float] = {"rounds": float(len(reports)), "sites": float(len(sites)),
                                 "failures": float(sum(len(r.failures) for r in reports))}
    for r in reports:
        for site, m in r.sites.items():
            metrics.update({f"{site}.{k}": float(v) for k, v in m.items()})
    record = {"kind": "federated-experts", "strategy": strategy, "sites": sites, "rounds": len(reports),
              "weighted_by": WEIGHT_KEY, "settings": settings,
              "per_round": [{"round": r.round, "sites": r.sites, "failures": r.failures, "aggregated": r.aggregated}
                            for r in reports]}
    return Lineage(base_version=base_version, metrics=metrics, notes=json.dumps(record, sort_keys=True))


def write_draft(base_dir: Path, experts: dict[str, torch.Tensor], out_dir: Path, *, version: str,
                lineage: Lineage) -> ModelManifest:
    """Load the base model, replace exactly its experts tensors, save with ``lineage``."""
    check_experts_only(experts, where="aggregated result")
    model, spec, _ = load_model_dir(base_dir)
    state = model.state_dict()
    missing = sorted(n for n in state if n not in experts and is_expert(n))
    if missing:
        raise ValueError(f"aggregate lacks experts tensors: {', '.join(missing[:3])}")
    for name, tensor in experts.items():
        if name not in state or tuple(state[name].shape) != tuple(tensor.shape):
            raise ValueError(f"aggregated tensor {name!r} does not fit the base model")
        state[name] = tensor.to(state[name].dtype)
    model.load_state_dict(state, strict=True)
    return save_model_dir(model, spec, out_dir, version=version, lineage=lineage, overwrite=True)

