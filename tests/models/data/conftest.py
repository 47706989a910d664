"""Fixtures for the data tests: one tiny synthetic dataset per session, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TINY = {"scale": 0.4, "spacing_override": (3.0, 3.0, 4.0)}


@pytest.fixture(scope="session")
def tiny_dataset_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from models.data.synthetic import generate_center

    return generate_center("C", 3, tmp_path_factory.mktemp("master") / "C", seed=3, **TINY)


@pytest.fixture()
def tiny_dataset(tiny_dataset_master: Path, tmp_path: Path) -> Path:
    """A private copy that a test may break."""
    return Path(shutil.copytree(tiny_dataset_master, tmp_path / "C"))
