"""Every registered config of every family gets the same checks for free (STYLE.md, models/):
declarations complete, forward/backward without NaN for each method, bit-exact save/load, and only
the declared groups plus per-center routers shareable."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.families import families
from models.families.base import TASKS
from models.groups import shareable_tensors, tensor_groups
from models.registry import create_model, get_spec, list_models
from models.weights import load_model_dir, save_model_dir

TINY = [n for n in list_models() if n.endswith(".tiny")]
METHODS = [(n, m) for n in TINY for m in get_spec(n).family_info.methods]


def test_every_family_has_a_tiny_config_and_complete_declarations() -> None:
    for name, fam in families().items():
        assert f"{name}.tiny" in TINY, name
        assert fam.task in TASKS and fam.metrics and fam.data_contract and fam.methods, name
        assert "router" in fam.groups, f"{name} declares no per-center router"
        assert fam.example_loss is not None, f"{name} gives the shared tests no example batch"
        assert fam.load_runner() is not None


@pytest.mark.parametrize(("name", "method"), METHODS)
def test_forward_backward_without_nan(name: str, method: str) -> None:
    torch.manual_seed(0)
    net, spec = create_model(name, method=method, centers=["A", "B"])
    net.train()
    loss = spec.family_info.example_loss(net, spec, ["A", "B"])
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads), "no parameter received a gradient"
    assert all(g is None or torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", TINY)
def test_save_load_round_trip_is_bit_exact(tmp_path: Path, name: str) -> None:
    net, spec = create_model(name, centers=["A", "B"])
    net.add_center("D", init_from="A")
    manifest = save_model_dir(net, spec, tmp_path / "m", version="1.0")
    loaded, spec2, manifest2 = load_model_dir(tmp_path / "m")
    assert manifest2 == manifest and spec2.family == spec.family
    assert manifest.shareable_groups == spec.family_info.shareable_groups
    assert sorted(loaded.routers) == ["A", "B", "D"]
    original, restored = net.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    for key, tensor in original.items():
        assert torch.equal(tensor, restored[key]), key


@pytest.mark.parametrize("name", TINY)
def test_only_declared_groups_and_routers_are_shareable(name: str) -> None:
    net, spec = create_model(name, centers=["A", "B"])
    fam = spec.family_info
    groups = tensor_groups(net, fam.name)
    stays = {g for g in groups.values() if not g.startswith("router.") and g not in fam.shareable_groups}
    assert stays, f"{name}: every group may leave the site"
    shared = set(shareable_tensors(net, centers=["A"], family=fam.name))
    expected = {n for n, g in groups.items() if g in fam.shareable_groups or g == "router.A"}
    assert shared == expected
    assert not any(groups[n] == "router.B" for n in shared)


@pytest.mark.parametrize("name", TINY)
def test_a_new_center_gets_a_gate_named_by_its_code(name: str) -> None:
    net, spec = create_model(name, centers=["A"])
    fam = spec.family_info
    before = set(net.state_dict())
    net.add_center("Dx1", init_from="A")
    added = {n: fam.tensor_group(n) for n in set(net.state_dict()) - before}
    assert added and set(added.values()) == {"router.Dx1"}
    assert all("Dx1" in n.split(".") for n in added)
    gate_a = {n for n in before if fam.tensor_group(n) == "router.A"}
    for n in gate_a:  # copied from A's gate
        twin = ".".join("Dx1" if p == "A" else p for p in n.split("."))
        assert torch.equal(net.state_dict()[twin], net.state_dict()[n])
