"""dataset.json reader: fields, defaults and one-sentence errors naming file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.data.dataset import DatasetError, load_dataset

NOTE = "<Grade> 7 (4+3) <Stage> cT2a, N0 <Metastasis> negative <Age> 69 <PSA> 11.6"


def _write(root: Path, doc: dict | str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return root


def _doc(**extra) -> dict:
    doc = {"name": "CenterD", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "PTV"},
           "training": [{"image": "imagesTr/d001.nii.gz", "label": "labelsTr/d001.nii.gz",
                         "organ": "organsTr/d001.nii.gz", "clinical": NOTE}],
           "test": [{"image": "imagesTs/d002.nii", "clinical": NOTE, "id": "x2", "intent": "salvage"}]}
    doc.update(extra)
    return doc


def test_reads_contract_and_extensions(tmp_path: Path) -> None:
    root = _write(tmp_path / "d", _doc(center="D", scanner={"manufacturer": "GE", "model": "Discovery RT",
                                                             "kvp": 140, "filter": "BODY"}))

    ds = load_dataset(root)

    assert (ds.name, ds.center, ds.scanner["kvp"]) == ("CenterD", "D", 140)
    first, second = ds.training[0], ds.test[0]
    assert first.case_id == "d001" and first.image == root.resolve() / "imagesTr/d001.nii.gz"
    assert first.organ is not None and first.gtv is None and first.intent is None
    assert (second.case_id, second.label, second.intent) == ("x2", None, "salvage")
    assert ds.label_values() == {0, 1} and len(ds.cases) == 2


@pytest.mark.parametrize("doc, needle", [
    ("{not json", "not valid JSON"),
    ({"labels": {"0": "bg"}}, "'training'"),
    (_doc(training=[{"image": "a.nii.gz", "label": "b.nii.gz", "clinical": 5}]), "'clinical'"),
    (_doc(training=[{"image": "a.nii.gz", "clinical": NOTE}]), "'label'"),
    (_doc(training=[{"image": "../outside.nii.gz", "label": "l.nii.gz", "clinical": NOTE}]), "outside"),
    (_doc(training=[{"image": "/etc/passwd", "label": "l.nii.gz", "clinical": NOTE}]), "outside"),
    (_doc(test=[{"image": "imagesTr/d001.nii.gz", "clinical": NOTE}]), "repeats the case id 'd001'"),
    (_doc(test=[{"image": "t.nii.gz", "clinical": NOTE, "intent": "palliative"}]), "'intent'"),
    (_doc(labels={"zero": "bg"}), "'labels'"),
    (_doc(scanner={"vendor": "x"}), "'scanner'"),
])
def test_bad_dataset_json_names_file_and_field(tmp_path: Path, doc: dict | str, needle: str) -> None:
    root = _write(tmp_path / "bad", doc)

    with pytest.raises(DatasetError) as info:
        load_dataset(root)

    assert needle in str(info.value) and "dataset.json" in str(info.value)


def test_missing_dataset_json(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset.json"):
        load_dataset(tmp_path)
