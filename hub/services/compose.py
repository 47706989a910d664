"""Router artifacts: one safetensors file with a center's gate and the experts it goes with.

A router record always points at a single artifact blob. When a push carried experts, the
artifact is the pushed file itself. When a site pushed its gate alone (or for the routers
that come with a published version), the hub writes a new safetensors file that copies the
gate tensors and the base version's ``experts`` tensors byte for byte (streamed, constant
memory), stores it content-addressed and records it as the router's artifact.
"""

from __future__ import annotations

from pathlib import Path

from hub.services.blobs import BlobStore
from hub.services.safetensors_io import Source, read_header, write_chunks
from protocols.manifest import ModelManifest

_TRUSTED_HEADER_LIMIT = 256 * 1024 * 1024


def sources_from_file(path: Path, names: set[str] | None = None) -> list[Source]:
    """Sources for the tensors of a stored safetensors file (all, or only ``names``)."""
    with open(path, "rb") as fh:
        header = read_header(fh, path.stat().st_size, max_header_bytes=_TRUSTED_HEADER_LIMIT, what=str(path))
    return [Source(t.name, t.dtype, t.shape, str(path), t.start, t.end)
            for t in header.tensors.values() if names is None or t.name in names]


def base_sources(store: BlobStore, base: ModelManifest, groups: set[str]) -> list[Source]:
    """Sources for every tensor of ``groups`` in the stored files of a published version."""
    wanted = {n for n, s in base.tensors.items() if s.group in groups}
    out: list[Source] = []
    for f in base.files:
        if any(base.tensors[n].file == f.name for n in wanted):
            out += sources_from_file(store.path(f.sha256), wanted)
    return out


def compose_router(store: BlobStore, *, base: ModelManifest, center: str, gate: list[Source]) -> tuple[str, int]:
    """Store gate + the base's shareable tensors (MoME-RO: its experts) as one artifact; returns (sha256, size)."""
    experts = base_sources(store, base, set(base.shareable_groups))
    meta = {"mome.center": center, "mome.base_version": base.version, "mome.experts_from": "base"}
    return store.put_chunks(write_chunks(gate + experts, meta), what=f"router artifact for center {center}")
