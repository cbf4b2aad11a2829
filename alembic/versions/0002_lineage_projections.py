"""Lineage projections: current-state tables derived from the log (rebuildable from it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:23:35.918710
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lineage_approvals",
        sa.Column("approval_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("evaluation_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("approval_id", name=op.f("pk_lineage_approvals")),
    )
    with op.batch_alter_table("lineage_approvals", schema=None) as batch_op:
        batch_op.create_index("ix_lineage_approvals_model", ["name", "version"], unique=False)

    op.create_table(
        "lineage_dataset_parents",
        sa.Column("dataset_id", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "parent_id", name=op.f("pk_lineage_dataset_parents")),
    )
    with op.batch_alter_table("lineage_dataset_parents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lineage_dataset_parents_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "lineage_datasets",
        sa.Column("dataset_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("licence", sa.String(length=200), nullable=True),
        sa.Column("sensitive_attributes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_lineage_datasets")),
    )
    op.create_table(
        "lineage_decisions",
        sa.Column("decision_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("adverse", sa.Boolean(), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_lineage_decisions")),
    )
    with op.batch_alter_table("lineage_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_lineage_decisions_model", ["name", "version", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_lineage_decisions_subject_ref"), ["subject_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_lineage_decisions_ts"), ["ts"], unique=False)

    op.create_table(
        "lineage_erasures",
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("subject_ref", name=op.f("pk_lineage_erasures")),
    )
    op.create_table(
        "lineage_models",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("stage_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_lineage_models")),
    )
    with op.batch_alter_table("lineage_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lineage_models_run_id"), ["run_id"], unique=False)

    op.create_table(
        "lineage_reviews",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("decision_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_lineage_reviews")),
    )
    with op.batch_alter_table("lineage_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lineage_reviews_decision_id"), ["decision_id"], unique=False)

    op.create_table(
        "lineage_run_inputs",
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("dataset_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", name=op.f("pk_lineage_run_inputs")),
    )
    with op.batch_alter_table("lineage_run_inputs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lineage_run_inputs_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "lineage_runs",
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_lineage_runs")),
    )
    op.create_table(
        "lineage_stage_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_lineage_stage_changes")),
    )
    with op.batch_alter_table("lineage_stage_changes", schema=None) as batch_op:
        batch_op.create_index("ix_lineage_stage_changes_model", ["name", "version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lineage_stage_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_lineage_stage_changes_model")

    op.drop_table("lineage_stage_changes")
    op.drop_table("lineage_runs")
    with op.batch_alter_table("lineage_run_inputs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_run_inputs_dataset_id"))

    op.drop_table("lineage_run_inputs")
    with op.batch_alter_table("lineage_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_reviews_decision_id"))

    op.drop_table("lineage_reviews")
    with op.batch_alter_table("lineage_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_models_run_id"))

    op.drop_table("lineage_models")
    op.drop_table("lineage_erasures")
    with op.batch_alter_table("lineage_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_decisions_ts"))
        batch_op.drop_index(batch_op.f("ix_lineage_decisions_subject_ref"))
        batch_op.drop_index("ix_lineage_decisions_model")

    op.drop_table("lineage_decisions")
    op.drop_table("lineage_datasets")
    with op.batch_alter_table("lineage_dataset_parents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_dataset_parents_parent_id"))

    op.drop_table("lineage_dataset_parents")
    with op.batch_alter_table("lineage_approvals", schema=None) as batch_op:
        batch_op.drop_index("ix_lineage_approvals_model")

    op.drop_table("lineage_approvals")
