"""What a model family declares, so the hub and the site agent never name one (DESIGN.md, registry).

A family is a plug-in: its networks, configs (registered as ``ModelSpec``s), tensor groups with
which of them may leave a site, task, metrics, data contract and the module that trains,
evaluates, fine-tunes and predicts with it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from protocols.groups import router_group, validate_group_name

if TYPE_CHECKING:
    from torch import Tensor, nn

    from models.registry import ModelSpec

TASKS = ("segmentation", "classification", "vqa")


@dataclass(frozen=True)
class GroupRule:
    """State-dict keys matching ``pattern`` (``re.match``) belong to ``group``.

    ``group="router"`` marks a per-center gate: the pattern's first capture group is the center
    code and the tensor's group is ``router.<CENTER>``; per-center gates are always shareable.
    """

    group: str
    pattern: str
    shareable: bool = False

    def __post_init__(self) -> None:
        if self.group != "router":
            validate_group_name(self.group)
        if self.group == "router" and re.compile(self.pattern).groups < 1:
            raise ValueError(f"the router rule {self.pattern!r} must capture the center code")


@dataclass(frozen=True)
class ModelFamily:
    """One family of the registry: declarations plus the builder of its networks."""

    name: str
    task: str
    description: str
    metrics: tuple[str, ...]
    data_contract: str
    """One paragraph: what a dataset folder of this family holds (shown by ``site-agent families``)."""
    group_rules: tuple[GroupRule, ...]
    builder: Callable[[ModelSpec, str, list[str]], nn.Module]
    """(spec, method, centers) -> network with ``.method``, ``.routers`` and ``add_center(code, init_from=)``."""
    contract_from_dict: Callable[[dict[str, Any]], Any]
    runner: str
    """Module with ``synth``, ``train``, ``evaluate``, ``finetune``, ``select_router`` and ``predict``."""
    methods: tuple[str, ...] = ("mome",)
    """Training methods: the family's model first, then the baselines it is compared with."""
    example_loss: Callable[[nn.Module, ModelSpec, list[str]], Tensor] | None = None
    """A scalar loss of one forward pass on a small random batch (one sample per given center): the registry's
    shared tests run it for every config and method (forward, backward, no NaN)."""
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if not self.group_rules:
            raise ValueError(f"family {self.name!r} declares no tensor groups")
        object.__setattr__(self, "_compiled", tuple((re.compile(r.pattern), r) for r in self.group_rules))

    def tensor_group(self, name: str) -> str:
        """Group of a state-dict key (first matching rule); ``ValueError`` if none matches."""
        for regex, rule in self._compiled:  # type: ignore[attr-defined]
            match = regex.match(name)
            if match:
                return router_group(match.group(1)) if rule.group == "router" else rule.group
        raise ValueError(f"tensor {name!r} belongs to no group of family {self.name!r}")

    @property
    def groups(self) -> tuple[str, ...]:
        """Fixed group names in declaration order (``router`` stands for every ``router.<C>``)."""
        return tuple(dict.fromkeys(r.group for r in self.group_rules))

    @property
    def shareable_groups(self) -> list[str]:
        """Fixed groups that may leave a site, as a manifest records them (``router.<C>`` always may)."""
        return sorted({r.group for r in self.group_rules if r.shareable and r.group != "router"})

    def load_runner(self) -> ModuleType:
        """The family's training/evaluation module, imported on first use (keeps ``--help`` fast)."""
        return importlib.import_module(self.runner)


_FAMILIES: dict[str, ModelFamily] = {}


def register_family(family: ModelFamily) -> ModelFamily:
    """Add a family; its module registers its configs beside it."""
    if family.name in _FAMILIES:
        raise ValueError(f"model family {family.name!r} is already registered")
    _FAMILIES[family.name] = family
    return family


def families() -> dict[str, ModelFamily]:
    """Every registered family by name (the built-in plug-ins are imported on first call)."""
    from models.families.catalog import load_builtin

    load_builtin()
    return dict(_FAMILIES)


def get_family(name: str) -> ModelFamily:
    """The family called ``name``; one clear sentence if unknown."""
    known = families()
    if name not in known:
        raise ValueError(f"unknown model family {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
