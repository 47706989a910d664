"""Zero-shot router selection (seed 000, Methods iv): ``site-agent select-router``.

Every router is scored by Dice on the site's labelled cases and ranked. The encoder output
does not depend on the router, so it is computed once per window for all routers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.evaluation.metrics import dice
from models.networks.mome_ro import MomeRoNet
from models.registry import ModelSpec
from models.training.inference import predict_logits, predict_logits_per_router, to_mask
from models.training.loop import text_for
from models.training.samples import Sample


@dataclass
class RouterScore:
    router: str
    mean_dice: float
    per_case: dict[str, float] = field(default_factory=dict)


@dataclass
class RouterRanking:
    """Routers best first, with the wall time the scoring took."""

    scores: list[RouterScore]
    n_cases: int
    seconds: float
    encoder_passes: str

    @property
    def best(self) -> str:
        return self.scores[0].router


def rank_routers(
    model: MomeRoNet, spec: ModelSpec, encoder, samples: Sequence[Sample], *, routers: Sequence[str] | None = None,
    device: str = "cpu", shared_encoder: bool = True, on_case: Callable[[str], None] | None = None,
) -> RouterRanking:
    """Score ``routers`` (default: all) on labelled ``samples``; ``shared_encoder=False`` runs
    full inference once per router (the naive way, kept for the benchmark)."""
    if model.method != "mome":
        raise ValueError(f"router selection needs a 'mome' model; this one is {model.method!r}")
    routers = list(routers or model.routers)
    unknown = [r for r in routers if r not in model.routers]
    if unknown:
        raise ValueError(f"unknown routers {', '.join(unknown)}; this model has {', '.join(model.routers)}")
    if not samples:
        raise ValueError("router selection needs at least one labelled case")
    model.eval()
    per_case: dict[str, dict[str, float]] = {r: {} for r in routers}
    start = time.perf_counter()
    for s in samples:
        text, mask = text_for(model, encoder, [s], device)
        image = s.image[None].to(device)
        if shared_encoder:
            logits = predict_logits_per_router(model, image, text, mask, routers, spec.contract.patch_size)
        else:
            logits = {r: predict_logits(model, image, text, mask, r, spec.contract.patch_size) for r in routers}
        target = s.label[0].numpy()
        for r, lg in logits.items():
            per_case[r][s.case_id] = dice(to_mask(lg).cpu().numpy(), target)
        if on_case:
            on_case(s.case_id)
    seconds = time.perf_counter() - start
    scores = [RouterScore(r, float(np.mean(list(v.values()))), v) for r, v in per_case.items()]
    scores.sort(key=lambda s: (-s.mean_dice, s.router))
    return RouterRanking(scores, len(samples), seconds, "once per window" if shared_encoder else "once per router")
