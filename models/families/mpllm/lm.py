"""The language model of mpLLM and its tokenizer.

Any local Hugging Face causal-LM folder loads with ``AutoModelForCausalLM`` / ``AutoTokenizer`` and
``local_files_only=True`` (a GPU site points at its own Phi-3 or Llama). Nothing can be downloaded here,
so CPU configs and tests build a small GPT-2-style decoder from a transformers config, trained from
scratch with a word-level tokenizer whose vocabulary is the VQA protocol's own words.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Protocol

from torch import nn

from models.families.mpllm.descriptors import SHAPE_CLASSES, SPREAD_CLASSES
from models.families.mpllm.findings import NOT_FOUND, REGIONS, VOLUME_CLASSES
from models.families.mpllm.phantom import LABELS
from models.families.mpllm.templates import EXTRA_TASKS, MULTITASK, OUT_OF_SCOPE
from models.families.mpllm.vqa import words

SPECIALS = ("[PAD]", "[UNK]", "[EOS]")


class Tokenizer(Protocol):
    """What the family needs of a tokenizer: ids of a text, text of ids, and three special ids."""

    pad_id: int
    eos_id: int
    vocab_size: int

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


def protocol_vocabulary() -> tuple[str, ...]:
    """Every word the VQA protocol writes (templates, classes, labels, regions) plus the special tokens."""
    texts = [NOT_FOUND, *VOLUME_CLASSES, *SHAPE_CLASSES, *SPREAD_CLASSES, *REGIONS, *LABELS.values()]
    for _, wordings, answer in MULTITASK:
        texts += [*wordings, answer]
    for pair in (*EXTRA_TASKS, *OUT_OF_SCOPE):
        texts += list(pair)
    found = {w for text in texts for w in words(re.sub(r"\{\w+\}", " ", text))}
    return (*SPECIALS, *sorted(found))


class WordTokenizer:
    """Word-level tokenizer over a fixed vocabulary (lower-case words and single punctuation marks)."""

    def __init__(self, vocab: tuple[str, ...] | list[str]) -> None:
        if tuple(vocab[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"vocab must start with the special tokens {SPECIALS}")
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocab holds a word twice")
        self.vocab = tuple(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.pad_id, self.unk_id, self.eos_id = 0, 1, 2
        self.vocab_size = len(self.vocab)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(w, self.unk_id) for w in words(text)]

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.vocab[i] for i in ids if i >= len(SPECIALS))


class HFTokenizer:
    """A local Hugging Face tokenizer behind the same small interface."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        if tokenizer.eos_token_id is None:
            raise ValueError("the language model's tokenizer has no end-of-sequence token")
        self.eos_id = int(tokenizer.eos_token_id)
        self.pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None else self.eos_id
        self.vocab_size = len(tokenizer)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)


def _local_folder(path: str) -> Path:
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"language model {path!r} is not a local Hugging Face model folder with config.json")
    return folder


def build_language_model(lm: dict[str, Any], vocab_size: int) -> nn.Module:
    """The causal LM an architecture names: ``{"kind": "gpt2", n_layer, n_embd, n_head}`` built from a config
    (random weights, trained with the rest), or ``{"kind": "local", "path": ...}`` loaded from a folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from models.torchvision_guard import torchvision_hidden

    with torchvision_hidden():
        from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        kind = lm.get("kind")
        if kind == "local":
            return untie_embeddings(
                AutoModelForCausalLM.from_pretrained(_local_folder(lm["path"]), local_files_only=True))
        if kind != "gpt2":
            raise ValueError(f"lm kind must be 'gpt2' or 'local', got {kind!r}")
        if vocab_size <= len(SPECIALS):
            raise ValueError(f"vocab_size must exceed the {len(SPECIALS)} special tokens, got {vocab_size}")
        dropout = float(lm.get("dropout", 0.0))
        config = GPT2Config(vocab_size=vocab_size, n_positions=int(lm.get("n_positions", 256)),
                            n_embd=int(lm["n_embd"]), n_layer=int(lm["n_layer"]), n_head=int(lm["n_head"]),
                            resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
                            bos_token_id=2, eos_token_id=2, pad_token_id=0, tie_word_embeddings=False)
        return GPT2LMHeadModel(config)


def untie_embeddings(model: nn.Module) -> nn.Module:
    """Give the output layer its own copy of tied input embeddings: safetensors refuses tensors sharing memory,
    and a model directory stores every tensor once."""
    output = model.get_output_embeddings()
    if output is not None and output.weight is model.get_input_embeddings().weight:
        output.weight = nn.Parameter(output.weight.detach().clone())
        model.config.tie_word_embeddings = False
    return model


def build_tokenizer(lm: dict[str, Any], vocab: tuple[str, ...]) -> Tokenizer:
    """The tokenizer matching :func:`build_language_model`: the word-level one, or the local folder's own."""
    if lm.get("kind") == "local":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from models.torchvision_guard import torchvision_hidden

        with torchvision_hidden():
            from transformers import AutoTokenizer

            return HFTokenizer(AutoTokenizer.from_pretrained(_local_folder(lm["path"]), local_files_only=True))
    return WordTokenizer(vocab)
