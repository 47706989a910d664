"""MOME networks (seed 002): per-sequence tokenisers, transformer blocks with sparse modality experts (eqs 3-5)
and, in the last blocks, a soft mixture of experts over all sequences' tokens (eqs 6-13), plus the baselines.

The transformer blocks are written here rather than taken from MONAI's ``TransformerBlock`` because eqs 4 and 7
add an expert branch beside the block's FFN, which that block has no place for; the tokenisers are MONAI's
``PatchEmbeddingBlock``. No pretrained BEiT-3 exists here, so the shared attention and FFN train too.
"""

from __future__ import annotations

import torch
from monai.networks.blocks import PatchEmbeddingBlock, ResidualUnit
from torch import Tensor, nn

from protocols.groups import validate_center_code

SEQUENCE_METHODS = ("single_dce", "single_t2", "single_dwi")
METHODS = ("mome", *SEQUENCE_METHODS, "early_fusion", "late_fusion", "no_modality_experts", "mlp_adapter")


def _mlp(dim: int, hidden: int, out: int | None = None) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, out or dim))


def _zero_gain_norm(dim: int) -> nn.LayerNorm:
    """The layer norm that ends an expert or adapter branch (eqs 5 and 8), its gain starting at zero: each branch
    is added to the residual stream, and a unit-variance branch from an untrained expert drowned the trunk's
    features so that nothing trained from scratch learnt (benchmarks/mome_breast, README). Starting at zero makes
    the branch grow in as it learns, as zero-initialised residual branches do."""
    norm = nn.LayerNorm(dim)
    nn.init.zeros_(norm.weight)
    return norm


class SparseExpert(nn.Module):
    """Eq. 5: LN(LP(GELU(LP(x)))), one per sequence."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.mlp, self.norm = _mlp(dim, hidden), _zero_gain_norm(dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.mlp(x))


class SoftMoE(nn.Module):
    """Soft MoE (eqs 9-13): slots are softmax-over-tokens mixtures of the tokens (dispatch D), each expert
    processes its ``slots`` slots, and every token takes a softmax-over-slots mixture of the outputs (combine C).
    The slot projection Phi is kept per center (``phi.<CENTER>``): it is the gate a closed center fine-tunes."""

    def __init__(self, dim: int, *, num_experts: int, slots: int, hidden: int, centers: list[str]) -> None:
        super().__init__()
        self.slots = slots
        self.experts = nn.ModuleList(_mlp(dim, hidden) for _ in range(num_experts))
        self.phi = nn.ParameterDict({c: nn.Parameter(torch.randn(dim, num_experts * slots) * dim**-0.5)
                                     for c in centers})

    def add_center(self, code: str, init_from: str | None) -> None:
        """Phi for a new center, copied from ``init_from``'s (fresh without one)."""
        source = self.phi[init_from] if init_from is not None else None
        fresh = torch.randn_like(next(iter(self.phi.values()))) * source.shape[0] ** -0.5 if source is None else None
        self.phi[code] = nn.Parameter(source.detach().clone() if source is not None else fresh)

    def forward(self, x: Tensor, centers: list[str]) -> Tensor:
        logits = torch.stack([x[b] @ self.phi[c] for b, c in enumerate(centers)])  # [B, m, n*p]
        dispatch = logits.softmax(dim=1)  # eq. 9: over tokens
        slots = dispatch.transpose(1, 2) @ x  # eq. 10
        outputs = torch.cat([expert(slots[:, e * self.slots:(e + 1) * self.slots])
                             for e, expert in enumerate(self.experts)], dim=1)  # eq. 11
        combine = logits.softmax(dim=2)  # eq. 12: over slots
        return combine @ outputs  # eq. 13


class Adapter(nn.Module):
    """Eq. 8: LN(LP(SMoE(GELU(LP(x))))), or the ablation's MLP adapter LN(LP(GELU(LP(x))))."""

    def __init__(self, dim: int, reduced: int, *, soft: dict | None, centers: list[str]) -> None:
        super().__init__()
        self.down, self.up, self.norm = nn.Linear(dim, reduced), nn.Linear(reduced, dim), _zero_gain_norm(dim)
        self.moe = SoftMoE(reduced, centers=centers, **soft) if soft is not None else None

    def forward(self, x: Tensor, centers: list[str]) -> Tensor:
        h = nn.functional.gelu(self.down(x))
        if self.moe is not None:
            h = self.moe(h, centers)
        return self.norm(self.up(h))


class Block(nn.Module):
    """A pre-norm transformer block, with sparse experts per sequence (eq. 4) or an adapter (eq. 7) beside
    the FFN when given."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, *, experts: tuple[str, ...] = (),
                 adapter: Adapter | None = None) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ffn = _mlp(dim, int(dim * mlp_ratio))
        self.experts = nn.ModuleDict({s: SparseExpert(dim, int(dim * mlp_ratio)) for s in experts})
        self.adapter = adapter

    def forward(self, x: Tensor, *, sequence: str | None = None, centers: list[str] | None = None) -> Tensor:
        h = self.norm1(x)
        z = x + self.attn(h, h, h, need_weights=False)[0]  # eqs 3 and 6
        h = self.norm2(z)
        out = z + self.ffn(h)
        if sequence is not None and sequence in self.experts:
            out = out + self.experts[sequence](h)  # eq. 4
        if self.adapter is not None:
            out = out + self.adapter(h, centers or [])  # eq. 7
        return out


class Tokeniser(nn.Module):
    """A sequence's 3D patches as tokens plus a sequence-type embedding, so fused tokens still say which sequence
    they came from. A small convolutional stem (MONAI's residual unit) comes before MONAI's patch embedding: with
    no pretrained weights and a few hundred cases, a purely linear patch projection did not find the lesions
    (benchmarks/mome_breast, README)."""

    def __init__(self, channels: int, image_size: tuple[int, ...], patch_size: tuple[int, ...], dim: int,
                 heads: int, stem: int = 16) -> None:
        super().__init__()
        self.stem = ResidualUnit(spatial_dims=3, in_channels=channels, out_channels=stem, kernel_size=3,
                                 subunits=2, norm="INSTANCE")
        self.embed = PatchEmbeddingBlock(in_channels=stem, img_size=image_size, patch_size=patch_size,
                                         hidden_size=dim, num_heads=heads, proj_type="conv",
                                         pos_embed_type="learnable", spatial_dims=3)
        self.kind = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.embed(self.stem(x)) + self.kind


class MomeCore(nn.Module):
    """Tokenisers for the given inputs -> sparse blocks (per input, its expert if ``experts``) -> fusion blocks
    over every present input's tokens with a class token (soft-MoE or MLP adapter, or none) -> malignancy logits."""

    def __init__(self, inputs: dict[str, int], *, image_size: tuple[int, ...], patch_size: tuple[int, ...],
                 dim: int, heads: int, mlp_ratio: float, sparse_depth: int, fusion_depth: int, experts: bool,
                 adapter: str | None, reduced: int, soft: dict, centers: list[str]) -> None:
        super().__init__()
        self.tokenisers = nn.ModuleDict({name: Tokeniser(c, image_size, patch_size, dim, heads)
                                         for name, c in inputs.items()})
        names = tuple(inputs) if experts else ()
        self.sparse = nn.ModuleList(Block(dim, heads, mlp_ratio, experts=names) for _ in range(sparse_depth))
        self.fusion = nn.ModuleList(
            Block(dim, heads, mlp_ratio, adapter=None if adapter is None else Adapter(
                dim, reduced, soft=soft if adapter == "soft" else None, centers=centers))
            for _ in range(fusion_depth))
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.head_norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, 2)

    @property
    def soft_layers(self) -> list[SoftMoE]:
        return [b.adapter.moe for b in self.fusion if b.adapter is not None and b.adapter.moe is not None]

    def forward(self, inputs: dict[str, Tensor], centers: list[str]) -> Tensor:
        tokens = []
        for name, tokeniser in self.tokenisers.items():
            if name not in inputs:
                continue  # a missing sequence: its tokens and its expert drop out
            x = tokeniser(inputs[name])
            for block in self.sparse:
                x = block(x, sequence=name)
            tokens.append(x)
        if not tokens:
            raise ValueError(f"no input among {', '.join(self.tokenisers)}")
        x = torch.cat([self.cls.expand(tokens[0].shape[0], -1, -1), *tokens], dim=1)
        for block in self.fusion:
            x = block(x, centers=centers)
        return self.head(self.head_norm(x[:, 0]))


class MomeBreastNet(nn.Module):
    """Sequences {name: [B, C, *grid]} (any subset the method supports) -> logits [B, 2] (benign, malignant)."""

    def __init__(self, *, method: str, centers: list[str], sequences: dict[str, int], image_size: tuple[int, ...],
                 patch_size: tuple[int, ...], dim: int = 32, heads: int = 2, mlp_ratio: float = 2.0,
                 sparse_depth: int = 2, fusion_depth: int = 1, reduced: int = 16, soft_experts: int = 4,
                 slots_per_expert: int = 1) -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if not centers:
            raise ValueError("centers must name at least one center")
        self.method = method
        self.centers = [validate_center_code(c) for c in centers]
        self.sequences = dict(sequences)
        common = dict(image_size=tuple(image_size), patch_size=tuple(patch_size), dim=dim, heads=heads,
                      mlp_ratio=mlp_ratio, sparse_depth=sparse_depth, fusion_depth=fusion_depth, reduced=reduced,
                      soft={"num_experts": soft_experts, "slots": slots_per_expert, "hidden": reduced * 2},
                      centers=self.centers)
        if method in ("mome", "no_modality_experts", "mlp_adapter"):
            self.core = MomeCore(self.sequences, experts=method != "no_modality_experts",
                                 adapter="mlp" if method == "mlp_adapter" else "soft", **common)
        elif method == "early_fusion":
            self.core = MomeCore({"stacked": sum(self.sequences.values())}, experts=False, adapter=None, **common)
        else:
            names = list(self.sequences) if method == "late_fusion" else [method.removeprefix("single_")]
            unknown = [n for n in names if n not in self.sequences]
            if unknown:
                raise ValueError(f"method {method} needs sequence(s) {', '.join(unknown)} the config lacks")
            self.towers = nn.ModuleDict({n: MomeCore({n: self.sequences[n]}, experts=False, adapter=None, **common)
                                         for n in names})

    @property
    def supported(self) -> tuple[str, ...]:
        """The sequences this method reads."""
        return tuple(self.towers) if hasattr(self, "towers") else tuple(self.sequences)

    @property
    def requires_all(self) -> bool:
        """Early fusion stacks channels, so it cannot run without every sequence."""
        return self.method == "early_fusion"

    @property
    def routers(self) -> list[str]:
        """Centers with their own soft-MoE gates (none for the methods without a soft MoE)."""
        layers = self.core.soft_layers if hasattr(self, "core") else []
        return list(layers[0].phi) if layers else []

    def add_center(self, code: str, *, init_from: str | None) -> None:
        """A new center: its soft-MoE gates copied from ``init_from``'s (fresh without one)."""
        code = validate_center_code(code)
        if self.routers:
            if code in self.routers:
                raise ValueError(f"center {code} already has gates")
            if init_from is not None and init_from not in self.routers:
                raise ValueError(f"no gates for center {init_from}; known: {', '.join(self.routers)}")
            for layer in self.core.soft_layers:
                layer.add_center(code, init_from)
        if code not in self.centers:
            self.centers.append(code)

    def forward(self, inputs: dict[str, Tensor], centers: list[str]) -> Tensor:
        present = [s for s in self.supported if s in inputs]
        if not present:
            raise ValueError(f"method {self.method} needs one of {', '.join(self.supported)}; got "
                             f"{', '.join(inputs) or 'none'}")
        if self.requires_all:
            missing = [s for s in self.sequences if s not in inputs]
            if missing:
                raise ValueError(f"early fusion cannot run without {', '.join(missing)}: it stacks every sequence "
                                 f"as channels")
            return self.core({"stacked": torch.cat([inputs[s] for s in self.sequences], dim=1)}, centers)
        if hasattr(self, "core"):
            return self.core({s: inputs[s] for s in present}, centers)
        return torch.stack([self.towers[s]({s: inputs[s]}, centers) for s in present]).mean(0)
