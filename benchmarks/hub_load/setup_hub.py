"""Prepare a hub data directory for the load benchmark: 100 centers, routers, fingerprints, reports, 1 GB blob."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from hub.context import build_context
from hub.services import registry
from hub.services.centers import set_fingerprint
from hub.services.principals import add_site
from hub.services.publish import publish
from hub.settings import HubSettings
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import ZeroShotReport, ZeroShotResult
from protocols.manifest import FileEntry, ModelManifest, TensorSpec

MAKERS = ["Siemens", "GE", "Philips", "Canon"]


def fingerprint(rng: np.random.Generator) -> SiteFingerprint:
    high = float(rng.uniform(0.1, 0.8))
    return SiteFingerprint.model_validate({
        "scanner": {"manufacturer": MAKERS[int(rng.integers(4))], "model": f"M{int(rng.integers(10))}",
                    "kvp": float(rng.choice([100, 120, 140])), "filter": "B30f"},
        "voxel_spacing_mm": [float(rng.uniform(0.7, 1.3))] * 2 + [float(rng.choice([2.0, 2.5, 3.0]))],
        "slice_thickness_mm": float(rng.choice([2.0, 2.5, 3.0])),
        "clinical_mix": {"risk_groups": {"high": high, "low": 1 - high},
                         "treatment_intent": {"definitive": 0.9, "salvage": 0.1},
                         "nodal_irradiation_share": float(rng.uniform(0, 1))},
        "case_count": int(rng.integers(20, 500))})


def model_dir(root: Path, centers: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {f"mome.experts.{i}.fc.weight": rng.standard_normal((64, 64)).astype(np.float32) for i in range(8)}
    arrays |= {f"mome.gates.{c}.weight": rng.standard_normal((8, 64)).astype(np.float32) for c in centers}
    arrays["encoder.conv.weight"] = rng.standard_normal((16, 16)).astype(np.float32)
    save_file(arrays, str(root / "model.safetensors"))
    data = (root / "model.safetensors").read_bytes()
    tensors = {n: TensorSpec(group=("experts" if ".experts." in n else "encoder" if n.startswith("encoder")
                                    else f"router.{n.split('.')[2]}"), file="model.safetensors",
                             shape=list(a.shape), dtype="F32") for n, a in arrays.items()}
    m = ModelManifest(family="mome_ro", config_name="bench", config={}, version="bench", centers=centers,
                      files=[FileEntry(name="model.safetensors", sha256=hashlib.sha256(data).hexdigest(),
                                       size=len(data))], tensors=tensors)
    (root / "manifest.json").write_text(m.model_dump_json())
    return root


def big_blob(ctx, size: int) -> str:
    block = np.random.default_rng(1).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    sha, n = ctx.store.put_chunks(block[: min(len(block), size - i)] for i in range(0, size, len(block)))
    with ctx.factory() as s:
        registry.ensure_blob(s, sha, n)
        s.commit()
    return sha


def prepare(data_dir: Path, n_centers: int, blob_bytes: int) -> dict:
    ctx = build_context(HubSettings(data_dir=data_dir))
    centers = [f"C{i:03d}" for i in range(n_centers)]
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, version="1.0",
            model_dir=model_dir(data_dir.parent / "model", centers))
    rng = np.random.default_rng(2)
    for c in centers:
        set_fingerprint(ctx.factory, code=c, fingerprint=fingerprint(rng), actor="bench")
    site = add_site(ctx.factory, center="NEW", name="bench", actor="bench")
    from hub.services.principals import Principal
    from hub.services.reports import store_report
    from protocols.hub_api import TokenScope

    who = Principal(TokenScope.SITE, site.site.id, "bench", "NEW")
    results = [ZeroShotResult(center=c, dice=float(rng.uniform(0.5, 0.9)), case_count=5) for c in centers[::3]]
    store_report(ctx.factory, site=who, report=ZeroShotReport(model_version="1.0", results=results))
    sha = big_blob(ctx, blob_bytes)
    ctx.factory.kw["bind"].dispose()
    query = json.loads(fingerprint(np.random.default_rng(3)).model_dump_json())
    return {"token": site.token, "blob_sha256": sha, "blob_bytes": blob_bytes, "fingerprint": query}
