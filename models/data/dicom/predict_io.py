"""DICOM around a prediction: a CT series given as input becomes a NIfTI in a temp folder, and each predicted
mask (on the input's grid) is exported as an RT Structure Set or a DICOM-SEG referencing the original series."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from models.data.dicom.errors import DicomError
from models.fsutil import atomic_path

if TYPE_CHECKING:
    from models.data.dicom.series import CtSeries

FORMATS = ("nifti", "rtstruct", "seg")
SUFFIX = {"nifti": ".nii.gz", "rtstruct": ".rtstruct.dcm", "seg": ".seg.dcm"}


def is_dicom_path(path: Path) -> bool:
    """A folder (a DICOM series), or a one-file series: a ``.dcm`` file or one with the DICOM preamble."""
    if path.is_dir() or path.suffix.lower() == ".dcm":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(132)[128:] == b"DICM"
    except OSError:
        return False


class DicomPredictionIO:
    """Inputs and outputs of one ``predict`` run in format ``fmt``; use as a context manager (temp folder)."""

    def __init__(self, fmt: str, *, image: Path | None, data: Path | None) -> None:
        if fmt not in FORMATS:
            raise DicomError(f"--format {fmt} is not one of {', '.join(FORMATS)}")
        self.fmt, self.image, self.data = fmt, image, data
        self.image_is_dicom = image is not None and is_dicom_path(image)
        if fmt != "nifti" and image is not None and not self.image_is_dicom:
            raise DicomError(f"--format {fmt} writes DICOM that references the input images, so it needs a DICOM "
                             "input: give --image a CT series folder (or --data a dataset made by site-agent "
                             "import-dicom), or use --format nifti")
        self._tmp: Path | None = None
        self._series: dict[str, CtSeries] = {}

    def __enter__(self) -> DicomPredictionIO:
        self._tmp = Path(tempfile.mkdtemp(prefix="mome-dicom-"))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def nifti_image(self, case_id: str) -> Path | None:
        """The NIfTI to predict for a DICOM ``--image`` (read and validated now); None for a NIfTI input."""
        if not self.image_is_dicom or self.image is None:
            return None
        import nibabel as nib

        from models.data.dicom.scan import scan_tree
        from models.data.dicom.series import read_series

        found = [s for s in scan_tree(self.image) if s.ct]
        if len(found) > 1:
            raise DicomError(f"--image {self.image} holds {len(found)} series folders; give one series, or import "
                             "them with site-agent import-dicom and predict with --data")
        series = read_series(found[0].folder, found[0].ct)
        self._series[case_id] = series
        path = self._workdir() / f"{case_id}.nii.gz"
        nib.save(series.to_nifti(), path)
        return path

    def check_outputs(self, out: Path, case_ids: list[str], overwrite: bool) -> None:
        """Before any work: refuse DICOM files this run would overwrite (NIfTI names are checked elsewhere) and,
        for ``--data``, cases that do not record the series they were imported from."""
        if self.fmt == "nifti":
            return
        from models.data.dicom.sources import source_series_folder

        taken = [f"{c}{SUFFIX[self.fmt]}" for c in case_ids if (out / f"{c}{SUFFIX[self.fmt]}").exists()]
        if taken and not overwrite:
            raise FileExistsError(f"--out {out} already holds {taken[0]}; pass --overwrite to replace it or choose "
                                  "another --out")
        for case_id in case_ids if self.data is not None and not self.image_is_dicom else []:
            source_series_folder(self.data, case_id)

    def mask_dir(self, out: Path) -> Path:
        """Where the predicted NIfTI masks go: ``out`` itself, or a temp folder when they are exported as DICOM."""
        return out if self.fmt == "nifti" else self._workdir()

    def finish(self, case_id: str, mask_path: Path, out: Path, *, version: str) -> Path:
        """The file to report for a case: the NIfTI mask, or the RT Structure Set / DICOM-SEG made from it."""
        if self.fmt == "nifti":
            return mask_path
        import nibabel as nib

        from models.data.dicom.rtstruct_write import mask_to_rtstruct
        from models.data.dicom.seg_write import mask_to_seg

        series = self._series.get(case_id) or self._data_series(case_id)
        mask = series.mask_from_nifti(nib.load(mask_path))
        ds = (mask_to_rtstruct(mask, series, algorithm=f"MoME {version}") if self.fmt == "rtstruct"
              else mask_to_seg(mask, series, version=version))
        target = out / f"{case_id}{SUFFIX[self.fmt]}"
        with atomic_path(target) as tmp:
            ds.save_as(tmp, enforce_file_format=True)
        return target

    def _data_series(self, case_id: str) -> CtSeries:
        from models.data.dicom.scan import scan_tree
        from models.data.dicom.series import read_series
        from models.data.dicom.sources import read_sources, source_series_folder

        folder = source_series_folder(Path(str(self.data)), case_id)
        scan = next(s for s in scan_tree(folder) if s.ct)
        series = read_series(scan.folder, scan.ct)
        expected = read_sources(Path(str(self.data)))[case_id].get("series_uid")
        if expected and series.series_uid != expected:
            raise DicomError(f"case {case_id}: {folder} now holds series {series.series_uid}, not the imported "
                             f"{expected}; re-import the case")
        return series

    def _workdir(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("DicomPredictionIO is used outside its with-block")
        return self._tmp
