"""Domain randomisation and the held-out renderer: deterministic, varied, labels true to the image."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from models.data.clinical import RiskGroup
from models.data.dataset import load_dataset
from models.data.synthetic import (
    NO_RANDOMIZATION,
    DomainRandomization,
    generate_center,
    load_preset,
    synthesize_case,
)
from models.data.synthetic.anatomy import build_anatomy
from models.data.synthetic.geometry import make_grid
from models.data.synthetic.metal import add_prosthesis, add_streaks
from models.data.synthetic.policy import delineate
from models.data.synthetic.variant import VARIANT_HU, deform

SMALL = {"scale": 0.5, "spacing_override": (2.0, 2.0, 3.0)}
ORGANS = ("prostate", "sv", "bladder", "vessels")


def _fingerprint(case, masks: bool = True) -> str:
    """SHA-256 prefix of the image, the PTV and (optionally) every mask."""
    digest = hashlib.sha256()
    named = sorted(case.anatomy.masks) if masks else []
    for array in (case.ct, case.targets.ptv, *(case.anatomy.masks[k] for k in named)):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _cases(n: int, renderer: str = "standard", randomize: DomainRandomization | bool = True, center: str = "A"):
    preset = load_preset(center)
    return [synthesize_case(preset, i, 3, **SMALL, randomize=randomize, renderer=renderer) for i in range(n)]


# Recorded from the generator before randomisation existed: (center, index, seed, extra args) ->
# (fingerprint of image, PTV and masks when listed else of image and PTV, ct sum, PTV voxels, mask voxels).
PLAIN = [
    ("A", 0, 7, {}, "9cc1e6024b841b0f", -35580115, 6855,
     {"body": 38450, "bone": 3412, "vessels": 246, "rectum": 774, "bladder": 599, "prostate": 0, "sv": 0,
      "bed": 494}),
    ("A", 0, 0, {}, "48489fd872059017", -30455179, 6660, None),
    ("C", 2, 0, {"risk_mix": "balanced", "contrast": True}, "7a9f81583a7a01ab", -26821648, 3895, None),
]


@pytest.mark.parametrize("center, index, seed, extra, fingerprint, ct_sum, ptv, masks", PLAIN)
@pytest.mark.parametrize("off", [None, False, NO_RANDOMIZATION])
def test_off_is_bit_identical_to_the_plain_generator(center, index, seed, extra, fingerprint, ct_sum, ptv, masks,
                                                     off) -> None:
    kwargs = {} if off is None else {"randomize": off, "renderer": "standard"}

    case = synthesize_case(load_preset(center), index, seed, **SMALL, **extra, **kwargs)

    assert int(case.ct.astype(np.int64).sum()) == ct_sum and int(case.targets.ptv.sum()) == ptv
    assert masks is None or {k: int(v.sum()) for k, v in case.anatomy.masks.items()} == masks
    assert _fingerprint(case, masks=masks is not None) == fingerprint
    assert case.rendering["randomized"] is False and "metal" not in case.anatomy.masks


@pytest.mark.parametrize("renderer", ["standard", "variant"])
def test_deterministic_with_randomisation(renderer: str) -> None:
    preset = load_preset("B")

    first, again, other = (synthesize_case(preset, i, 5, **SMALL, randomize=True, renderer=renderer) for i in (2, 2, 3))

    assert _fingerprint(first) == _fingerprint(again) and first.rendering == again.rendering
    assert first.clinical == again.clinical and np.array_equal(first.affine, again.affine)
    assert _fingerprint(first) != _fingerprint(other)


def test_randomisation_varies_what_the_plain_generator_keeps_fixed() -> None:
    plain, rand = _cases(8, randomize=False), _cases(8)

    def spread(cases, value) -> float:
        values = np.array([value(c) for c in cases], dtype=float)
        return float(values.std() / abs(values.mean()))

    def body(c) -> int:
        return int(c.anatomy.masks["body"].sum())

    def bone_hu(c) -> float:
        return float(np.median(c.ct[c.anatomy.masks["bone"]]))

    assert spread(rand, body) > 2 * spread(plain, body)
    assert spread(rand, bone_hu) > 3 * spread(plain, bone_hu)
    assert len({c.ct.shape for c in rand}) == len(rand) and len({c.ct.shape for c in plain}) == 1
    soft = [float(np.median(c.ct[c.anatomy.masks["body"] & ~c.anatomy.masks["bone"]])) for c in rand]
    assert max(soft) - min(soft) > 20
    assert len({(c.rendering["bowel_gas"], c.rendering["rectal_gas"]) for c in rand}) > 2


def test_masks_stay_true_to_the_painted_anatomy() -> None:
    cases = _cases(12, randomize=DomainRandomization(metal_fraction=0.0))
    definitive = [c for c in cases if c.intent == "definitive"]
    assert definitive and len(definitive) < len(cases)

    for case in cases:
        m, hu, ct = case.anatomy.masks, case.anatomy.hu, case.ct.astype(float)
        for organ in ORGANS:  # no gas, bone or other organ painted over a labelled structure
            assert not (m[organ] & m["bone"]).any()
            assert not m[organ].any() or hu[m[organ]].min() > -300, organ
        assert not (m["prostate"] & (m["sv"] | m["bladder"] | m["rectum"])).any()
        assert np.all(case.targets.ptv[case.targets.ctv]) and not (case.targets.ptv & ~m["body"]).any()
        assert float(np.median(ct[~m["body"]])) < -900 and float(np.median(ct[m["bone"]])) > 250
    for case in definitive:
        prostate = case.anatomy.masks["prostate"]
        assert np.all(case.targets.ptv[prostate])
        assert -60 < float(np.median(case.ct[prostate])) < 150  # 45 +- 25 tissue +- 40 offset, plus noise
        edges = (prostate[[0, -1]], prostate[:, [0, -1]], prostate[:, :, [0, -1]])
        assert not any(e.any() for e in edges), "the prostate must lie inside the field of view"


def test_metal_and_streaks_only_when_drawn() -> None:
    cases = _cases(10, randomize=DomainRandomization(metal_fraction=0.5))
    with_metal = [c for c in cases if c.rendering["metal"]]
    assert 0 < len(with_metal) < len(cases)

    for case in cases:
        drawn = bool(case.rendering["metal"])
        assert bool(case.anatomy.masks["metal"].any()) is drawn and (case.rendering["streaks"] > 0) is drawn
        assert (int(case.ct.max()) >= 2000) is drawn
        assert not (case.anatomy.masks["metal"] & ~case.anatomy.masks["bone"]).any()


def test_streaks_are_bright_and_dark_lines_through_the_metal() -> None:
    grid = make_grid((120.0, 100.0, 75.0), (2.0, 2.0, 3.0), "RAS")
    dr = DomainRandomization(metal_fraction=1.0, metal_bilateral_fraction=0.0)
    anatomy = build_anatomy(grid, np.random.default_rng(1), scale=0.5, randomization=dr)
    rng = np.random.default_rng(2)
    assert len(add_prosthesis(anatomy, grid, dr, rng)) == 1
    before = anatomy.hu.copy()

    lines = add_streaks(anatomy, grid, dr, rng, scale=0.5)

    change, metal, body = anatomy.hu - before, anatomy.masks["metal"], anatomy.masks["body"]
    far = body & ~ndimage.binary_dilation(metal, iterations=4)
    assert lines >= dr.streak_count[0]
    assert change[far].max() > 100 and change[far].min() < -100
    assert not change[~body].any() and not change[:, :, ~metal.any(axis=(0, 1))].any()


def test_variant_draws_the_same_anatomy_another_way() -> None:
    preset = load_preset("A")
    standard = synthesize_case(preset, 0, 0, **SMALL)
    variant = synthesize_case(preset, 0, 0, **SMALL, renderer="variant")

    assert variant.clinical == standard.clinical and variant.intent == standard.intent == "definitive"
    assert nib.aff2axcodes(standard.affine) == ("L", "P", "S") and nib.aff2axcodes(variant.affine) == ("R", "A", "S")
    assert variant.grid.spacing != standard.grid.spacing and variant.ct.shape != standard.ct.shape
    extent = [n * s for n, s in zip(variant.ct.shape, variant.grid.spacing, strict=True)]
    assert all(v > n * s for v, n, s in zip(extent, standard.ct.shape, standard.grid.spacing, strict=True))
    m = variant.anatomy.masks
    assert 20 < float(np.median(variant.ct[m["prostate"]])) < 40  # VARIANT_HU prostate 30, preset offset 0
    assert float(np.median(variant.ct[m["bone"]])) > 600
    assert np.all(variant.targets.ptv[m["prostate"]]) and np.all(variant.targets.ptv[variant.targets.ctv])
    assert 2.5 <= variant.rendering["warp_peak_mm"] <= 6.0  # 5-12 mm times scale 0.5


def test_warp_moves_image_masks_and_targets_together() -> None:
    grid = make_grid((120.0, 100.0, 75.0), (2.0, 2.0, 3.0), "LPS")
    anatomy = build_anatomy(grid, np.random.default_rng(4), scale=0.5, hu_table=VARIANT_HU)
    targets = delineate(anatomy, grid, load_preset("A").policy, RiskGroup.HIGH, scale=0.5)

    warped, moved, peak = deform(anatomy, targets, grid, np.random.default_rng(0), scale=1.0)  # 5-12 mm, half pelvis

    for key, value in (("prostate", 30.0), ("bladder", 0.0)):
        before, after = anatomy.masks[key], warped.masks[key]
        assert not np.array_equal(before, after) and abs(int(after.sum()) / int(before.sum()) - 1) < 0.3

        def fits(mask: np.ndarray, value: float = value) -> float:
            core = ndimage.binary_erosion(mask)
            return float(np.mean(np.abs(warped.hu[core] - value) < 1.0))

        assert fits(after) > 0.9 and fits(before) < fits(after) - 0.2, key  # the image moved with the mask
    assert not np.array_equal(moved.ptv, targets.ptv) and np.all(moved.ptv[moved.ctv])
    assert np.all(moved.ptv[warped.masks["prostate"]]) and not (moved.ptv & ~warped.masks["body"]).any()
    assert np.array_equal(moved.gtv, warped.masks["prostate"]) and 5.0 <= peak <= 12.0


def test_dataset_json_records_randomisation_and_renderer(tmp_path: Path) -> None:
    small = {"scale": 0.3, "spacing_override": (4.0, 4.0, 5.0)}
    plain = generate_center("C", 1, tmp_path / "plain", seed=1, **small)
    rand = generate_center("C", 2, tmp_path / "rand", seed=1, **small, randomize=True, renderer="variant")

    docs = [json.loads((p / "dataset.json").read_text()) for p in (plain, rand)]

    assert (docs[0]["randomized"], docs[0]["renderer"]) == (False, "standard")
    assert (docs[1]["randomized"], docs[1]["renderer"]) == (True, "variant")
    assert load_dataset(rand).extra["renderer"] == "variant" and len(load_dataset(rand).training) == 2


@pytest.mark.parametrize("kwargs, needle", [({"renderer": "fancy"}, "renderer must be one of standard, variant"),
                                            ({"randomize": "yes"}, "randomize must be True, False")])
def test_bad_options_are_one_clear_error(kwargs, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        synthesize_case(load_preset("A"), 0, 0, **SMALL, **kwargs)
