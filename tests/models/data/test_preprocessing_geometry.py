"""MONAI preprocessing to the contract space and the inverse back to the input geometry."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from models.config import PreprocessingContract
from models.data.dataset import Case
from models.data.preprocessing import (
    load_case_arrays,
    pad_to_patch,
    restore_to_input_geometry,
    training_patch_transforms,
    write_prediction,
)

NOTE = "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6"
SPACING = (0.8, 1.3, 2.5)
SHAPE = (40, 34, 14)
BOX = ((-6.0, 7.0), (-10.0, 4.0), (-8.0, 9.0))  # world RAS mm


def _affine(orientation: str) -> np.ndarray:
    signs = (1, 1, 1) if orientation == "RAS" else (-1, -1, 1)
    affine = np.diag([*(s * d for s, d in zip(signs, SPACING, strict=True)), 1.0])
    affine[:3, 3] = [-s * (n - 1) / 2 * d + 1.7 for s, n, d in zip(signs, SHAPE, SPACING, strict=True)]
    return affine


def _world(affine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    ijk = np.stack(np.meshgrid(*(np.arange(n) for n in shape), indexing="ij"), axis=-1).reshape(-1, 3)
    return (ijk @ affine[:3, :3].T + affine[:3, 3]).reshape(*shape, 3)


def _in_box(world: np.ndarray, pad: float = 0.0) -> np.ndarray:
    return np.all([(world[..., a] >= lo - pad) & (world[..., a] <= hi + pad) for a, (lo, hi) in enumerate(BOX)],
                  axis=0)


def _case(tmp_path: Path, orientation: str) -> Case:
    affine = _affine(orientation)
    world = _world(affine, SHAPE)
    inside = _in_box(world)
    ct = np.full(SHAPE, -1000, dtype=np.int16)
    ct[4:-4, 4:-4, 2:-2] = 25  # soft tissue, (25 + 200) / 450 = 0.5 after scaling
    ct[inside] = 900  # bone, clipped to 1.0
    for name, data in (("img", ct), ("lab", inside.astype(np.uint8)), ("org", inside.astype(np.uint8))):
        nib.save(nib.Nifti1Image(data, affine), tmp_path / f"{name}_{orientation}.nii.gz")
    return Case(f"c_{orientation}", tmp_path / f"img_{orientation}.nii.gz", tmp_path / f"lab_{orientation}.nii.gz",
                tmp_path / f"org_{orientation}.nii.gz", None, NOTE)


@pytest.mark.parametrize("orientation", ["LPS", "RAS"])
def test_output_at_contract_spacing_and_orientation(tmp_path: Path, orientation: str) -> None:
    contract = PreprocessingContract(channels=("ct", "organ"))
    case = _case(tmp_path, orientation)

    out = load_case_arrays(case, contract)

    image, label = out["image"], out["label"]
    assert image.shape[0] == 2 and image.shape[1:] == label.shape[1:] and image.dtype == torch.float32
    assert nib.aff2axcodes(image.affine.numpy()) == tuple(contract.axcodes)
    assert np.allclose(np.abs(np.diag(image.affine.numpy())[:3]), contract.spacing)
    assert float(image[0].min()) == 0.0 and float(image[0].max()) == 1.0
    centre = image[0, 8:-8, 8:-8, 3:-3]
    assert torch.isclose(torch.median(centre[centre < 0.99]), torch.tensor(0.5), atol=0.01)
    assert torch.equal(image[1], label[0].float()) and int(label.sum()) > 0


@pytest.mark.parametrize("orientation", ["LPS", "RAS"])
def test_inverse_restores_reference_geometry_and_world_box(tmp_path: Path, orientation: str) -> None:
    contract = PreprocessingContract()
    case = _case(tmp_path, orientation)
    canonical = load_case_arrays(case, contract)["label"]
    drawn = canonical.clone()
    drawn[0] = torch.as_tensor(_in_box(_world(canonical.affine.numpy(), canonical.shape[1:])))

    restored = restore_to_input_geometry(drawn, case.image)

    ref = nib.load(case.image)
    assert restored.shape == ref.shape and np.array_equal(restored.affine, ref.affine)
    mask = np.asarray(restored.dataobj).astype(bool)
    world = _world(ref.affine, ref.shape)
    tol = max(contract.spacing)  # one canonical voxel
    assert mask.any() and not np.any(mask & ~_in_box(world, pad=tol))
    assert np.all(mask[_in_box(world, pad=-tol)])


def test_write_prediction_is_atomic_and_keeps_geometry(tmp_path: Path) -> None:
    case = _case(tmp_path, "LPS")
    canonical = load_case_arrays(case, PreprocessingContract())["label"]
    out_dir = tmp_path / "pred"

    path = write_prediction(canonical[0].numpy(), case.image, out_dir / "p.nii.gz", mask_affine=canonical.affine)

    saved, ref = nib.load(path), nib.load(case.image)
    assert np.array_equal(saved.affine, ref.affine) and saved.shape == ref.shape
    assert saved.get_data_dtype() == np.uint8
    assert [p.name for p in out_dir.iterdir()] == ["p.nii.gz"]


def test_restore_needs_an_affine_for_plain_arrays(tmp_path: Path) -> None:
    case = _case(tmp_path, "RAS")

    with pytest.raises(ValueError, match="mask_affine"):
        restore_to_input_geometry(np.zeros(SHAPE), case.image)


def test_organ_channel_requires_organ_mask(tmp_path: Path) -> None:
    case = _case(tmp_path, "RAS")
    no_organ = Case(case.case_id, case.image, case.label, None, None, NOTE)

    with pytest.raises(ValueError, match="organ"):
        load_case_arrays(no_organ, PreprocessingContract(channels=("ct", "organ")))


def test_patches_have_contract_size(tmp_path: Path) -> None:
    contract = PreprocessingContract(patch_size=(48, 16, 8))
    data = load_case_arrays(_case(tmp_path, "LPS"), contract)

    patches = training_patch_transforms(contract)({"image": data["image"], "label": data["label"]})
    padded = pad_to_patch(data["image"], (64, 64, 16))

    assert patches[0]["image"].shape[1:] == (48, 16, 8) and patches[0]["label"].shape[1:] == (48, 16, 8)
    assert padded.shape[1:] == tuple(max(a, b) for a, b in zip(data["image"].shape[1:], (64, 64, 16), strict=True))
    assert torch.equal(padded[..., : data["image"].shape[1], : data["image"].shape[2], : data["image"].shape[3]],
                       data["image"].as_tensor())


def test_loading_images_raises_no_library_warning() -> None:
    import warnings

    from models.config import PreprocessingContract
    from models.data.preprocessing import canonical_transforms

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        canonical_transforms(PreprocessingContract(), ["ct", "label"])

    assert [str(w.message) for w in seen] == []
