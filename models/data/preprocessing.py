"""Seed 000 preprocessing with MONAI transforms, and its inverse for predictions.

Forward: reorient to ``contract.axcodes``, resample to ``contract.spacing`` (bilinear for CT,
nearest for masks), clip HU to ``contract.hu_window`` and scale to [0, 1], stack channels.
Inverse: a mask in canonical space is resampled (nearest) onto the input image's own grid,
so the written NIfTI has exactly the input's affine and shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import (
    Compose,
    EnsureChannelFirstd,
    EnsureTyped,
    LoadImaged,
    Orientationd,
    RandCropByPosNegLabeld,
    ScaleIntensityRanged,
    Spacingd,
    SpatialPad,
    SpatialPadd,
    SpatialResample,
)

from models.config import PreprocessingContract
from models.data.dataset import Case
from models.data.image_io import image_ending, load_image, monai_reader, save_image
from models.data.input_checks import InputError, read_header, read_voxels
from models.fsutil import atomic_path

__all__ = [
    "canonical_transforms",
    "load_case_arrays",
    "pad_to_patch",
    "restore_to_input_geometry",
    "training_patch_transforms",
    "write_prediction",
]


_RAS_LABELS = (("L", "R"), ("P", "A"), ("I", "S"))  # nibabel world space, as MONAI's NibabelReader keeps it


def _quiet_load(keys: list[str]) -> LoadImaged:
    """``LoadImaged`` with our reader. MONAI also registers its DICOM reader, which (with pydicom installed and
    no GPU codec) warns on every load about a decoder plugin this project never uses: silenced here only."""
    import logging
    import warnings

    logging.getLogger("monai.data.nvimgcodec_pydicom_plugin").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="NvImgCodecPydicomReader")
        return LoadImaged(keys=keys, reader=monai_reader(), image_only=True)


def canonical_transforms(contract: PreprocessingContract, keys: list[str]) -> Compose:
    """Load ``keys`` ('ct' first, then masks) and bring them to the contract's space."""
    masks = [k for k in keys if k != "ct"]
    return Compose([
        _quiet_load(keys),  # NIfTI, .mha, .nrrd
        EnsureChannelFirstd(keys=keys, channel_dim="no_channel"),
        Orientationd(keys=keys, axcodes=contract.axcodes, labels=_RAS_LABELS),
        Spacingd(keys=keys, pixdim=contract.spacing,
                 mode=["bilinear" if k == "ct" else "nearest" for k in keys]),
        ScaleIntensityRanged(keys=["ct"], a_min=contract.hu_window[0], a_max=contract.hu_window[1],
                             b_min=0.0, b_max=1.0, clip=True),
        EnsureTyped(keys=["ct"], dtype=torch.float32),
        *([EnsureTyped(keys=masks, dtype=torch.uint8)] if masks else []),
    ])


def load_case_arrays(case: Case, contract: PreprocessingContract, with_label: bool = True) -> dict[str, Any]:
    """The case in canonical space as channels-first MetaTensors.

    Returns ``{"image": (C, X, Y, Z) float32, "label": (1, X, Y, Z) uint8 (if with_label),
    "gtv": ... (if the case has one), "case_id": str}``. ``image`` stacks ``contract.channels``
    ('ct' scaled to [0, 1], then 'organ' as 0/1). Its ``.affine`` and ``.meta`` describe the
    canonical grid, which is all ``restore_to_input_geometry`` needs.
    """
    paths = {"ct": case.image}
    if "organ" in contract.channels:
        if case.organ is None:
            raise ValueError(f"case {case.case_id} has no 'organ' mask but the contract needs an organ channel")
        paths["organ"] = case.organ
    if with_label:
        if case.label is None:
            raise ValueError(f"case {case.case_id} has no 'label' file")
        paths["label"] = case.label
    if case.gtv is not None:
        paths["gtv"] = case.gtv
    data = _load_canonical(paths, contract)
    channels = [data["ct"], *(data[c].float() for c in contract.channels[1:])]
    image = torch.cat(channels, dim=0) if len(channels) > 1 else channels[0]
    out: dict[str, Any] = {"image": image, "case_id": case.case_id}
    for key in ("label", "gtv"):
        if key in data:
            out[key] = data[key]
    return out


def _load_canonical(paths: dict[str, Path], contract: PreprocessingContract) -> dict[str, Any]:
    """Run the canonical transforms; a missing, non-3D, truncated or non-finite file is one ``InputError``."""
    for key, path in paths.items():
        read_header(Path(path), "image" if key == "ct" else key)
    try:
        data = canonical_transforms(contract, list(paths))({k: str(p) for k, p in paths.items()})
    except Exception:
        for key, path in paths.items():  # which file broke? (only on this failure path: reads each again)
            read_voxels(read_header(Path(path)), Path(path), "image" if key == "ct" else key)
        raise
    if not torch.isfinite(data["ct"]).all():
        raise InputError(f"image file {paths['ct']} has NaN or infinite voxels, which no model can use")
    return data


def training_patch_transforms(contract: PreprocessingContract, pos: float = 1.0, neg: float = 1.0) -> Compose:
    """Pad to at least ``patch_size`` and crop one patch centred on foreground or background."""
    keys = ["image", "label"]
    return Compose([
        SpatialPadd(keys=keys, spatial_size=contract.patch_size, method="end"),
        RandCropByPosNegLabeld(keys=keys, label_key="label", spatial_size=contract.patch_size,
                               pos=pos, neg=neg, num_samples=1),
    ])


def pad_to_patch(image: torch.Tensor, patch_size: tuple[int, int, int]) -> torch.Tensor:
    """Pad (at the end of each axis, so the affine is unchanged) to at least ``patch_size``.

    Undo with ``padded[..., :x, :y, :z]`` using the original spatial shape.
    """
    return SpatialPad(spatial_size=patch_size, method="end")(image)


def restore_to_input_geometry(
    mask: torch.Tensor | np.ndarray, reference_image_path: str | Path, mask_affine: np.ndarray | None = None
) -> nib.Nifti1Image:
    """Resample a (channel-first or plain 3D) canonical mask onto the reference image's grid.

    ``mask_affine`` is needed only when ``mask`` is not a MetaTensor carrying its affine.
    The result is a uint8 NIfTI with exactly the reference's affine, shape and header codes.
    """
    ref = load_image(reference_image_path)
    if mask_affine is None:
        if not isinstance(mask, MetaTensor):
            raise ValueError("mask_affine is required when the mask is not a MetaTensor")
        mask_affine = mask.affine
    if isinstance(mask, MetaTensor):
        tensor = mask.as_tensor()
    else:
        tensor = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask)
    if tensor.ndim == 3:
        tensor = tensor[None]
    src = MetaTensor(tensor.float(), affine=torch.as_tensor(np.asarray(mask_affine), dtype=torch.float64))
    out = SpatialResample(mode="nearest", padding_mode="zeros", dtype=torch.float64)(
        src, dst_affine=torch.as_tensor(ref.affine, dtype=torch.float64), spatial_size=ref.shape[:3]
    )
    data = np.asarray(out[0].detach().cpu().numpy()).round().astype(np.uint8)
    header = ref.header.copy()
    header.set_data_dtype(np.uint8)
    header.set_slope_inter(1.0, 0.0)
    return nib.Nifti1Image(data, ref.affine, header=header)


def write_prediction(
    mask: torch.Tensor | np.ndarray, reference_image_path: str | Path, out_path: str | Path,
    mask_affine: np.ndarray | None = None,
) -> Path:
    """Write ``mask`` in the reference image's geometry to ``out_path`` atomically."""
    out_path = Path(out_path)
    img = restore_to_input_geometry(mask, reference_image_path, mask_affine)
    with atomic_path(out_path, suffix=image_ending(out_path) or ".nii") as tmp:
        save_image(img, tmp)
    return out_path
