"""Datasets as sites have them: nnU-Net v2 and MSD dataset.json files read unchanged, notes from a side file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models.data.dataset import DatasetError, case_id_from_path, load_dataset
from models.data.image_io import load_image, save_image
from models.data.verify import verify_dataset

FIXTURES = Path(__file__).parents[2] / "fixtures" / "datasets"
NOTE = "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6"


def _images(master: Path) -> list[tuple[Path, Path]]:
    doc = json.loads((master / "dataset.json").read_text())
    return [(master / e["image"], master / e["label"]) for e in doc["training"]]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.name.endswith(".nii.gz"):
        shutil.copyfile(src, dst)
    else:
        save_image(load_image(src), dst)


def nnunet_folder(master: Path, root: Path, fixture: str = "nnunetv2_nii") -> Path:
    """nnU-Net v2 raw layout of the tiny dataset: two training cases and one test case, with the fixture's json."""
    shutil.copytree(FIXTURES / fixture, root)
    ending = json.loads((root / "dataset.json").read_text())["file_ending"]
    (a, la), (b, lb), (c, _) = _images(master)
    for name, image, label in (("pel_001", a, la), ("pel_002", b, lb)):
        _copy(image, root / "imagesTr" / f"{name}_0000{ending}")
        _copy(label, root / "labelsTr" / f"{name}{ending}")
    _copy(c, root / "imagesTs" / f"pel_003_0000{ending}")
    return root


def msd_folder(master: Path, root: Path, fixture: str = "msd_ct") -> Path:
    """The MSD layout of the fixture's dataset.json, filled with the tiny dataset's volumes."""
    shutil.copytree(FIXTURES / fixture, root)
    doc = json.loads((root / "dataset.json").read_text())
    pairs = _images(master)
    for entry, (image, label) in zip(doc["training"], pairs, strict=False):
        _copy(image, (root / entry["image"]).resolve())
        _copy(label, (root / entry["label"]).resolve())
    _copy(pairs[2][0], (root / doc["test"][0]).resolve())
    return root


def _errors(root: Path) -> list[str]:
    return [str(p) for p in verify_dataset(root) if not p.warning]


def test_nnunet_v2_dataset_json_from_its_own_helper_is_read_unchanged(tiny_dataset_master: Path,
                                                                        tmp_path: Path) -> None:
    root = nnunet_folder(tiny_dataset_master, tmp_path / "Dataset501")
    before = (root / "dataset.json").read_bytes()

    ds = load_dataset(root)

    assert (root / "dataset.json").read_bytes() == before == (FIXTURES / "nnunetv2_nii" / "dataset.json").read_bytes()
    assert ds.layout == "nnunetv2" and ds.name == "Dataset501_PelvisPTV"
    assert [c.case_id for c in ds.training] == ["pel_001", "pel_002"] and [c.case_id for c in ds.test] == ["pel_003"]
    assert ds.training[0].label == root / "labelsTr" / "pel_001.nii.gz" and ds.test[0].label is None
    assert ds.labels == {"0": "background", "1": "PTV"} and ds.modality == {"0": "CT"}
    assert all(c.clinical is None for c in ds.cases) and ds.notes.without_note == 3
    assert _errors(root) == []


def test_nnunet_v2_with_mha_files_verifies(tiny_dataset_master: Path, tmp_path: Path) -> None:
    root = nnunet_folder(tiny_dataset_master, tmp_path / "Dataset502", "nnunetv2_mha")

    ds = load_dataset(root)

    assert ds.training[1].image.name == "pel_002_0000.mha" and ds.training[1].case_id == "pel_002"
    assert _errors(root) == []


def test_nnunet_v2_numtraining_off_and_label_missing_are_reported(tiny_dataset_master: Path, tmp_path: Path) -> None:
    root = nnunet_folder(tiny_dataset_master, tmp_path / "Dataset501")
    (root / "labelsTr" / "pel_002.nii.gz").unlink()
    shutil.copyfile(root / "imagesTs" / "pel_003_0000.nii.gz", root / "imagesTr" / "pel_004_0000.nii.gz")

    errors = _errors(root)

    assert any("numTraining is 2 but imagesTr holds 3" in e for e in errors)
    assert any(e.startswith("case pel_002") and "does not exist" in e for e in errors)


def test_msd_dataset_json_with_test_as_strings_and_no_notes_verifies(tiny_dataset_master: Path,
                                                                      tmp_path: Path) -> None:
    root = msd_folder(tiny_dataset_master, tmp_path / "Task99_Pelvis")

    ds = load_dataset(root)

    assert [c.case_id for c in ds.training] == ["pelvis_001", "pelvis_002"]
    assert (ds.test[0].case_id, ds.test[0].label) == ("pelvis_003", None)
    assert ds.notes.sources == () and "nowhere" in ds.notes.describe()
    assert _errors(root) == []


def test_msd_multichannel_dataset_is_refused_in_one_sentence(tmp_path: Path) -> None:
    root = Path(shutil.copytree(FIXTURES / "msd_prostate", tmp_path / "Task05_Prostate"))

    problems = verify_dataset(root)

    assert len(problems) == 1 and "2 image channels (T2, ADC)" in str(problems[0])
    assert "one CT channel" in str(problems[0])


@pytest.mark.parametrize("name, header, row", [
    ("clinical.csv", "case_id,note", "pel_001,\"{note}\""),
    ("clinical.csv", "ID,Text", "pel_001_0000.nii.gz,\"{note}\""),
    ("clinical.json", None, None),
])
def test_notes_from_a_side_file(tiny_dataset_master: Path, tmp_path: Path, name: str, header: str | None,
                                row: str | None) -> None:
    root = nnunet_folder(tiny_dataset_master, tmp_path / "Dataset501")
    if name.endswith(".json"):
        (root / name).write_text(json.dumps({"pel_001": NOTE}))
    else:
        (root / name).write_text(f"{header}\n{row.format(note=NOTE)}\n")

    ds = load_dataset(root)

    assert [c.clinical for c in ds.cases] == [NOTE, None, None]
    assert ds.notes.sources == (name,) and ds.notes.without_note == 2
    assert name in ds.notes.describe() and "2 cases without a note" in ds.notes.describe()


def test_the_clinical_field_comes_before_the_side_file(tiny_dataset_master: Path, tmp_path: Path) -> None:
    root = msd_folder(tiny_dataset_master, tmp_path / "Task99_Pelvis")
    doc = json.loads((root / "dataset.json").read_text())
    doc["training"][0]["clinical"] = NOTE
    (root / "dataset.json").write_text(json.dumps(doc))
    (root / "clinical.csv").write_text("case,clinical\npelvis_001,other\npelvis_002,second\n")

    ds = load_dataset(root)

    assert [c.clinical for c in ds.cases] == [NOTE, "second", None]
    assert ds.notes.sources == ("the 'clinical' field of dataset.json", "clinical.csv")


def test_side_file_notes_for_unknown_cases_are_a_problem(tiny_dataset_master: Path, tmp_path: Path) -> None:
    root = nnunet_folder(tiny_dataset_master, tmp_path / "Dataset501")
    (root / "clinical.json").write_text(json.dumps({"pel_001": NOTE, "pel_0l2": NOTE}))

    errors = _errors(root)

    assert len(errors) == 1 and "clinical.json" in errors[0] and "pel_0l2" in errors[0]


@pytest.mark.parametrize("files, needle", [
    ({"clinical.csv": "patient,remark\np,x\n"}, "needs a case id column"),
    ({"clinical.csv": "id,note\npel_001,a\npel_001,b\n"}, "two notes for case 'pel_001'"),
    ({"clinical.csv": f"id,note\npel_001,{NOTE}\n"}, "line 2 has more fields"),
    ({"clinical.json": "[1, 2]"}, "JSON object"),
    ({"clinical.json": "{}", "clinical.csv": "id,note\n"}, "keep one"),
])
def test_bad_side_files_name_the_file(tiny_dataset_master: Path, tmp_path: Path, files: dict[str, str],
                                      needle: str) -> None:
    root = nnunet_folder(tiny_dataset_master, tmp_path / "Dataset501")
    for name, text in files.items():
        (root / name).write_text(text)

    with pytest.raises(DatasetError, match="clinical") as info:
        load_dataset(root)

    assert needle in str(info.value)


def _labels_doc(tmp_path: Path, labels: dict) -> Path:
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": labels, "training": [
        {"image": "imagesTr/a.nii.gz", "label": "labelsTr/a.nii.gz"}]}))
    return tmp_path


@pytest.mark.parametrize("labels", [{"0": "background", "1": "PTV"}, {"background": 0, "PTV": 1},
                                    {"background": [0], "PTV": [1]}])
def test_labels_in_either_direction(tmp_path: Path, labels: dict) -> None:
    assert load_dataset(_labels_doc(tmp_path, labels)).labels == {"0": "background", "1": "PTV"}


@pytest.mark.parametrize("labels, needle", [
    ({"background": 0, "whole": [1, 2], "core": 2}, "region-based"),
    ({"background": 0, "PTV": 0}, "same value"),
    ({"background": 0, "PTV": "one"}, "integer values"),
])
def test_labels_that_cannot_be_used(tmp_path: Path, labels: dict, needle: str) -> None:
    with pytest.raises(DatasetError, match="'labels'") as info:
        load_dataset(_labels_doc(tmp_path, labels))
    assert needle in str(info.value)


@pytest.mark.parametrize("doc, needle", [
    ({"channel_names": {"0": "CT"}, "labels": {"background": 0, "PTV": 1}}, "'file_ending'"),
    ({"channel_names": {"0": "CT"}, "labels": {"background": 0, "PTV": 1}, "file_ending": ".png"}, "'.png'"),
    ({"channel_names": {"0": "CT"}, "labels": {"background": 0, "PTV": 1}, "file_ending": ".nii.gz"}, "_0000"),
])
def test_nnunet_v2_folders_that_cannot_be_read(tmp_path: Path, doc: dict, needle: str) -> None:
    (tmp_path / "imagesTr").mkdir()
    (tmp_path / "imagesTr" / "pel_001.nii.gz").write_bytes(b"")  # not channel-suffixed: not an nnU-Net case
    (tmp_path / "dataset.json").write_text(json.dumps(doc))

    with pytest.raises(DatasetError, match="dataset.json") as info:
        load_dataset(tmp_path)

    assert needle in str(info.value)


@pytest.mark.parametrize("path, case_id", [
    ("imagesTr/pel_001_0000.nii.gz", "pel_001"), ("imagesTr/pel_001.nii", "pel_001"), ("x_0000.mha", "x"),
    ("x.nrrd", "x"), ("x_0001.nii.gz", "x_0001"), ("_0000.nii.gz", "_0000"),
])
def test_case_ids_drop_the_ending_and_the_channel_suffix(path: str, case_id: str) -> None:
    assert case_id_from_path(path) == case_id
