"""Provenance: each run keeps its weight preset, each shortlist item the run that proposed it.

Revision ID: 0003
Revises: 0002
Create Date: 2025-07-01

Both columns are nullable and nothing is filled in for older rows: NULL means "unknown". A run
recorded before this revision has no preset on record, and an item added before it has no run on
record; neither is guessed from weights or times.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FK_NAME = "fk_shortlist_items_run_id_runs"


def upgrade() -> None:
    op.add_column("runs", sa.Column("preset", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but a new column may carry its own REFERENCES
        # clause (default NULL): the table stays in place, no copy-and-move.
        op.add_column(
            "shortlist_items",
            sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id", name=FK_NAME), nullable=True),
            inline_references=True,
        )
    else:
        op.add_column("shortlist_items", sa.Column("run_id", sa.String(64), nullable=True))
        op.create_foreign_key(FK_NAME, "shortlist_items", "runs", ["run_id"], ["run_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops no column that has a REFERENCES clause: copy-and-move the table (as 0002
        # does), which SQLite refuses while meetings refer to items.
        with op.batch_alter_table("shortlist_items") as batch:
            batch.drop_column("run_id")
    else:
        op.drop_constraint(FK_NAME, "shortlist_items", type_="foreignkey")
        op.drop_column("shortlist_items", "run_id")
    op.drop_column("runs", "preset")  # a plain column: dropped in place on both backends
