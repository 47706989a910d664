"""MOME breast: the soft MoE of eqs 9-13 with per-center gates, sparse experts per sequence, inference with
missing sequences, exact Shapley values and integrated gradients, the metrics, the synthetic data and its loader,
and a tiny run through train, evaluate and explain."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from scipy.stats import norm

from models.families.mome_breast import runner
from models.families.mome_breast.data import load_dataset
from models.families.mome_breast.explain import integrated_gradients, shapley
from models.families.mome_breast.metrics import (
    auprc,
    auroc,
    paired_auroc_difference,
    threshold_metrics,
    with_bootstrap,
)
from models.families.mome_breast.network import Block, SoftMoE
from models.families.mome_breast.phantom import SEPARATION, oracle_score
from models.registry import create_model

SEQUENCES = ("dce", "t2", "dwi")


def test_soft_moe_dispatches_over_tokens_and_combines_over_slots() -> None:
    torch.manual_seed(0)
    moe = SoftMoE(6, num_experts=3, slots=2, hidden=8, centers=["A", "B"])
    x = torch.randn(2, 5, 6)
    out = moe(x, ["A", "B"])
    assert out.shape == x.shape
    logits = x[0] @ moe.phi["A"]  # [m, n*p]
    dispatch, combine = logits.softmax(0), logits.softmax(1)
    slots = dispatch.T @ x[0]
    outputs = torch.cat([moe.experts[i // 2](slots[i:i + 1]) for i in range(6)])
    assert torch.allclose(out[0], combine @ outputs, atol=1e-5)
    assert not torch.allclose(out[0], moe(x[:1], ["B"])[0], atol=1e-4)  # the gate is the center's own


def test_each_sequence_goes_through_its_own_sparse_expert() -> None:
    torch.manual_seed(0)
    block = Block(8, 2, 2.0, experts=("dce", "t2"))
    plain = Block(8, 2, 2.0)
    plain.load_state_dict({k: v for k, v in block.state_dict().items() if not k.startswith("experts.")})
    x = torch.randn(1, 4, 8)
    # A fresh expert branch adds nothing (its closing layer norm's gain starts at zero), so the trunk trains first.
    assert torch.allclose(block(x, sequence="dce"), plain(x), atol=1e-6)
    for expert in block.experts.values():
        torch.nn.init.uniform_(expert.norm.weight, 0.5, 1.5)  # as after training
    dce, t2 = block(x, sequence="dce"), block(x, sequence="t2")
    assert not torch.allclose(dce, t2)
    assert torch.allclose(block(x, sequence="dwi"), plain(x), atol=1e-6)  # no expert for it: the shared path


def _inputs(spec, present=SEQUENCES, n: int = 2) -> dict[str, torch.Tensor]:
    return {s: torch.rand(n, spec.contract.channels(s), *spec.contract.image_size) for s in present}


def test_mome_runs_with_any_sequence_missing_and_early_fusion_cannot() -> None:
    net, spec = create_model("mome_breast.tiny", centers=["A"])
    net.eval()
    full = net(_inputs(spec), ["A", "A"])
    for present in (("dce",), ("t2", "dwi"), ("dce", "t2")):
        out = net(_inputs(spec, present), ["A", "A"])
        assert out.shape == (2, 2) and torch.isfinite(out).all()
    assert full.shape == (2, 2)
    early, _ = create_model("mome_breast.tiny", method="early_fusion", centers=["A"])
    with pytest.raises(ValueError, match="early fusion cannot run without dwi"):
        early(_inputs(spec, ("dce", "t2")), ["A", "A"])
    single, _ = create_model("mome_breast.tiny", method="single_t2", centers=["A"])
    with pytest.raises(ValueError, match="needs one of t2"):
        single(_inputs(spec, ("dce",)), ["A", "A"])


def test_shapley_is_exact_on_games_with_known_values() -> None:
    terms = {"dce": 0.5, "t2": -0.2, "dwi": 0.1}
    additive = shapley(lambda s: 0.3 + sum(terms[p] for p in s), SEQUENCES)
    assert additive == pytest.approx(terms)
    both = shapley(lambda s: float({"dce", "t2"} <= s), SEQUENCES)  # a pure interaction of two players
    assert both == pytest.approx({"dce": 0.5, "t2": 0.5, "dwi": 0.0})
    rng = np.random.default_rng(0)
    table = {frozenset(s): float(rng.normal()) for s in
             [(), ("dce",), ("t2",), ("dwi",), ("dce", "t2"), ("dce", "dwi"), ("t2", "dwi"), SEQUENCES]}
    phi = shapley(table.__getitem__, SEQUENCES)
    assert sum(phi.values()) == pytest.approx(table[frozenset(SEQUENCES)] - table[frozenset()])  # efficiency


def test_integrated_gradients_of_a_linear_model_are_weight_times_input() -> None:
    w = {"a": torch.randn(1, 3), "b": torch.randn(1, 2)}
    x = {"a": torch.randn(1, 3), "b": torch.randn(1, 2)}
    ig = integrated_gradients(lambda v: sum((w[k] * v[k]).sum() for k in v), x, steps=4)
    for k in x:
        assert torch.allclose(ig[k], w[k] * x[k], atol=1e-6)


def test_metrics_on_known_scores() -> None:
    y = np.array([0, 0, 1, 1, 1, 0])
    perfect = np.array([0.1, 0.2, 0.9, 0.8, 0.7, 0.3])
    assert auroc(y, perfect) == 1.0 and auroc(y, 1 - perfect) == 0.0 and auprc(y, perfect) == 1.0
    assert threshold_metrics(y, perfect) == {"sensitivity": 1.0, "specificity": 1.0, "f1": 1.0, "mcc": 1.0}
    one_wrong = perfect.copy()
    one_wrong[0] = 0.95  # a benign case ranked first
    assert auprc(y, one_wrong) == pytest.approx((1 / 2 + 2 / 3 + 3 / 4) / 3)
    assert threshold_metrics(y, one_wrong)["specificity"] == pytest.approx(2 / 3)
    boot = with_bootstrap(y, one_wrong, n_resamples=200)
    assert boot["auroc"]["ci"][0] <= boot["auroc"]["mean"] <= boot["auroc"]["ci"][1]
    same = paired_auroc_difference(y, one_wrong, one_wrong, n_resamples=50)
    assert same["mean"] == 0.0 and same["ci"] == [0.0, 0.0] and not same["above_zero"]


def test_synth_is_deterministic_and_a_center_may_lack_a_sequence(tmp_path: Path) -> None:
    runner.synth(tmp_path / "a", center="C", cases=3, seed=2)
    runner.synth(tmp_path / "b", center="C", cases=3, seed=2)
    doc = json.loads((tmp_path / "a" / "dataset.json").read_text())
    assert doc["family"] == "mome_breast" and doc["sequences"] == ["dce", "t2"]
    for entry in doc["training"] + doc["test"]:
        assert set(entry["images"]) == {"dce", "t2"} and entry["label"] in (0, 1)
        dce = nib.load(tmp_path / "a" / entry["images"]["dce"])
        assert dce.ndim == 4 and dce.shape[-1] == 4
        assert np.array_equal(np.asarray(dce.dataobj), np.asarray(nib.load(tmp_path / "b" / entry["images"]["dce"])
                                                                  .dataobj))


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(family="m4oe"), "field 'family' must be 'mome_breast'"),
    (lambda d: d["training"][0].update(label=2), "use 0 \\(benign\\) or 1 \\(malignant\\)"),
    (lambda d: d["training"][0]["images"].update(t2="missing.nii.gz"), "file .* is missing"),
])
def test_the_loader_names_what_is_wrong(tmp_path: Path, edit, message: str) -> None:
    runner.synth(tmp_path / "d", center="A", cases=2, seed=0)
    path = tmp_path / "d" / "dataset.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=message):
        load_dataset(tmp_path / "d")


@pytest.mark.slow
def test_tiny_run_trains_evaluates_and_explains(tmp_path: Path) -> None:
    runner.synth(tmp_path / "A", center="A", cases=8, seed=0)
    runner.synth(tmp_path / "C", center="C", cases=4, seed=0)
    _, spec = create_model("mome_breast.tiny", centers=["A"])
    model, history = runner.train(spec, [tmp_path / "A", tmp_path / "C"], ["A", "C"], method="mome", steps=4,
                                  lr=1e-3, seed=0, device=torch.device("cpu"))
    assert np.isfinite(history["summary"]["loss"]) and history["cases"] == 9
    report = runner.evaluate(model, spec, tmp_path / "A", center="A", device=torch.device("cpu"))
    assert set(report["auroc_by_sequences"]) == {"dce", "t2", "dwi", "dce+t2", "dce+dwi", "dwi+t2", "dce+dwi+t2"}
    assert set(report["summary"]) == {"auroc", "auprc", "sensitivity", "specificity", "f1", "mcc"}
    doc = runner.explain(model, spec, tmp_path / "A", tmp_path / "explain", center="A", device=torch.device("cpu"))
    assert doc["n_cases"] == 8 and set(doc["global"]) == set(SEQUENCES)
    for row in doc["cases"]:  # efficiency: the contributions add up to the prediction minus the baseline
        assert sum(row["shapley"].values()) == pytest.approx(row["probability"] - doc["prior"], abs=1e-5)
        assert Path(row["saliency"]).stat().st_size > 0
    assert json.loads((tmp_path / "explain" / "shapley.json").read_text())["n_cases"] == 8
    early, _ = runner.train(spec, [tmp_path / "A"], ["A"], method="early_fusion", steps=1, lr=1e-3, seed=0,
                            device=torch.device("cpu"))
    with pytest.raises(ValueError, match="cannot run on subsets"):
        runner.explain(early, spec, tmp_path / "A", tmp_path / "e2", center="A", device=torch.device("cpu"))


def test_oracle_score_is_the_log_likelihood_ratio_of_the_findings_up_to_a_constant() -> None:
    rng = np.random.default_rng(0)
    offsets = []
    for _ in range(5):
        found = {s: float(rng.normal(0.0, 2.0)) for s in SEPARATION}
        llr = sum(norm.logpdf(found[s], SEPARATION[s]) - norm.logpdf(found[s], 0.0) for s in SEPARATION)
        offsets.append(oracle_score(found, tuple(SEPARATION)) - llr)
    assert np.allclose(offsets, sum(v**2 / 2 for v in SEPARATION.values()))
    assert oracle_score({"dce": 1.0, "t2": 5.0, "dwi": 5.0}, ("dce",)) == SEPARATION["dce"]
