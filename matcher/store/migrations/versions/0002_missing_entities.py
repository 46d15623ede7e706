"""Keep items whose entity vanished from a newer data version, flagged: missing_ids, missing_since.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default) works in place on SQLite and PostgreSQL alike;
    # existing items read as "both entities present".
    op.add_column("shortlist_items", sa.Column("missing_ids", sa.Text, nullable=True))
    op.add_column("shortlist_items", sa.Column("missing_since", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shortlist_items") as batch:
        batch.drop_column("missing_since")
        batch.drop_column("missing_ids")
