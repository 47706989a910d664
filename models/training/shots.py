"""Few-shot case selection by PSA cluster, as seed 000 draws its 1-3 shot samples."""

from __future__ import annotations

import random
from collections.abc import Sequence

from models.data.clinical import psa_cluster, read_note
from models.data.dataset import Case


def cluster_of(case: Case) -> int:
    """PSA cluster (0-4) of a case's note; a case whose PSA is unknown (no note, no PSA, or a note that
    contradicts itself) is its own cluster -1, so shots neither count it as a low PSA nor leave it out."""
    reading = read_note(case.clinical)
    return psa_cluster(reading.note.psa_estimate if reading.usable else None)


def choose_shots(
    cases: Sequence[Case], shots: int, *, seed: int, given: Sequence[str] = ()
) -> tuple[list[Case], Case | None, list[Case]]:
    """Pick ``shots`` training cases spread over PSA clusters, one validation case, and the rest.

    ``given`` names the shot case ids explicitly instead. The rest is held out for evaluation.
    """
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    by_id = {c.case_id: c for c in cases}
    if given:
        unknown = [g for g in given if g not in by_id]
        if unknown:
            raise ValueError(f"unknown case ids for shots: {', '.join(unknown)}")
        chosen = [by_id[g] for g in given]
    else:
        if len(cases) < shots:
            raise ValueError(f"{shots} shots need at least {shots} labelled cases, found {len(cases)}")
        rng = random.Random(seed)
        pools: dict[int, list[Case]] = {}
        for c in sorted(cases, key=lambda c: c.case_id):
            pools.setdefault(cluster_of(c), []).append(c)
        for pool in pools.values():
            rng.shuffle(pool)
        order = sorted(pools, key=lambda k: (-len(pools[k]), k))
        chosen = []
        while len(chosen) < shots:
            for k in order:
                if pools[k] and len(chosen) < shots:
                    chosen.append(pools[k].pop())
    rest = [c for c in cases if c not in chosen]
    used_clusters = {cluster_of(c) for c in chosen}
    val = next((c for c in rest if cluster_of(c) not in used_clusters), rest[0] if rest else None)
    return chosen, val, [c for c in rest if c is not val]
