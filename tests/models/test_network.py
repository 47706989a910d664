"""MoME-RO network: MONAI backbone parity, methods, groups, routers (parametrised over the registry)."""

from __future__ import annotations

import pytest
import torch
from monai.networks.nets import UNet

from models.config import METHODS
from models.groups import parameter_counts, shareable_tensors, tensor_groups
from models.networks.residual_unet import ResidualUNetDecoder, ResidualUNetEncoder, unet_levels
from models.registry import create_model, get_spec, list_models

TINY = "mome_ro.tiny"


def text_batch(b: int = 2, length: int = 5, dim: int = 384) -> tuple[torch.Tensor, torch.Tensor]:
    mask = torch.ones(b, length, dtype=torch.bool)
    mask[0, -2:] = False
    return torch.randn(b, length, dim), mask


def image_batch(name: str, b: int = 2) -> torch.Tensor:
    spec = get_spec(name)
    return torch.rand(b, len(spec.contract.channels), 32, 32, 16)


def test_flattened_monai_unet_computes_exactly_what_monai_computes() -> None:
    unet = UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=(8, 16, 32), strides=(2, 2),
                num_res_units=2).eval()
    downs, bottom, ups = unet_levels(unet)
    enc, dec = ResidualUNetEncoder(downs, bottom), ResidualUNetDecoder(ups)
    x = torch.rand(1, 1, 32, 32, 16)
    with torch.no_grad():
        assert torch.allclose(dec(enc(x)), unet(x), atol=1e-6)


def test_vision_only_has_the_parameters_of_the_plain_monai_unet() -> None:
    net, spec = create_model(TINY, method="vision_only")
    a = spec.architecture
    unet = UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=a["channels"], strides=a["strides"],
                num_res_units=a["num_res_units"])
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in unet.parameters())
    assert set(tensor_groups(net).values()) == {"encoder", "decoder"}


@pytest.mark.parametrize("name", [n for n in list_models("mome_ro") if n != "mome_ro.paper"])
@pytest.mark.parametrize("method", METHODS)
def test_forward_backward_every_method(name: str, method: str) -> None:
    net, _ = create_model(name, method=method, centers=["A", "B"])
    net.train()
    text, mask = text_batch()
    logits, aux = net.forward_with_aux(image_batch(name), text, mask, ["A", "B"])
    assert logits.shape == (2, 2, 32, 32, 16)
    assert torch.isfinite(logits).all()
    (logits.square().mean() + aux).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing, f"parameters without gradient: {missing[:5]}"


def test_multimodal_and_text_prompt_have_no_moe_tensors() -> None:
    for method in ("multimodal", "text_prompt"):
        net, _ = create_model(TINY, method=method, centers=["A", "B"])
        groups = set(tensor_groups(net).values())
        assert groups == {"encoder", "decoder", "alignment", "prompt"}
        assert shareable_tensors(net) == []


def test_vanilla_moe_has_one_router_for_every_center() -> None:
    net, _ = create_model(TINY, method="vanilla_moe", centers=["A", "B", "C"])
    assert net.routers == ["shared"]
    assert {g for g in tensor_groups(net).values() if g.startswith("router.")} == {"router.shared"}


def test_shareable_list_holds_experts_and_routers_only() -> None:
    net, _ = create_model(TINY, centers=["A", "B"])
    groups = tensor_groups(net)
    shared = shareable_tensors(net)
    assert shared
    assert {groups[n] for n in shared} == {"experts", "router.A", "router.B"}
    everything_shareable = {n for n, g in groups.items() if g == "experts" or g.startswith("router.")}
    assert set(shared) == everything_shareable
    assert {groups[n] for n in shareable_tensors(net, centers=["B"], experts=False)} == {"router.B"}


def test_every_tensor_has_exactly_one_group_and_routers_are_small() -> None:
    net, _ = create_model("mome_ro.small", centers=["A", "B", "C"])
    counts = parameter_counts(net)
    assert sum(counts.values()) == sum(t.numel() for t in net.state_dict().values())
    assert counts["router.A"] / sum(counts.values()) < 0.01


def test_encoder_output_does_not_depend_on_router_but_prediction_does() -> None:
    net, _ = create_model(TINY, centers=["A", "B"])
    net.eval()
    x = image_batch(TINY, b=1)
    text, mask = text_batch(b=1)
    with torch.no_grad():
        feats = net.encode(x)
        for f_a, f_b in zip(feats, net.encode(x), strict=True):
            assert torch.equal(f_a, f_b)
        out_a, _ = net.fuse_and_decode(feats, text, mask, ["A"])
        out_b, _ = net.fuse_and_decode(feats, text, mask, ["B"])
        assert not torch.allclose(out_a, out_b)
        assert torch.allclose(out_a, net(x, text, mask, "A"), atol=1e-6)


def test_add_center_copies_router_in_every_level_and_predicts_like_its_source() -> None:
    net, _ = create_model(TINY, centers=["A", "B"])
    net.add_center("D", init_from="B")
    assert net.routers == ["A", "B", "D"]
    assert "router.D" in set(tensor_groups(net).values())
    net.eval()
    x, (text, mask) = image_batch(TINY, b=1), text_batch(b=1)
    with torch.no_grad():
        assert torch.equal(net(x, text, mask, "D"), net(x, text, mask, "B"))


def test_unknown_center_is_a_clear_error() -> None:
    net, _ = create_model(TINY, centers=["A"])
    text, mask = text_batch(b=1)
    with pytest.raises(KeyError, match="no router for center 'Q'"):
        net(image_batch(TINY, b=1), text, mask, "Q")


def test_expert_activation_frequencies_per_level() -> None:
    net, _ = create_model(TINY, centers=["A"])
    net.eval().track_expert_activations()
    text, mask = text_batch(b=1)
    with torch.no_grad():
        net(image_batch(TINY, b=1), text, mask, "A")
    freq = net.expert_activation()
    assert set(freq) == {f"level{lv}" for lv in net.fused_levels}
    for values in freq.values():
        assert len(values) == 4
        assert sum(values) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="nope"), "method"),
        (dict(channels=(8,), strides=()), "channels"),
        (dict(fused_levels=(7,)), "fused_levels"),
        (dict(top_k=9, num_experts=4), "top_k"),
    ],
)
def test_constructor_validates_arguments(kwargs: dict, match: str) -> None:
    from models.networks import MomeRoNet

    args = dict(in_channels=1, channels=(8, 16), strides=(2,), text_dim=16, centers=("A",))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MomeRoNet(**args)
