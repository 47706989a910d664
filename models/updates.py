"""Apply a pushed router update (shareable groups + ``router.<C>``, safetensors bytes) to a base model.

This is what another site gets when it starts from center C's router: the hub's base model
with C's gate added and the shared groups (MoME-RO: its experts) replaced by the ones C pushed.
Every other group (encoder, decoder, alignment, prompts, the other routers' gates) stays the base's.
"""

from __future__ import annotations

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from torch import nn

from models.families import get_family
from protocols.groups import router_group

__all__ = ["UpdateError", "apply_update", "read_update"]


class UpdateError(ValueError):
    """An update that does not fit the base model; the message names the tensor."""


def read_update(payload: bytes) -> dict[str, torch.Tensor]:
    """The tensors of a pushed update (safetensors bytes; never a pickle)."""
    try:
        return load_safetensors(payload)
    except (SafetensorError, ValueError) as exc:
        raise UpdateError(f"the update is not a valid safetensors file: {exc}") from None


def _group(family_name: str, name: str) -> str | None:
    try:
        return get_family(family_name).tensor_group(name)
    except ValueError:
        return None


def apply_update(model: nn.Module, tensors: dict[str, torch.Tensor], *, center: str,
                 family: str = "mome_ro") -> list[str]:
    """Load ``center``'s gate (added if the model lacks it) and any pushed shareable tensors into ``model``.

    Only the family's shareable groups and ``router.<center>`` are accepted, each with the base's
    shape and dtype, and the update must hold the whole gate. Returns the names loaded.
    """
    if not model.routers:
        raise UpdateError(f"a {model.method!r} model has no routers to update")
    fam = get_family(family)
    allowed = {*fam.shareable_groups, router_group(center)}
    for name in tensors:
        if _group(family, name) not in allowed:
            raise UpdateError(f"tensor {name!r} is not part of center {center}'s update (only "
                              f"{', '.join(sorted(allowed))} are)")
    if center not in model.routers:
        model.add_center(center, init_from=None)
    state = model.state_dict()
    gate = {n for n in state if fam.tensor_group(n) == router_group(center)}
    if not gate <= set(tensors):
        raise UpdateError(f"the update lacks {len(gate - set(tensors))} tensors of {router_group(center)}")
    with torch.no_grad():
        for name, value in tensors.items():
            target = state[name]
            if value.shape != target.shape or value.dtype != target.dtype:
                raise UpdateError(f"tensor {name!r} is {value.dtype} {list(value.shape)}, the base model has "
                                  f"{target.dtype} {list(target.shape)}")
            target.copy_(value)
    return sorted(tensors)
