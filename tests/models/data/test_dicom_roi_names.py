"""ROI names: default synonyms, the user's table (JSON or CSV), --roi choices, refusal of ambiguous matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.data.dicom import DicomError
from models.data.dicom.roi_names import load_roi_table, match_roi, parse_roi_options


def test_default_synonyms_match_ignoring_case_spaces_and_separators() -> None:
    present = ["BODY", "ptv 7800", "Prostate-Gland", "Rectum"]
    assert match_roi("PTV", present, chosen={}, table={}) == "ptv 7800"
    assert match_roi("prostate", present, chosen={}, table={}) == "Prostate-Gland"
    assert match_roi("GTV", present, chosen={}, table={}) is None


def test_the_users_table_is_tried_before_the_defaults(tmp_path: Path) -> None:
    as_json = tmp_path / "rois.json"
    as_json.write_text('{"ptv": ["Zielvolumen_78"], "Prostate": ["Prostata_MR"]}', encoding="utf-8")
    as_csv = tmp_path / "rois.csv"
    as_csv.write_text("target,roi_name\nPTV,Zielvolumen_78\nprostate,Prostata_MR\n", encoding="utf-8")
    present = ["PTV", "zielvolumen78", "Prostata_MR"]
    for path in (as_json, as_csv):
        table = load_roi_table(path)
        assert table == {"PTV": ["Zielvolumen_78"], "prostate": ["Prostata_MR"]}
        assert match_roi("PTV", present, chosen={}, table=table) == "zielvolumen78"


def test_several_candidates_are_refused_until_one_is_chosen() -> None:
    present = ["PTV1", "PTV_7800", "CTV"]
    with pytest.raises(DicomError, match=r"PTV1, PTV_7800.*--roi PTV=NAME"):
        match_roi("PTV", present, chosen={}, table={})
    chosen = parse_roi_options(["PTV_7800", "prostate=CTV"])
    assert chosen == {"PTV": "PTV_7800", "prostate": "CTV"}
    assert match_roi("PTV", present, chosen=chosen, table={}) == "PTV_7800"
    with pytest.raises(DicomError, match="no such ROI; the structure set has the ROIs PTV1, PTV_7800, CTV"):
        match_roi("PTV", present, chosen={"PTV": "PTV_60"}, table={})


def test_bad_tables_and_targets_are_refused_with_a_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "rois.csv"
    bad.write_text("PTV,a,b\n", encoding="utf-8")
    with pytest.raises(DicomError, match="two columns"):
        load_roi_table(bad)
    with pytest.raises(DicomError, match="unknown ROI target 'bladder'"):
        parse_roi_options(["bladder=Blase"])
