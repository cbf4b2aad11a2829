"""Projection of issued reports (verify-report looks a PDF up by its SHA-256).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:35:59.772283
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("html_sha256", sa.String(length=64), nullable=False),
        sa.Column("report_kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_reports")),
        sa.UniqueConstraint("pdf_sha256", name=op.f("uq_reports_pdf_sha256")),
    )


def downgrade() -> None:
    op.drop_table("reports")
