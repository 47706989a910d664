"""One volume saved as .nii.gz, .mha and .nrrd reads back as the same voxels on the same RAS grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from models.config import PreprocessingContract
from models.data.dataset import load_dataset
from models.data.image_io import load_image, save_image, with_ending_of
from models.data.input_checks import InputError, read_header
from models.data.preprocessing import load_case_arrays, write_prediction

ENDINGS = (".nii.gz", ".nii", ".mha", ".nrrd")


def _itk_volume() -> sitk.Image:
    """An oblique, anisotropic ITK image (LPS geometry) with distinct voxel values."""
    data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(6, 5, 4) - 100  # numpy (z, y, x)
    img = sitk.GetImageFromArray(data)
    img.SetSpacing((0.8, 1.1, 2.5))
    img.SetOrigin((-12.0, 30.5, 7.0))
    c, s = np.cos(0.3), np.sin(0.3)
    img.SetDirection((c, -s, 0.0, s, c, 0.0, 0.0, 0.0, -1.0))
    return img


def test_the_same_volume_in_every_format_gives_the_same_array_and_affine(tmp_path: Path) -> None:
    itk = _itk_volume()
    for ending in ENDINGS:  # ITK writes each format itself, NIfTI included (its own LPS -> RAS)
        sitk.WriteImage(itk, str(tmp_path / f"v{ending}"))

    loaded = {e: load_image(tmp_path / f"v{e}") for e in ENDINGS}

    ref = loaded[".nii.gz"]  # read by nibabel, independent of the .mha / .nrrd path
    assert ref.shape == (4, 5, 6)
    for ending, img in loaded.items():
        assert np.array_equal(np.asanyarray(img.dataobj), np.asanyarray(ref.dataobj)), ending
        assert np.allclose(img.affine, ref.affine, atol=1e-5), ending


def test_writing_keeps_the_geometry(tmp_path: Path) -> None:
    sitk.WriteImage(_itk_volume(), str(tmp_path / "v.nii.gz"))
    ref = load_image(tmp_path / "v.nii.gz")

    for ending in (".mha", ".nrrd"):
        save_image(ref, tmp_path / f"w{ending}")
        back = sitk.ReadImage(str(tmp_path / f"w{ending}"))
        assert np.allclose(back.GetOrigin(), (-12.0, 30.5, 7.0)) and np.allclose(back.GetSpacing(), (0.8, 1.1, 2.5))
        assert np.array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(_itk_volume()))


def test_headers_of_every_format_are_checked(tmp_path: Path) -> None:
    sitk.WriteImage(_itk_volume(), str(tmp_path / "v.mha"))
    (tmp_path / "broken.nrrd").write_text("NRRD0004\ntype: what\n")

    assert read_header(tmp_path / "v.mha").shape == (4, 5, 6)
    with pytest.raises(InputError, match=r"broken\.nrrd is not a readable NRRD"):
        read_header(tmp_path / "broken.nrrd")


def test_a_case_in_mha_preprocesses_like_its_nifti(tiny_dataset_master: Path, tmp_path: Path) -> None:
    case = load_dataset(tiny_dataset_master).training[0]
    contract = PreprocessingContract(spacing=(6.0, 6.0, 8.0), patch_size=(16, 16, 16), channels=("ct",))
    mha = tmp_path / "case.mha"
    save_image(load_image(case.image), mha)
    save_image(load_image(case.label), tmp_path / "label.mha")
    as_mha = type(case)(case.case_id, mha, tmp_path / "label.mha", None, None, None)

    nifti, itk = load_case_arrays(case, contract), load_case_arrays(as_mha, contract)

    assert np.allclose(itk["image"].numpy(), nifti["image"].numpy(), atol=1e-5)
    assert np.array_equal(itk["label"].numpy(), nifti["label"].numpy())
    assert np.allclose(itk["image"].affine.numpy(), nifti["image"].affine.numpy(), atol=1e-5)


def test_a_prediction_for_an_mha_input_is_written_as_mha_on_its_grid(tiny_dataset_master: Path,
                                                                     tmp_path: Path) -> None:
    case = load_dataset(tiny_dataset_master).training[0]
    mha = tmp_path / "in" / "pel_001_0000.mha"
    mha.parent.mkdir()
    save_image(load_image(case.image), mha)
    label = np.asanyarray(load_image(case.label).dataobj)
    written = write_prediction(label, mha, tmp_path / "out" / "pel_001.nii.gz", mask_affine=load_image(mha).affine)

    final = with_ending_of(written, mha)

    assert final.name == "pel_001.mha" and not written.exists()
    assert [p.name for p in final.parent.iterdir()] == ["pel_001.mha"]
    back, ref = sitk.ReadImage(str(final)), sitk.ReadImage(str(mha))
    assert back.GetSize() == ref.GetSize() and np.allclose(back.GetOrigin(), ref.GetOrigin())
    assert np.allclose(back.GetDirection(), ref.GetDirection())
    assert np.array_equal(sitk.GetArrayFromImage(back).transpose(2, 1, 0), label)

