"""Shared fixtures: keep torch small and deterministic on a 2-core machine."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def text_encoder():
    """The offline MiniLM encoder, loaded once per test session."""
    from models.text import shared_text_encoder

    return shared_text_encoder()
