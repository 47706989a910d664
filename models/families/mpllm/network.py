"""mpLLM (seed 003): per-sequence 3D vision encoder, prompt-conditioned projector, causal language model and
multi-task heads, with the seed's baselines selectable by ``method``.

The prompt given to the language model is ``[question tokens | fused image tokens | separator]`` (the seed's
soft prompt ``(t, e)``); the answer follows and is learnt by next-token prediction. The heads read the last
layer's hidden state at the separator (Section 3.2.2). The question is left-padded so the image tokens and
the separator of every row line up.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from models.families.mpllm.encoder import VisionEncoder
from models.families.mpllm.projector import HierarchicalMoE, SingleProjection
from protocols.groups import validate_center_code

METHODS = ("mpllm", "single_projection", "avg_fusion", "no_multitask")
"""mpLLM first, then the seed's baselines that fit here: LLaVA-Med-style single projection (tokens of every
sequence concatenated), modality-agnostic fusion (tokens averaged over sequences), mpLLM without the heads."""


@dataclass
class MpllmOutput:
    """Answer logits [Q, La, V] (row k predicts answer token k), head logits and routing weights [Q, N]."""

    answer_logits: Tensor
    heads: dict[str, Tensor]
    routing: Tensor | None


def positions(mask: Tensor) -> Tensor:
    """Position ids of a left-padded attention mask."""
    return (mask.long().cumsum(-1) - 1).clamp(min=0)


class MpllmNet(nn.Module):
    """The multimodal LLM of seed 003 (Fig. 2); ``lm`` is any Hugging Face causal LM module."""

    def __init__(self, *, lm: nn.Module, method: str, centers: list[str], head_classes: dict[str, int],
                 num_modalities: int = 4, encoder_channels: tuple[int, ...] = (8, 16, 32),
                 token_grid: tuple[int, int, int] = (2, 2, 2), vision_dim: int = 64, num_experts: int = 4,
                 router_hidden: int = 64, low_router_hidden: int = 32, encoder_norm: str = "INSTANCE") -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if num_modalities < 1:
            raise ValueError(f"num_modalities must be positive, got {num_modalities}")
        if not centers:
            raise ValueError("centers must name at least one center")
        self.method = method
        self.centers = [validate_center_code(c) for c in centers]
        self.num_modalities = num_modalities
        self.lm = lm
        lm_dim = int(lm.get_input_embeddings().embedding_dim)
        self.encoder = VisionEncoder(channels=tuple(encoder_channels), token_grid=tuple(token_grid), dim=vision_dim,
                                     norm=encoder_norm)
        if method in ("mpllm", "no_multitask"):
            self.projector: nn.Module = HierarchicalMoE(
                centers=self.centers, num_modalities=num_modalities, num_experts=num_experts, vision_dim=vision_dim,
                lm_dim=lm_dim, router_hidden=router_hidden, low_router_hidden=low_router_hidden)
        else:
            self.projector = SingleProjection(vision_dim=vision_dim, lm_dim=lm_dim, average=method == "avg_fusion")
        uses_heads = method != "no_multitask"
        self.heads = nn.ModuleDict({t: nn.Linear(lm_dim, k) for t, k in head_classes.items()} if uses_heads else {})

    @property
    def routers(self) -> list[str]:
        """Centers with a high-level router ([] for the baselines without one)."""
        return list(self.projector.routers) if isinstance(self.projector, HierarchicalMoE) else []

    def add_center(self, code: str, *, init_from: str | None) -> None:
        """A new center: a high-level router copied from ``init_from``'s (or fresh) where the method has routers."""
        validate_center_code(code)
        if isinstance(self.projector, HierarchicalMoE):
            self.projector.add_router(code, init_from=init_from)
        if code not in self.centers:
            self.centers.append(code)

    def embed(self, ids: Tensor) -> Tensor:
        return self.lm.get_input_embeddings()(ids)

    def encode(self, images: Tensor) -> Tensor:
        """Sequences [B, M, D, H, W] -> image tokens [B, M, P, d_I]; independent of question and router."""
        b, m = images.shape[:2]
        if m != self.num_modalities:
            raise ValueError(f"images hold {m} sequences, the model expects {self.num_modalities}")
        tokens = self.encoder(images.reshape(b * m, 1, *images.shape[2:]))
        return tokens.reshape(b, m, *tokens.shape[1:])

    def question_state(self, question_ids: Tensor, question_mask: Tensor) -> Tensor:
        """The language model's final hidden state of each (left-padded) question: the router's input."""
        out = self.lm(inputs_embeds=self.embed(question_ids), attention_mask=question_mask,
                      position_ids=positions(question_mask), output_hidden_states=True)
        return out.hidden_states[-1][:, -1]

    def prompt(self, v: Tensor, case_index: Tensor, question_ids: Tensor, question_mask: Tensor, centers: list[str],
               sep_id: int) -> tuple[Tensor, Tensor, Tensor | None]:
        """Embeddings and mask of ``[question | image tokens | separator]`` per question, and the routing."""
        if isinstance(self.projector, HierarchicalMoE):
            tokens, routing = self.projector(v, case_index, self.question_state(question_ids, question_mask), centers)
        else:
            tokens, routing = self.projector(v, case_index), None
        q = question_ids.shape[0]
        sep = self.embed(torch.full((q, 1), sep_id, dtype=torch.long, device=question_ids.device))
        embeds = torch.cat([self.embed(question_ids), tokens.to(sep.dtype), sep], dim=1)
        mask = torch.cat([question_mask, question_mask.new_ones(q, tokens.shape[1] + 1)], dim=1)
        return embeds, mask, routing

    def decode(self, v: Tensor, case_index: Tensor, question_ids: Tensor, question_mask: Tensor, answer_ids: Tensor,
               answer_mask: Tensor, centers: list[str], sep_id: int) -> MpllmOutput:
        """Teacher-forced answer logits and head logits for image tokens computed by :meth:`encode`."""
        embeds, mask, routing = self.prompt(v, case_index, question_ids, question_mask, centers, sep_id)
        start = embeds.shape[1] - 1
        full_mask = torch.cat([mask, answer_mask], dim=1)
        out = self.lm(inputs_embeds=torch.cat([embeds, self.embed(answer_ids)], dim=1), attention_mask=full_mask,
                      position_ids=positions(full_mask), output_hidden_states=bool(self.heads))
        logits = out.logits[:, start:start + answer_ids.shape[1]]
        heads = {t: head(out.hidden_states[-1][:, start]) for t, head in self.heads.items()}
        return MpllmOutput(logits, heads, routing)

    def forward(self, images: Tensor, case_index: Tensor, question_ids: Tensor, question_mask: Tensor,
                answer_ids: Tensor, answer_mask: Tensor, centers: list[str], sep_id: int) -> MpllmOutput:
        """Encode the cases' sequences, then :meth:`decode` every question (``case_index``: its case's row)."""
        return self.decode(self.encode(images), case_index, question_ids, question_mask, answer_ids, answer_mask,
                           centers, sep_id)

    @torch.no_grad()
    def generate(self, v: Tensor, case_index: Tensor, question_ids: Tensor, question_mask: Tensor,
                 centers: list[str], *, sep_id: int, eos_id: int, max_new_tokens: int) -> tuple[Tensor, MpllmOutput]:
        """Greedy answers [Q, <= max_new_tokens] (after the end token: ``eos_id``) and the heads' logits."""
        embeds, mask, routing = self.prompt(v, case_index, question_ids, question_mask, centers, sep_id)
        pos = positions(mask)
        out = self.lm(inputs_embeds=embeds, attention_mask=mask, position_ids=pos, use_cache=True,
                      output_hidden_states=bool(self.heads))
        heads = {t: head(out.hidden_states[-1][:, -1]) for t, head in self.heads.items()}
        done = torch.zeros(embeds.shape[0], dtype=torch.bool, device=embeds.device)
        answer = []
        for _ in range(max_new_tokens):
            nxt = out.logits[:, -1].argmax(-1)
            answer.append(torch.where(done, torch.full_like(nxt, eos_id), nxt))
            done |= nxt == eos_id
            if bool(done.all()):
                break
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
            pos = pos[:, -1:] + 1
            out = self.lm(inputs_embeds=self.embed(nxt[:, None]), attention_mask=mask, position_ids=pos,
                          past_key_values=out.past_key_values, use_cache=True)
        ids = torch.stack(answer, dim=1) if answer else question_ids.new_zeros(embeds.shape[0], 0)
        return ids, MpllmOutput(out.logits.new_zeros(0), heads, routing)
