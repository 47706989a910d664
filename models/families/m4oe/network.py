"""M4oE networks: MONAI's 2D Swin-UNETR with modality experts in every Swin block (``m4oe``), the same backbone
with its plain MLPs (``no_experts``, equal compute per token at ``top_k=1``), and a MONAI U-Net of similar size
(``unet``). Slices go in one at a time, as in seed 001's Swin-UNet."""

from __future__ import annotations

import torch
from monai.networks.nets import SwinUNETR, UNet
from torch import Tensor, nn

from models.families.m4oe.experts import ModalityExperts, RoutingContext, balance_loss, modality_loss
from protocols.groups import validate_center_code

METHODS = ("m4oe", "no_experts", "unet")


class M4oENet(nn.Module):
    """Slices [B, 1, H, W] -> logits [B, K+1, H, W]; each sample routed by its center's gates."""

    def __init__(self, *, method: str, centers: list[str], num_outputs: int, num_modalities: int,
                 feature_size: int = 12, depths: tuple[int, ...] = (1, 1, 1, 1),
                 num_heads: tuple[int, ...] = (2, 2, 4, 4), window_size: int = 4, mlp_ratio: float = 2.0,
                 num_experts: int | None = None, top_k: int = 1, unet_channels: tuple[int, ...] = (16, 32, 64, 128),
                 ) -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if not centers:
            raise ValueError("centers must name at least one center")
        self.method = method
        self.centers = [validate_center_code(c) for c in centers]
        self.num_experts = num_experts or num_modalities
        self.context = RoutingContext()
        self.moe: list[ModalityExperts] = []
        if method == "unet":
            self.unet = UNet(spatial_dims=2, in_channels=1, out_channels=num_outputs, channels=unet_channels,
                             strides=(2,) * (len(unet_channels) - 1), num_res_units=2, norm="INSTANCE")
            return
        self.backbone = SwinUNETR(in_channels=1, out_channels=num_outputs, spatial_dims=2,
                                  feature_size=feature_size, depths=depths, num_heads=num_heads,
                                  window_size=window_size, mlp_ratio=mlp_ratio)
        if method == "m4oe":
            for module in self.backbone.swinViT.modules():
                if hasattr(module, "mlp") and hasattr(module, "attn"):  # a SwinTransformerBlock
                    dim = module.dim
                    module.mlp = ModalityExperts(dim, int(dim * mlp_ratio), num_experts=self.num_experts,
                                                 top_k=top_k, centers=self.centers, context=self.context)
                    self.moe.append(module.mlp)

    @property
    def routers(self) -> list[str]:
        """Centers with their own gates (none for the baselines)."""
        return list(self.moe[0].gates) if self.moe else []

    def add_center(self, code: str, *, init_from: str | None) -> None:
        """A new center: gates copied from ``init_from``'s in every MoE layer (fresh without one)."""
        code = validate_center_code(code)
        if self.moe:
            if code in self.routers:
                raise ValueError(f"center {code} already has gates")
            if init_from is not None and init_from not in self.routers:
                raise ValueError(f"no gates for center {init_from}; known: {', '.join(self.routers)}")
            for layer in self.moe:
                layer.add_center(code, init_from)
        if code not in self.centers:
            self.centers.append(code)

    def forward_with_aux(self, images: Tensor, centers: list[str], modality: Tensor | None = None,
                         ) -> tuple[Tensor, dict[str, Tensor], list[Tensor]]:
        """Logits, the auxiliary losses (load balance; gate-to-modality when ``modality`` is given) and the gate
        logits per MoE layer."""
        if self.method == "unet":
            return self.unet(images), {}, []
        self.context.centers, self.context.record, self.context.logits = list(centers), True, []
        try:
            logits = self.backbone(images)
            gates = self.context.logits
        finally:
            self.context.record, self.context.logits = False, []
        aux = {"balance": balance_loss(gates)} if gates else {}
        if gates and modality is not None:
            aux["modality"] = modality_loss(gates, modality)
        return logits, aux, gates

    def forward(self, images: Tensor, centers: list[str]) -> Tensor:
        if self.method == "unet":
            return self.unet(images)
        self.context.centers = list(centers)
        return self.backbone(images)

    def trainable_for_finetune(self, center: str) -> list[nn.Parameter]:
        """What closed-center fine-tuning trains: the center's gates and the experts (encoder and decoder frozen);
        the whole network for the baselines, which have neither."""
        if not self.moe:
            return list(self.parameters())
        params: list[nn.Parameter] = []
        for layer in self.moe:
            params += list(layer.experts.parameters()) + list(layer.gates[center].parameters())
        return params


@torch.no_grad()
def expert_usage(gates: list[Tensor]) -> Tensor:
    """[B, E] share of each sample's tokens whose top expert is e, over every MoE layer."""
    counts = None
    for layer in gates:
        top = layer.argmax(-1)
        one_hot = torch.nn.functional.one_hot(top, layer.shape[-1]).float().sum(1)
        counts = one_hot if counts is None else counts + one_hot
    if counts is None:
        raise ValueError("the model has no gates")
    return counts / counts.sum(-1, keepdim=True)
