"""MoME-RO: residual U-Net + clinical-text alignment + Mixture of Multicenter Experts (seed 000)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from models.config import METHODS
from models.networks.alignment import TwoWayAlignment
from models.networks.mome import MixtureOfMulticenterExperts
from models.networks.residual_unet import build_residual_unet

SHARED_GATE = "shared"
"""Gate name of the ``vanilla_moe`` baseline: one router for every center."""


class MomeRoNet(nn.Module):
    """PTV segmentation from CT (+ organ mask) and clinical-note token embeddings.

    The encoder runs on the image alone, so its output does not depend on the router; each
    encoder level's features are aligned with the note (two-way attention) and passed
    through the MoME module whose gate the center code selects, then decoded.
    ``method`` picks MoME or one of the seed's baselines.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        out_channels: int = 2,
        channels: Sequence[int],
        strides: Sequence[int],
        num_res_units: int = 2,
        dropout: float = 0.0,
        method: str = "mome",
        centers: Sequence[str] = ("A",),
        text_dim: int = 384,
        num_prompt_tokens: int = 8,
        attention_heads: int = 2,
        attention_downsample: int = 2,
        num_experts: int = 8,
        top_k: int = 2,
        expert_hidden_ratio: int = 2,
        fused_levels: Sequence[int] | None = None,
        parsed_note_dim: int = 0,
    ) -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if len(channels) < 2 or len(strides) != len(channels) - 1:
            raise ValueError("channels needs at least 2 entries and strides exactly one fewer")
        if method != "vision_only" and num_prompt_tokens < 1:
            raise ValueError("num_prompt_tokens must be at least 1 for text-conditioned methods")
        levels = tuple(range(len(channels))) if fused_levels is None else tuple(fused_levels)
        if not levels or any(not 0 <= lv < len(channels) for lv in levels):
            raise ValueError(f"fused_levels must index the {len(channels)} encoder levels, got {fused_levels}")
        if not centers:
            raise ValueError("centers must name at least one center")
        if not 0 <= parsed_note_dim <= text_dim:
            raise ValueError(f"parsed_note_dim must lie in [0, text_dim={text_dim}], got {parsed_note_dim}")
        self.method, self.text_dim, self.fused_levels = method, text_dim, levels
        self.parsed_note_dim = parsed_note_dim
        self.encoder, self.decoder = build_residual_unet(
            in_channels=in_channels,
            out_channels=out_channels,
            channels=channels,
            strides=strides,
            num_res_units=num_res_units,
            dropout=dropout,
        )
        self.centers = list(dict.fromkeys(centers))
        if method == "vision_only":
            return
        self.prompt = nn.Parameter(torch.randn(num_prompt_tokens, text_dim) * 0.02)
        self.alignment = nn.ModuleDict(
            {
                str(lv): TwoWayAlignment(
                    channels=channels[lv],
                    text_dim=text_dim,
                    num_heads=attention_heads,
                    downsample_rate=attention_downsample,
                    parsed_note_dim=parsed_note_dim,
                )
                for lv in levels
            }
        )
        if method in ("mome", "vanilla_moe"):
            gates = tuple(self.centers) if method == "mome" else (SHARED_GATE,)
            self.mome = nn.ModuleDict(
                {
                    str(lv): MixtureOfMulticenterExperts(
                        channels=channels[lv],
                        num_experts=num_experts,
                        top_k=top_k,
                        hidden_ratio=expert_hidden_ratio,
                        gates=gates,
                    )
                    for lv in levels
                }
            )

    # -- routers -----------------------------------------------------------------------
    @property
    def uses_text(self) -> bool:
        return self.method != "vision_only"

    @property
    def has_experts(self) -> bool:
        return hasattr(self, "mome")

    @property
    def routers(self) -> list[str]:
        """Router (gate) names this model holds."""
        if not self.has_experts:
            return []
        return list(next(iter(self.mome.values())).gates.keys())

    def gate_key(self, center: str) -> str:
        """The gate that serves ``center``."""
        if self.method == "vanilla_moe":
            return SHARED_GATE
        if self.method == "mome" and center not in self.routers:
            raise KeyError(f"no router for center {center!r}; this model has {', '.join(self.routers)}")
        return center

    def add_center(self, code: str, *, init_from: str | None) -> None:
        """Add a router for a new center, copied from router ``init_from`` (seed Methods v)."""
        if self.method != "mome":
            if code not in self.centers:
                self.centers.append(code)
            return
        for module in self.mome.values():
            module.add_gate(code, init_from=init_from)
        self.centers.append(code)

    # -- forward -----------------------------------------------------------------------
    def encode(self, image: Tensor) -> list[Tensor]:
        """Encoder features of every level; independent of the router and the note."""
        return self.encoder(image)

    def align(self, feats: list[Tensor], text: Tensor | None, text_mask: Tensor | None) -> list[Tensor]:
        """Align each fused level with the note (prompts + token embeddings); router-independent."""
        if not self.uses_text:
            return feats
        if text is None or text_mask is None:
            raise ValueError(f"method {self.method!r} needs note embeddings (text, text_mask)")
        b = feats[0].shape[0]
        # The structured-note encoder puts the parsed fields in the leading values of the last token.
        parsed = text[:, -1, : self.parsed_note_dim] if self.parsed_note_dim else None
        tokens = torch.cat([self.prompt.expand(b, -1, -1).to(text.dtype), text], dim=1)
        mask = torch.cat([text_mask.new_ones(b, self.prompt.shape[0]), text_mask.bool()], dim=1)
        aligned = list(feats)
        for lv in self.fused_levels:
            aligned[lv] = self.alignment[str(lv)](feats[lv], tokens, mask, parsed)
        return aligned

    def route_and_decode(self, aligned: list[Tensor], centers: Sequence[str]) -> tuple[Tensor, Tensor]:
        """Apply each level's MoME with the centers' routers, then decode; returns (logits, aux loss)."""
        aux = aligned[0].new_zeros(())
        if not self.has_experts:
            return self.decoder(aligned), aux
        keys = [self.gate_key(c) for c in centers]
        routed = list(aligned)
        for lv in self.fused_levels:
            routed[lv], loss = self.mome[str(lv)](aligned[lv], keys)
            aux = aux + loss
        return self.decoder(routed), aux

    def fuse_and_decode(
        self, feats: list[Tensor], text: Tensor | None, text_mask: Tensor | None, centers: Sequence[str]
    ) -> tuple[Tensor, Tensor]:
        """Align, route and decode precomputed encoder features; returns (logits, aux loss)."""
        return self.route_and_decode(self.align(feats, text, text_mask), centers)

    def forward_with_aux(
        self, image: Tensor, text: Tensor | None, text_mask: Tensor | None, centers: Sequence[str]
    ) -> tuple[Tensor, Tensor]:
        """Logits and the MoE load-balancing loss (zero for methods without experts)."""
        return self.fuse_and_decode(self.encode(image), text, text_mask, centers)

    def forward(
        self,
        image: Tensor,
        text: Tensor | None = None,
        text_mask: Tensor | None = None,
        centers: Sequence[str] | str = (),
    ) -> Tensor:
        if isinstance(centers, str):
            centers = [centers] * image.shape[0]
        if self.uses_text and len(centers) != image.shape[0]:
            raise ValueError(f"need one center code per sample: {image.shape[0]} samples, {len(centers)} codes")
        if text is not None and text.shape[0] == 1 and image.shape[0] > 1:
            text, text_mask = text.expand(image.shape[0], -1, -1), text_mask.expand(image.shape[0], -1)
        return self.forward_with_aux(image, text, text_mask, centers)[0]

    # -- expert activations (seed Fig. 3b) ---------------------------------------------
    def track_expert_activations(self, enabled: bool = True) -> None:
        """Start (and reset) or stop counting which experts each level's tokens use."""
        for module in getattr(self, "mome", {}).values():
            module.track_activations = enabled
            module.activation_counts.zero_()

    def expert_activation(self) -> dict[str, list[float]]:
        """Frequency with which each expert was among the top-k, per level."""
        out: dict[str, list[float]] = {}
        for lv, module in getattr(self, "mome", {}).items():
            counts = module.activation_counts.double()
            total = counts.sum().item()
            out[f"level{lv}"] = (counts / total).tolist() if total else [0.0] * len(counts)
        return out
