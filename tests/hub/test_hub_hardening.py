"""Defaults that protect an embedded hub: a private SQLite file, bearer auth documented in OpenAPI."""

from __future__ import annotations

import pytest

from hub.settings import HubSettings


def test_embedded_sqlite_database_is_private(hub, settings):
    if settings.db:
        pytest.skip("PostgreSQL keeps its own files")
    db = settings.data_dir / "hub.sqlite3"
    assert db.stat().st_mode & 0o777 == 0o600
    wal = db.with_name("hub.sqlite3-wal")
    assert not wal.exists() or wal.stat().st_mode & 0o077 == 0


def test_custom_sqlite_url_is_created_private(tmp_path):
    from hub.db.session import make_engine

    path = tmp_path / "other.db"
    make_engine(HubSettings(data_dir=tmp_path, db=f"sqlite:///{path}").db_url).dispose()
    assert path.stat().st_mode & 0o777 == 0o600


def test_openapi_documents_bearer_auth(hub):
    schema = hub.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a site token (mhs_...) or an operator token (mho_...)"}
    assert schema["paths"]["/v1/routers"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in schema["paths"]["/v1/info"]["get"]
