"""train -> select-router -> finetune -> evaluate -> predict on tiny synthetic centers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from models.data.dataset import load_dataset
from models.groups import tensor_groups
from models.registry import note_encoder
from models.training.evaluate import evaluate_samples
from models.training.finetune import FINETUNE_DEFAULTS, finetune_center
from models.training.loop import TrainSettings
from models.training.samples import load_samples
from models.training.select_router import rank_routers
from models.training.train import train_multicenter
from models.weights import load_model_dir
from site_agent.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def finetuned(base_model: Path, centers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ft") / "site-D"
    # Start from C's router: C's margin and nodal policy differ from D's, so D's cases must teach it.
    result = finetune_center(base_model, centers["D"], out, center="D", shots=2, init_router="C",
                             settings=replace(FINETUNE_DEFAULTS, steps=40, val_every=10, lr=3e-3))
    return out, result


def test_finetuned_router_scores_higher_than_its_starting_router_on_its_own_cases(
    base_model: Path, finetuned, centers: dict[str, Path]
) -> None:
    out, result = finetuned
    base, spec, _ = load_model_dir(base_model)
    tuned, _, manifest = load_model_dir(out)
    enc = note_encoder(spec)
    cases = [c for c in load_dataset(centers["D"]).training if c.case_id in set(manifest.lineage.cases)]
    samples = load_samples(cases, spec.contract, center="D")
    before = evaluate_samples(base, spec, enc, samples, router="C", model_version="base", n_resamples=10)
    after = evaluate_samples(tuned, spec, enc, samples, router="D", model_version="ft", n_resamples=10)
    assert after.dice.mean > before.dice.mean


def test_finetuning_keeps_encoder_and_other_routers_and_records_lineage(base_model: Path, finetuned) -> None:
    out, result = finetuned
    base, _, base_manifest = load_model_dir(base_model)
    tuned, _, manifest = load_model_dir(out)
    groups = tensor_groups(tuned)
    b, t = base.state_dict(), tuned.state_dict()
    for name, group in groups.items():
        if group in ("encoder", "router.A", "router.C"):
            assert torch.equal(b[name], t[name]), name
    assert any(not torch.equal(b[n], t[n]) for n, g in groups.items() if g == "experts")
    assert tuned.routers == ["A", "C", "D"]
    assert manifest.lineage.base_version == base_manifest.version
    assert manifest.lineage.init_router == "C"
    assert manifest.lineage.shots == 2 and len(manifest.lineage.cases) == 3
    assert set(result.shots) | {result.val_case} == set(manifest.lineage.cases)
    assert not set(result.held_out) & set(manifest.lineage.cases)


def test_router_selection_runs_the_encoder_once_per_window(base_model: Path, centers: dict[str, Path]) -> None:
    model, spec, _ = load_model_dir(base_model)
    enc = note_encoder(spec)
    samples = load_samples(load_dataset(centers["D"]).training[:2], spec.contract, center="D")
    calls = []
    original = model.encode
    model.encode = lambda x: calls.append(1) or original(x)  # type: ignore[method-assign]
    shared = rank_routers(model, spec, enc, samples, shared_encoder=True)
    n_shared = len(calls)
    calls.clear()
    naive = rank_routers(model, spec, enc, samples, shared_encoder=False)
    assert len(calls) == n_shared * len(model.routers)
    assert [s.router for s in shared.scores] == [s.router for s in naive.scores]
    for a, b in zip(shared.scores, naive.scores, strict=True):
        assert a.mean_dice == pytest.approx(b.mean_dice, abs=1e-6)


def test_select_router_cli_json_ranks_every_router(base_model: Path, centers: dict[str, Path]) -> None:
    result = invoke("select-router", "--model", base_model, "--data", centers["D"], "--cases", 2, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert sorted(r["router"] for r in payload["ranking"]) == ["A", "C"]
    dices = [r["mean_dice"] for r in payload["ranking"]]
    assert dices == sorted(dices, reverse=True) and payload["best"] == payload["ranking"][0]["router"]


def test_evaluate_cli_reports_cis_activations_and_skips_used_cases(finetuned, centers: dict[str, Path]) -> None:
    out, result = finetuned
    res = invoke("evaluate", "--model", out, "--data", centers["D"], "--resamples", 50, "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["router"] == "D"
    assert sorted(c["case_id"] for c in report["cases"]) == sorted(result.held_out)
    assert report["dice"]["ci_low"] <= report["dice"]["mean"] <= report["dice"]["ci_high"]
    assert set(report["expert_activation"]) == {"level0", "level1", "level2"}


def test_predict_writes_masks_in_the_input_geometry(finetuned, centers: dict[str, Path], tmp_path: Path) -> None:
    out, _ = finetuned
    case = load_dataset(centers["D"]).training[0]
    res = invoke("predict", "--model", out, "--image", case.image, "--note", case.clinical, "--out", tmp_path,
                 "--json")
    assert res.exit_code == 0, res.output
    written = json.loads(res.stdout)["written"]
    mask, image = nib.load(written[0]), nib.load(case.image)
    assert mask.shape == image.shape
    assert np.allclose(mask.affine, image.affine)
    values = set(np.unique(np.asarray(mask.dataobj)).tolist())
    assert values <= {0, 1} and 1 in values


def test_training_resumes_from_its_checkpoint(centers: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "model"
    settings = replace(TrainSettings(), steps=8, val_every=3, lr=3e-3)

    class Stop(Exception):
        pass

    def stop_at_5(step: int, loss: float, val: float | None) -> None:
        if step == 5:
            raise Stop

    with pytest.raises(Stop):
        train_multicenter([centers["A"]], out, config_name="mome_ro.tiny", settings=settings, on_step=stop_at_5)
    assert not out.exists()
    assert (tmp_path / ".model.checkpoint" / "model" / "manifest.json").is_file()
    steps: list[int] = []
    manifest, _ = train_multicenter([centers["A"]], out, config_name="mome_ro.tiny", settings=settings, resume=True,
                                    on_step=lambda s, loss, v: steps.append(s))
    assert steps == [4, 5, 6, 7, 8]
    assert (out / "manifest.json").is_file() and not (tmp_path / ".model.checkpoint").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["finetune", "--center", "D", "--model", "missing", "--data", ".", "--out", "x"], "not a model directory"),
        (["train", "--data", "nowhere", "--out", "x", "--method", "magic"], "--method must be one of"),
        (["select-router", "--model", "missing", "--data", "."], "not a model directory"),
        (["predict", "--model", "m", "--out", "o"], "give either --data DIR or --image FILE"),
    ],
)
def test_expected_errors_are_one_sentence_and_exit_2(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("flag", "structured"), [([], True), (["--text-only"], False)])
def test_train_reads_the_parsed_note_by_default_and_text_only_on_request(
    centers: dict[str, Path], tmp_path: Path, flag: list[str], structured: bool
) -> None:
    out = tmp_path / "m"
    result = invoke("train", "--data", centers["A"], "--out", out, "--config", "mome_ro.tiny", "--steps", "1",
                    "--threads", "1", "--json", *flag)
    assert result.exit_code == 0, result.output
    model, spec, _ = load_model_dir(out)
    assert spec.structured_note is structured and (model.parsed_note_dim > 0) is structured
