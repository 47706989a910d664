"""Loading a site's labelled cases for a loaded model (shared by select-router, evaluate, predict)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from models.data.dataset import Case, load_dataset

if TYPE_CHECKING:  # torch-based: imported only where a model is already loaded
    from models.networks.mome_ro import MomeRoNet
    from models.registry import ModelSpec
    from models.training.samples import Sample
    from protocols import ModelManifest


def default_router(net: MomeRoNet, manifest: ModelManifest) -> str:
    """The router a model serves by default: the center it was fine-tuned for, else its first router
    (or, for models without routers, its first center: only the text-prompt baseline reads it)."""
    return manifest.lineage.center or (net.routers[0] if net.routers else net.centers[0])


def site_cases(
    data: Path, *, labelled: bool = True, exclude: Sequence[str] = (), limit: int | None = None
) -> list[Case]:
    """The dataset's cases (training then test), minus ``exclude``, at most ``limit``."""
    ds = load_dataset(data)
    cases = [c for c in ds.cases if (c.label is not None or not labelled) and c.case_id not in set(exclude)]
    if not cases:
        raise ValueError(f"{data}: no {'labelled ' if labelled else ''}cases left to use")
    return cases[:limit] if limit else cases


def site_samples(
    data: Path, spec: ModelSpec, *, center: str, exclude: Sequence[str] = (), limit: int | None = None,
    labelled: bool = True, on_case: Callable[[str], None] | None = None,
) -> list[Sample]:
    """Preprocessed samples of the site's cases under the model's contract."""
    from models.training.samples import load_samples

    cases = site_cases(data, labelled=labelled, exclude=exclude, limit=limit)
    return load_samples(cases, spec.contract, center=center, with_label=labelled, on_case=on_case)
