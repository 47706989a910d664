"""Vision-to-language projectors: seed 003's prompt-conditioned hierarchical MoE (eq. 1) and the baselines.

eq. 1:  MoE(v, t) = sum_n pi_n^(h)(t) sum_m [ pi_m^(l,n) W_{m,n}(v_m) + (1 - pi_m^(l,n)) W_shared,n(v_m) ]

pi^(h)(t) = softmax(h_C(t)): the high-level router, a two-layer MLP on the language model's final hidden
state of the question; one per center C (the per-center gate of the hub). Each high-level expert n has a
two-layer MLP low-level router l_n with sigmoid outputs: modality-level experts read the concatenated [CLS]
tokens of all sequences (one weight per sequence), token-level experts read the i-th tokens of all
sequences (one weight per sequence and position). W_{m,n} are linear, sequence-specific; W_shared,n is
linear and shared by the sequences. Even n are modality-level experts, odd n token-level.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from protocols.groups import validate_center_code


def _init(*shape: int, fan_in: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape) / fan_in**0.5)


class ProjectionExperts(nn.Module):
    """The N high-level experts of eq. 1: low-level routers and projections, evaluated once per case."""

    def __init__(self, *, num_modalities: int, num_experts: int, vision_dim: int, lm_dim: int, router_hidden: int):
        super().__init__()
        m, n, d, h = num_modalities, num_experts, vision_dim, router_hidden
        self.specific_w, self.specific_b = _init(n, m, d, lm_dim, fan_in=d), nn.Parameter(torch.zeros(n, m, lm_dim))
        self.shared_w, self.shared_b = _init(n, d, lm_dim, fan_in=d), nn.Parameter(torch.zeros(n, lm_dim))
        self.low1_w, self.low1_b = _init(n, m * d, h, fan_in=m * d), nn.Parameter(torch.zeros(n, h))
        self.low2_w, self.low2_b = _init(n, h, m, fan_in=h), nn.Parameter(torch.zeros(n, m))
        self.register_buffer("token_level", torch.arange(n) % 2 == 1, persistent=False)

    def low_level_weights(self, v: Tensor) -> Tensor:
        """pi^(l,n) of every expert: [B, N, M, P] (modality-level experts repeat one weight over positions)."""
        b, m, p, d = v.shape
        per_position = v.permute(0, 2, 1, 3).reshape(b, p, m * d)  # i-th tokens of every sequence
        hidden = F.gelu(torch.einsum("bpk,nkh->bnph", per_position, self.low1_w) + self.low1_b[None, :, None])
        token_pi = torch.sigmoid(torch.einsum("bnph,nhm->bnmp", hidden, self.low2_w) + self.low2_b[None, :, :, None])
        modality_pi = token_pi[..., :1].expand_as(token_pi)  # position 0 holds the concatenated [CLS] tokens
        return torch.where(self.token_level[None, :, None, None], token_pi, modality_pi)

    def forward(self, v: Tensor) -> Tensor:
        """Image tokens ``v`` [B, M, P, d_I] -> every expert's fused tokens [B, N, P, d_T]."""
        pi = self.low_level_weights(v).unsqueeze(-1)
        specific = torch.einsum("bmpi,nmio->bnmpo", v, self.specific_w) + self.specific_b[None, :, :, None]
        shared = torch.einsum("bmpi,nio->bnmpo", v, self.shared_w) + self.shared_b[None, :, None, None]
        return (pi * specific + (1 - pi) * shared).sum(dim=2)


class HierarchicalMoE(nn.Module):
    """Prompt-conditioned hierarchical MoE projector (eq. 1) with one high-level router per center."""

    def __init__(self, *, centers: list[str], num_modalities: int, num_experts: int, vision_dim: int, lm_dim: int,
                 router_hidden: int = 64, low_router_hidden: int = 32) -> None:
        super().__init__()
        if num_experts < 2:
            raise ValueError(f"num_experts must be at least 2 (modality- and token-level), got {num_experts}")
        if not centers:
            raise ValueError("centers must name at least one center")
        self.experts = ProjectionExperts(num_modalities=num_modalities, num_experts=num_experts,
                                         vision_dim=vision_dim, lm_dim=lm_dim, router_hidden=low_router_hidden)
        self.lm_dim, self.router_hidden, self.num_experts = lm_dim, router_hidden, num_experts
        self.routers = nn.ModuleDict({validate_center_code(c): self._router() for c in centers})

    def _router(self) -> nn.Module:
        return nn.Sequential(nn.Linear(self.lm_dim, self.router_hidden), nn.GELU(),
                             nn.Linear(self.router_hidden, self.num_experts))

    def add_router(self, code: str, *, init_from: str | None) -> None:
        """A gate for a new center: a copy of ``init_from``'s, or fresh."""
        validate_center_code(code)
        if code in self.routers:
            raise ValueError(f"center {code!r} already has a router")
        router = self._router()
        if init_from is not None:
            if init_from not in self.routers:
                raise ValueError(f"init_from {init_from!r} is not a router of this model ({', '.join(self.routers)})")
            router.load_state_dict(self.routers[init_from].state_dict())
        self.routers[code] = router.to(next(self.experts.parameters()).device)

    def routing(self, question_state: Tensor, centers: list[str]) -> Tensor:
        """pi^(h)(t) [Q, N] of each question under its center's router."""
        unknown = sorted(set(centers) - set(self.routers))
        if unknown:
            raise ValueError(f"no router for center(s) {', '.join(unknown)}; routers: {', '.join(self.routers)}")
        logits = question_state.new_zeros(len(centers), self.num_experts)
        for code in dict.fromkeys(centers):
            rows = torch.tensor([i for i, c in enumerate(centers) if c == code], device=question_state.device)
            logits = logits.index_copy(0, rows, self.routers[code](question_state[rows]))
        return torch.softmax(logits, dim=-1)

    def forward(self, v: Tensor, case_index: Tensor, question_state: Tensor,
                centers: list[str]) -> tuple[Tensor, Tensor]:
        """Fused tokens [Q, P, d_T] per question (its case's image, its router) and the routing weights [Q, N]."""
        experts = self.experts(v)
        pi = self.routing(question_state, centers)
        return torch.einsum("qn,qnpo->qpo", pi, experts[case_index]), pi


class SingleProjection(nn.Module):
    """LLaVA-Med-style baseline: one linear projection shared by every sequence, their tokens concatenated."""

    def __init__(self, *, vision_dim: int, lm_dim: int, average: bool = False) -> None:
        super().__init__()
        self.proj = nn.Linear(vision_dim, lm_dim)
        self.average = average
        """True: the modality-agnostic baseline, tokens averaged over the sequences before projection."""

    def forward(self, v: Tensor, case_index: Tensor) -> Tensor:
        b, m, p, d = v.shape
        tokens = self.proj(v.mean(dim=1)) if self.average else self.proj(v).reshape(b, m * p, -1)
        return tokens[case_index]
