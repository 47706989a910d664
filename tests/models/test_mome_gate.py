"""The noisy top-k gate and the MoME module (seed 000, eqs. 1-4)."""

from __future__ import annotations

import pytest
import torch

from models.networks.mome import MixtureOfMulticenterExperts


def make_moe(**kw) -> MixtureOfMulticenterExperts:
    args = dict(channels=8, num_experts=6, top_k=2, hidden_ratio=2, gates=("A",))
    args.update(kw)
    return MixtureOfMulticenterExperts(**args)


@pytest.mark.parametrize("training", [True, False])
def test_gate_picks_exactly_k_experts_with_weights_summing_to_one(training: bool) -> None:
    moe = make_moe(top_k=2).train(training)
    idx, weights, _ = moe.route(torch.randn(500, 8), "A")
    assert idx.shape == (500, 2)
    assert all(len(set(row.tolist())) == 2 for row in idx)
    assert torch.allclose(weights.sum(-1), torch.ones(500))
    assert (weights > 0).all()


def test_eval_routing_is_deterministic_and_training_routing_is_noisy() -> None:
    moe = make_moe(num_experts=8)
    x = torch.randn(2000, 8)
    moe.eval()
    assert torch.equal(moe.route(x, "A")[0], moe.route(x, "A")[0])
    moe.train()
    assert not torch.equal(moe.route(x, "A")[0], moe.route(x, "A")[0])


def test_output_is_shared_path_plus_weighted_top_k_experts() -> None:
    moe = make_moe().eval()
    feats = torch.randn(1, 8, 3, 2, 2)
    out, aux = moe(feats, ["A"])
    tokens = feats.flatten(2).transpose(1, 2)[0]
    idx, w, _ = moe.route(tokens, "A")
    expected = tokens.clone()
    for t in range(tokens.shape[0]):
        for slot in range(2):
            expected[t] += w[t, slot] * moe.experts[int(idx[t, slot])](tokens[t])
    assert torch.allclose(out.flatten(2).transpose(1, 2)[0], expected, atol=1e-5)
    assert aux.item() == 0.0


def test_load_balancing_loss_is_positive_and_differentiable_in_training() -> None:
    moe = make_moe().train()
    out, aux = moe(torch.randn(2, 8, 4, 4, 2), ["A", "A"])
    assert aux.item() > 0
    aux.backward()
    assert moe.gates["A"].w_gate.weight.grad.abs().sum() > 0


def test_add_center_copies_the_source_gate() -> None:
    moe = make_moe(gates=("A", "B"))
    moe.add_gate("D", init_from="B")
    for name, value in moe.gates["B"].state_dict().items():
        assert torch.equal(moe.gates["D"].state_dict()[name], value)
    assert not torch.equal(moe.gates["D"].w_gate.weight, moe.gates["A"].w_gate.weight)
    with pytest.raises(ValueError, match="already has a router"):
        moe.add_gate("D", init_from="A")
    with pytest.raises(ValueError, match="unknown router"):
        moe.add_gate("E", init_from="Z")


def test_two_centers_trained_on_different_targets_route_differently() -> None:
    moe = make_moe(num_experts=4, top_k=1, gates=("A",))
    moe.add_gate("B", init_from="A")
    x = torch.randn(256, 8)
    feats = x.T.reshape(1, 8, 256, 1, 1)
    moe.eval()
    assert torch.equal(moe.route(x, "A")[0], moe.route(x, "B")[0])
    shift = torch.zeros(8)
    shift[0] = 3.0
    opt = torch.optim.Adam(moe.parameters(), lr=3e-2)
    moe.train()
    for _ in range(150):
        out_a, aux_a = moe(feats, ["A"])
        out_b, aux_b = moe(feats, ["B"])
        loss = ((out_a - (feats + shift.view(1, 8, 1, 1, 1))) ** 2).mean()
        loss = loss + ((out_b - (feats - shift.view(1, 8, 1, 1, 1))) ** 2).mean()
        opt.zero_grad()
        (loss + 0.01 * (aux_a + aux_b)).backward()
        opt.step()
    moe.eval()
    differ = (moe.route(x, "A")[0] != moe.route(x, "B")[0]).float().mean().item()
    assert differ > 0.3  # identical at the start (asserted above)


def test_activation_counts_cover_every_routed_token() -> None:
    moe = make_moe().eval()
    moe.track_activations = True
    moe(torch.randn(2, 8, 4, 4, 4), ["A", "A"])
    assert moe.activation_counts.sum().item() == 2 * 64 * 2


def test_constructor_rejects_bad_top_k() -> None:
    with pytest.raises(ValueError, match="top_k"):
        make_moe(num_experts=2, top_k=3)
