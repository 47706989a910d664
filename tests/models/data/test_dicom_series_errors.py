"""Series and structure-set problems are refused with one sentence that names the problem and the way out."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGLosslessSV1

from models.data.dicom import DicomError
from models.data.dicom.importer import RoiChoice, import_job
from models.data.dicom.match import plan_jobs
from models.data.dicom.rtstruct_write import mask_to_rtstruct
from models.data.dicom.scan import scan_tree
from models.data.dicom.series import read_series
from models.data.dicom.write_series import write_ct_series

SHAPE = (64, 48, 12)  # NIfTI axes: columns, rows, slices


def make_series(folder: Path, *, frame: str | None = None) -> list[Path]:
    """A small CT series (a bright block in water) at 0.9 x 0.7 x 2.5 mm, written slice by slice."""
    data = np.zeros(SHAPE, dtype=np.int16)
    data[20:40, 10:30, 3:9] = 300
    affine = np.diag([-0.9, -0.7, 2.5, 1.0])
    affine[:3, 3] = [30.0, 20.0, -10.0]
    folder.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, affine), folder.parent / f"{folder.name}.nii.gz")
    return write_ct_series(folder.parent / f"{folder.name}.nii.gz", folder, frame_of_reference_uid=frame)


def read(folder: Path):
    scan = scan_tree(folder)[0]
    return read_series(scan.folder, scan.ct)


def edit(path: Path, **values) -> None:
    ds = pydicom.dcmread(path)
    for key, value in values.items():
        setattr(ds, key, value)
    ds.save_as(path)


def test_a_folder_with_two_series_is_refused_listing_both(tmp_path: Path) -> None:
    make_series(tmp_path / "ct")
    other = make_series(tmp_path / "other")
    for path in other[:3]:
        path.rename(tmp_path / "ct" / f"x{path.name}")
    uids = {str(pydicom.dcmread(p).SeriesInstanceUID) for p in (tmp_path / "ct").iterdir()}
    with pytest.raises(DicomError, match="mixes 2 CT series") as err:
        read(tmp_path / "ct")
    assert all(uid in str(err.value) for uid in uids)


def test_a_missing_slice_is_named_with_its_gap(tmp_path: Path) -> None:
    files = make_series(tmp_path / "ct")
    files[5].unlink()
    with pytest.raises(DicomError, match=r"1 slice\(s\) missing"):
        read(tmp_path / "ct")


def test_non_uniform_spacing_is_refused(tmp_path: Path) -> None:
    files = make_series(tmp_path / "ct")
    last = pydicom.dcmread(files[-1])
    edit(files[-1], ImagePositionPatient=[*last.ImagePositionPatient[:2], float(last.ImagePositionPatient[2]) + 1.2])
    with pytest.raises(DicomError, match="not uniform"):
        read(tmp_path / "ct")


def test_gantry_tilt_is_refused_from_the_tag_and_from_the_positions(tmp_path: Path) -> None:
    files = make_series(tmp_path / "tag")
    for path in files:
        edit(path, GantryDetectorTilt=12.0)
    with pytest.raises(DicomError, match="gantry tilt of 12 degrees"):
        read(tmp_path / "tag")
    files = make_series(tmp_path / "sheared")
    for k, path in enumerate(files):
        ipp = pydicom.dcmread(path).ImagePositionPatient
        edit(path, ImagePositionPatient=[float(ipp[0]), float(ipp[1]) + 0.8 * k, float(ipp[2])])
    with pytest.raises(DicomError, match="move sideways"):
        read(tmp_path / "sheared")


def test_pixel_data_without_an_installed_decoder_names_the_syntax_and_the_package(tmp_path: Path) -> None:
    files = make_series(tmp_path / "ct")
    ds = pydicom.dcmread(files[0])
    ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    ds.PixelData = encapsulate([b"\xff\xd8not really jpeg\xff\xd9"])
    ds.save_as(files[0], enforce_file_format=True)
    with pytest.raises(DicomError, match=r"JPEG Lossless.*1\.2\.840\.10008\.1\.2\.4\.70.*pylibjpeg"):
        read(tmp_path / "ct")


def test_pydicoms_single_file_ct_reads_with_its_own_geometry() -> None:
    path = Path(get_testdata_file("CT_small.dcm"))
    ds = pydicom.dcmread(path)
    img = read(path).to_nifti()
    assert img.shape == (128, 128, 1)
    corner_lps = np.asarray(ds.ImagePositionPatient, dtype=float)
    assert np.allclose(img.affine[:3, 3], corner_lps * [-1, -1, 1])
    assert np.allclose(np.abs(np.diag(img.affine)[:2]), np.asarray(ds.PixelSpacing, dtype=float))
    raw = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert np.array_equal(np.asarray(img.dataobj)[:, :, 0], raw.T)


def _structure_set(folder: Path, names: list[str], *, frame: str | None = None) -> Path:
    series = read(folder)
    mask = np.zeros(series.hu.shape, dtype=bool)
    mask[3:9, 10:30, 20:40] = True
    ds = mask_to_rtstruct(mask, series, roi_name=names[0])
    for name in names[1:]:
        item = pydicom.Dataset()
        item.ROINumber, item.ROIName = len(ds.StructureSetROISequence) + 1, name
        ds.StructureSetROISequence.append(item)
    if frame:
        ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = frame
        ds.StructureSetROISequence[0].ReferencedFrameOfReferenceUID = frame
    path = folder.parent / "rs.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_structure_set_of_another_frame_of_reference_is_refused(tmp_path: Path) -> None:
    make_series(tmp_path / "ct")
    rs = _structure_set(tmp_path / "ct", ["PTV"], frame="1.2.3.4")
    job = plan_jobs(tmp_path / "ct", rs)[0]
    with pytest.raises(DicomError, match=r"Frame of Reference 1\.2\.3\.4"):
        import_job(job, tmp_path / "out", "c001", rois=RoiChoice(), note="")
    assert not (tmp_path / "out").exists()


def test_an_unknown_ptv_name_lists_the_rois_and_the_way_to_map_them(tmp_path: Path) -> None:
    make_series(tmp_path / "ct")
    rs = _structure_set(tmp_path / "ct", ["Zielvolumen_78", "Bladder", "Rectum"])
    job = plan_jobs(tmp_path / "ct", rs)[0]
    with pytest.raises(DicomError, match=r"Zielvolumen_78, Bladder, Rectum.*--roi PTV=NAME"):
        import_job(job, tmp_path / "out", "c001", rois=RoiChoice(), note="")
    case = import_job(job, tmp_path / "out", "c001", rois=RoiChoice(chosen={"PTV": "zielvolumen 78"}), note="")
    label = nib.load(tmp_path / "out" / case.entry["label"])
    assert case.source["rois"] == {"PTV": "Zielvolumen_78"}
    assert np.asarray(label.dataobj).sum() == 6 * 20 * 20
