"""``predict`` refuses, in one sentence naming the file, inputs the model was not built for; --force overrides."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from models.data.synthetic.generator import synthesize_case
from models.data.synthetic.presets import load_preset
from site_agent.cli import app

NOTE = "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6"


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # newer Click keeps stderr apart already
        return CliRunner()


@pytest.fixture(scope="module")
def ct() -> tuple[np.ndarray, np.ndarray]:
    case = synthesize_case(load_preset("D"), 0, 2, scale=0.5, spacing_override=(3.0, 3.0, 4.0))
    return case.ct, case.affine


def _predict(model: Path, image: Path, out: Path, *extra: str):
    return _runner().invoke(app, ["predict", "--model", str(model), "--image", str(image), "--note", NOTE,
                                  "--out", str(out), *extra])


def _one_nan(data: np.ndarray) -> np.ndarray:
    out = data.astype(np.float32)
    out[5, 6, 7] = np.nan
    return out


def _error(result) -> str:
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("make, needle", [
    (lambda ct: np.random.default_rng(0).uniform(0, 1500, ct.shape).astype(np.float32), "does not look like a CT"),
    (lambda ct: ct[10:14, 10:15, 5:12], "less than a pelvic field of view"),
])
def test_unlike_a_pelvic_ct_is_refused_unless_forced(untrained_model: Path, ct, tmp_path: Path, make,
                                                     needle: str) -> None:
    image = tmp_path / "scan.nii.gz"
    nib.save(nib.Nifti1Image(make(ct[0]), ct[1]), image)

    refused = _predict(untrained_model, image, tmp_path / "out")

    assert refused.exit_code == 2, refused.output
    assert needle in _error(refused) and str(image) in _error(refused) and "pass --force" in _error(refused)
    assert "Traceback" not in refused.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize("damage, needle", [
    (lambda p, ct: nib.save(nib.Nifti1Image(ct[0][..., None].repeat(2, axis=3), ct[1]), p), "3D volume"),
    (lambda p, ct: nib.save(nib.Nifti1Image(_one_nan(ct[0]), ct[1]), p), "1 NaN or infinite voxel"),
    (lambda p, ct: p.write_bytes(p.read_bytes()[:-16]), "truncated or corrupt"),
])
def test_unusable_files_are_refused_even_with_force(untrained_model: Path, ct, tmp_path: Path, damage,
                                                    needle: str) -> None:
    image = tmp_path / "scan.nii.gz"
    nib.save(nib.Nifti1Image(ct[0], ct[1]), image)
    damage(image, ct)

    refused = _predict(untrained_model, image, tmp_path / "out", "--force")

    assert refused.exit_code == 2, refused.output
    assert needle in _error(refused) and str(image) in _error(refused)
    assert "Traceback" not in refused.output and len(refused.stderr.strip().splitlines()) == 1


def test_force_warns_and_predicts_in_the_input_geometry(untrained_model: Path, ct, tmp_path: Path) -> None:
    image = tmp_path / "small.nii.gz"
    nib.save(nib.Nifti1Image(ct[0][4:20, 4:20, 2:12], ct[1]), image)

    forced = _predict(untrained_model, image, tmp_path / "out", "--force", "--json")

    assert forced.exit_code == 0, forced.output
    assert "warning:" in forced.stderr and "predicting anyway (--force)" in _error(forced)
    assert nib.load(tmp_path / "out" / "small.nii.gz").shape == (16, 16, 10)


def test_masks_already_in_out_are_refused_before_any_work(untrained_model: Path, ct, tmp_path: Path) -> None:
    image = tmp_path / "scan.nii.gz"
    nib.save(nib.Nifti1Image(ct[0], ct[1]), image)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "scan.nii.gz").write_bytes(b"an earlier mask")

    refused = _predict(Path("no-model-needed"), image, tmp_path / "out")

    assert refused.exit_code == 2 and "already holds scan.nii.gz" in _error(refused)
    assert "pass --overwrite" in _error(refused)
    assert (tmp_path / "out" / "scan.nii.gz").read_bytes() == b"an earlier mask"


def test_an_image_without_a_note_is_predicted_with_a_warning(untrained_model: Path, ct, tmp_path: Path) -> None:
    image = tmp_path / "scan.nii.gz"
    nib.save(nib.Nifti1Image(ct[0], ct[1]), image)

    result = _runner().invoke(app, ["predict", "--model", str(untrained_model), "--image", str(image), "--out",
                                    str(tmp_path / "out"), "--no-review"])

    assert result.exit_code == 0, result.output
    assert "no --note" in _error(result) and "image alone" in _error(result)
    assert (tmp_path / "out" / "scan.nii.gz").is_file() and "wrote 1 masks" in result.stdout


def test_ctrl_c_keeps_the_complete_masks_and_says_which(untrained_model: Path, ct, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import models.training.predict as predict_module

    data = tmp_path / "data"
    (data / "imagesTs").mkdir(parents=True)
    for cid in ("p1", "p2", "p3"):
        nib.save(nib.Nifti1Image(ct[0], ct[1]), data / "imagesTs" / f"{cid}.nii.gz")
    (data / "dataset.json").write_text(
        '{"name": "x", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "PTV"}, "training": [], '
        '"test": [' + ", ".join(f'{{"image": "./imagesTs/{c}.nii.gz", "clinical": "{NOTE}"}}'
                                for c in ("p1", "p2", "p3")) + "]}")
    real, calls = predict_module.predict_to_nifti, []

    def stop_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(predict_module, "predict_to_nifti", stop_on_second)

    result = _runner().invoke(app, ["predict", "--model", str(untrained_model), "--data", str(data), "--out",
                                    str(tmp_path / "out")])

    assert result.exit_code == 130
    line = [x for x in result.stderr.splitlines() if "interrupted" in x]
    assert len(line) == 1 and "after 1 of 3 cases" in line[0] and "p1.nii.gz" in line[0]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.nii.gz")) == ["p1.nii.gz"]
    assert not (tmp_path / "out" / "review" / "review.pdf").exists()
