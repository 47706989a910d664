"""Sliding-window inference (MONAI), and router scoring with one encoder pass per window."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.inferers import sliding_window_inference
from torch import Tensor

from models.networks.mome_ro import MomeRoNet


@torch.no_grad()
def predict_logits_per_router(
    model: MomeRoNet, image: Tensor, text: Tensor | None, text_mask: Tensor | None, routers: Sequence[str],
    patch_size: Sequence[int], *, overlap: float = 0.25, sw_batch_size: int = 1,
) -> dict[str, Tensor]:
    """Logits for every router at once: the encoder and the text alignment run once per window,
    not once per router (neither depends on the router; seed 000, Methods iv), and the routers'
    MoME + decoder passes share one batch."""

    def predictor(window: Tensor) -> tuple[Tensor, ...]:
        n = window.shape[0]
        t = None if text is None else text.expand(n, -1, -1)
        m = None if text_mask is None else text_mask.expand(n, -1)
        aligned = model.align(model.encode(window), t, m)
        # All routers in one batch through MoME and decoder: one large call beats R small ones on CPU.
        stacked = [a.repeat(len(routers), *([1] * (a.ndim - 1))) for a in aligned]
        logits, _ = model.route_and_decode(stacked, [r for r in routers for _ in range(n)])
        return tuple(logits.split(n))

    outs = sliding_window_inference(image, tuple(patch_size), sw_batch_size, predictor, overlap=overlap,
                                    mode="gaussian")
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    return dict(zip(routers, outs, strict=True))


def predict_logits(
    model: MomeRoNet, image: Tensor, text: Tensor | None, text_mask: Tensor | None, center: str,
    patch_size: Sequence[int], *, overlap: float = 0.25, sw_batch_size: int = 1,
) -> Tensor:
    """Logits [1,2,X,Y,Z] for one image [1,C,X,Y,Z] with the router of ``center``."""
    return predict_logits_per_router(model, image, text, text_mask, [center], patch_size, overlap=overlap,
                                     sw_batch_size=sw_batch_size)[center]


def to_mask(logits: Tensor) -> Tensor:
    """Binary PTV mask [X,Y,Z] from logits [1,2,X,Y,Z]."""
    return logits.argmax(dim=1)[0].to(torch.uint8)

