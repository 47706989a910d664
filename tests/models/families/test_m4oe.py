"""M4oE: per-token expert gates conditioned on the center, the marginal loss over partial label sets, the
synthetic datasets and their loader, predictions back in the input's geometry, and a tiny run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from models.families.m4oe import runner
from models.families.m4oe.contract import M4oEContract
from models.families.m4oe.data import load_dataset, prepare
from models.families.m4oe.experts import ModalityExperts, RoutingContext, modality_loss
from models.families.m4oe.losses import marginal_loss
from models.families.m4oe.network import M4oENet, expert_usage
from models.registry import create_model

CONTRACT = M4oEContract()


def _layer(top_k: int = 1) -> ModalityExperts:
    torch.manual_seed(0)
    return ModalityExperts(8, 16, num_experts=3, top_k=top_k, centers=["A", "B"], context=RoutingContext())


def test_each_token_goes_to_its_top_expert_at_full_weight_and_the_gate_gets_a_gradient() -> None:
    layer = _layer()
    x = torch.randn(2, 5, 4, 8)
    layer.context.centers = ["A", "B"]
    out = layer(x)
    tokens = x.reshape(2, 20, 8)
    logits = layer.gate_logits(tokens, ["A", "B"])
    assert logits.shape == (2, 20, 3)
    chosen = logits.argmax(-1)
    for b in range(2):
        for n in range(20):
            expected = layer.experts[int(chosen[b, n])](tokens[b, n])
            assert torch.allclose(out.reshape(2, 20, 8)[b, n], expected, atol=1e-6)
    out.sum().backward()
    assert layer.gates["A"].weight.grad is not None and layer.gates["A"].weight.grad.abs().sum() > 0


def test_routing_depends_on_the_center_and_unknown_centers_are_refused() -> None:
    layer = _layer()
    tokens = torch.randn(1, 64, 8)
    a = layer.gate_logits(tokens, ["A"]).argmax(-1)
    with torch.no_grad():
        layer.gates["B"].weight.copy_(-layer.gates["A"].weight)
        layer.gates["B"].bias.copy_(layer.gates["A"].bias)
    b = layer.gate_logits(tokens, ["B"]).argmax(-1)
    assert not torch.equal(a, b)
    with pytest.raises(ValueError, match="no gate for center"):
        layer.gate_logits(tokens, ["Z"])


def test_top_two_mixes_two_experts_with_weights_summing_to_one() -> None:
    layer = _layer(top_k=2)
    x = torch.randn(1, 3, 8)
    layer.context.centers = ["A"]
    out = layer(x)
    probs = layer.gate_logits(x, ["A"]).softmax(-1)[0]
    top_p, top_i = probs.topk(2, -1)
    for n in range(3):
        w = top_p[n] / top_p[n].sum()
        expected = sum(w[j] * layer.experts[int(top_i[n, j])](x[0, n]) for j in range(2))
        assert torch.allclose(out[0, n], expected, atol=1e-6)


def test_every_swin_block_has_modality_experts_and_the_baselines_have_none() -> None:
    net, spec = create_model("m4oe.tiny", centers=["A", "B"])
    assert net.moe and all(len(layer.experts) == len(spec.contract.modalities) for layer in net.moe)
    assert net.routers == ["A", "B"]
    images = torch.rand(2, 1, *spec.contract.slice_size)
    logits, aux, gates = net.forward_with_aux(images, ["A", "B"], torch.tensor([0, 2]))
    assert logits.shape == (2, spec.contract.num_outputs, *spec.contract.slice_size)
    assert set(aux) == {"balance", "modality"} and len(gates) == len(net.moe)
    usage = expert_usage(gates)
    assert usage.shape == (2, 3) and torch.allclose(usage.sum(-1), torch.ones(2))
    for method in ("no_experts", "unet"):
        base, _ = create_model("m4oe.tiny", method=method, centers=["A"])
        assert base.routers == [] and base.forward_with_aux(images, ["A", "A"])[1] == {}


def test_the_modality_loss_is_lowest_when_each_token_picks_its_modality_expert() -> None:
    right = torch.tensor([[[5.0, 0.0, 0.0]] * 4, [[0.0, 0.0, 5.0]] * 4])
    wrong = right.flip(-1)
    modality = torch.tensor([0, 2])
    assert modality_loss([right], modality) < 0.05 < modality_loss([wrong], modality)


def test_merge_targets_map_unlabelled_classes_to_background_or_their_labelled_parent() -> None:
    liver, tumor, spleen = (CONTRACT.classes.index(n) + 1 for n in ("liver", "liver_tumor", "spleen"))
    labelled = [True] + [False] * len(CONTRACT.classes)
    labelled[liver] = True
    targets = CONTRACT.merge_targets(labelled)
    assert targets[tumor] == liver and targets[spleen] == 0 and targets[liver] == liver
    labelled[liver] = False
    assert CONTRACT.merge_targets(labelled)[tumor] == 0


def test_the_marginal_loss_does_not_punish_an_organ_the_dataset_does_not_label() -> None:
    k = CONTRACT.num_outputs
    spleen = CONTRACT.classes.index("spleen") + 1
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, :4] = 1  # liver on the top half; the bottom half is background for this dataset
    as_spleen = torch.full((1, k, 8, 8), -5.0)
    as_spleen[0, 1, :4] = 5.0
    as_spleen[0, spleen, 4:] = 5.0  # the bottom half called spleen
    as_background = as_spleen.clone()
    as_background[0, spleen, 4:], as_background[0, 0, 4:] = -5.0, 5.0
    liver_only = torch.zeros(1, k, dtype=torch.bool)
    liver_only[0, :2] = True
    every = torch.ones(1, k, dtype=torch.bool)
    targets = [CONTRACT.merge_targets(liver_only[0].tolist())]
    assert torch.isclose(marginal_loss(as_spleen, labels, targets, liver_only),
                         marginal_loss(as_background, labels, targets, liver_only), atol=1e-4)
    targets = [CONTRACT.merge_targets(every[0].tolist())]
    assert marginal_loss(as_spleen, labels, targets, every) > marginal_loss(as_background, labels, targets, every) + 1


def test_synth_is_deterministic_and_writes_each_datasets_own_label_set(tmp_path: Path) -> None:
    runner.synth(tmp_path / "a", center="C", cases=2, seed=3)
    runner.synth(tmp_path / "b", center="C", cases=2, seed=3)
    doc = json.loads((tmp_path / "a" / "dataset.json").read_text())
    assert doc["family"] == "m4oe" and doc["labels"] == {"0": "background", "1": "liver", "2": "liver_tumor"}
    for entry in doc["training"] + doc["test"]:
        for key in ("image", "label"):
            a = np.asarray(nib.load(tmp_path / "a" / entry[key]).dataobj)
            b = np.asarray(nib.load(tmp_path / "b" / entry[key]).dataobj)
            assert np.array_equal(a, b)
    stack = prepare(load_dataset(tmp_path / "a")[0], CONTRACT)
    tumor = CONTRACT.classes.index("liver_tumor") + 1
    assert stack.labelled.nonzero().flatten().tolist() == [0, 1, tumor]
    assert set(stack.labels.unique().tolist()) <= {0, 1, tumor} and stack.images.shape[1:] == (1, 64, 64)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("family"), "field 'family' must be 'm4oe'"),
    (lambda d: d.update(labels=[]), "field 'labels' must map"),
    (lambda d: d["training"][0].pop("modality"), "has no 'modality'"),
    (lambda d: d["training"][0].update(label="nowhere.nii.gz"), "label file"),
])
def test_the_loader_names_what_is_wrong(tmp_path: Path, edit, message: str) -> None:
    runner.synth(tmp_path / "d", center="A", cases=2, seed=0)
    path = tmp_path / "d" / "dataset.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=message):
        load_dataset(tmp_path / "d")


def test_a_case_of_a_modality_the_model_does_not_know_is_refused(tmp_path: Path) -> None:
    runner.synth(tmp_path / "d", center="A", cases=1, seed=0)
    case = load_dataset(tmp_path / "d")[0]
    with pytest.raises(ValueError, match="the model knows"):
        prepare(case, M4oEContract(modalities=("t1", "t2")))


def test_slices_are_the_same_whatever_the_files_orientation(tmp_path: Path) -> None:
    runner.synth(tmp_path / "d", center="A", cases=1, seed=0)
    case = load_dataset(tmp_path / "d")[0]
    for key in ("image", "label"):  # the same volumes stored left-right and front-back flipped (LPS)
        path = case.image if key == "image" else case.label
        img = nib.load(path)
        affine = img.affine @ np.diag([-1.0, -1.0, 1.0, 1.0]) @ _shift(img.shape)
        flipped = nib.Nifti1Image(np.asarray(img.dataobj)[::-1, ::-1].copy(), affine)
        nib.save(flipped, tmp_path / f"flipped_{key}.nii.gz")
    moved = type(case)(case.case_id, case.split, tmp_path / "flipped_image.nii.gz", case.modality,
                       tmp_path / "flipped_label.nii.gz", case.label_names)
    a, b = prepare(case, CONTRACT), prepare(moved, CONTRACT)
    assert torch.allclose(a.images, b.images, atol=1e-5) and torch.equal(a.labels, b.labels)


def _shift(shape: tuple[int, ...]) -> np.ndarray:
    """Voxel i of the flipped array is voxel n-1-i of the original, for the first two axes."""
    t = np.eye(4)
    t[0, 3], t[1, 3] = -(shape[0] - 1), -(shape[1] - 1)
    return t


@pytest.mark.slow
def test_tiny_training_runs_end_to_end_and_predicts_in_the_input_geometry(tmp_path: Path) -> None:
    for center in ("A", "C"):
        runner.synth(tmp_path / center, center=center, cases=3, seed=0)
    spec = create_model("m4oe.tiny", centers=["A"])[1]
    model, history = runner.train(spec, [tmp_path / "A", tmp_path / "C"], ["A", "C"], method="m4oe", steps=3,
                                  lr=1e-3, seed=0, device=torch.device("cpu"))
    assert isinstance(model, M4oENet) and np.isfinite(history["summary"]["loss"])
    report = runner.evaluate(model, spec, tmp_path / "C", center="C", device=torch.device("cpu"))
    assert set(report["summary"]) >= {"dice", "dice_liver", "dice_t1"}
    assert set(report["expert_usage"]) == {"t1"} and abs(sum(report["expert_usage"]["t1"]) - 1) < 1e-5
    rows = runner.predict(model, spec, tmp_path / "C", tmp_path / "out", center="C", device=torch.device("cpu"))
    source = nib.load(load_dataset(tmp_path / "C")[0].image)
    written = nib.load(rows[0]["file"])
    assert written.shape == source.shape and np.allclose(written.affine, source.affine)
    assert json.loads((tmp_path / "out" / "labels.json").read_text())["1"] == "liver"
