"""Frozen offline text encoder: token-wise, cached by note, never trained."""

from __future__ import annotations

import pytest
import torch

from models.text import HFTextEncoder, prepare_note, resolve_encoder_path

NOTE = "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6"


def test_token_embeddings_and_mask(text_encoder) -> None:
    emb, mask = text_encoder.encode([NOTE, "<Grade> 6"])
    assert emb.shape[0] == 2 and emb.shape[2] == text_encoder.dim == 384
    assert mask[0].all() and mask[1].sum() < mask[0].sum()
    assert torch.all(emb[1, ~mask[1]] == 0)


def test_each_distinct_note_is_encoded_once(text_encoder, monkeypatch) -> None:
    calls: list[list[str]] = []
    original = text_encoder._embed
    monkeypatch.setattr(text_encoder, "_embed", lambda notes: calls.append(notes) or original(notes))
    a, _ = text_encoder.encode([NOTE + " x", NOTE + " x", NOTE + " y"])
    b, _ = text_encoder.encode([NOTE + " y"])
    assert calls == [[NOTE + " x", NOTE + " y"]]
    assert torch.equal(a[0], a[1])
    assert torch.equal(a[2, : b.shape[1]], b[0])


def test_encoder_is_frozen(text_encoder) -> None:
    assert not any(p.requires_grad for p in text_encoder.model.parameters())
    assert not text_encoder.model.training


def test_local_folder_by_path_and_clear_error(tmp_path) -> None:
    enc = HFTextEncoder(name=str(resolve_encoder_path("minilm")), max_tokens=16)
    assert enc.encode([NOTE])[0].shape[1] == 16
    with pytest.raises(FileNotFoundError, match="neither 'minilm' nor a local"):
        resolve_encoder_path(str(tmp_path))


def test_text_prompt_method_appends_center() -> None:
    assert prepare_note(NOTE, center="B", method="text_prompt").endswith("<Center> B")
    assert prepare_note(NOTE, center="B", method="mome") == NOTE


def test_structured_note_token_carries_the_parsed_fields(text_encoder) -> None:
    from models.data.clinical import note_features, parse_note
    from models.text import StructuredNoteEncoder

    enc = StructuredNoteEncoder(text_encoder)
    plain, plain_mask = text_encoder.encode([NOTE, "not a note"])
    text, mask = enc.encode([NOTE, "not a note"])
    assert text.shape[1] == plain.shape[1] + 1 and mask[:, -1].all()
    expected = torch.tensor(note_features(parse_note(NOTE)))
    assert torch.allclose(text[0, -1, : len(expected)], expected)
    assert torch.all(text[0, -1, len(expected):] == 0) and torch.all(text[1, -1] == 0)
    assert torch.equal(text[:, :-1], plain) and torch.equal(mask[:, :-1], plain_mask)
