"""verify_dataset: each fault of the contract is reported as one line naming the case."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from models.data.verify import verify_dataset


def _doc(root: Path) -> dict:
    return json.loads((root / "dataset.json").read_text())


def _save_doc(root: Path, doc: dict) -> None:
    (root / "dataset.json").write_text(json.dumps(doc))


def _lines(root: Path) -> list[str]:
    return [str(p) for p in verify_dataset(root)]


def test_clean_synthetic_dataset_passes(tiny_dataset: Path) -> None:
    assert verify_dataset(tiny_dataset) == []


def test_missing_file(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][1]
    (tiny_dataset / entry["label"]).unlink()

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and lines[0].startswith(f"case {entry['id']}:") and "does not exist" in lines[0]


def test_unreadable_file(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][0]
    (tiny_dataset / entry["image"]).write_bytes(b"not a nifti")

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and entry["id"] in lines[0] and "not a readable NIfTI" in lines[0]


def test_shape_mismatch(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][0]
    label = nib.load(tiny_dataset / entry["label"])
    data = np.asarray(label.dataobj)[:-1]
    nib.save(nib.Nifti1Image(data, label.affine), tiny_dataset / entry["label"])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and entry["id"] in lines[0] and "label shape" in lines[0]


def test_affine_mismatch(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][2]
    organ = nib.load(tiny_dataset / entry["organ"])
    shifted = organ.affine.copy()
    shifted[0, 3] += 0.5
    nib.save(nib.Nifti1Image(np.asarray(organ.dataobj), shifted), tiny_dataset / entry["organ"])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and entry["id"] in lines[0] and "organ affine" in lines[0]


def test_label_value_not_declared(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][0]
    label = nib.load(tiny_dataset / entry["label"])
    data = np.asarray(label.dataobj).copy()
    data[0, 0, 0] = 3
    nib.save(nib.Nifti1Image(data, label.affine), tiny_dataset / entry["label"])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and entry["id"] in lines[0] and "(3)" in lines[0]


def test_malformed_and_empty_notes(tiny_dataset: Path) -> None:
    doc = _doc(tiny_dataset)
    doc["training"][0]["clinical"] = "<Grade> 7 <Stage> cT9 <Metastasis> negative <Age> 1 <PSA> 1"
    doc["training"][1]["clinical"] = ""
    _save_doc(tiny_dataset, doc)

    lines = _lines(tiny_dataset)

    assert len(lines) == 2
    assert doc["training"][0]["id"] in lines[0] and "<Stage>" in lines[0]
    assert doc["training"][1]["id"] in lines[1] and "empty" in lines[1]


def test_bad_dataset_json_is_one_problem(tiny_dataset: Path) -> None:
    (tiny_dataset / "dataset.json").write_text('{"training": [}')

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and "dataset.json" in lines[0] and "JSON" in lines[0]


def test_image_that_is_not_3d(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][0]
    img = nib.load(tiny_dataset / entry["image"])
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj)[..., None], img.affine), tiny_dataset / entry["image"])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and entry["id"] in lines[0] and "3D volume" in lines[0]


def _truncate(path: Path) -> None:
    """Cut the end of the gzip stream (as an interrupted copy does); the header stays readable."""
    path.write_bytes(path.read_bytes()[:-16])


def test_one_nan_voxel_in_an_image_is_reported(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][1]
    img = nib.load(tiny_dataset / entry["image"])
    data = np.asarray(img.dataobj).astype(np.float32)
    data[5, 5, 5] = np.nan
    nib.save(nib.Nifti1Image(data, img.affine), tiny_dataset / entry["image"])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and lines[0].startswith(f"case {entry['id']}: image file ")
    assert entry["image"] in lines[0] and "1 NaN or infinite voxel" in lines[0]


def test_truncated_image_is_one_sentence_naming_the_file(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][0]
    _truncate(tiny_dataset / entry["image"])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and entry["image"] in lines[0] and "truncated or corrupt" in lines[0]


@pytest.mark.parametrize("key", ["label", "organ", "gtv"])
def test_truncated_mask_is_one_clear_sentence(tiny_dataset: Path, key: str) -> None:
    entry = next(e for e in _doc(tiny_dataset)["training"] if e.get(key))
    _truncate(tiny_dataset / entry[key])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and lines[0].startswith(f"case {entry['id']}: {key} file ")
    assert "truncated or corrupt" in lines[0] and "outside the allowed" not in lines[0]


def test_an_image_that_is_not_a_ct_in_hounsfield_units(tiny_dataset: Path) -> None:
    entry = _doc(tiny_dataset)["training"][0]
    img = nib.load(tiny_dataset / entry["image"])
    shifted = np.asarray(img.dataobj).astype(np.int16) + 1024  # stored without its rescale intercept
    nib.save(nib.Nifti1Image(shifted, img.affine), tiny_dataset / entry["image"])

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and entry["id"] in lines[0] and "does not look like a CT in Hounsfield units" in lines[0]


def test_full_width_digits_in_a_note_are_reported(tiny_dataset: Path) -> None:
    doc = _doc(tiny_dataset)
    doc["training"][0]["clinical"] = doc["training"][0]["clinical"].replace("<Age> ", "<Age> ７", 1)
    _save_doc(tiny_dataset, doc)

    lines = _lines(tiny_dataset)

    assert len(lines) == 1 and "'７'" in lines[0]
