"""``site-agent predict`` on DICOM: a CT series in, an RT Structure Set or DICOM-SEG out that lands on the same
voxels as the NIfTI prediction of the same CT and references the input series."""

from __future__ import annotations

import json
from pathlib import Path

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from typer.testing import CliRunner

from models.data.dataset import load_dataset
from models.data.dicom.rtstruct_read import roi_mask
from models.data.dicom.scan import scan_tree
from models.data.dicom.series import read_series
from models.data.dicom.write_series import write_ct_series
from site_agent.cli import app

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def case_as_dicom(centers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """A held-out D case, as its NIfTI and as a DICOM series, with the NIfTI prediction of the base model."""
    case = load_dataset(centers["D"]).training[-1]
    folder = tmp_path_factory.mktemp("dicom") / "series"
    write_ct_series(case.image, folder)
    scan = scan_tree(folder)[0]
    return case, folder, read_series(scan.folder, scan.ct)


@pytest.fixture(scope="module")
def nifti_mask(base_model: Path, case_as_dicom, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    case, _, series = case_as_dicom
    out = tmp_path_factory.mktemp("nifti-pred")
    res = invoke("predict", "--model", base_model, "--image", case.image, "--note", case.clinical, "--out", out,
                 "--json")
    assert res.exit_code == 0, res.output
    mask = series.mask_from_nifti(nib.load(json.loads(res.stdout)["written"][0]))
    assert mask.any()
    return mask


def test_rtstruct_from_a_series_matches_the_nifti_prediction_and_references_the_series(
    base_model: Path, case_as_dicom, nifti_mask: np.ndarray, tmp_path: Path
) -> None:
    case, folder, series = case_as_dicom
    res = invoke("predict", "--model", base_model, "--image", folder, "--note", case.clinical, "--format", "rtstruct",
                 "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    written = Path(json.loads(res.stdout)["written"][0])
    assert written == tmp_path / "series.rtstruct.dcm" and not list(tmp_path.glob("*.nii.gz"))
    rs = pydicom.dcmread(written)
    assert rs.Modality == "RTSTRUCT" and rs.StructureSetROISequence[0].ROIName == "PTV_MoME"
    assert rs.RTROIObservationsSequence[0].RTROIInterpretedType == "PTV"
    frame = rs.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == series.frame_of_reference_uid
    referenced = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert referenced.SeriesInstanceUID == series.series_uid
    assert [i.ReferencedSOPInstanceUID for i in referenced.ContourImageSequence] == series.sop_uids
    assert np.array_equal(roi_mask(rs, "PTV_MoME", series), nifti_mask)


def test_seg_from_a_series_matches_the_nifti_prediction(
    base_model: Path, case_as_dicom, nifti_mask: np.ndarray, tmp_path: Path
) -> None:
    case, folder, series = case_as_dicom
    res = invoke("predict", "--model", base_model, "--image", folder, "--note", case.clinical, "--format", "seg",
                 "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    seg = hd.seg.segread(json.loads(res.stdout)["written"][0])
    assert seg.FrameOfReferenceUID == series.frame_of_reference_uid
    pixels = seg.get_pixels_by_source_instance(series.sop_uids, segment_numbers=[1])
    assert np.array_equal(pixels[..., 0] > 0, nifti_mask)


def test_an_imported_dataset_predicts_to_rtstruct_of_its_original_series(
    base_model: Path, case_as_dicom, nifti_mask: np.ndarray, tmp_path: Path
) -> None:
    case, folder, series = case_as_dicom
    data = tmp_path / "D"
    res = invoke("import-dicom", "--ct", folder, "--note", case.clinical, "--center", "D", "--out", data)
    assert res.exit_code == 0, res.output
    res = invoke("predict", "--model", base_model, "--data", data, "--format", "rtstruct", "--out", tmp_path / "rs",
                 "--json")
    assert res.exit_code == 0, res.output
    rs = pydicom.dcmread(json.loads(res.stdout)["written"][0])
    assert np.array_equal(roi_mask(rs, "PTV_MoME", series), nifti_mask)


def test_dicom_formats_are_refused_for_inputs_without_a_series(
    base_model: Path, centers: dict[str, Path], tmp_path: Path
) -> None:
    case = load_dataset(centers["D"]).training[0]
    res = invoke("predict", "--model", base_model, "--image", case.image, "--note", case.clinical, "--format", "seg",
                 "--out", tmp_path)
    assert res.exit_code == 2 and "needs a DICOM input" in " ".join(res.output.split())
    res = invoke("predict", "--model", base_model, "--data", centers["D"], "--format", "rtstruct", "--out", tmp_path)
    assert res.exit_code == 2 and "was not imported from DICOM" in " ".join(res.output.split())
    assert not list(tmp_path.iterdir())


def test_a_one_slice_dicom_file_is_refused_with_a_sentence(base_model: Path, tmp_path: Path) -> None:
    res = invoke("predict", "--model", base_model, "--image", get_testdata_file("CT_small.dcm"), "--note",
                 "<Grade> 7 (3+4) <Stage> cT2a, N0 <Metastasis> negative <Age> 70 <PSA> 8.0", "--out", tmp_path)
    assert res.exit_code == 2
    assert "error:" in res.output and "Traceback" not in res.output
    assert "field of view" in " ".join(res.output.split())
