"""Preprocessed cases held in memory for training, selection and evaluation."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from torch import Tensor

from models.config import PreprocessingContract
from models.data.dataset import Case
from models.data.preprocessing import load_case_arrays


@dataclass
class Sample:
    """One case in canonical space: image [C,X,Y,Z] in [0,1], label [1,X,Y,Z], its note and center."""

    case: Case
    center: str
    image: Tensor
    label: Tensor | None
    gtv: Tensor | None
    affine: np.ndarray
    spacing: tuple[float, float, float]

    @property
    def case_id(self) -> str:
        return self.case.case_id

    @property
    def note(self) -> str:
        return self.case.clinical or ""  # no note: the encoder's empty-note path


def plain_tensor(t: Tensor) -> Tensor:
    """Drop MONAI metadata: plain tensors are much faster in training loops."""
    return t.as_tensor() if hasattr(t, "as_tensor") else t


_CACHE_CASES = 96
_cache: OrderedDict[tuple, Sample] = OrderedDict()


def _file_key(path: Path | None) -> tuple | None:
    if path is None:
        return None
    st = Path(path).stat()
    return str(Path(path).resolve()), st.st_mtime_ns, st.st_size


def _cache_key(case: Case, contract: PreprocessingContract, with_label: bool) -> tuple:
    """What a preprocessed case depends on: its files (path, mtime, size) and the contract."""
    files = (case.image, case.label if with_label else None, case.organ if "organ" in contract.channels else None,
             case.gtv)
    return (*(_file_key(f) for f in files), repr(contract.to_dict()))


def _preprocess(case: Case, contract: PreprocessingContract, center: str, with_label: bool) -> Sample:
    arrays = load_case_arrays(case, contract, with_label=with_label)
    image = arrays["image"]
    return Sample(
        case=case, center=center, image=plain_tensor(image).float(),
        label=plain_tensor(arrays["label"]).long() if "label" in arrays else None,
        gtv=plain_tensor(arrays["gtv"]).long() if "gtv" in arrays else None,
        affine=np.asarray(image.affine, dtype=np.float64),
        spacing=tuple(float(s) for s in contract.spacing),
    )


def load_samples(
    cases: Sequence[Case], contract: PreprocessingContract, *, center: str, with_label: bool = True,
    on_case: Callable[[str], None] | None = None,
) -> list[Sample]:
    """Preprocess ``cases`` (MONAI transforms of the contract) into samples.

    Preprocessed cases are kept in memory (the last ``_CACHE_CASES``), keyed by their files'
    path, mtime and size and by the contract: fine-tuning ranks routers, trains and evaluates on
    the same cases, and resampling a CT costs more than a training step. The tensors are shared
    between callers and must not be modified in place.
    """
    samples = []
    for case in cases:
        key = _cache_key(case, contract, with_label)
        cached = _cache.get(key)
        if cached is None:
            cached = _cache[key] = _preprocess(case, contract, center, with_label)
            while len(_cache) > _CACHE_CASES:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        samples.append(replace(cached, case=case, center=center))
        if on_case:
            on_case(case.case_id)
    return samples

