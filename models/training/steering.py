"""Predicted PTV volumes under substituted notes: the model side of the counterfactual check."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from models.evaluation.counterfactual import COUNTERFACTUAL_NOTES, CounterfactualResult, note_steering
from models.networks.mome_ro import MomeRoNet
from models.registry import ModelSpec
from models.training.inference import predict_logits, to_mask
from models.training.loop import embed_notes
from models.training.samples import Sample


@torch.no_grad()
def predicted_ptv_voxels(model: MomeRoNet, spec: ModelSpec, encoder, sample: Sample, router: str, note: str,
                         device: str = "cpu") -> int:
    """Voxels of the PTV predicted for ``sample``'s image with ``note`` in place of its own note."""
    model.eval()
    text, mask = embed_notes(model, encoder, [note], [router], device)
    logits = predict_logits(model, sample.image[None].to(device), text, mask, router, spec.contract.patch_size)
    return int(to_mask(logits).sum().item())


def counterfactual_volumes(model: MomeRoNet, spec: ModelSpec, encoder, samples: Sequence[Sample],
                           routers: Sequence[str], *, device: str = "cpu",
                           notes: dict[str, str] = COUNTERFACTUAL_NOTES, on_case=None) -> CounterfactualResult:
    """Every sample predicted under every router with each counterfactual note."""
    return note_steering(samples, routers,
                         lambda s, r, n: predicted_ptv_voxels(model, spec, encoder, s, r, n, device),
                         notes=notes, on_case=on_case)
