"""Which tensor of a model's state dict belongs to which group of the weights contract.

The rules are the family's declaration (``models.families``); MoME-RO is the default family.
"""

from __future__ import annotations

from torch import nn

from models.families import get_family
from protocols.groups import is_shareable_group


def tensor_group(name: str, family: str = "mome_ro") -> str:
    """Group of a state-dict key under ``family``'s rules, e.g. encoder, experts or router.<C>."""
    return get_family(family).tensor_group(name)


def tensor_groups(model: nn.Module, family: str = "mome_ro") -> dict[str, str]:
    """Every state-dict tensor name mapped to its group."""
    fam = get_family(family)
    return {name: fam.tensor_group(name) for name in model.state_dict()}


def shareable_tensors(model: nn.Module, *, centers: list[str] | None = None, experts: bool = True,
                      family: str = "mome_ro") -> list[str]:
    """Names of the tensors that may leave a site: the family's shareable groups (``experts=False``: none
    of them) and the given centers' routers."""
    shareable = get_family(family).shareable_groups
    names = []
    for name, group in tensor_groups(model, family).items():
        if not is_shareable_group(group, shareable):
            continue
        if not group.startswith("router.") and not experts:
            continue
        if group.startswith("router.") and centers is not None and group[len("router.") :] not in centers:
            continue
        names.append(name)
    return names


def parameter_counts(model: nn.Module, family: str = "mome_ro") -> dict[str, int]:
    """Number of values per group, for reports and benchmarks."""
    fam = get_family(family)
    counts: dict[str, int] = {}
    for name, tensor in model.state_dict().items():
        group = fam.tensor_group(name)
        counts[group] = counts.get(group, 0) + tensor.numel()
    return counts
