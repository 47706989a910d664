"""M4oE (seed 001): abdominal organ segmentation across modalities (CT, T1- and T2-like MR) and centers with
modality experts in every block of a 2D Swin-UNETR and a per-token gate over them, one gate per center.

Tensor groups: ``experts`` (every block's modality experts) and each center's gates ``router.<C>`` may leave a
site; ``encoder`` (Swin transformer and the convolutional skip encoders) and ``decoder`` never do, nor does the
``unet`` baseline's network.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.families.base import GroupRule, ModelFamily, register_family
from models.families.m4oe.contract import M4oEContract
from models.families.m4oe.losses import marginal_loss
from models.families.m4oe.network import METHODS, M4oENet
from models.registry import ModelSpec, register

__all__ = ["FAMILY", "M4oENet", "build", "example_loss"]


def build(spec: ModelSpec, method: str, centers: list[str]) -> M4oENet:
    """The network of an M4oE config: one output per class plus background, one expert per modality."""
    return M4oENet(method=method, centers=centers, num_outputs=spec.contract.num_outputs,
                   num_modalities=len(spec.contract.modalities), **spec.architecture)


def example_loss(net: M4oENet, spec: ModelSpec, centers: list[str]) -> Tensor:
    """The marginal loss plus the gate losses on random slices, one per given center, each dataset labelling
    every class."""
    contract: M4oEContract = spec.contract
    images = torch.rand(len(centers), 1, *contract.slice_size)
    labels = torch.randint(0, contract.num_outputs, (len(centers), *contract.slice_size))
    labelled = torch.ones(len(centers), contract.num_outputs, dtype=torch.bool)
    modality = torch.arange(len(centers)) % len(contract.modalities)
    logits, aux, _ = net.forward_with_aux(images, centers, modality)
    targets = [contract.merge_targets(row.tolist()) for row in labelled]
    return marginal_loss(logits, labels, targets, labelled) + sum(aux.values(), torch.zeros(()))


_BLOCK = r"^backbone\.swinViT\.layers\d+\.\d+\.blocks\.\d+\.mlp\."
FAMILY = register_family(ModelFamily(
    name="m4oe",
    task="segmentation",
    description="M4oE (seed 001): abdominal organs across CT and MR and across centers; modality experts in "
                "every Swin block of a 2D Swin-UNETR, a per-token gate over them per center",
    metrics=("dice", "dice_per_class", "dice_per_modality", "expert_usage"),
    data_contract="dataset.json with family 'm4oe': 'labels' maps label values to class names (any subset of "
                  "liver, spleen, kidney_left, kidney_right, pancreas, liver_tumor; other names are background), "
                  "and per case an 'image' (3D NIfTI), its 'modality' (ct, t1 or t2) and a 'label' map",
    group_rules=(
        GroupRule("router", _BLOCK + r"gates\.([^.]+)\.", shareable=True),
        GroupRule("experts", _BLOCK + r"experts\.", shareable=True),
        GroupRule("encoder", r"^backbone\.(swinViT|encoder\d+)\."),
        GroupRule("decoder", r"^backbone\.(decoder\d+|out)\."),
        GroupRule("unet", r"^unet\."),
    ),
    builder=build,
    contract_from_dict=M4oEContract.from_dict,
    runner="models.families.m4oe.runner",
    methods=METHODS,
    example_loss=example_loss,
))

register(ModelSpec(
    name="m4oe.tiny", family="m4oe", description="for tests: seconds on CPU",
    architecture=dict(feature_size=12, depths=(1, 1, 1, 1), num_heads=(2, 2, 4, 4), window_size=4, mlp_ratio=2.0,
                      top_k=1, unet_channels=(16, 32, 64, 128)),
    contract=M4oEContract(slice_size=(64, 64)),
))
register(ModelSpec(
    name="m4oe.small", family="m4oe", description="CPU-sized: the benchmark's configuration",
    # The U-Net baseline has a quarter of the Swin-UNETR's parameters (1.6M vs 6.3M): benchmarks/m4oe/README.md.
    architecture=dict(feature_size=24, depths=(2, 2, 2, 2), num_heads=(3, 6, 12, 24), window_size=4,
                      mlp_ratio=4.0, top_k=1, unet_channels=(32, 64, 128, 256)),
    contract=M4oEContract(slice_size=(64, 64)),
))
