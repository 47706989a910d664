"""Migrations from empty on every backend produce exactly the ORM schema; re-running is a no-op."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from hub.db.migrate import alembic_config, current_revision, upgrade
from hub.db.models import Base
from hub.db.session import make_engine


def test_migrations_from_empty_match_models(settings):
    # Prepare
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.db_url)
    assert current_revision(engine) is None
    # Execute
    upgrade(engine)
    upgrade(engine)
    # Assert
    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
