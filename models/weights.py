"""Model directories: ``manifest.json`` plus one safetensors file per tensor group.

Loading verifies every file's size and sha256 and refuses unknown, missing or misshapen
tensors by name. No pickle is ever read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from models.fsutil import atomic_directory, sha256_file
from models.groups import tensor_groups
from models.registry import ModelSpec, build_network, spec_from_config
from protocols import FileEntry, Lineage, ModelManifest, TensorSpec

MANIFEST = "manifest.json"
DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
               torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}


class WeightsError(ValueError):
    """A model directory or weights file that does not match its contract."""


def group_file(group: str) -> str:
    return f"{group}.safetensors"


def save_model_dir(
    model: torch.nn.Module, spec: ModelSpec, out_dir: Path, *, version: str, lineage: Lineage | None = None,
    overwrite: bool = False,
) -> ModelManifest:
    """Write ``model`` as a model directory, atomically; returns its manifest."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    groups = tensor_groups(model, spec.family)
    by_group: dict[str, dict[str, torch.Tensor]] = {}
    for name, tensor in state.items():
        by_group.setdefault(groups[name], {})[name] = tensor
    with atomic_directory(Path(out_dir), overwrite=overwrite) as tmp:
        files, tensors = [], {}
        for group, tensors_of_group in sorted(by_group.items()):
            fname = group_file(group)
            save_file(tensors_of_group, str(tmp / fname), metadata={"group": group, "format": "pt"})
            files.append(FileEntry(name=fname, sha256=sha256_file(tmp / fname), size=(tmp / fname).stat().st_size))
            for name, t in tensors_of_group.items():
                tensors[name] = TensorSpec(group=group, file=fname, shape=list(t.shape), dtype=DTYPE_NAMES[t.dtype])
        manifest = ModelManifest(
            family=spec.family, config_name=spec.name,
            config=spec.to_config(method=model.method, centers=model.centers),
            version=version, method=model.method, centers=model.routers or list(model.centers), files=files,
            tensors=tensors, lineage=lineage or Lineage(), shareable_groups=spec.family_info.shareable_groups,
        )
        (tmp / MANIFEST).write_text(manifest.model_dump_json(indent=2))
    return manifest


def read_manifest(model_dir: Path) -> ModelManifest:
    """Parse and validate ``manifest.json``; one clear sentence on failure."""
    path = Path(model_dir) / MANIFEST
    if not path.is_file():
        raise WeightsError(f"{path} is missing: {model_dir} is not a model directory")
    try:
        return ModelManifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "manifest"
        raise WeightsError(f"{path}: field {where!r}: {err['msg']}") from None


def verify_files(model_dir: Path, manifest: ModelManifest) -> None:
    """Check that every listed file exists with the recorded size and sha256."""
    for entry in manifest.files:
        path = Path(model_dir) / entry.name
        if not path.is_file():
            raise WeightsError(f"{path} is listed in the manifest but missing")
        if path.stat().st_size != entry.size:
            raise WeightsError(f"{path} has {path.stat().st_size} bytes, the manifest says {entry.size}")
        if sha256_file(path) != entry.sha256:
            raise WeightsError(f"{path} does not match its sha256 in the manifest (corrupted or tampered)")


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Load one safetensors file; a malformed file is a ``WeightsError`` naming it."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path} is not a valid safetensors file: {exc}") from None


def load_state(model_dir: Path, manifest: ModelManifest) -> dict[str, torch.Tensor]:
    """All tensors of a verified model directory, checked against the manifest's specs."""
    state: dict[str, torch.Tensor] = {}
    for entry in manifest.files:
        for name, tensor in read_tensors(Path(model_dir) / entry.name).items():
            spec = manifest.tensors.get(name)
            if spec is None or spec.file != entry.name:
                raise WeightsError(f"tensor {name!r} in {entry.name} is not declared in the manifest")
            if list(tensor.shape) != spec.shape or DTYPE_NAMES.get(tensor.dtype) != spec.dtype:
                raise WeightsError(f"tensor {name!r} has shape {list(tensor.shape)}, the manifest says {spec.shape}")
            state[name] = tensor
    missing = sorted(set(manifest.tensors) - set(state))
    if missing:
        raise WeightsError(f"tensors declared in the manifest are missing from the files: {', '.join(missing[:5])}")
    return state


def load_into(model: torch.nn.Module, state: dict[str, Any]) -> None:
    """Strictly load ``state``; unknown or missing tensors are named in the error."""
    expected = model.state_dict()
    unknown = sorted(set(state) - set(expected))
    missing = sorted(set(expected) - set(state))
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown tensors {', '.join(unknown[:5])}")
        if missing:
            parts.append(f"missing tensors {', '.join(missing[:5])}")
        raise WeightsError("weights do not fit the network: " + "; ".join(parts))
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise WeightsError(f"tensor {name!r} has shape {list(tensor.shape)}, the network expects "
                               f"{list(expected[name].shape)}")
    model.load_state_dict(state, strict=True)


def load_model_dir(model_dir: Path, *, device: str = "cpu") -> tuple[torch.nn.Module, ModelSpec, ModelManifest]:
    """Verify and load a model directory into a ready network (eval mode)."""
    manifest = read_manifest(model_dir)
    verify_files(model_dir, manifest)
    config = manifest.config
    try:
        spec = spec_from_config(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{Path(model_dir) / MANIFEST}: config is incomplete or invalid ({exc})") from None
    model = build_network(spec, method=config["method"], centers=list(config["centers"]))
    load_into(model, load_state(model_dir, manifest))
    return model.to(device).eval(), spec, manifest


def manifest_bytes(manifest: ModelManifest) -> int:
    """Total bytes of a model's weight files."""
    return sum(f.size for f in manifest.files)

