"""Small fake MoE model directories and pushes for hub tests (numpy + safetensors, no torch)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save, save_file

from protocols.manifest import FileEntry, ModelManifest, TensorSpec
from protocols.router_update import RouterUpdateManifest

CENTERS = ("A", "B")
TRUNK = {"encoder.conv.weight": ("encoder", (4, 3)), "decoder.out.weight": ("decoder", (2, 4))}
EXPERTS = {f"mome.experts.{i}.fc.weight": ("experts", (4, 4)) for i in range(2)}


def gate_name(center: str) -> str:
    return f"mome.gates.{center}.weight"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_model_dir(root: Path, *, version: str = "0.0.1", centers: tuple[str, ...] = CENTERS, seed: int = 0,
                   expert_shape: tuple[int, ...] = (4, 4)) -> Path:
    """``root`` with manifest.json, trunk.safetensors (encoder/decoder) and moe.safetensors (experts/gates)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    trunk = {n: rng.standard_normal(shape).astype(np.float32) for n, (_, shape) in TRUNK.items()}
    moe = {n: rng.standard_normal(expert_shape).astype(np.float32) for n in EXPERTS}
    moe |= {gate_name(c): rng.standard_normal((2, 4)).astype(np.float32) for c in centers}
    save_file(trunk, str(root / "trunk.safetensors"), metadata={"format": "np"})
    save_file(moe, str(root / "moe.safetensors"))
    tensors = {n: TensorSpec(group=g, file="trunk.safetensors", shape=list(s), dtype="F32")
               for n, (g, s) in TRUNK.items()}
    tensors |= {n: TensorSpec(group="experts", file="moe.safetensors", shape=list(expert_shape), dtype="F32")
                for n in EXPERTS}
    tensors |= {gate_name(c): TensorSpec(group=f"router.{c}", file="moe.safetensors", shape=[2, 4], dtype="F32")
                for c in centers}
    files = [FileEntry(name=n, sha256=sha256_file(root / n), size=(root / n).stat().st_size)
             for n in ("trunk.safetensors", "moe.safetensors")]
    m = ModelManifest(family="mome_ro", config_name="mome_ro.tiny", config={"num_experts": 2}, version=version,
                      centers=list(centers), files=files, tensors=tensors)
    (root / "manifest.json").write_text(m.model_dump_json(indent=2))
    return root


def push_bytes(center: str, *, experts: bool = False, seed: int = 1, extra: dict | None = None,
               overrides: dict | None = None, drop: tuple[str, ...] = ()) -> bytes:
    """A push file: the center's gate, optionally all experts, plus/replacing arbitrary arrays."""
    rng = np.random.default_rng(seed)
    tensors = {gate_name(center): rng.standard_normal((2, 4)).astype(np.float32)}
    if experts:
        tensors |= {n: rng.standard_normal((4, 4)).astype(np.float32) for n in EXPERTS}
    tensors |= extra or {}
    tensors |= overrides or {}
    for name in drop:
        tensors.pop(name)
    return save(tensors, metadata={"mome.center": center})


def push_manifest(data: bytes, center: str, *, base_version: str = "1.0", router_only: bool = True,
                  **kw: object) -> RouterUpdateManifest:
    fields = dict(family="mome_ro", center=center, base_version=base_version, shots=3, sample_count=3,
                  metrics={"dice": 0.8}, router_only=router_only, init_router="A",
                  sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    fields.update(kw)
    return RouterUpdateManifest(**fields)


def push_form(data: bytes, manifest: RouterUpdateManifest) -> dict:
    """``files=`` argument for httpx / TestClient."""
    return {"manifest": (None, manifest.model_dump_json(), "application/json"),
            "file": ("push.safetensors", data, "application/octet-stream")}


def fingerprint_json(**kw: object) -> str:
    return json.dumps(kw)
