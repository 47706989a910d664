"""Is a NIfTI file something the model was built for? Checked before ``verify`` passes or ``predict`` runs.

Hard problems make a file unusable: missing, unreadable or truncated, not 3D, a broken affine,
NaN or infinite voxels. Soft problems mean it is unlike the pelvic CTs the model was trained on
(intensities not in Hounsfield units, a field of view too small for a pelvis, a voxel spacing far
from the preprocessing contract); ``predict --force`` may override those. Each is one sentence
naming the file. Needs only nibabel and numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

__all__ = ["InputCheck", "InputError", "check_for_model", "ct_problem", "field_problems", "mask_problem",
           "non_finite_problem", "read_header", "read_voxels", "spacing_ras"]

AIR_HU, MIN_AIR_FRACTION = -900.0, 0.01
"""A CT has air around the body: at least 1% of the voxels below -900 HU."""
BONE_HU, MIN_BONE_FRACTION = 300.0, 0.001
"""A pelvic CT shows bone (pelvis, femoral heads): at least 0.1% of the voxels above 300 HU."""
BODY_HU, SOFT_TISSUE_HU, MIN_SOFT_FRACTION = -500.0, (-200.0, 300.0), 0.5
"""Most body voxels (above -500 HU) are fat, muscle or organs, between -200 and 300 HU."""
MIN_INPLANE_MM, MIN_CRANIOCAUDAL_MM = 90.0, 60.0
"""Smallest field of view taken for a pelvis (real pelvic CTs span 300-500 mm in-plane)."""
SPACING_RATIO = (0.1, 3.0)
"""Allowed voxel spacing per axis, as a multiple of the contract's spacing on that axis."""
_WORLD_AXIS = {"L": 0, "R": 0, "P": 1, "A": 1, "I": 2, "S": 2}


class InputError(ValueError):
    """A file cannot be used at all; the message is one sentence naming it."""


@dataclass
class InputCheck:
    """What ``check_for_model`` found: ``hard`` (cannot be used) and ``soft`` (overridable) sentences."""

    hard: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)


def read_header(path: Path, key: str = "image") -> nib.Nifti1Image:
    """Load the header of a 3D NIfTI with a finite, positive spacing and an invertible affine."""
    if not path.is_file():
        raise InputError(f"{key} file {path} does not exist")
    from models.data.image_io import format_name, load_image

    try:
        img = load_image(path)
    except Exception as exc:  # nibabel and SimpleITK raise many types for a broken file
        raise InputError(f"{key} file {path} is not a readable {format_name(path)} ({type(exc).__name__}: {exc})"
                         ) from None
    if len(img.shape) != 3:
        raise InputError(f"{key} file {path} is {len(img.shape)}D with shape {img.shape}; a 3D volume is expected")
    zooms = np.asarray(img.header.get_zooms()[:3], dtype=float)
    if not np.all(np.isfinite(zooms)) or np.any(zooms <= 0):
        raise InputError(f"{key} file {path} has a voxel spacing {tuple(zooms)} that is not finite and positive")
    affine = img.affine
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        raise InputError(f"{key} file {path} has an affine that is not invertible")
    return img


def read_voxels(img: nib.Nifti1Image, path: Path, key: str = "image") -> np.ndarray:
    """Every voxel of ``img`` (scaled as stored); a truncated or corrupt file raises ``InputError``."""
    try:
        return np.asanyarray(img.dataobj)
    except Exception as exc:  # a truncated gzip stream only shows up here (EOFError, zlib.error, OSError)
        raise InputError(f"{key} file {path} is truncated or corrupt: its voxel data cannot be read to the end "
                         f"({type(exc).__name__})") from None


def non_finite_problem(data: np.ndarray, path: Path, key: str = "image") -> str | None:
    """A sentence when some voxels are NaN or infinite."""
    if np.issubdtype(data.dtype, np.integer):
        return None
    bad = int(data.size - np.count_nonzero(np.isfinite(data)))
    if not bad:
        return None
    return f"{key} file {path} has {bad:,} NaN or infinite voxel{'s' if bad > 1 else ''}, which no model can use"


def ct_problem(data: np.ndarray, path: Path) -> str | None:
    """A sentence when the intensities are not those of a CT in Hounsfield units (finite data expected)."""
    what = f"image file {path} does not look like a CT in Hounsfield units"
    air = float(np.mean(data < AIR_HU))
    if air < MIN_AIR_FRACTION:
        return f"{what}: {air:.1%} of its voxels are air (below {AIR_HU:g} HU), where a CT has air around the body"
    body = data[data > BODY_HU]
    soft = float(np.mean((body >= SOFT_TISSUE_HU[0]) & (body <= SOFT_TISSUE_HU[1]))) if body.size else 0.0
    if soft < MIN_SOFT_FRACTION:
        return (f"{what}: {soft:.0%} of its body voxels (above {BODY_HU:g} HU) lie between {SOFT_TISSUE_HU[0]:g} "
                f"and {SOFT_TISSUE_HU[1]:g} HU, where most of a body is fat, muscle and organs")
    bone = float(np.mean(data > BONE_HU))
    if bone < MIN_BONE_FRACTION:
        return f"{what}: {bone:.2%} of its voxels are above {BONE_HU:g} HU, where a pelvic CT shows bone"
    return None


def spacing_ras(img: nib.Nifti1Image) -> tuple[np.ndarray, np.ndarray]:
    """(spacing, extent) in mm along the world axes left-right, back-front, foot-head."""
    ornt = nib.orientations.io_orientation(img.affine)
    zooms = np.sqrt((img.affine[:3, :3] ** 2).sum(axis=0))
    spacing, extent = np.zeros(3), np.zeros(3)
    for voxel_axis, (world_axis, _) in enumerate(ornt):
        spacing[int(world_axis)] = zooms[voxel_axis]
        extent[int(world_axis)] = zooms[voxel_axis] * img.shape[voxel_axis]
    return spacing, extent


def field_problems(img: nib.Nifti1Image, path: Path, spacing: tuple[float, ...], axcodes: str) -> list[str]:
    """Sentences when the field of view is smaller than a pelvis or the spacing is far from the contract's."""
    found, (sp, ext) = [], spacing_ras(img)
    if min(ext[0], ext[1]) < MIN_INPLANE_MM or ext[2] < MIN_CRANIOCAUDAL_MM:
        found.append(f"image file {path} covers {ext[0]:.0f} x {ext[1]:.0f} x {ext[2]:.0f} mm (left-right, "
                     f"front-back, head-foot), less than a pelvic field of view (at least {MIN_INPLANE_MM:g} mm "
                     f"in-plane and {MIN_CRANIOCAUDAL_MM:g} mm head-foot)")
    wanted = np.zeros(3)
    for code, value in zip(axcodes.upper(), spacing, strict=True):
        wanted[_WORLD_AXIS[code]] = value
    low, high = SPACING_RATIO
    if np.any(sp < wanted * low) or np.any(sp > wanted * high):
        have, want = " x ".join(f"{v:.2f}" for v in sp), " x ".join(f"{v:g}" for v in wanted)
        found.append(f"image file {path} has a voxel spacing of {have} mm, outside {low:g}-{high:g} times the "
                     f"{want} mm the model was trained at")
    return found


def mask_problem(path: Path, key: str) -> str | None:
    """A sentence when a mask file cannot be read to its last voxel or holds NaN or infinite voxels."""
    try:
        img = read_header(path, key)
        return non_finite_problem(read_voxels(img, path, key), path, key)
    except InputError as exc:
        return str(exc)


def check_for_model(path: Path, *, spacing: tuple[float, ...], axcodes: str = "RAS") -> InputCheck:
    """Read every voxel of a CT and say whether the model can (``hard``) and should (``soft``) use it."""
    check = InputCheck()
    try:
        img = read_header(path)
        data = read_voxels(img, path)
    except InputError as exc:
        check.hard.append(str(exc))
        return check
    bad = non_finite_problem(data, path)
    if bad:
        check.hard.append(bad)
        return check
    check.soft.extend(p for p in (ct_problem(data, path), *field_problems(img, path, spacing, axcodes)) if p)
    return check
