"""Read and write the image formats nnU-Net datasets use (.nii, .nii.gz, .mha, .nrrd) as nibabel images.

NIfTI goes through nibabel as before; MetaImage and NRRD go through SimpleITK and are turned into an
in-memory ``Nifti1Image`` whose affine is the file's geometry in RAS (ITK stores LPS), so every
other module keeps working on one kind of image with one world convention.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

__all__ = ["ENDINGS", "ITK_ENDINGS", "format_name", "image_ending", "load_image", "monai_reader", "save_image",
           "strip_ending", "with_ending_of"]

ITK_ENDINGS = (".mha", ".nrrd")
ENDINGS = (".nii.gz", ".nii", *ITK_ENDINGS)
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
_NAMES = {".nii.gz": "NIfTI", ".nii": "NIfTI", ".mha": "MetaImage", ".nrrd": "NRRD"}


def image_ending(path: str | Path) -> str | None:
    """The image ending of ``path`` (``.nii.gz``, ``.nii``, ``.mha``, ``.nrrd``), or None for another file."""
    name = Path(path).name.lower()
    return next((e for e in ENDINGS if name.endswith(e)), None)


def strip_ending(path: str | Path) -> str:
    """``imagesTr/d001.nii.gz`` -> ``d001``; a file of another kind keeps its full name."""
    name = Path(path).name
    ending = image_ending(name)
    return name[: -len(ending)] if ending else name


def format_name(path: str | Path) -> str:
    """What users call the format of ``path``: NIfTI, MetaImage or NRRD."""
    return _NAMES.get(image_ending(path) or ".nii", "NIfTI")


def load_image(path: str | Path) -> nib.Nifti1Image:
    """The image at ``path`` as a nibabel image with a RAS affine; NIfTI stays lazily read."""
    if image_ending(path) not in ITK_ENDINGS:
        return nib.load(str(path))
    import SimpleITK as sitk

    itk = sitk.ReadImage(str(path))
    data = sitk.GetArrayFromImage(itk)  # numpy order is reversed: (z, y, x) or (t, z, y, x)
    if itk.GetNumberOfComponentsPerPixel() > 1:  # a vector image: components last -> put them after x, y, z
        data = np.moveaxis(data, -1, 0)
    data = np.ascontiguousarray(data.transpose(tuple(range(data.ndim))[::-1]))
    dim = itk.GetDimension()
    direction = np.asarray(itk.GetDirection(), dtype=float).reshape(dim, dim)[:3, :3]
    spacing = np.asarray(itk.GetSpacing(), dtype=float)[:3]
    affine = np.eye(4)
    affine[:3, :3] = _LPS_TO_RAS @ direction @ np.diag(spacing)
    affine[:3, 3] = _LPS_TO_RAS @ np.asarray(itk.GetOrigin(), dtype=float)[:3]
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    return img


def save_image(img: nib.Nifti1Image, path: str | Path) -> None:
    """Write ``img`` to ``path`` in the format its ending names (geometry kept, RAS -> LPS for ITK files)."""
    if image_ending(path) not in ITK_ENDINGS:
        nib.save(img, str(path))
        return
    import SimpleITK as sitk

    data = np.asanyarray(img.dataobj)
    if data.ndim != 3:
        raise ValueError(f"only 3D images can be written as {format_name(path)}, not shape {data.shape}")
    lps = _LPS_TO_RAS @ img.affine[:3, :3]
    spacing = np.sqrt((lps**2).sum(axis=0))
    itk = sitk.GetImageFromArray(np.ascontiguousarray(data.transpose(2, 1, 0)))
    itk.SetSpacing(spacing.tolist())
    itk.SetDirection((lps / spacing).flatten().tolist())
    itk.SetOrigin((_LPS_TO_RAS @ img.affine[:3, 3]).tolist())
    sitk.WriteImage(itk, str(path), useCompression=True)


def with_ending_of(path: Path, reference: Path) -> Path:
    """``path`` rewritten beside itself in ``reference``'s format (``CASE.nii.gz`` -> ``CASE.mha`` for an .mha
    input), so a predictions folder pairs file for file with nnU-Net's labelsTr; unchanged when they match."""
    ending = image_ending(reference)
    if ending is None or ending == image_ending(path):
        return path
    from models.fsutil import atomic_path

    target = path.parent / f"{strip_ending(path)}{ending}"
    with atomic_path(target, suffix=ending) as tmp:
        save_image(load_image(path), tmp)
    path.unlink()
    return target

def monai_reader():  # noqa: ANN201 - a MONAI ImageReader; monai is imported only here
    """A MONAI ``NibabelReader`` that also reads .mha and .nrrd (through ``load_image``), for ``LoadImaged``."""
    from monai.data import NibabelReader

    class _AnyEndingReader(NibabelReader):
        def verify_suffix(self, filename) -> bool:  # noqa: ANN001 - MONAI's signature
            names = filename if isinstance(filename, (list, tuple)) else [filename]
            return all(image_ending(n) for n in names)

        def read(self, data, **kwargs):  # noqa: ANN001, ANN003, ANN202 - MONAI's signature
            names = data if isinstance(data, (list, tuple)) else [data]
            self.filenames = names
            images = [load_image(n) for n in names]
            return images if len(images) > 1 else images[0]

    return _AnyEndingReader()
