"""MONAI's residual U-Net opened up level by level.

The paper's image path is MONAI's ``UNet`` with residual units. MONAI nests it as
``Sequential(down, SkipConnection(...), up)``; the alignment and MoME modules must sit on
each encoder level's skip features, so the built MONAI modules are taken out of that
nesting into flat lists. Same modules, same parameters, same function.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.networks.layers import SkipConnection
from monai.networks.nets import UNet
from torch import Tensor, nn


def unet_levels(unet: UNet) -> tuple[list[nn.Module], nn.Module, list[nn.Module]]:
    """Return (down layers top-first, bottom layer, up layers top-first) of a MONAI UNet."""
    downs: list[nn.Module] = []
    ups: list[nn.Module] = []
    block: nn.Module = unet.model
    while isinstance(block, nn.Sequential) and len(block) == 3 and isinstance(block[1], SkipConnection):
        downs.append(block[0])
        ups.append(block[2])
        block = block[1].submodule
    if not downs:
        raise ValueError("unexpected MONAI UNet structure: no skip connections found")
    return downs, block, ups


class ResidualUNetEncoder(nn.Module):
    """Encoder half: returns the features of every level, top first, bottleneck last."""

    def __init__(self, downs: Sequence[nn.Module], bottom: nn.Module) -> None:
        super().__init__()
        self.down = nn.ModuleList(downs)
        self.bottom = bottom

    def forward(self, x: Tensor) -> list[Tensor]:
        feats = []
        for layer in self.down:
            x = layer(x)
            feats.append(x)
        feats.append(self.bottom(x))
        return feats


class ResidualUNetDecoder(nn.Module):
    """Decoder half: consumes level features (possibly fused with text/MoME) into logits."""

    def __init__(self, ups: Sequence[nn.Module]) -> None:
        super().__init__()
        self.up = nn.ModuleList(ups)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        h = feats[-1]
        for i in reversed(range(len(self.up))):
            h = self.up[i](torch.cat([feats[i], h], dim=1))
        return h


def build_residual_unet(
    *,
    in_channels: int,
    out_channels: int,
    channels: Sequence[int],
    strides: Sequence[int],
    num_res_units: int,
    dropout: float = 0.0,
) -> tuple[ResidualUNetEncoder, ResidualUNetDecoder]:
    """Build MONAI's 3D residual UNet and split it into encoder and decoder."""
    unet = UNet(
        spatial_dims=3,
        in_channels=in_channels,
        out_channels=out_channels,
        channels=tuple(channels),
        strides=tuple(strides),
        num_res_units=num_res_units,
        dropout=dropout,
    )
    downs, bottom, ups = unet_levels(unet)
    return ResidualUNetEncoder(downs, bottom), ResidualUNetDecoder(ups)
