"""Publish a model directory: check manifest and hashes, store blobs, sign, record the version and its routers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Blob, ModelFile, ModelVersion, Router, utcnow
from hub.db.session import write_session
from hub.errors import Conflict, HubError, InvalidInput
from hub.services import audit, registry
from hub.services.blobs import BlobStore
from hub.services.compose import compose_router, sources_from_file
from hub.services.safetensors_io import read_header
from hub.services.signing import Signer
from protocols.hub_api import ModelVersionInfo, RouterSource, VersionStatus
from protocols.manifest import ModelManifest


def load_manifest(model_dir: Path, version: str) -> ModelManifest:
    path = model_dir / "manifest.json"
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist", field="manifest.json")
    try:
        m = ModelManifest.model_validate_json(path.read_bytes())
        return ModelManifest.model_validate({**m.model_dump(), "version": version})
    except ValidationError as err:
        e = err.errors()[0]
        loc = ".".join(str(p) for p in e["loc"]) or "manifest"
        raise InvalidInput(f"{path}: {loc}: {e['msg']}", field=loc) from None


def check_files(model_dir: Path, m: ModelManifest) -> None:
    """Each listed file exists with its size, and its header holds exactly the manifest's tensors."""
    for f in m.files:
        path = model_dir / f.name
        if not path.is_file():
            raise InvalidInput(f"{path} is listed in manifest.json but does not exist", field=f.name)
        if path.stat().st_size != f.size:
            raise InvalidInput(f"{path} has {path.stat().st_size} bytes, manifest.json says {f.size}", field=f.name)
        with open(path, "rb") as fh:
            header = read_header(fh, f.size, max_header_bytes=256 * 1024 * 1024, what=str(path))
        expected = {n: s for n, s in m.tensors.items() if s.file == f.name}
        for name in sorted(set(header.tensors) ^ set(expected)):
            where = "manifest.json" if name in header.tensors else str(path)
            raise InvalidInput(f"tensor {name!r} is missing from {where}", field=name)
        for name, spec in expected.items():
            t = header.tensors[name]
            if list(t.shape) != spec.shape or t.dtype != spec.dtype:
                raise InvalidInput(f"tensor {name!r} in {path} is {t.dtype}{list(t.shape)}, manifest.json says "
                                   f"{spec.dtype}{spec.shape}", field=name)


@contextmanager
def new_blob_guard(store: BlobStore, factory: sessionmaker[Session]) -> Iterator[Callable[[str], None]]:
    """Collect blobs written by this operation; on failure remove those no committed row refers to."""
    created: list[str] = []
    try:
        yield created.append
    except BaseException:
        with factory() as s:
            for sha in created:
                if s.get(Blob, sha) is None:
                    store.path(sha).unlink(missing_ok=True)
        raise


def publish(*, factory: sessionmaker[Session], store: BlobStore, signer: Signer, model_dir: Path, version: str,
            notes: str | None = None, draft: bool = False, actor: str = "cli") -> ModelVersionInfo:
    m = load_manifest(model_dir, version)
    with factory() as s:
        if s.scalar(select(ModelVersion.id).where(ModelVersion.version == version)) is not None:
            raise Conflict(f"model version {version!r} already exists", field="version")
    check_files(model_dir, m)
    with new_blob_guard(store, factory) as created:
        for f in m.files:
            existed = store.exists(f.sha256)
            with open(model_dir / f.name, "rb") as fh:
                store.put_file(fh, sha256=f.sha256, size=f.size, what=str(model_dir / f.name))
            if not existed:
                created(f.sha256)
        routers = {}
        for center in m.centers:
            gate = {n for n, s in m.tensors.items() if s.group == f"router.{center}"}
            if gate:
                srcs = [src for f in m.files for src in sources_from_file(store.path(f.sha256), gate)]
                routers[center] = compose_router(store, base=m, center=center, gate=srcs)
                created(routers[center][0])
        try:
            with write_session(factory) as s:
                return _record(s, m, signer, notes, draft, actor, routers)
        except HubError:
            raise
        except Exception as err:  # a concurrent publish of the same version wins the unique constraint
            raise Conflict(f"model version {version!r} could not be recorded: {type(err).__name__}") from None


def _record(s: Session, m: ModelManifest, signer: Signer, notes: str | None, draft: bool, actor: str,
            routers: dict[str, tuple[str, int]]) -> ModelVersionInfo:
    status = VersionStatus.DRAFT if draft else VersionStatus.PUBLISHED
    row = ModelVersion(version=m.version, family=m.family, config_name=m.config_name,
                       manifest_json=m.model_dump_json(), signature=signer.sign(m.model_dump(mode="json")),
                       key_id=signer.key_id, status=status.value, notes=notes,
                       published_at=None if draft else utcnow())
    s.add(row)
    s.flush()
    for f in m.files:
        registry.ensure_blob(s, f.sha256, f.size)
        s.add(ModelFile(model_version_id=row.id, name=f.name, sha256=f.sha256, size=f.size))
    for code in m.centers:
        center = registry.get_or_create_center(s, code)
        if code in routers:
            sha, size = routers[code]
            registry.ensure_blob(s, sha, size)
            s.add(Router(model_version_id=row.id, center_id=center.id, source=RouterSource.PUBLISHED.value,
                         metrics_json="{}", artifact_sha256=sha, artifact_size=size, experts_from="base"))
    audit.record(s, actor=actor, action="version.publish" if not draft else "version.draft", target=m.version,
                 family=m.family, files=len(m.files), routers=sorted(routers))
    s.flush()
    s.refresh(row)
    return registry.version_info(row)


def set_status(*, factory: sessionmaker[Session], version: str, status: VersionStatus, actor: str) -> ModelVersionInfo:
    with write_session(factory) as s:
        row = registry.get_version(s, version, include_drafts=True)
        row.status = status.value
        if status is VersionStatus.PUBLISHED and row.published_at is None:
            row.published_at = utcnow()
        audit.record(s, actor=actor, action="version.status", target=version, status=status.value)
        s.flush()
        return registry.version_info(row)
