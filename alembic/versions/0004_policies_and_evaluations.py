"""Projections of published policies and recorded evaluations (promotion gating reads them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:46:32.062642
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("evaluation_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("policy_sha256", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=30), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("evaluation_id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("seq", name=op.f("uq_evaluations_seq")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evaluations_artifact_policy", ["artifact_sha256", "policy_sha256", "seq"], unique=False
        )
        batch_op.create_index("ix_evaluations_model", ["name", "version", "seq"], unique=False)

    op.create_table(
        "policies",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("activate", sa.Boolean(), nullable=False),
        sa.Column("approvals_required", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_policies")),
        sa.UniqueConstraint("seq", name=op.f("uq_policies_seq")),
    )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.create_index("ix_policies_name_version", ["name", "version"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_index("ix_policies_name_version")

    op.drop_table("policies")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluations_model")
        batch_op.drop_index("ix_evaluations_artifact_policy")

    op.drop_table("evaluations")
