"""Build the hub's runtime context: schema up to date, engine, blob store, signing key."""

from __future__ import annotations

import logging
import time

from hub.api.deps import HubContext
from hub.db.migrate import upgrade
from hub.db.session import make_engine, make_session_factory
from hub.services.auth_cache import PrincipalCache
from hub.services.blobs import BlobStore
from hub.services.gc import remove_stale_parts
from hub.services.index_cache import IndexCache
from hub.services.metrics import Metrics
from hub.services.signing import load_or_create_signer
from hub.services.tokens import REVOCATION_STAMP, REVOCATIONS
from hub.settings import HubSettings


def build_context(settings: HubSettings, *, migrate: bool = True, clean_temp: bool = False) -> HubContext:
    """Create the data directory, migrate, load the signing key; a server start also drops dead uploads' parts."""
    started = time.time()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    if migrate:
        upgrade(engine)
    store = BlobStore(settings.blob_dir, settings.chunk_bytes)
    stamp = settings.data_dir / REVOCATION_STAMP
    REVOCATIONS.attach(stamp)  # revocations made in this process tell the data folder's other processes
    if clean_temp and (stale := remove_stale_parts(store, before=started)):
        logging.getLogger("hub").warning("removed %d temp part(s) left by an interrupted upload", len(stale))
    return HubContext(
        settings=settings,
        factory=make_session_factory(engine),
        store=store,
        signer=load_or_create_signer(settings.signing_key_path),
        metrics=Metrics(),
        index_cache=IndexCache(settings.recommend_cache_s),
        principals=PrincipalCache(stamp_path=stamp),
    )
