"""API keys may carry the holder's display name and organisation (printed on report covers).

No backfill: `access.key_created` entries before this revision have neither member, so NULL is
what a rebuild from the log would give them too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("organisation", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("organisation")
        batch.drop_column("display_name")
