"""MOME (seed 002): malignancy of breast lesions from multiparametric MRI (DCE, T2-weighted, DWI/ADC) with sparse
modality experts in the early transformer blocks and a soft mixture of experts over every sequence's tokens in the
last ones; it runs with any sequence missing, which also makes each sequence's exact Shapley contribution
computable.

Tensor groups: ``experts`` (the sparse modality experts and the soft-MoE adapters' experts and projections) and
each center's soft-MoE slot projections ``router.<C>`` may leave a site; ``tokenisers``, ``backbone`` (shared
attention and FFNs) and ``head`` never do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from models.families.base import GroupRule, ModelFamily, register_family
from models.families.mome_breast.contract import MomeBreastContract
from models.families.mome_breast.network import METHODS, MomeBreastNet
from models.registry import ModelSpec, register

__all__ = ["FAMILY", "MomeBreastNet", "build", "example_loss"]


def build(spec: ModelSpec, method: str, centers: list[str]) -> MomeBreastNet:
    """The network of a MOME breast config: one tokeniser per sequence of the contract."""
    contract: MomeBreastContract = spec.contract
    return MomeBreastNet(method=method, centers=centers, sequences={s: contract.channels(s)
                                                                    for s in contract.sequences},
                         image_size=contract.image_size, patch_size=contract.patch_size, **spec.architecture)


def example_loss(net: MomeBreastNet, spec: ModelSpec, centers: list[str]) -> Tensor:
    """Cross-entropy on random sequences, one case per given center, alternating labels."""
    contract: MomeBreastContract = spec.contract
    inputs = {s: torch.rand(len(centers), contract.channels(s), *contract.image_size) for s in contract.sequences}
    labels = torch.arange(len(centers)) % 2
    return F.cross_entropy(net(inputs, centers), labels)


_ANY = r"^(?:[\w]+\.)*?"
FAMILY = register_family(ModelFamily(
    name="mome_breast",
    task="classification",
    description="MOME (seed 002): breast lesion malignancy from DCE, T2-weighted and DWI/ADC MRI; sparse "
                "modality experts early, a soft mixture of experts over all sequences late (one gate per center), "
                "inference with missing sequences, exact Shapley contributions per sequence",
    metrics=("auroc", "auprc", "sensitivity", "specificity", "f1", "mcc"),
    data_contract="dataset.json with family 'mome_breast': per case 'images' mapping any of dce (4D NIfTI, "
                  "time points last), t2 and dwi (an ADC map) to files, and a 'label' (1 malignant, 0 benign)",
    group_rules=(
        GroupRule("router", _ANY + r"adapter\.moe\.phi\.([^.]+)$", shareable=True),
        GroupRule("experts", _ANY + r"(sparse\.\d+\.experts\.|fusion\.\d+\.adapter\.)", shareable=True),
        GroupRule("tokenisers", _ANY + r"tokenisers\."),
        GroupRule("head", _ANY + r"(cls$|head_norm\.|head\.)"),
        GroupRule("backbone", r"^."),
    ),
    builder=build,
    contract_from_dict=MomeBreastContract.from_dict,
    runner="models.families.mome_breast.runner",
    methods=METHODS,
    example_loss=example_loss,
))

register(ModelSpec(
    name="mome_breast.tiny", family="mome_breast", description="for tests: seconds on CPU",
    architecture=dict(dim=32, heads=2, mlp_ratio=2.0, sparse_depth=1, fusion_depth=1, reduced=16, soft_experts=4,
                      slots_per_expert=1),
    contract=MomeBreastContract(image_size=(16, 16, 8), patch_size=(4, 4, 4)),
))
register(ModelSpec(
    name="mome_breast.small", family="mome_breast", description="CPU-sized: the benchmark's configuration",
    # Seed 002: 9 sparse + 3 soft blocks of 12; here 3 + 1 of a small transformer trained from scratch.
    architecture=dict(dim=64, heads=4, mlp_ratio=2.0, sparse_depth=3, fusion_depth=1, reduced=32, soft_experts=8,
                      slots_per_expert=2),
    contract=MomeBreastContract(image_size=(32, 32, 16), patch_size=(8, 8, 4)),
))
