"""Which tensor of a MoME-RO state dict belongs to which group of the weights contract."""

from __future__ import annotations

import re

from torch import nn

from protocols.groups import is_shareable_group, router_group

_GATE = re.compile(r"^mome\.\d+\.gates\.([^.]+)\.")
_PREFIXES = {"encoder.": "encoder", "decoder.": "decoder", "alignment.": "alignment", "prompt": "prompt"}


def tensor_group(name: str) -> str:
    """Group of a state-dict key: encoder, decoder, alignment, prompt, experts or router.<C>."""
    match = _GATE.match(name)
    if match:
        return router_group(match.group(1))
    if re.match(r"^mome\.\d+\.experts\.", name):
        return "experts"
    for prefix, group in _PREFIXES.items():
        if name.startswith(prefix):
            return group
    raise ValueError(f"tensor {name!r} belongs to no known group")


def tensor_groups(model: nn.Module) -> dict[str, str]:
    """Every state-dict tensor name mapped to its group."""
    return {name: tensor_group(name) for name in model.state_dict()}


def shareable_tensors(model: nn.Module, *, centers: list[str] | None = None, experts: bool = True) -> list[str]:
    """Names of the tensors that may leave a site: experts and the given centers' routers."""
    names = []
    for name, group in tensor_groups(model).items():
        if not is_shareable_group(group):
            continue
        if group == "experts" and not experts:
            continue
        if group.startswith("router.") and centers is not None and group[len("router.") :] not in centers:
            continue
        names.append(name)
    return names


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """Number of values per group, for reports and benchmarks."""
    counts: dict[str, int] = {}
    for name, tensor in model.state_dict().items():
        group = tensor_group(name)
        counts[group] = counts.get(group, 0) + tensor.numel()
    return counts
