"""Federation: SuperNode keys bound to sites, and the per-round record of federated runs.

Revision ID: 0003_federation_rounds
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_federation_rounds"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "federation_node_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("public_key", sa.String(1024), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("node_id", sa.String(20), nullable=True, unique=True),
        _ts("created_at"),
    )
    op.create_index("ix_federation_node_keys_site_id", "federation_node_keys", ["site_id"])
    op.create_table(
        "federation_rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run", sa.String(64), nullable=False),
        sa.Column("base_version", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("aggregated", sa.Boolean(), nullable=False),
        sa.Column("secagg", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("bytes_to_sites", sa.BigInteger(), nullable=False),
        sa.Column("bytes_to_hub", sa.BigInteger(), nullable=False),
        sa.Column("sites_json", sa.Text(), nullable=False),
        sa.Column("failures_json", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("run", "round"),
    )
    op.create_index("ix_federation_rounds_run", "federation_rounds", ["run"])


def downgrade() -> None:
    op.drop_table("federation_rounds")
    op.drop_table("federation_node_keys")
