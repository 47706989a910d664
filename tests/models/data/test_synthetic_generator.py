"""Synthetic generator: determinism, plausible HU, dataset folder written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from models.data.clinical import parse_note
from models.data.dataset import load_dataset
from models.data.synthetic import generate_center, load_preset, synthesize_case

SMALL = {"scale": 0.5, "spacing_override": (2.0, 2.0, 3.0)}


def test_deterministic_for_a_seed() -> None:
    preset = load_preset("A")

    first, again, other = (synthesize_case(preset, 1, seed, **SMALL) for seed in (7, 7, 8))

    assert np.array_equal(first.ct, again.ct) and np.array_equal(first.targets.ptv, again.targets.ptv)
    assert first.clinical == again.clinical
    assert not np.array_equal(first.ct, other.ct)


def test_hounsfield_units_per_tissue_are_plausible() -> None:
    preset = load_preset("A")  # no intensity offset
    case = next(c for c in (synthesize_case(preset, i, 0, **SMALL) for i in range(20)) if c.intent == "definitive")
    ct, m = case.ct.astype(float), case.anatomy.masks

    median = {k: float(np.median(ct[v])) for k, v in m.items() if v.any()}

    assert float(np.median(ct[~m["body"]])) < -950
    assert median["bone"] > 500 and -20 < median["bladder"] < 30 and 25 < median["prostate"] < 65
    assert 20 < median["sv"] < 55 and 20 < median["vessels"] < 60
    assert float(ct[m["rectum"]].min()) < -500  # the air bubble
    fat_ring = m["body"] & (ct < -50) & (ct > -200)
    assert fat_ring.sum() > 0.05 * m["body"].sum()


def test_patients_vary() -> None:
    preset = load_preset("C")

    volumes = {int(synthesize_case(preset, i, 0, **SMALL).anatomy.masks["bladder"].sum()) for i in range(4)}

    assert len(volumes) == 4


def test_notes_follow_center_mixes() -> None:
    a, d = load_preset("A"), load_preset("D")

    psa_a = [synthesize_case(a, i, 0, scale=0.2, spacing_override=(6.0, 6.0, 6.0)).note.psa for i in range(40)]
    psa_d = [synthesize_case(d, i, 0, scale=0.2, spacing_override=(6.0, 6.0, 6.0)).note.psa for i in range(40)]

    assert np.median(psa_a) > 2 * np.median(psa_d)


def test_generate_center_writes_the_contract(tmp_path: Path) -> None:
    out = generate_center("A", 4, tmp_path / "A", seed=2, scale=0.3, spacing_override=(4.0, 4.0, 5.0))

    doc = json.loads((out / "dataset.json").read_text())
    ds = load_dataset(out)
    assert doc["center"] == "A" and doc["scanner"] == {"manufacturer": "Canon", "model": "Aquilion LB",
                                                       "kvp": 120, "filter": "LARGE"}
    assert [e["id"] for e in doc["training"]] == ["a001", "a002", "a003", "a004"]
    for entry, case in zip(doc["training"], ds.training, strict=True):
        parse_note(entry["clinical"])
        assert ("gtv" in entry) == (entry["intent"] == "definitive")
        image, label = nib.load(case.image), nib.load(case.label)
        assert image.get_data_dtype() == np.int16 and label.get_data_dtype() == np.uint8
        assert np.array_equal(image.affine, label.affine)
        assert nib.aff2axcodes(image.affine) == ("L", "P", "S")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A"]


def test_refuses_non_empty_out_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.txt").write_text("x")

    with pytest.raises(FileExistsError, match="not empty"):
        generate_center("B", 1, out, scale=0.2, spacing_override=(6.0, 6.0, 6.0))
    assert (out / "keep.txt").exists()

    generate_center("B", 1, out, scale=0.2, spacing_override=(6.0, 6.0, 6.0), overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "dataset.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
