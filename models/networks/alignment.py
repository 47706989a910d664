"""Interactive multimodal alignment (seed 000, Methods ii): text tokens <-> image tokens.

A two-way transformer block in the structure of SAM's mask decoder: text self-attention,
text->image cross-attention, an MLP on the text tokens, then image->text cross-attention.
Written here rather than taken from a library because MONAI has no two-way block and the
cost must stay linear in the number of image tokens (no image self-attention).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class Attention(nn.Module):
    """Multi-head attention with a reduced internal width (SAM's ``downsample_rate``)."""

    def __init__(self, *, embed_dim: int, num_heads: int, downsample_rate: int = 1) -> None:
        super().__init__()
        internal = embed_dim // downsample_rate
        if internal < 1 or internal % num_heads:
            raise ValueError(
                f"num_heads={num_heads} must divide embed_dim/downsample_rate={embed_dim}/{downsample_rate}"
            )
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, internal)
        self.k_proj = nn.Linear(embed_dim, internal)
        self.v_proj = nn.Linear(embed_dim, internal)
        self.out_proj = nn.Linear(internal, embed_dim)

    def _heads(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, key_mask: Tensor | None = None) -> Tensor:
        """Attend ``q`` [B,Nq,C] over ``k``/``v`` [B,Nk,C]; ``key_mask`` [B,Nk] is True where valid."""
        qh, kh, vh = self._heads(self.q_proj(q)), self._heads(self.k_proj(k)), self._heads(self.v_proj(v))
        mask = None if key_mask is None else key_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask)
        b, h, n, d = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * d))


class TwoWayAlignment(nn.Module):
    """Align projected text tokens with one encoder level's image features.

    ``forward(features [B,C,*spatial], text [B,L,D], text_mask [B,L], parsed [B,P] | None)``
    returns image features of the same shape, enriched with the clinical context. With
    ``parsed_note_dim > 0`` the note's parsed fields (risk group, stage, PSA...) also modulate
    every channel (FiLM: ``f * (1 + gamma) + beta``, zero-initialised so training starts from the
    plain two-way block): a whole-field decision such as "irradiate the pelvic nodes" is one
    global switch, which attention over ~50 mostly identical note tokens learnt too slowly to use.
    """

    def __init__(
        self, *, channels: int, text_dim: int, num_heads: int, downsample_rate: int = 2, mlp_ratio: int = 2,
        parsed_note_dim: int = 0,
    ) -> None:
        super().__init__()
        if parsed_note_dim < 0:
            raise ValueError(f"parsed_note_dim must be >= 0, got {parsed_note_dim}")
        self.parsed_note_dim = parsed_note_dim
        if parsed_note_dim:
            self.film = nn.Sequential(
                nn.Linear(parsed_note_dim, channels), nn.GELU(), nn.Linear(channels, 2 * channels)
            )
            nn.init.zeros_(self.film[-1].weight)
            nn.init.zeros_(self.film[-1].bias)
        self.text_proj = nn.Linear(text_dim, channels)
        self.self_attn = Attention(embed_dim=channels, num_heads=num_heads)
        self.norm1 = nn.LayerNorm(channels)
        self.text_to_image = Attention(embed_dim=channels, num_heads=num_heads, downsample_rate=downsample_rate)
        self.norm2 = nn.LayerNorm(channels)
        self.mlp = nn.Sequential(
            nn.Linear(channels, channels * mlp_ratio), nn.GELU(), nn.Linear(channels * mlp_ratio, channels)
        )
        self.norm3 = nn.LayerNorm(channels)
        self.image_to_text = Attention(embed_dim=channels, num_heads=num_heads, downsample_rate=downsample_rate)
        self.norm4 = nn.LayerNorm(channels)

    def forward(self, features: Tensor, text: Tensor, text_mask: Tensor, parsed: Tensor | None = None) -> Tensor:
        b, c = features.shape[:2]
        spatial = features.shape[2:]
        image = features.flatten(2).transpose(1, 2)  # [B, N, C]
        tokens = self.text_proj(text)
        tokens = self.norm1(tokens + self.self_attn(tokens, tokens, tokens, text_mask))
        tokens = self.norm2(tokens + self.text_to_image(tokens, image, image))
        tokens = self.norm3(tokens + self.mlp(tokens))
        image = self.norm4(image + self.image_to_text(image, tokens, tokens, text_mask))
        if self.parsed_note_dim:
            if parsed is None:
                raise ValueError("this alignment block needs the parsed note fields (parsed)")
            gamma, beta = self.film(parsed.to(image.dtype)).unsqueeze(1).chunk(2, dim=-1)
            image = image * (1 + gamma) + beta
        return image.transpose(1, 2).reshape(b, c, *spatial)

