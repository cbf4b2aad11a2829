"""Projection of decision appeals (decision.appealed), so an appeal id is refused twice and a
review can name the appeal it answers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lineage_appeals",
        sa.Column("appeal_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("decision_id", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_lineage_appeals")),
    )
    op.create_index(op.f("ix_lineage_appeals_decision_id"), "lineage_appeals", ["decision_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_lineage_appeals_decision_id"), table_name="lineage_appeals")
    op.drop_table("lineage_appeals")
