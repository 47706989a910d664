"""mpLLM (seed 003): visual question answering over multiparametric 3D brain MRI with a prompt-conditioned
hierarchical mixture of projection experts feeding a causal language model, trained end to end on the
synthetic VQA protocol (questions and answers generated from segmentation masks).

Tensor groups: ``encoder`` (3D vision encoder) and ``lm`` (language model and its embeddings) never leave a
site; ``heads`` (multi-task heads) stay too, being trained with the central model; ``experts`` (the
projection experts with their low-level routers, or the baselines' single projection) may be shared; every
center's high-level router ``router.<C>`` (``projector.routers.<C>.*``) may be shared, and fine-tuning a
closed center adds one.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.families.base import GroupRule, ModelFamily, register_family
from models.families.mpllm.batches import question_batch
from models.families.mpllm.contract import MpllmContract
from models.families.mpllm.lm import build_language_model, build_tokenizer, protocol_vocabulary
from models.families.mpllm.losses import multitask_loss
from models.families.mpllm.network import METHODS, MpllmNet
from models.families.mpllm.vqa import HEAD_CLASSES, QAPair
from models.registry import ModelSpec, register

__all__ = ["FAMILY", "MpllmNet", "build", "example_loss"]


def build(spec: ModelSpec, method: str, centers: list[str]) -> MpllmNet:
    """The network of an mpLLM config: its language model from ``architecture["lm"]``, the rest as keywords."""
    architecture = dict(spec.architecture)
    lm = build_language_model(architecture.pop("lm"), vocab_size=len(spec.contract.vocab))
    return MpllmNet(lm=lm, method=method, centers=centers, num_modalities=len(spec.contract.modalities),
                    head_classes={task: len(classes) for task, classes in HEAD_CLASSES.items()}, **architecture)


def example_loss(net: MpllmNet, spec: ModelSpec, centers: list[str]) -> Tensor:
    """Eq. 2's loss of two questions per case on random sequences, one case per given center."""
    tokenizer = build_tokenizer(spec.architecture["lm"], spec.contract.vocab)
    images = torch.randn(len(centers), len(spec.contract.modalities), *spec.contract.image_size)
    pairs = [
        QAPair("edema", "multi", ("volume",), "How large is the volume covered by edema?",
               "The overall volume of edema is 1-5%.", {"volume": "1-5%", "out_of_scope": False}),
        QAPair("edema", "oos", (), "What treatment would you recommend for edema?",
               "I cannot recommend treatments for edema.", {"out_of_scope": True}),
    ]
    items = [(row, pair) for row in range(len(centers)) for pair in pairs]
    batch = question_batch(items, [c for c in centers for _ in pairs], tokenizer,
                           max_question_tokens=spec.contract.max_question_tokens,
                           max_answer_tokens=spec.contract.max_answer_tokens)
    output = net(images, batch.case_index, batch.question_ids, batch.question_mask, batch.answer_ids,
                 batch.answer_mask, batch.centers, tokenizer.eos_id)
    return multitask_loss(output, batch)[0]


FAMILY = register_family(ModelFamily(
    name="mpllm",
    task="vqa",
    description="mpLLM (seed 003): questions about multiparametric 3D brain MRI (T1, T1c, T2, FLAIR) answered by "
                "a causal LM fed by a prompt-conditioned hierarchical MoE of projection experts; one high-level "
                "router per center",
    metrics=("volume", "region", "shape", "spread", "mean", "out_of_scope", "region_f1"),
    data_contract="dataset.json with family 'mpllm': per case the co-registered sequences in 'images' "
                  "({'t1', 't1c', 't2', 'flair'} -> NIfTI), an optional sub-region 'label' map, the 'findings' "
                  "(volume share, atlas regions, shape, spread per sub-region) and the question-answer pairs in "
                  "'qa' generated from them (seed 003 Appendix A); 'atlas' names the region atlas",
    group_rules=(
        GroupRule("router", r"^projector\.routers\.([^.]+)\.", shareable=True),
        GroupRule("experts", r"^projector\.(experts|proj)\.", shareable=True),
        GroupRule("encoder", r"^encoder\."),
        GroupRule("lm", r"^lm\."),
        GroupRule("heads", r"^heads\."),
    ),
    builder=build,
    contract_from_dict=MpllmContract.from_dict,
    runner="models.families.mpllm.runner",
    methods=METHODS,
    example_loss=example_loss,
))

_VOCAB = protocol_vocabulary()
register(ModelSpec(
    name="mpllm.tiny", family="mpllm", description="for tests: seconds on CPU",
    architecture=dict(lm={"kind": "gpt2", "n_layer": 1, "n_embd": 32, "n_head": 2, "n_positions": 160},
                      encoder_channels=(4, 8, 16), token_grid=(2, 2, 2), vision_dim=32, num_experts=4,
                      router_hidden=32, low_router_hidden=16, encoder_norm="BATCH"),
    contract=MpllmContract(image_size=(24, 24, 24), vocab=_VOCAB),
))
register(ModelSpec(
    name="mpllm.small", family="mpllm", description="CPU-sized: the benchmark's configuration",
    # 12 high-level experts = 3 sub-regions x 4 tasks, the seed's rule (it found 16 = 4 labels x 4 tasks best).
    # Batch norm in the encoder: keeps each case's absolute lesion signal (instance norm scored 0.63 against 0.64
    # mean accuracy in a 1000-step pilot, within run-to-run noise).
    architecture=dict(lm={"kind": "gpt2", "n_layer": 2, "n_embd": 96, "n_head": 4, "n_positions": 256},
                      encoder_channels=(8, 16, 32), token_grid=(3, 3, 3), vision_dim=64, num_experts=12,
                      router_hidden=64, low_router_hidden=32, encoder_norm="BATCH"),
    contract=MpllmContract(image_size=(32, 32, 32), vocab=_VOCAB),
))
