"""Preprocessed cases held in memory for training, selection and evaluation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
        return self.case.clinical


def plain_tensor(t: Tensor) -> Tensor:
    """Drop MONAI metadata: plain tensors are much faster in training loops."""
    return t.as_tensor() if hasattr(t, "as_tensor") else t


def load_samples(
    cases: Sequence[Case], contract: PreprocessingContract, *, center: str, with_label: bool = True,
    on_case: Callable[[str], None] | None = None,
) -> list[Sample]:
    """Preprocess ``cases`` (MONAI transforms of the contract) into samples."""
    samples = []
    for case in cases:
        arrays = load_case_arrays(case, contract, with_label=with_label)
        image = arrays["image"]
        samples.append(Sample(
            case=case, center=center, image=plain_tensor(image).float(),
            label=plain_tensor(arrays["label"]).long() if "label" in arrays else None,
            gtv=plain_tensor(arrays["gtv"]).long() if "gtv" in arrays else None,
            affine=np.asarray(image.affine, dtype=np.float64),
            spacing=tuple(float(s) for s in contract.spacing),
        ))
        if on_case:
            on_case(case.case_id)
    return samples

