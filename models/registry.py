"""Named model configurations, in the spirit of timm's registry.

A name such as ``mome_ro.small`` fixes the architecture keywords and the preprocessing
contract the model was trained with; ``create_model`` builds the network from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from models.config import PreprocessingContract
from models.data.clinical import NOTE_FEATURE_SIZE
from models.networks.mome_ro import MomeRoNet
from models.text import DEFAULT_TEXT_ENCODER, StructuredNoteEncoder, TextEncoder, shared_text_encoder


@dataclass(frozen=True)
class ModelSpec:
    """A registered configuration: family, network keywords and preprocessing contract."""

    name: str
    family: str
    architecture: dict[str, Any]
    contract: PreprocessingContract
    text_encoder: str = DEFAULT_TEXT_ENCODER
    max_note_tokens: int = 64
    structured_note: bool = False
    """Also condition on the note's parsed fields (grade, T, N, M, age, PSA, risk group): one extra token,
    and FiLM of the fused levels when the architecture sets ``parsed_note_dim``."""
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)

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


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model config {name!r}; known: {', '.join(list_models())}") from None


def spec_from_config(config: dict[str, Any]) -> ModelSpec:
    """Rebuild a spec from a manifest's recorded config (it may differ from the registry's)."""
    return ModelSpec(
        name=config["name"],
        family=config["family"],
        architecture=dict(config["architecture"]),
        contract=PreprocessingContract.from_dict(config["contract"]),
        text_encoder=config.get("text_encoder", DEFAULT_TEXT_ENCODER),
        max_note_tokens=int(config.get("max_note_tokens", 64)),
        structured_note=bool(config.get("structured_note", False)),
    )


def build_network(spec: ModelSpec, *, method: str, centers: list[str]) -> MomeRoNet:
    """Instantiate the network of ``spec`` for ``method`` and the given center routers."""
    if spec.family != "mome_ro":
        raise ValueError(f"model family {spec.family!r} has no network builder")
    architecture = dict(spec.architecture)
    if not spec.structured_note:  # the parsed fields travel in the structured token: no token, no modulation
        architecture["parsed_note_dim"] = 0
    return MomeRoNet(in_channels=len(spec.contract.channels), method=method, centers=centers, **architecture)


def create_model(name: str, *, method: str = "mome", centers: list[str] | tuple[str, ...] = ("A",),
                 text_encoder: str | None = None, structured_note: bool | None = None) -> tuple[MomeRoNet, ModelSpec]:
    """Build the network called ``name``; returns it with its spec (optionally with another encoder or
    with the structured-note token switched on or off)."""
    spec = get_spec(name)
    if text_encoder is not None:
        spec = replace(spec, text_encoder=text_encoder)
    if structured_note is not None:
        spec = replace(spec, structured_note=structured_note)
    return build_network(spec, method=method, centers=list(centers)), spec


def note_encoder(spec: ModelSpec) -> TextEncoder:
    """The frozen note encoder a spec asks for (shared per process), with the structured token if set."""
    base = shared_text_encoder(spec.text_encoder, spec.max_note_tokens)
    return StructuredNoteEncoder(base) if spec.structured_note else base


def _register_builtin() -> None:
    # Every built-in config reads the parsed note fields (structured token + FiLM of the fused levels):
    # without them the note did not steer the PTV (benchmarks/closed_center, README "What changed").
    text = {"text_dim": 384, "parsed_note_dim": NOTE_FEATURE_SIZE}
    note = {"structured_note": True}
    register(ModelSpec(
        name="mome_ro.tiny", family="mome_ro", description="for tests: seconds on CPU",
        architecture=dict(channels=(8, 16, 32), strides=(2, 2), num_res_units=1, num_prompt_tokens=4,
                          attention_heads=2, num_experts=4, top_k=2, expert_hidden_ratio=2, **text),
        contract=PreprocessingContract(spacing=(4.0, 4.0, 6.0), patch_size=(32, 32, 16)),
        max_note_tokens=48, **note,
    ))
    register(ModelSpec(
        name="mome_ro.small", family="mome_ro", description="CPU-sized: minutes of few-shot fine-tuning",
        # Alignment + MoME on levels 1-3: on CPU, attention over the 36k tokens of the full-resolution
        # level alone costs about as much as the whole U-Net (benchmarks/inference_overhead).
        architecture=dict(channels=(16, 32, 64, 128), strides=(2, 2, 2), num_res_units=2, num_prompt_tokens=8,
                          attention_heads=2, num_experts=8, top_k=2, expert_hidden_ratio=2, fused_levels=(1, 2, 3),
                          **text),
        contract=PreprocessingContract(spacing=(2.0, 2.0, 3.0), patch_size=(96, 96, 32)), **note,
    ))
    register(ModelSpec(
        name="mome_ro.paper", family="mome_ro", description="seed 000 sizes, for GPUs",
        architecture=dict(channels=(32, 64, 128, 256, 512), strides=(2, 2, 2, 2), num_res_units=2,
                          num_prompt_tokens=16, attention_heads=8, num_experts=8, top_k=2,
                          expert_hidden_ratio=2, **text),
        contract=PreprocessingContract(spacing=(1.0, 1.0, 3.0), patch_size=(384, 384, 128),
                                       channels=("ct", "organ")), **note,
    ))


_register_builtin()
