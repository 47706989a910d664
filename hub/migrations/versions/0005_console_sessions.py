"""Console log-in sessions in the database, so every worker process of the hub knows them.

Revision ID: 0005_console_sessions
Revises: 0004_token_expiry
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_console_sessions"
down_revision = "0004_token_expiry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("sid_hash", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_console_sessions_token_hash", "console_sessions", ["token_hash"])
    op.create_index("ix_console_sessions_seen_at", "console_sessions", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_console_sessions_seen_at", table_name="console_sessions")
    op.drop_index("ix_console_sessions_token_hash", table_name="console_sessions")
    op.drop_table("console_sessions")
