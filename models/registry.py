"""Named model configurations, in the spirit of timm's registry.

A name such as ``mome_ro.small`` or ``m4oe.tiny`` fixes the architecture keywords and the
preprocessing contract the model was trained with; ``create_model`` builds the network from it
with its family's builder (``models.families``: each family registers its own configs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from torch import nn

from models.families.base import ModelFamily, get_family
from models.text import DEFAULT_TEXT_ENCODER, StructuredNoteEncoder, TextEncoder, shared_text_encoder


@dataclass(frozen=True)
class ModelSpec:
    """A registered configuration: family, network keywords and preprocessing contract."""

    name: str
    family: str
    architecture: dict[str, Any]
    contract: Any
    """The family's preprocessing/data contract (an object with ``to_dict()``): MoME-RO's is
    ``models.config.PreprocessingContract``."""
    text_encoder: str = DEFAULT_TEXT_ENCODER
    max_note_tokens: int = 64
    structured_note: bool = False
    """Also condition on the note's parsed fields (grade, T, N, M, age, PSA, risk group): one extra token,
    and FiLM of the fused levels when the architecture sets ``parsed_note_dim``."""
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def family_info(self) -> ModelFamily:
        """The family declaration this config belongs to."""
        return get_family(self.family)

    def to_config(self, *, method: str, centers: list[str]) -> dict[str, Any]:
        """The JSON-able config a manifest records, enough to rebuild the network."""
        config = {
            "name": self.name,
            "family": self.family,
            "architecture": dict(self.architecture),
            "contract": self.contract.to_dict(),
            "text_encoder": self.text_encoder,
            "max_note_tokens": self.max_note_tokens,
            "structured_note": self.structured_note,
            "method": method,
            "centers": list(centers),
        }
        return json.loads(json.dumps(config))  # tuples -> lists, exactly as read back


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a configuration; a family plugs in by registering its specs."""
    if spec.name in _REGISTRY:
        raise ValueError(f"model config {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def list_models(family: str | None = None) -> list[str]:
    """Registered config names, optionally of one family."""
    _load_families()
    return sorted(n for n, s in _REGISTRY.items() if family is None or s.family == family)


def _load_families() -> None:
    from models.families.catalog import load_builtin

    load_builtin()


def get_spec(name: str) -> ModelSpec:
    _load_families()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model config {name!r}; known: {', '.join(list_models())}") from None


def spec_from_config(config: dict[str, Any]) -> ModelSpec:
    """Rebuild a spec from a manifest's recorded config (it may differ from the registry's)."""
    family = get_family(config["family"])
    return ModelSpec(
        name=config["name"],
        family=family.name,
        architecture=dict(config["architecture"]),
        contract=family.contract_from_dict(config["contract"]),
        text_encoder=config.get("text_encoder", DEFAULT_TEXT_ENCODER),
        max_note_tokens=int(config.get("max_note_tokens", 64)),
        structured_note=bool(config.get("structured_note", False)),
    )


def build_network(spec: ModelSpec, *, method: str, centers: list[str]) -> nn.Module:
    """Instantiate the network of ``spec`` for ``method`` and the given center routers (family's builder)."""
    family = get_family(spec.family)
    if method not in family.methods:
        raise ValueError(f"method {method!r} is not one of family {family.name}'s: {', '.join(family.methods)}")
    return family.builder(spec, method, list(centers))


def create_model(name: str, *, method: str | None = None, centers: list[str] | tuple[str, ...] = ("A",),
                 text_encoder: str | None = None, structured_note: bool | None = None) -> tuple[Any, ModelSpec]:
    """Build the network called ``name``; returns it with its spec (optionally with another encoder or
    with the structured-note token switched on or off)."""
    spec = get_spec(name)
    method = method or get_family(spec.family).methods[0]
    if text_encoder is not None:
        spec = replace(spec, text_encoder=text_encoder)
    if structured_note is not None:
        spec = replace(spec, structured_note=structured_note)
    return build_network(spec, method=method, centers=list(centers)), spec


def note_encoder(spec: ModelSpec) -> TextEncoder:
    """The frozen note encoder a spec asks for (shared per process), with the structured token if set."""
    base = shared_text_encoder(spec.text_encoder, spec.max_note_tokens)
    return StructuredNoteEncoder(base) if spec.structured_note else base
