"""Mixture of Multicenter Experts (seed 000, Methods iii, eqs. 1-4).

``f~ = f + sum_{i in top-k} G^c_i(f) E_i(f)``: shared MLP experts, one noisy top-k gate per
center, Gaussian noise only in training, and Shazeer et al.'s (2017) importance + load
auxiliary loss. Written here because neither MONAI nor torch ships a per-center sparse MoE.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions.normal import Normal

from protocols.groups import validate_center_code


class NoisyTopKGate(nn.Module):
    """G(x) = Softmax(KeepTopK(H(x), k)), H(x) = xW + N(0,1) * Softplus(x W_noise) (eqs. 2-4)."""

    def __init__(self, *, channels: int, num_experts: int) -> None:
        super().__init__()
        self.w_gate = nn.Linear(channels, num_experts, bias=False)
        self.w_noise = nn.Linear(channels, num_experts, bias=False)
        nn.init.zeros_(self.w_noise.weight)

    def forward(self, x: Tensor, *, noisy: bool) -> tuple[Tensor, Tensor, Tensor | None]:
        """Return (noisy logits H, clean logits, noise std or None) for tokens ``x`` [T, C]."""
        clean = self.w_gate(x)
        if not noisy:
            return clean, clean, None
        std = F.softplus(self.w_noise(x)) + 1e-2
        return clean + torch.randn_like(clean) * std, clean, std


class ExpertMLP(nn.Module):
    """One shallow MLP expert applied token-wise."""

    def __init__(self, *, channels: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


def _cv_squared(x: Tensor) -> Tensor:
    """Squared coefficient of variation, the balancing penalty of Shazeer et al."""
    if x.numel() <= 1:
        return x.new_zeros(())
    return x.float().var() / (x.float().mean() ** 2 + 1e-10)


class MixtureOfMulticenterExperts(nn.Module):
    """Shared experts plus one gate per center; the center code selects the gate.

    ``forward(features [B,C,*spatial], gate_keys)`` returns ``(features', aux_loss)``;
    ``gate_keys`` holds one gate name per sample. Expert activations are counted per
    expert when ``track_activations`` is set (seed Fig. 3b).
    """

    def __init__(
        self, *, channels: int, num_experts: int, top_k: int, hidden_ratio: int, gates: tuple[str, ...]
    ) -> None:
        super().__init__()
        if not 1 <= top_k <= num_experts:
            raise ValueError(f"top_k={top_k} must be between 1 and num_experts={num_experts}")
        if not gates:
            raise ValueError("gates must name at least one center")
        self.num_experts, self.top_k, self.channels = num_experts, top_k, channels
        self.experts = nn.ModuleList(
            ExpertMLP(channels=channels, hidden=channels * hidden_ratio) for _ in range(num_experts)
        )
        self.gates = nn.ModuleDict({validate_center_code(g): self._new_gate() for g in gates})
        self.track_activations = False
        self.activation_counts = torch.zeros(num_experts, dtype=torch.long)

    def _new_gate(self) -> NoisyTopKGate:
        return NoisyTopKGate(channels=self.channels, num_experts=self.num_experts)

    def add_gate(self, code: str, *, init_from: str | None) -> None:
        """Add a gate for ``code``, copied from gate ``init_from`` (or freshly initialised)."""
        if code in self.gates:
            raise ValueError(f"center {code!r} already has a router")
        gate = self._new_gate()
        if init_from is not None:
            if init_from not in self.gates:
                raise ValueError(f"cannot initialise from unknown router {init_from!r}")
            gate.load_state_dict(self.gates[init_from].state_dict())
        self.gates[validate_center_code(code)] = gate.to(next(self.gates[next(iter(self.gates))].parameters()))

    def route(self, tokens: Tensor, gate_key: str) -> tuple[Tensor, Tensor, Tensor]:
        """Top-k expert indices [T,k], their weights [T,k] (sum to 1) and the aux loss."""
        logits, clean, std = self.gates[gate_key](tokens, noisy=self.training)
        top_logits, top_idx = logits.topk(min(self.top_k + 1, self.num_experts), dim=-1)
        weights = torch.softmax(top_logits[:, : self.top_k], dim=-1)
        top_idx = top_idx[:, : self.top_k]
        if not self.training:
            return top_idx, weights, tokens.new_zeros(())
        gates_full = torch.zeros_like(logits).scatter(1, top_idx, weights)
        importance = gates_full.sum(0)
        load = self._load(clean, logits, std, top_logits)  # training: the gate was noisy, std is set
        return top_idx, weights, _cv_squared(importance) + _cv_squared(load)

    def _load(self, clean: Tensor, noisy: Tensor, std: Tensor, top_logits: Tensor) -> Tensor:
        """Smooth estimate of tokens per expert: P(expert i stays in the top k under new noise)."""
        if top_logits.shape[1] <= self.top_k:
            return (noisy >= top_logits[:, -1:]).float().sum(0)
        threshold_in = top_logits[:, self.top_k : self.top_k + 1]
        threshold_out = top_logits[:, self.top_k - 1 : self.top_k]
        is_in = noisy > threshold_in
        normal = Normal(torch.zeros((), device=clean.device), torch.ones((), device=clean.device))
        prob_if_in = normal.cdf((clean - threshold_in) / std)
        prob_if_out = normal.cdf((clean - threshold_out) / std)
        return torch.where(is_in, prob_if_in, prob_if_out).sum(0)

    def mix(self, tokens: Tensor, top_idx: Tensor, weights: Tensor) -> Tensor:
        """sum_k w_k E_k(x): each expert runs once, batched over the tokens routed to it."""
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            token_ids, slot = (top_idx == e).nonzero(as_tuple=True)
            if token_ids.numel() == 0:
                continue
            y = expert(tokens.index_select(0, token_ids)) * weights[token_ids, slot].unsqueeze(1)
            out.index_add_(0, token_ids, y.to(out.dtype))
        if self.track_activations:
            counts = torch.bincount(top_idx.flatten().cpu(), minlength=self.num_experts)
            self.activation_counts += counts
        return out

    def forward(self, features: Tensor, gate_keys: list[str]) -> tuple[Tensor, Tensor]:
        b, c = features.shape[:2]
        tokens = features.movedim(1, -1).reshape(b, -1, c)  # [B, N, C], one copy
        keys = list(dict.fromkeys(gate_keys))
        unknown = [k for k in keys if k not in self.gates]
        if unknown:
            raise KeyError(f"no router for center {unknown[0]!r}; known: {', '.join(self.gates)}")
        if len(keys) == 1:  # the common case: one center per batch, no regrouping copies
            flat = tokens.reshape(-1, c)
            top_idx, weights, aux = self.route(flat, keys[0])
            mixed = self.mix(flat, top_idx, weights)
        else:
            mixed = torch.zeros_like(tokens)
            aux = features.new_zeros(())
            for key in keys:
                rows = [i for i, k in enumerate(gate_keys) if k == key]
                flat = tokens[rows].reshape(-1, c)
                top_idx, weights, loss = self.route(flat, key)
                mixed[rows] = self.mix(flat, top_idx, weights).reshape(len(rows), -1, c)
                aux = aux + loss * len(rows) / b
        return features + mixed.reshape(b, *features.shape[2:], c).movedim(-1, 1), aux
