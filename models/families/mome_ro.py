"""MoME-RO (seed 000): prostate PTV from pelvic CT plus the clinical note, one router per center.

The first family of the registry; its networks live in ``models.networks.mome_ro`` and its
training, fine-tuning and evaluation in ``models.training`` (the site agent's own commands).
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.config import METHODS, PreprocessingContract
from models.data.clinical import NOTE_FEATURE_SIZE
from models.families.base import GroupRule, ModelFamily, register_family
from models.networks.mome_ro import MomeRoNet
from models.registry import ModelSpec, register


def build(spec: ModelSpec, method: str, centers: list[str]) -> MomeRoNet:
    """The network of a MoME-RO config; without the structured note there is no FiLM of the fused levels."""
    architecture = dict(spec.architecture)
    if not spec.structured_note:  # the parsed fields travel in the structured token: no token, no modulation
        architecture["parsed_note_dim"] = 0
    return MomeRoNet(in_channels=len(spec.contract.channels), method=method, centers=centers, **architecture)


def example_loss(net: MomeRoNet, spec: ModelSpec, centers: list[str]) -> Tensor:
    """Logits' mean square plus the load-balancing loss on random CT patches and random note tokens."""
    size = tuple(min(p, q) for p, q in zip(spec.contract.patch_size, (32, 32, 16), strict=True))
    image = torch.rand(len(centers), len(spec.contract.channels), *size)
    text = torch.randn(len(centers), 5, spec.architecture.get("text_dim", 384))
    mask = torch.ones(len(centers), 5, dtype=torch.bool)
    logits, aux = net.forward_with_aux(image, text, mask, centers)
    return logits.square().mean() + aux


FAMILY = register_family(ModelFamily(
    name="mome_ro",
    task="segmentation",
    description="MoME-RO (seed 000): prostate radiotherapy PTV from pelvic CT and the clinical note; "
                "shared MLP experts with one noisy top-k router per center",
    metrics=("dice", "iou", "hd95_mm", "gpr"),
    data_contract="dataset.json (MSD/nnU-Net style): per case a CT 'image', a PTV 'label', optional 'organ' and "
                  "'gtv' masks and the clinical note in 'clinical' (DESIGN.md, data contract)",
    group_rules=(
        GroupRule("router", r"^mome\.\d+\.gates\.([^.]+)\.", shareable=True),
        GroupRule("experts", r"^mome\.\d+\.experts\.", shareable=True),
        GroupRule("encoder", r"^encoder\."),
        GroupRule("decoder", r"^decoder\."),
        GroupRule("alignment", r"^alignment\."),
        GroupRule("prompt", r"^prompt"),
    ),
    builder=build,
    contract_from_dict=PreprocessingContract.from_dict,
    runner="models.training",
    methods=METHODS,
    example_loss=example_loss,
))

# Every built-in config reads the parsed note fields (structured token + FiLM of the fused levels):
# without them the note did not steer the PTV (benchmarks/closed_center, README "What changed").
_TEXT = {"text_dim": 384, "parsed_note_dim": NOTE_FEATURE_SIZE}
_NOTE = {"structured_note": True}
register(ModelSpec(
    name="mome_ro.tiny", family="mome_ro", description="for tests: seconds on CPU",
    architecture=dict(channels=(8, 16, 32), strides=(2, 2), num_res_units=1, num_prompt_tokens=4,
                      attention_heads=2, num_experts=4, top_k=2, expert_hidden_ratio=2, **_TEXT),
    contract=PreprocessingContract(spacing=(4.0, 4.0, 6.0), patch_size=(32, 32, 16)),
    max_note_tokens=48, **_NOTE,
))
register(ModelSpec(
    name="mome_ro.small", family="mome_ro", description="CPU-sized: minutes of few-shot fine-tuning",
    # Alignment + MoME on levels 1-3: on CPU, attention over the 36k tokens of the full-resolution
    # level alone costs about as much as the whole U-Net (benchmarks/inference_overhead).
    architecture=dict(channels=(16, 32, 64, 128), strides=(2, 2, 2), num_res_units=2, num_prompt_tokens=8,
                      attention_heads=2, num_experts=8, top_k=2, expert_hidden_ratio=2, fused_levels=(1, 2, 3),
                      **_TEXT),
    contract=PreprocessingContract(spacing=(2.0, 2.0, 3.0), patch_size=(96, 96, 32)), **_NOTE,
))
register(ModelSpec(
    name="mome_ro.paper", family="mome_ro", description="seed 000 sizes, for GPUs",
    architecture=dict(channels=(32, 64, 128, 256, 512), strides=(2, 2, 2, 2), num_res_units=2,
                      num_prompt_tokens=16, attention_heads=8, num_experts=8, top_k=2,
                      expert_hidden_ratio=2, **_TEXT),
    contract=PreprocessingContract(spacing=(1.0, 1.0, 3.0), patch_size=(384, 384, 128),
                                   channels=("ct", "organ")), **_NOTE,
))
