"""Token expiry for sites and operators, and operator revocation time.

Existing tokens get no expiry (NULL = never), so an upgrade refuses no token that worked before it.

Revision ID: 0004_token_expiry
Revises: 0003_federation_rounds
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_token_expiry"
down_revision = "0003_federation_rounds"
branch_labels = None
depends_on = None


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.add_column("sites", _ts("expires_at"))
    op.add_column("operators", _ts("revoked_at"))
    op.add_column("operators", _ts("expires_at"))


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("revoked_at")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("expires_at")
