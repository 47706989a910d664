"""Modality experts with a per-token gate per center (seed 001's MoE layer, done as the paper describes it).

Every Swin block's MLP becomes ``num_experts`` MLPs; a gate scores the experts for each token and the token goes to
its top-k experts, their outputs weighted by the renormalised gate probabilities. The gate is conditioned on the
dataset (center) by keeping one gate per center (``gates.<CENTER>``): the reference code's gate weights channels,
not experts, and never sees the dataset id. With ``top_k=1`` the block costs what one MLP costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from monai.networks.blocks import MLPBlock
from torch import Tensor, nn


@dataclass
class RoutingContext:
    """What every MoE layer of one forward pass needs and leaves behind: each sample's center, and (when
    ``record``) the gate logits per layer [B, N, E] for the auxiliary losses and expert-usage statistics."""

    centers: list[str] = field(default_factory=list)
    record: bool = False
    logits: list[Tensor] = field(default_factory=list)


class ModalityExperts(nn.Module):
    """A drop-in for a transformer block's MLP on channels-last tokens [B, *spatial, C]."""

    def __init__(self, dim: int, hidden: int, *, num_experts: int, top_k: int, centers: list[str],
                 context: RoutingContext) -> None:
        super().__init__()
        if not 1 <= top_k <= num_experts:
            raise ValueError(f"top_k must lie in 1..{num_experts}, got {top_k}")
        self.top_k = top_k
        self.experts = nn.ModuleList(
            MLPBlock(hidden_size=dim, mlp_dim=hidden, dropout_rate=0.0, act="GELU", dropout_mode="swin")
            for _ in range(num_experts))
        self.gates = nn.ModuleDict({c: nn.Linear(dim, num_experts) for c in centers})
        self.context = context

    def add_center(self, code: str, init_from: str | None) -> None:
        """A gate for a new center, copied from ``init_from``'s (or freshly initialised)."""
        gate = nn.Linear(self.experts[0].linear1.in_features, len(self.experts))
        if init_from is not None:
            gate.load_state_dict(self.gates[init_from].state_dict())
        self.gates[code] = gate.to(next(self.experts.parameters()).device)

    def gate_logits(self, tokens: Tensor, centers: list[str]) -> Tensor:
        """[B, N, E] logits, each sample scored by its own center's gate."""
        if len(centers) != tokens.shape[0]:
            raise ValueError(f"{tokens.shape[0]} samples but {len(centers)} centers")
        unknown = sorted(set(centers) - set(self.gates))
        if unknown:
            raise ValueError(f"no gate for center(s) {', '.join(unknown)}; known: {', '.join(self.gates)}")
        logits = tokens.new_empty(*tokens.shape[:2], len(self.experts))
        for center in dict.fromkeys(centers):
            rows = [i for i, c in enumerate(centers) if c == center]
            logits[rows] = self.gates[center](tokens[rows])
        return logits

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        tokens = x.reshape(shape[0], -1, shape[-1])
        logits = self.gate_logits(tokens, self.context.centers)
        if self.context.record:
            self.context.logits.append(logits)
        probs = logits.softmax(-1)
        top_p, top_i = probs.topk(self.top_k, dim=-1)
        # Renormalise over the chosen experts with a detached denominator: with top_k=1 the weight is exactly 1 in
        # value yet still passes the gate its gradient (p / p.detach()), as Switch-style routing needs.
        weights = top_p / top_p.sum(-1, keepdim=True).detach()
        flat = tokens.reshape(-1, shape[-1])
        out = torch.zeros_like(flat)
        idx, w = top_i.reshape(-1, self.top_k), weights.reshape(-1, self.top_k)
        for e, expert in enumerate(self.experts):
            rows, slot = (idx == e).nonzero(as_tuple=True)
            if rows.numel():
                out.index_add_(0, rows, expert(flat[rows]) * w[rows, slot, None])
        return out.reshape(shape)


def balance_loss(logits: list[Tensor]) -> Tensor:
    """Switch Transformer's load-balancing loss, E * sum_e f_e * P_e, averaged over layers (0 without layers)."""
    if not logits:
        return torch.zeros(())
    total = logits[0].new_zeros(())
    for layer in logits:
        probs = layer.reshape(-1, layer.shape[-1]).softmax(-1)
        share = F.one_hot(probs.argmax(-1), probs.shape[-1]).float().mean(0)
        total = total + probs.shape[-1] * (share * probs.mean(0)).sum()
    return total / len(logits)


def modality_loss(logits: list[Tensor], modality: Tensor) -> Tensor:
    """Cross-entropy of every token's gate towards its modality's expert (expert m for modality m): the
    counterpart of seed 001's modality-specific expert pre-training, used while training the base model."""
    if not logits:
        return torch.zeros(())
    total = logits[0].new_zeros(())
    for layer in logits:
        target = modality.to(layer.device)[:, None].expand(layer.shape[:2])
        total = total + F.cross_entropy(layer.reshape(-1, layer.shape[-1]), target.reshape(-1))
    return total / len(logits)
