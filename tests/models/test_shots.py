"""Few-shot case selection across PSA clusters (seed 000, Methods)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.data.dataset import Case
from models.training.shots import choose_shots, cluster_of


def case(cid: str, psa: float) -> Case:
    note = f"<Grade> 7 (3+4) <Stage> cT2a, N0 <Metastasis> negative <Age> 70 <PSA> {psa}"
    return Case(case_id=cid, image=Path(f"/x/{cid}.nii.gz"), label=Path("/y"), organ=None, gtv=None, clinical=note)


CASES = [case("a", 3), case("b", 4), case("c", 7), case("d", 8), case("e", 15), case("f", 45), case("g", 2)]


def test_shots_spread_over_psa_clusters_with_a_separate_validation_case() -> None:
    shots, val, rest = choose_shots(CASES, 3, seed=0)
    assert len({cluster_of(c) for c in shots}) == 3
    assert val is not None and val not in shots
    assert sorted(c.case_id for c in [*shots, val, *rest]) == sorted(c.case_id for c in CASES)


def test_selection_is_deterministic_per_seed() -> None:
    assert choose_shots(CASES, 2, seed=4)[0] == choose_shots(CASES, 2, seed=4)[0]


def test_given_case_ids_and_errors() -> None:
    shots, val, _ = choose_shots(CASES, 1, seed=0, given=["f"])
    assert [c.case_id for c in shots] == ["f"] and val.case_id != "f"
    with pytest.raises(ValueError, match="unknown case ids"):
        choose_shots(CASES, 1, seed=0, given=["zz"])
    with pytest.raises(ValueError, match="need at least 9"):
        choose_shots(CASES, 9, seed=0)
