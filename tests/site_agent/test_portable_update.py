"""A pushed update composed with the hub's base model is the site's own fine-tuned model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models.groups import tensor_groups
from models.training.finetune import FINETUNE_DEFAULTS, finetune_center
from models.updates import UpdateError, apply_update, read_update
from models.weights import load_model_dir
from site_agent.push import build_push


@pytest.fixture(scope="module")
def portable(base_model: Path, centers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("portable") / "site-D"
    result = finetune_center(base_model, centers["D"], out, center="D", shots=2, init_router="C",
                             settings=replace(FINETUNE_DEFAULTS, steps=20, val_every=10, lr=3e-3))
    return out, result


def test_finetuning_trains_only_what_a_push_carries(base_model: Path, portable) -> None:
    out, result = portable
    assert result.trained_groups == ["experts", "router.D"]
    base, _, _ = load_model_dir(base_model)
    tuned, _, _ = load_model_dir(out)
    b, t = base.state_dict(), tuned.state_dict()
    for name, group in tensor_groups(tuned).items():
        if group in ("encoder", "decoder", "alignment", "prompt", "router.A", "router.C"):
            assert torch.equal(b[name], t[name]), name


def test_composed_update_is_bitwise_the_pushed_tensors_and_the_local_model(base_model: Path, portable) -> None:
    out, _ = portable
    pushed = read_update(build_push(out, "D").payload)
    composed, _, _ = load_model_dir(base_model)
    loaded = apply_update(composed, pushed, center="D")
    assert loaded == sorted(pushed) and composed.routers == ["A", "C", "D"]
    state = composed.state_dict()
    for name, tensor in pushed.items():
        assert torch.equal(state[name], tensor), name
    tuned, _, _ = load_model_dir(out)
    for name, tensor in tuned.state_dict().items():  # the portable update is the whole adaptation
        assert torch.equal(state[name], tensor), name


def test_update_outside_the_allowlist_or_misshapen_is_refused(base_model: Path, portable) -> None:
    out, _ = portable
    pushed = read_update(build_push(out, "D").payload)
    model, _, _ = load_model_dir(base_model)
    decoder = next(n for n in model.state_dict() if n.startswith("decoder."))
    with pytest.raises(UpdateError, match="not part of center D's update"):
        apply_update(model, {**pushed, decoder: model.state_dict()[decoder]}, center="D")
    gate = next(n for n in pushed if ".gates.D." in n)
    with pytest.raises(UpdateError, match="the base model has"):
        apply_update(model, {**pushed, gate: torch.zeros(3)}, center="D")
    with pytest.raises(UpdateError, match="lacks"):
        apply_update(load_model_dir(base_model)[0], {n: t for n, t in pushed.items() if n != gate}, center="D")
    with pytest.raises(UpdateError, match="not a valid safetensors"):
        read_update(b"not safetensors")
