"""Delineation policy of each center preset, and the presets themselves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.data.clinical import RiskGroup
from models.data.synthetic import PresetError, load_preset, synthesize_case
from models.data.synthetic.anatomy import build_anatomy
from models.data.synthetic.geometry import make_grid
from models.data.synthetic.policy import delineate

SCALE = 0.5
GRID = make_grid((120.0, 100.0, 75.0), (2.0, 2.0, 3.0), "RAS")


def _nodes_covered(ptv: np.ndarray, nodal: np.ndarray) -> float:
    return float((ptv & nodal).sum() / nodal.sum())


@pytest.fixture(scope="module")
def anatomy():
    return build_anatomy(GRID, np.random.default_rng(5), scale=SCALE)


@pytest.mark.parametrize("center, risk, nodes", [
    ("A", RiskGroup.LOW, False), ("A", RiskGroup.INTERMEDIATE, True), ("A", RiskGroup.HIGH, True),
    ("A", RiskGroup.VERY_HIGH, True), ("A", RiskGroup.REGIONAL, True),
    ("C", RiskGroup.LOW, False), ("C", RiskGroup.INTERMEDIATE, False), ("C", RiskGroup.HIGH, True),
    ("C", RiskGroup.VERY_HIGH, True), ("C", RiskGroup.REGIONAL, True),
])
def test_ptv_contains_nodal_region_iff_policy(anatomy, center: str, risk: RiskGroup, nodes: bool) -> None:
    policy = load_preset(center).policy

    targets = delineate(anatomy, GRID, policy, risk, scale=SCALE)

    covered = _nodes_covered(targets.ptv, targets.nodal)
    assert targets.pelvic_nodes is nodes
    assert (covered == 1.0) if nodes else (covered < 0.5)
    assert np.all(targets.ptv[targets.ctv])


@pytest.mark.parametrize("center", ["A", "C"])
def test_policy_holds_on_generated_cases(center: str) -> None:
    preset = load_preset(center)
    cases = [synthesize_case(preset, i, 11, scale=SCALE, spacing_override=(2.0, 2.0, 3.0)) for i in range(8)]

    outcomes = set()
    for case in cases:
        outcomes.add(preset.policy.pelvic_nodes(case.risk))
        covered = _nodes_covered(case.targets.ptv, case.targets.nodal)
        expected = preset.policy.pelvic_nodes(case.risk)
        assert (covered == 1.0) is expected, (case.clinical, case.risk, covered)
        assert (case.targets.gtv is None) is (case.intent != "definitive")
        assert bool(case.anatomy.masks["prostate"].any()) is (case.intent == "definitive")
    assert len({case.risk for case in cases}) >= 2
    if center == "C":  # seed 11 draws both intermediate (no PNI at C) and high-risk patients
        assert outcomes == {True, False}


def test_margins_differ_between_centers(anatomy) -> None:
    ratios = {}
    for center in "ACE":
        targets = delineate(anatomy, GRID, load_preset(center).policy, RiskGroup.LOW, scale=SCALE)
        ratios[center] = targets.ptv.sum() / targets.ctv.sum()

    assert ratios["A"] > ratios["E"] > ratios["C"] > 1.0


def test_presets_differ_as_seed_000_describes() -> None:
    a, b, c, d, e = (load_preset(code) for code in "ABCDE")

    assert a.scanner.identity() == b.scanner.identity() and a.policy == b.policy
    assert a.clinical_mix != b.clinical_mix
    assert c.scanner.manufacturer == "SIEMENS" and c.scanner.identity() != a.scanner.identity()
    assert set(c.policy.pni_risk_groups) & {RiskGroup.LOW, RiskGroup.INTERMEDIATE} == set()
    assert RiskGroup.INTERMEDIATE in a.policy.pni_risk_groups and c.policy.ptv_margin_mm != a.policy.ptv_margin_mm
    assert d.policy == b.policy and d.scanner.kvp == 140 and d.scanner.manufacturer == "GE"
    assert all(d.scanner.identity() != o.scanner.identity() for o in (a, b, c, e))
    assert d.scanner.slice_mm < min(o.scanner.slice_mm for o in (a, b, c, e))
    assert e.scanner.identity() == c.scanner.identity()
    assert e.policy.pni_risk_groups == c.policy.pni_risk_groups
    assert e.policy.ptv_margin_mm != c.policy.ptv_margin_mm
    assert a.clinical_mix.psa_median > max(o.clinical_mix.psa_median for o in (b, c, d, e))
    assert max(d.clinical_mix.psa_median, e.clinical_mix.psa_median) < min(
        o.clinical_mix.psa_median for o in (a, b, c))


def test_user_preset_from_a_json_path(tmp_path: Path) -> None:
    doc = json.loads(Path(load_preset.__globals__["PRESET_DIR"], "C.json").read_text())
    doc.update(code="F", name="Center F")
    doc["policy"]["ptv_margin_mm"] = 3.0
    path = tmp_path / "F.json"
    path.write_text(json.dumps(doc))

    preset = load_preset(path)

    assert preset.code == "F" and preset.policy.ptv_margin_mm == 3.0
    assert synthesize_case(preset, 0, 0, scale=0.2, spacing_override=(6.0, 6.0, 6.0)).case_id == "f001"


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["policy"].update(ptv_margin_mm=-1), "policy.ptv_margin_mm"),
    (lambda d: d["policy"].update(pni_risk_groups=["medium"]), "policy.pni_risk_groups"),
    (lambda d: d["scanner"].update(orientation="LAS"), "scanner.orientation"),
    (lambda d: d["clinical_mix"]["t_category"].update(T9=0.1), "clinical_mix.t_category"),
    (lambda d: d.pop("scanner"), "scanner"),
    (lambda d: d.update(colour="red"), "colour"),
])
def test_invalid_preset_is_one_clear_error(tmp_path: Path, mutate, needle: str) -> None:
    doc = json.loads(Path(load_preset.__globals__["PRESET_DIR"], "A.json").read_text())
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))

    with pytest.raises(PresetError) as info:
        load_preset(path)

    assert str(path) in str(info.value) and needle in str(info.value) and "\n" not in str(info.value)


def test_unknown_preset_code() -> None:
    with pytest.raises(PresetError, match="no center preset 'Z'"):
        load_preset("Z")
