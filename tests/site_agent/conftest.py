"""Session fixtures for the site-agent workflow: tiny synthetic centers and a tiny base model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

TINY_DATA = {"scale": 0.5, "spacing_override": (3.0, 3.0, 4.0)}


@pytest.fixture(scope="session")
def centers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from models.data.synthetic import generate_center

    root = tmp_path_factory.mktemp("centers")
    sizes = {"A": 3, "C": 3, "D": 5}
    return {c: generate_center(c, n, root / c, seed=11, **TINY_DATA) for c, n in sizes.items()}


@pytest.fixture(scope="session")
def base_model(centers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mome_ro.tiny model trained briefly on A and C (C: another scanner, tighter margin, fewer nodes)."""
    from models.training.loop import TrainSettings
    from models.training.train import train_multicenter

    out = tmp_path_factory.mktemp("models") / "base"
    train_multicenter([centers["A"], centers["C"]], out, config_name="mome_ro.tiny",
                      settings=replace(TrainSettings(), steps=40, val_every=20, lr=3e-3))
    return out


@pytest.fixture(scope="session")
def untrained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mome_ro.tiny model with random weights: enough for what runs before or around training."""
    from models.registry import create_model
    from models.weights import save_model_dir

    net, spec = create_model("mome_ro.tiny", centers=("A", "C"))
    out = tmp_path_factory.mktemp("models") / "untrained"
    save_model_dir(net, spec, out, version="0.1")
    return out
