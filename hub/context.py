"""Build the hub's runtime context: schema up to date, engine, blob store, signing key."""

from __future__ import annotations

from hub.api.deps import HubContext
from hub.db.migrate import upgrade
from hub.db.session import make_engine, make_session_factory
from hub.services.blobs import BlobStore
from hub.services.metrics import Metrics
from hub.services.recommend import IndexCache
from hub.services.signing import load_or_create_signer
from hub.settings import HubSettings


def build_context(settings: HubSettings, *, migrate: bool = True) -> HubContext:
    """Create the data directory, migrate the database and load (or create) the signing key."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    if migrate:
        upgrade(engine)
    return HubContext(
        settings=settings,
        factory=make_session_factory(engine),
        store=BlobStore(settings.blob_dir, settings.chunk_bytes),
        signer=load_or_create_signer(settings.signing_key_path),
        metrics=Metrics(),
        index_cache=IndexCache(settings.recommend_cache_s),
    )
