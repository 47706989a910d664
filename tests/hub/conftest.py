"""Hub fixtures: every contract test runs on SQLite and on PostgreSQL (own schema per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from hub.api.deps import HubContext
from hub.app import create_app
from hub.services.principals import add_operator, add_site
from hub.services.publish import publish
from hub.settings import HubSettings
from tests.hub.hubfake import make_model_dir

PG_BASE = os.environ.get("MOME_HUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_BASE, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {err}"


@pytest.fixture(scope="session")
def pg_reason() -> str | None:
    reason = _pg_available()
    if reason and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI and unreachable at {PG_BASE}: {reason}")
    return reason


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, pg_reason: str | None) -> Iterator[str | None]:
    """``None`` means the embedded SQLite default under the data directory."""
    if request.param == "sqlite":
        yield None
        return
    if pg_reason:
        pytest.skip(f"PostgreSQL unreachable outside CI: {pg_reason}")
    schema = f"hubtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_BASE else "?"
    try:
        yield f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str | None) -> HubSettings:
    return HubSettings(data_dir=tmp_path / "hub-data", db=db_url, max_push_bytes=64 * 1024, recommend_cache_s=0)


@dataclass
class Hub:
    """A running in-process hub with a published version ``1.0`` (centers A, B) and tokens."""

    client: TestClient
    ctx: HubContext
    operator: str
    site_a: str
    site_d: str
    site_d_id: int
    model_dir: Path

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def hub(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    app = create_app(settings)
    ctx: HubContext = app.state.hub
    model_dir = make_model_dir(tmp_path / "model")
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=model_dir, version="1.0")
    _, operator = add_operator(ctx.factory, name="ops", actor="test")
    site_a = add_site(ctx.factory, center="A", name="alpha", actor="test")
    site_d = add_site(ctx.factory, center="D", name="delta", actor="test")
    with TestClient(app) as client:
        yield Hub(client, ctx, operator, site_a.token, site_d.token, site_d.site.id, model_dir)
    ctx.factory.kw["bind"].dispose()
