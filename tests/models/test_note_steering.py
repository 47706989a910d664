"""The clinical note steers the contour: counterfactual notes on a tiny model trained in the test."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models.data.dataset import load_dataset
from models.evaluation.counterfactual import CounterfactualResult, note_steering, steering_summary
from models.registry import note_encoder
from models.training.loop import TrainSettings
from models.training.samples import load_samples
from models.training.steering import counterfactual_volumes
from models.training.train import train_multicenter
from models.weights import load_model_dir

TINY = {"scale": 0.5, "spacing_override": (4.0, 4.0, 6.0), "risk_mix": "balanced"}


@pytest.fixture(scope="module")
def steered(tmp_path_factory: pytest.TempPathFactory):
    """mome_ro.tiny trained on risk-balanced A (nodes from intermediate risk) and C (from high risk)."""
    from models.data.synthetic import generate_center

    root = tmp_path_factory.mktemp("steer")
    data = {c: generate_center(c, 10, root / c, seed=3, **TINY) for c in "AC"}
    test = generate_center("C", 3, root / "test", seed=99, **TINY)
    train_multicenter([data["A"], data["C"]], root / "model", config_name="mome_ro.tiny",
                      settings=replace(TrainSettings(), steps=400, val_every=400, lr=3e-3))
    model, spec, _ = load_model_dir(root / "model")
    samples = load_samples(load_dataset(test).training, spec.contract, center="C")
    return counterfactual_volumes(model, spec, note_encoder(spec), samples, ["A", "C"])


def test_node_positive_note_enlarges_the_ptv_under_every_router(steered: CounterfactualResult) -> None:
    summary = steering_summary(steered, nodes_from_intermediate=["A"])
    for router in ("A", "C"):
        assert summary[router]["median_very_high_over_low"] >= 1.5, summary


def test_the_intermediate_note_grows_the_ptv_under_a_nodes_from_intermediate_router_only(
    steered: CounterfactualResult,
) -> None:
    a = np.median(list(steered.ratios("A", "intermediate").values()))
    c = np.median(list(steered.ratios("C", "intermediate").values()))
    assert a > 1.3 * c, (a, c)


def test_steering_summary_counts_cases_against_the_targets() -> None:
    volumes = {"A": {"x": 100, "y": 100}, "C": {"x": 100, "y": 100}}
    fake = {("x", "A"): (100, 300, 400), ("y", "A"): (100, 110, 400),
            ("x", "C"): (100, 100, 500), ("y", "C"): (100, 130, 90)}
    notes = {"low": "l", "intermediate": "i", "very_high_n1": "v"}
    result = note_steering(list(volumes["A"]), ["A", "C"],
                           lambda case, router, note: fake[(case, router)]["liv".index(note)], notes=notes)
    summary = steering_summary(result, nodes_from_intermediate=["A"])
    assert summary["A"]["very_high_ok"] == 1.0 and summary["A"]["intermediate_ok"] == 0.5
    assert summary["C"]["very_high_ok"] == 0.5 and summary["C"]["intermediate_ok"] == 0.5
    assert summary["C"]["intermediate_expected"] == "stay"
    assert result.ratios("C", "very_high_n1") == {"x": 5.0, "y": 0.9}
