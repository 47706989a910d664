"""``site-agent import-dicom``: a synthetic center's cases go out as DICOM (CT series + RT Structure Set) and
come back as a dataset that verifies, with the same voxels and geometry; folders of patients, appends, reruns
and refused series."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from models.data.dataset import load_dataset
from models.data.dicom.rtstruct_write import mask_to_rtstruct
from models.data.dicom.scan import scan_tree
from models.data.dicom.series import read_series
from models.data.dicom.write_series import write_ct_series
from models.data.verify import verify_dataset
from site_agent.cli import app

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def export_case(case, folder: Path, roi_name: str = "PTV_7800") -> tuple[Path, Path]:
    """One case of a NIfTI dataset as a DICOM CT series in ``folder/ct`` and its structure set ``folder/rs.dcm``
    (PTV, and the prostate as 'Prostata')."""
    write_ct_series(case.image, folder / "ct", patient_id=case.case_id)
    scan = scan_tree(folder / "ct")[0]
    series = read_series(scan.folder, scan.ct)
    ds = mask_to_rtstruct(series.mask_from_nifti(nib.load(case.label)), series, roi_name=roi_name)
    organ = mask_to_rtstruct(series.mask_from_nifti(nib.load(case.organ)), series, roi_name="Prostata")
    item = organ.StructureSetROISequence[0]
    item.ROINumber = 2
    ds.StructureSetROISequence.append(item)
    contours = organ.ROIContourSequence[0]
    contours.ReferencedROINumber = 2
    ds.ROIContourSequence.append(contours)
    ds.save_as(folder / "rs.dcm", enforce_file_format=True)
    return folder / "ct", folder / "rs.dcm"


@pytest.fixture(scope="module")
def source(centers: dict[str, Path]):
    return load_dataset(centers["D"])


def test_a_series_with_its_structure_set_becomes_a_case_that_verifies(source, tmp_path: Path) -> None:
    case = source.training[0]
    ct, rs = export_case(case, tmp_path / "dicom")
    out = tmp_path / "D"
    res = invoke("import-dicom", "--ct", ct, "--rtstruct", rs, "--roi", "prostate=prostata", "--note", case.clinical,
                 "--center", "D", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert [c["case_id"] for c in summary["imported"]] == ["d001"]
    assert summary["imported"][0]["rois"] == {"PTV": "PTV_7800", "prostate": "Prostata"}
    assert verify_dataset(out) == []
    imported = load_dataset(out).training[0]
    original, image = nib.load(case.image), nib.load(imported.image)
    assert np.allclose(image.affine, original.affine, atol=1e-3)
    assert np.array_equal(np.asarray(image.dataobj), np.asarray(original.dataobj))
    for new, old in ((imported.label, case.label), (imported.organ, case.organ)):
        assert np.array_equal(np.asarray(nib.load(new).dataobj) > 0, np.asarray(nib.load(old).dataobj) > 0)
    sources = json.loads((out / "dicom_sources.json").read_text())
    scan = scan_tree(ct)[0]
    assert sources["d001"]["series_uid"] == str(scan.ct[0][1].SeriesInstanceUID)
    assert sources["d001"]["frame_of_reference_uid"] == str(scan.ct[0][1].FrameOfReferenceUID)
    assert Path(sources["d001"]["series_folder"]) == ct.resolve()


def test_a_folder_of_patients_imports_the_good_series_names_the_bad_and_appends(source, tmp_path: Path) -> None:
    out = tmp_path / "D"
    shutil.copytree(source.root, out)
    before = json.loads((out / "dataset.json").read_text())
    patients = tmp_path / "patients"
    for i, case in enumerate(source.training[:3]):
        export_case(case, patients / f"p{i}")
    (patients / "p1" / "rs.dcm").unlink(missing_ok=True)
    broken = sorted((patients / "p2" / "ct").iterdir())
    broken[len(broken) // 2].unlink()
    res = invoke("import-dicom", "--ct", patients, "--note", source.training[0].clinical, "--out", out, "--json")
    assert res.exit_code == 1
    summary = json.loads(res.stdout)
    assert [(c["split"], Path(c["series_folder"]).parent.name) for c in summary["imported"]] == [
        ("training", "p0"), ("test", "p1")]
    assert len(summary["failed"]) == 1 and "missing" in summary["failed"][0]["error"]
    after = json.loads((out / "dataset.json").read_text())
    assert after["training"][: len(before["training"])] == before["training"]
    new_ids = {e["id"] for e in after["training"] + after["test"]} - {e["id"] for e in before["training"]}
    assert len(new_ids) == 2 and not new_ids & {e["id"] for e in before["training"]}
    again = invoke("import-dicom", "--ct", patients / "p0", "--out", out, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["imported"] == [] and len(json.loads(again.stdout)["skipped"]) == 1
    assert json.loads((out / "dataset.json").read_text()) == after


@pytest.mark.parametrize(("problem", "expected"), [
    ("mixed", "mixes 2 CT series"),
    ("no_ptv", "no ROI recognised as the PTV (ROIs present: Bladder, Prostata); name it with --roi PTV=NAME"),
    ("nifti", "holds no CT images"),
])
def test_refused_inputs_exit_with_one_sentence(source, tmp_path: Path, problem: str, expected: str) -> None:
    case = source.training[0]
    ct, rs = export_case(case, tmp_path / "a", roi_name="Bladder" if problem == "no_ptv" else "PTV")
    if problem == "mixed":
        other, _ = export_case(source.training[1], tmp_path / "b")
        for path in list(other.iterdir())[:2]:
            shutil.move(path, ct / f"b-{path.name}")
    target = case.image.parent if problem == "nifti" else ct
    res = invoke("import-dicom", "--ct", target, "--rtstruct", rs, "--out", tmp_path / "out")
    assert res.exit_code == 2
    assert expected in " ".join(res.output.split())
    assert "Traceback" not in res.output
    assert not (tmp_path / "out" / "dataset.json").exists()


def test_a_one_file_series_imports_for_prediction_and_records_the_file(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    path = Path(get_testdata_file("CT_small.dcm"))
    res = invoke("import-dicom", "--ct", path, "--center", "X", "--out", tmp_path / "X", "--json")
    assert res.exit_code == 0, res.output
    dataset = load_dataset(tmp_path / "X")
    assert dataset.training == [] and [c.case_id for c in dataset.test] == ["x001"]
    assert nib.load(dataset.test[0].image).shape == (128, 128, 1)
    sources = json.loads((tmp_path / "X" / "dicom_sources.json").read_text())
    assert Path(sources["x001"]["series_folder"]) == path.resolve()
