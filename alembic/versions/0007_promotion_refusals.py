"""Projection of refused promotions (promotion.refused), so a model version's promotion history
lists the attempts the gate refused beside the promotions in lineage_stage_changes.

No backfill: the kind is new, so no log before this revision holds one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lineage_promotion_refusals",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_lineage_promotion_refusals")),
    )
    op.create_index(
        "ix_lineage_promotion_refusals_model", "lineage_promotion_refusals", ["name", "version"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_lineage_promotion_refusals_model", table_name="lineage_promotion_refusals")
    op.drop_table("lineage_promotion_refusals")
