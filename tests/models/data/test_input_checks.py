"""Input checks: every voxel read; unusable files are hard problems, non-pelvic-CT-like files soft ones."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from models.data.input_checks import check_for_model, mask_problem
from models.data.synthetic.generator import synthesize_case
from models.data.synthetic.presets import load_preset

TINY_SPACING = (4.0, 4.0, 6.0)  # mome_ro.tiny's contract


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    """A small synthetic pelvic CT (120 x 99 x 76 mm), as int16 HU with its affine."""
    case = synthesize_case(load_preset("D"), 0, 1, scale=0.5, spacing_override=(3.0, 3.0, 4.0))
    return case.ct, case.affine


def _save(tmp_path: Path, data: np.ndarray, affine: np.ndarray, name: str = "ct.nii.gz") -> Path:
    path = tmp_path / name
    nib.save(nib.Nifti1Image(data, affine), path)
    return path


def test_a_pelvic_ct_passes(ct, tmp_path: Path) -> None:
    found = check_for_model(_save(tmp_path, *ct), spacing=TINY_SPACING)

    assert found.hard == [] and found.soft == []


def test_one_nan_voxel_is_a_hard_problem(ct, tmp_path: Path) -> None:
    data = ct[0].astype(np.float32)
    data[3, 4, 5] = np.nan

    found = check_for_model(_save(tmp_path, data, ct[1]), spacing=TINY_SPACING)

    assert len(found.hard) == 1 and "1 NaN or infinite voxel" in found.hard[0] and "ct.nii.gz" in found.hard[0]


@pytest.mark.parametrize("name", ["ct.nii.gz", "ct.nii"])
def test_a_truncated_file_is_a_hard_problem(ct, tmp_path: Path, name: str) -> None:
    path = _save(tmp_path, *ct, name=name)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    found = check_for_model(path, spacing=TINY_SPACING)

    assert len(found.hard) == 1 and "truncated or corrupt" in found.hard[0] and str(path) in found.hard[0]


def test_a_4d_file_is_a_hard_problem(ct, tmp_path: Path) -> None:
    found = check_for_model(_save(tmp_path, ct[0][..., None].repeat(2, axis=3), ct[1]), spacing=TINY_SPACING)

    assert len(found.hard) == 1 and "4D" in found.hard[0] and "3D volume" in found.hard[0]


def test_an_mri_like_volume_is_not_a_ct(tmp_path: Path, ct) -> None:
    brain = np.random.default_rng(0).uniform(0, 1500, size=ct[0].shape).astype(np.float32)

    found = check_for_model(_save(tmp_path, brain, ct[1]), spacing=TINY_SPACING)

    assert found.hard == [] and len(found.soft) == 1 and "does not look like a CT" in found.soft[0]


def test_a_ct_without_bone_is_not_a_pelvic_ct(tmp_path: Path, ct) -> None:
    found = check_for_model(_save(tmp_path, np.clip(ct[0], None, 100), ct[1]), spacing=TINY_SPACING)

    assert len(found.soft) == 1 and "bone" in found.soft[0]


def test_a_tiny_volume_is_not_a_pelvic_field_of_view(tmp_path: Path, ct) -> None:
    found = check_for_model(_save(tmp_path, ct[0][10:14, 10:15, 5:12], ct[1]), spacing=TINY_SPACING)

    assert any("pelvic field of view" in s and "12 x 15 x 28 mm" in s for s in found.soft)


def test_a_spacing_far_from_the_contract_is_refused(tmp_path: Path, ct) -> None:
    coarse = np.diag([30.0, 30.0, 40.0, 1.0])

    found = check_for_model(_save(tmp_path, ct[0], coarse), spacing=TINY_SPACING)

    assert any("voxel spacing of 30.00 x 30.00 x 40.00 mm" in s and "4 x 4 x 6 mm" in s for s in found.soft)


def test_mask_problem_names_unreadable_and_non_finite_masks(tmp_path: Path, ct) -> None:
    mask = (ct[0] > 0).astype(np.float32)
    good = _save(tmp_path, mask, ct[1], "good.nii.gz")
    mask[0, 0, 0] = np.inf
    bad = _save(tmp_path, mask, ct[1], "bad.nii.gz")

    assert mask_problem(good, "organ") is None
    assert "organ file" in str(mask_problem(bad, "organ")) and "infinite" in str(mask_problem(bad, "organ"))


@pytest.mark.parametrize("damage, needle", [
    (lambda p, ct: nib.save(nib.Nifti1Image(ct[0][..., None].repeat(2, axis=3), ct[1]), p), "3D volume"),
    (lambda p, ct: p.write_bytes(p.read_bytes()[:-16]), "truncated or corrupt"),
    (lambda p, ct: nib.save(nib.Nifti1Image(np.where(ct[0] == ct[0].max(), np.nan, ct[0]).astype(np.float32),
                                            ct[1]), p), "NaN or infinite"),
])
def test_preprocessing_refuses_unusable_images_in_one_sentence(ct, tmp_path: Path, damage, needle: str) -> None:
    from models.config import PreprocessingContract
    from models.data.dataset import Case
    from models.data.input_checks import InputError
    from models.data.preprocessing import load_case_arrays

    path = _save(tmp_path, *ct)
    damage(path, ct)
    case = Case("x001", path, None, None, None, "<Grade> 6 <Stage> cT1c, N0 <Metastasis> negative <Age> 60 <PSA> 5")

    with pytest.raises(InputError) as err:
        load_case_arrays(case, PreprocessingContract(spacing=TINY_SPACING, patch_size=(32, 32, 16)), with_label=False)

    assert needle in str(err.value) and str(path) in str(err.value)
