"""Evaluation of one router on labelled cases: Dice, IoU, HD95 (mm), GPR, bootstrap CIs and
expert activation frequencies (seed 000, Evaluation; Fig. 3b)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from models.evaluation.metrics import case_metrics
from models.evaluation.report import EvaluationReport, summarise
from models.networks.mome_ro import MomeRoNet
from models.registry import ModelSpec
from models.training.inference import predict_logits, to_mask
from models.training.loop import text_for
from models.training.samples import Sample


def evaluate_samples(
    model: MomeRoNet, spec: ModelSpec, encoder, samples: Sequence[Sample], *, router: str, model_version: str,
    device: str = "cpu", n_resamples: int = 1000, on_case: Callable[[str], None] | None = None,
) -> EvaluationReport:
    """Predict every sample with ``router`` and summarise the metrics with bootstrap CIs."""
    if not samples:
        raise ValueError("no labelled cases to evaluate")
    model.eval().track_expert_activations(True)
    start = time.perf_counter()
    rows = []
    for s in samples:
        text, mask = text_for(model, encoder, [s], device)
        logits = predict_logits(model, s.image[None].to(device), text, mask, router, spec.contract.patch_size)
        pred = to_mask(logits).cpu().numpy()
        gtv = None if s.gtv is None else s.gtv[0].numpy()
        rows.append(case_metrics(s.case_id, pred, s.label[0].numpy(), s.spacing, gtv=gtv))
        if on_case:
            on_case(s.case_id)
    activation = model.expert_activation()
    model.track_expert_activations(False)
    return summarise(rows, model_version=model_version, router=router, center=samples[0].center,
                     expert_activation=activation, device=device, seconds=time.perf_counter() - start,
                     n_resamples=n_resamples)
