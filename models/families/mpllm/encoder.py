"""Small 3D vision encoder applied to each MRI sequence: a [CLS] token plus spatially pooled image tokens.

Seed 003 runs one 3D ViT over every modality and pools its tokens spatially. With no pretrained weights
here and tens of cases, a strided MONAI residual CNN learns faster from scratch than a ViT; its feature
map is pooled to a fixed token grid (the seed's spatial pooling), each token tagged by a learned
position embedding, and the [CLS] token is the global average of the map.
"""

from __future__ import annotations

import torch
from monai.networks.blocks import Convolution, ResidualUnit
from torch import Tensor, nn


class VisionEncoder(nn.Module):
    """One single-channel 3D volume -> ``1 + prod(token_grid)`` tokens of size ``dim`` (index 0 is [CLS])."""

    def __init__(self, *, channels: tuple[int, ...] = (8, 16, 32), token_grid: tuple[int, int, int] = (2, 2, 2),
                 dim: int = 64, norm: str = "INSTANCE") -> None:
        super().__init__()
        if len(channels) < 2 or min(channels) < 1:
            raise ValueError(f"channels must list at least two positive widths, got {channels}")
        if len(token_grid) != 3 or min(token_grid) < 1:
            raise ValueError(f"token_grid must be three positive sizes, got {token_grid}")
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        layers: list[nn.Module] = [Convolution(3, 1, channels[0], strides=2, kernel_size=3, act="PRELU", norm=norm)]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers.append(ResidualUnit(3, c_in, c_out, strides=2, kernel_size=3, subunits=2, act="PRELU",
                                       norm=norm))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(tuple(token_grid))
        self.token = nn.Linear(channels[-1], dim)
        self.cls = nn.Linear(channels[-1], dim)
        n_tokens = int(torch.tensor(token_grid).prod())
        self.position = nn.Parameter(torch.randn(1 + n_tokens, dim) * 0.02)
        self.num_tokens = 1 + n_tokens
        self.dim = dim

    def forward(self, volume: Tensor) -> Tensor:
        """``volume`` [B, 1, D, H, W] -> tokens [B, 1 + T, dim]."""
        fmap = self.features(volume)
        tokens = self.token(self.pool(fmap).flatten(2).transpose(1, 2))
        cls = self.cls(fmap.mean(dim=(2, 3, 4))).unsqueeze(1)
        return torch.cat([cls, tokens], dim=1) + self.position
