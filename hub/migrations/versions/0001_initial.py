"""Initial hub schema: blobs, model versions, centers, sites, operators, routers, reports, audit.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False, unique=True),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("config_name", sa.String(128), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("published_at", nullable=True),
    )
    op.create_index("ix_model_versions_status", "model_versions", ["status"])
    op.create_table(
        "model_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_version_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("model_version_id", "name"),
    )
    op.create_table(
        "centers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("display_name", sa.String(128), nullable=True),
        sa.Column("fingerprint_json", sa.Text(), nullable=True),
        _ts("fingerprint_updated_at", nullable=True),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("center_id", sa.Integer(), sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "routers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_version_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("center_id", sa.Integer(), sa.ForeignKey("centers.id"), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("init_router", sa.String(128), nullable=True),
        sa.Column("shots", sa.Integer(), nullable=True),
        sa.Column("sample_count", sa.Integer(), nullable=True),
        sa.Column("metrics_json", sa.Text(), nullable=False),
        sa.Column("push_sha256", sa.String(64), nullable=True),
        sa.Column("artifact_sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("artifact_size", sa.BigInteger(), nullable=False),
        sa.Column("experts_from", sa.String(16), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=True),
        _ts("created_at"),
        sa.UniqueConstraint("model_version_id", "center_id", "push_sha256"),
    )
    op.create_index("ix_routers_model_version_id", "routers", ["model_version_id"])
    op.create_index("ix_routers_center_id", "routers", ["center_id"])
    op.create_table(
        "zero_shot_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("router_id", sa.Integer(), sa.ForeignKey("routers.id"), nullable=False),
        sa.Column("dice", sa.Float(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("site_id", "router_id"),
    )
    op.create_index("ix_zero_shot_reports_router_id", "zero_shot_reports", ["router_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ts("at"),
        sa.Column("actor", sa.String(160), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("detail_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    for name in (
        "audit_events",
        "zero_shot_reports",
        "routers",
        "operators",
        "sites",
        "centers",
        "model_files",
        "model_versions",
        "blobs",
    ):
        op.drop_table(name)
