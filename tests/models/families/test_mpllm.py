"""mpLLM family: Appendix A descriptors on analytic shapes, the VQA protocol, eq. 1, weights and groups, and the
runner from synthetic data to an answer."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from models.evaluation.descriptors_report import ptv_descriptors
from models.families.mpllm import runner
from models.families.mpllm.descriptors import describe_mask
from models.families.mpllm.findings import NOT_FOUND, label_findings, regions_of, volume_class
from models.families.mpllm.lm import WordTokenizer, build_tokenizer, protocol_vocabulary
from models.families.mpllm.surface import surface_area
from models.families.mpllm.templates import MULTITASK, TASKS
from models.families.mpllm.vqa import case_qa, head_targets, parse_answer
from models.groups import shareable_tensors, tensor_groups
from models.registry import create_model
from models.weights import load_model_dir, save_model_dir

torch.set_num_threads(1)


def grid(n: int = 41) -> np.ndarray:
    half = n // 2
    return np.mgrid[-half:half + 1, -half:half + 1, -half:half + 1].astype(float)


def ellipsoid(a: float, b: float, c: float, spacing=(1.0, 1.0, 1.0), n: int = 41) -> np.ndarray:
    x, y, z = grid(n) * np.asarray(spacing)[:, None, None, None]
    return (x / a) ** 2 + (y / b) ** 2 + (z / c) ** 2 <= 1.0


# -- descriptors (Appendix A) ------------------------------------------------------------------------

def test_single_voxel_surface_is_the_marching_cubes_octahedron_for_any_spacing() -> None:
    mask = np.zeros((3, 3, 3), dtype=bool)
    mask[1, 1, 1] = True
    sx, sy, sz = 1.0, 2.0, 3.0
    # eight triangles with corners at the half-spacing points of the three axes
    expected = 8 * 0.5 * math.sqrt((sy * sz / 4) ** 2 + (sx * sz / 4) ** 2 + (sx * sy / 4) ** 2)
    assert surface_area(mask, (sx, sy, sz)) == pytest.approx(expected)
    assert surface_area(mask) == pytest.approx(math.sqrt(3))


def test_sphere_is_round_with_sphericity_near_one() -> None:
    mask = ellipsoid(10, 10, 10)
    d = describe_mask(mask, (1.0, 1.0, 1.0))
    assert d.volume_mm3 == mask.sum()
    assert d.volume_mm3 == pytest.approx(4 / 3 * math.pi * 1000, rel=0.02)
    assert 0.9 < d.sphericity <= 1.0
    assert d.elongation == pytest.approx(1.0, abs=0.02) and d.flatness == pytest.approx(1.0, abs=0.02)
    assert d.compactness == pytest.approx(d.components[0].area_mm2 / d.volume_mm3)
    assert (d.n_components, d.spread, d.shape) == (1, "single lesion", "round")


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (1.5, 1.0, 1.25)])
def test_ellipsoid_elongation_and_flatness_follow_its_axes(spacing) -> None:
    # a solid ellipsoid's coordinate covariance is diag(a^2, b^2, c^2) / 5: E = a / b, F = c / b
    mask = ellipsoid(24, 8, 6, spacing, n=51)
    d = describe_mask(mask, spacing)
    assert d.elongation == pytest.approx(3.0, rel=0.03)
    assert d.flatness == pytest.approx(6 / 8, rel=0.03)
    assert d.volume_mm3 == mask.sum() * np.prod(spacing)
    assert d.volume_mm3 == pytest.approx(4 / 3 * math.pi * 24 * 8 * 6, rel=0.03)
    assert d.shape == "elongated" and d.sphericity < 0.85


def test_two_disjoint_blobs_spread_and_aggregation() -> None:
    x, y, z = grid()
    big = (x - 9) ** 2 + y**2 + z**2 <= 36
    small = (x + 12) ** 2 + y**2 + z**2 <= 4
    d = describe_mask(big | small)
    assert d.n_components == 2
    assert d.core_fraction == pytest.approx(big.sum() / (big | small).sum())
    assert d.core_fraction >= 0.7 and d.spread == "core with satellite lesions"
    core = max(d.components, key=lambda c: c.volume_mm3)
    assert d.sphericity == core.sphericity  # core metrics when f_core >= 0.7
    twin = (x + 9) ** 2 + y**2 + z**2 <= 36
    even = describe_mask(big | twin)
    assert even.spread == "scattered lesions" and even.core_fraction == pytest.approx(0.5)
    assert even.sphericity == pytest.approx(np.mean([c.sphericity for c in even.components]))
    report = ptv_descriptors(big | small, (1.0, 1.0, 1.0))
    assert report["spread"] == 2 and report["volume_ml"] == pytest.approx((big | small).sum() / 1000)
    assert ptv_descriptors(np.zeros((4, 4, 4)), (1.0, 1.0, 1.0))["spread"] == 0


def test_diagonal_neighbours_are_one_component_and_tiny_masks_are_foci() -> None:
    mask = np.zeros((5, 5, 5), dtype=bool)
    mask[1, 1, 1] = mask[2, 2, 2] = mask[3, 3, 3] = True  # 26-connected only through corners
    d = describe_mask(mask, (2.0, 2.0, 2.0))
    assert d.n_components == 1 and d.volume_mm3 == 24.0
    assert d.shape == "focus"  # 24 mm^3 < 0.1 cm^3
    assert describe_mask(np.zeros((4, 4, 4))) is None


def test_volume_classes_and_regions() -> None:
    assert volume_class(99, 10_000) == "<1%"
    assert volume_class(100, 10_000) == "1-5%"
    assert volume_class(1_000, 10_000) == "10-25%"
    assert volume_class(8_000, 10_000) == "50-75%"
    atlas = np.zeros((4, 4, 4), dtype=np.uint8)
    atlas[:2] = 1  # frontal
    atlas[2:] = 8  # cerebellum
    mask = np.zeros_like(atlas, dtype=bool)
    mask[1:3, 0, 0] = True
    assert regions_of(mask, atlas) == ["frontal", "cerebellum"]
    absent = label_findings("edema", np.zeros_like(mask), atlas > 0, atlas, (1.0, 1.0, 1.0))
    assert (absent.volume, absent.shape, absent.spread, absent.regions) == (NOT_FOUND, NOT_FOUND, NOT_FOUND, ())


# -- VQA protocol -------------------------------------------------------------------------------------

def _findings():
    x, y, z = grid(21)
    atlas = np.where(x < 0, 1, 4).astype(np.uint8)
    lesion = (x**2 + y**2 + z**2 <= 16) | ((x - 8) ** 2 + y**2 + z**2 <= 1)
    brain = np.ones_like(atlas, dtype=bool)
    return [label_findings("necrotic core", lesion, brain, atlas, (1.0, 1.0, 1.0)),
            label_findings("edema", np.zeros_like(lesion), brain, atlas, (1.0, 1.0, 1.0))]


def test_question_set_per_label_follows_the_protocol_and_answers_read_back() -> None:
    pairs = case_qa(_findings(), seed=3)
    assert len(pairs) == 12
    for label in ("necrotic core", "edema"):
        mine = [p for p in pairs if p.label == label]
        assert [p.kind for p in mine] == ["multi"] * 4 + ["partial", "oos"]
        multi = [p.tasks for p in mine[:4]]
        assert len(set(multi)) == 4 and set().union(*multi) == set(TASKS)
        assert all(label in p.question for p in mine)
    for pair in pairs:
        parsed = parse_answer(pair.answer)
        for task in TASKS:
            truth = pair.targets[task]
            assert (parsed[task] if task != "region" else parsed[task] or None) == truth, (pair.answer, task)
        assert parsed["out_of_scope"] == pair.targets["out_of_scope"] == (pair.kind != "multi")
    core = next(p for p in pairs if p.label == "necrotic core" and "region" in p.tasks)
    assert "frontal and temporal" in core.answer  # alphabetical "a and b" (seed Table 5)
    edema = next(p for p in pairs if p.label == "edema" and "volume" in p.tasks)
    assert "is N/A" in edema.answer and head_targets(edema)["volume"] == 1


def test_question_set_is_deterministic_per_seed() -> None:
    findings = _findings()
    first = [p.to_dict() for p in case_qa(findings, seed=5)]
    assert first == [p.to_dict() for p in case_qa(findings, seed=5)]
    assert first != [p.to_dict() for p in case_qa(findings, seed=6)]


def test_templates_are_the_seed_s_fifteen_combinations_and_tokenise_without_unknowns() -> None:
    combos = [tasks for tasks, _, _ in MULTITASK]
    assert len(combos) == 15 and len(set(combos)) == 15
    tokenizer = WordTokenizer(protocol_vocabulary())
    for pair in case_qa(_findings(), seed=0):
        ids = tokenizer.encode(pair.question + " " + pair.answer)
        assert tokenizer.unk_id not in ids
    assert tokenizer.encode("zebra") == [tokenizer.unk_id]


# -- network ------------------------------------------------------------------------------------------

def _questions(tokenizer, texts):
    from models.families.mpllm.batches import encode_questions

    return encode_questions(texts, tokenizer, 48)


def test_router_weights_depend_on_the_question_and_eq1_holds() -> None:
    torch.manual_seed(0)
    net, spec = create_model("mpllm.tiny", centers=["A"])
    net.eval()
    tokenizer = build_tokenizer(spec.architecture["lm"], spec.contract.vocab)
    ids, mask = _questions(tokenizer, ["What is the shape of edema?", "Where in the brain is necrotic core found?"])
    v = net.encode(torch.randn(1, 4, *spec.contract.image_size))
    state = net.question_state(ids, mask)
    tokens, pi_h = net.projector(v, torch.zeros(2, dtype=torch.long), state, ["A", "A"])
    assert torch.allclose(pi_h.sum(-1), torch.ones(2))
    assert not torch.allclose(pi_h[0], pi_h[1], atol=1e-4)
    assert not torch.allclose(tokens[0], tokens[1], atol=1e-4)
    # eq. 1 written out term by term
    ex = net.projector.experts
    pi_l = ex.low_level_weights(v)[0]  # [N, M, P]
    expected = torch.zeros_like(tokens[0])
    for n in range(pi_h.shape[1]):
        for m in range(v.shape[1]):
            specific = v[0, m] @ ex.specific_w[n, m] + ex.specific_b[n, m]
            shared = v[0, m] @ ex.shared_w[n] + ex.shared_b[n]
            w = pi_l[n, m][:, None]
            expected += pi_h[0, n] * (w * specific + (1 - w) * shared)
    assert torch.allclose(tokens[0], expected, atol=1e-5)
    modality_level = pi_l[0]  # expert 0 is modality-level: one weight per sequence, the same at every position
    assert torch.allclose(modality_level, modality_level[:, :1].expand_as(modality_level))


def test_weights_round_trip_and_groups(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net, spec = create_model("mpllm.tiny", centers=["A", "B"])
    net.add_center("D", init_from="A")
    save_model_dir(net, spec, tmp_path / "m", version="1.0")
    loaded, _, manifest = load_model_dir(tmp_path / "m")
    assert loaded.routers == ["A", "B", "D"] and manifest.shareable_groups == ["experts"]
    for key, tensor in net.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[key]), key
    groups = tensor_groups(net, "mpllm")
    assert {g for g in groups.values()} == {"encoder", "lm", "heads", "experts", "router.A", "router.B", "router.D"}
    shared = set(shareable_tensors(net, centers=["D"], family="mpllm"))
    assert shared == {n for n, g in groups.items() if g in ("experts", "router.D")}
    assert any(n.startswith("projector.experts.low1") for n in shared)  # low-level routers travel with experts
    baseline, _ = create_model("mpllm.tiny", method="single_projection", centers=["A"])
    assert baseline.routers == [] and {tensor_groups(baseline, "mpllm")[n] for n in baseline.state_dict()} == {
        "encoder", "lm", "heads", "experts"}


# -- runner -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("mpllm")
    return [root / c for c in ("A", "C") if runner.synth(root / c, center=c, cases=3, seed=2)["test"] == 1]


def test_synth_is_deterministic_and_its_findings_match_the_written_masks(datasets, tmp_path: Path) -> None:
    runner.synth(tmp_path / "again", center="A", cases=3, seed=2)
    first = json.loads((datasets[0] / "dataset.json").read_text())
    assert first == json.loads((tmp_path / "again" / "dataset.json").read_text())
    case = first["training"][0]
    label = nib.load(datasets[0] / case["label"])
    t1 = np.asarray(nib.load(datasets[0] / case["images"]["t1"]).dataobj)
    atlas = np.asarray(nib.load(datasets[0] / first["atlas"]).dataobj)
    spacing = tuple(float(s) for s in label.header.get_zooms())
    for value, name in ((1, "necrotic core"), (2, "enhancing tumor"), (3, "edema")):
        again = label_findings(name, np.asarray(label.dataobj) == value, t1 > 0, atlas, spacing)
        assert again.to_dict() == next(f for f in case["findings"] if f["label"] == name)
    assert {m: Path(p).name.split("_")[1] for m, p in case["images"].items()} == {
        m: f"{m}.nii.gz" for m in ("t1", "t1c", "t2", "flair")}


def test_load_dataset_names_what_is_wrong(datasets, tmp_path: Path) -> None:
    doc = json.loads((datasets[0] / "dataset.json").read_text())
    doc["training"][0]["images"]["flair"] = "imagesTr/missing.nii.gz"
    bad = tmp_path / "bad"
    shutil.copytree(datasets[0], bad)
    (bad / "dataset.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="flair"):
        runner.load_dataset(bad)
    (bad / "dataset.json").write_text(json.dumps({**doc, "family": "mome_ro"}))
    with pytest.raises(ValueError, match="family"):
        runner.load_dataset(bad)


def test_train_evaluate_finetune_and_ask(datasets, tmp_path: Path) -> None:
    from models.registry import get_spec

    spec, cpu = get_spec("mpllm.tiny"), torch.device("cpu")
    model, history = runner.train(spec, datasets, ["A", "C"], method="mpllm", steps=3, lr=1e-3, seed=0, device=cpu)
    assert model.routers == ["A", "C"] and len(history["losses"]) == 3
    report = runner.evaluate(model, spec, datasets[1], center="C", device=cpu)
    for key in ("volume", "region", "shape", "spread", "mean", "out_of_scope", "region_f1"):
        low, high = report["summary"][key]["ci"]
        assert low <= report["summary"][key]["mean"] <= high
    assert report["readout"] == "heads" and "answer_summary" in report
    ranking = runner.select_router(model, spec, datasets[1], shots=1, device=cpu)
    assert {r["router"] for r in ranking} == {"A", "C"}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tuned, outcome = runner.finetune(model, spec, datasets[1], center="D", shots=1, steps=2, init_from="C", seed=0,
                                     device=cpu)
    changed = {k for k, v in tuned.state_dict().items() if k not in before or not torch.equal(v, before[k])}
    groups = tensor_groups(tuned, "mpllm")
    assert {groups[k] for k in changed} == {"router.D", "experts"}
    assert len(outcome["cases"]) == 1 and set(outcome["before"]) == set(outcome["after"])
    case = json.loads((datasets[1] / "dataset.json").read_text())["test"][0]
    images = {m: datasets[1] / p for m, p in case["images"].items()}
    reply = runner.ask(tuned, spec, images, "What treatment would you recommend for edema?", center="D", device=cpu)
    assert isinstance(reply["answer"], str) and isinstance(reply["refused"], bool)
    assert reply["scope"] in ("in scope", "partly out of scope", "out of scope") and len(reply["routing"]) == 4
    rows = runner.predict(tuned, spec, datasets[1], tmp_path / "pred", center="D", device=cpu)
    answers = json.loads((tmp_path / "pred" / "answers.json").read_text())["answers"]
    assert len(answers) == sum(r["questions"] for r in rows) == 3 * 18
