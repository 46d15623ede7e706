"""Initial store: runs, shortlists and items, decisions, meetings, outcomes, audit log.

Revision ID: 0001
Revises:
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
PLANNER = sa.String(100)
TIME = sa.String(40)


def _version() -> sa.Column:
    return sa.Column("version", sa.Integer, nullable=False, server_default="1")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("data_version", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("weights_json", sa.Text, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("planner", PLANNER, nullable=False),
        _version(),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
    )
    op.create_table(
        "shortlists",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("planner", PLANNER, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _version(),
        sa.PrimaryKeyConstraint("id", name="pk_shortlists"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_shortlists_run_id_runs"),
    )
    op.create_table(
        "shortlist_items",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("shortlist_id", sa.Integer, nullable=False),
        sa.Column("left_id", ID, nullable=False),
        sa.Column("right_id", ID, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="proposed"),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("planner", PLANNER, nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _version(),
        sa.PrimaryKeyConstraint("id", name="pk_shortlist_items"),
        sa.ForeignKeyConstraint(
            ["shortlist_id"], ["shortlists.id"], name="fk_shortlist_items_shortlist_id_shortlists"
        ),
        sa.UniqueConstraint(
            "shortlist_id",
            "left_id",
            "right_id",
            "kind",
            name="uq_shortlist_items_shortlist_id_left_id_right_id_kind",
        ),
    )
    op.create_index("ix_shortlist_items_left_id", "shortlist_items", ["left_id"])
    op.create_index("ix_shortlist_items_right_id", "shortlist_items", ["right_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("left_id", ID, nullable=False),
        sa.Column("right_id", ID, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("planner", PLANNER, nullable=False),
        sa.Column("decided_at", TIME, nullable=False),
        _version(),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint("left_id", "right_id", "kind", name="uq_decisions_left_id_right_id_kind"),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.Integer, nullable=True),
        sa.Column("left_id", ID, nullable=False),
        sa.Column("right_id", ID, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("table_label", sa.String(32), nullable=False),
        sa.Column("planner", PLANNER, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _version(),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["shortlist_items.id"], name="fk_meetings_item_id_shortlist_items"
        ),
        sa.UniqueConstraint("slot", "table_label", name="uq_meetings_slot_table_label"),
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("left_id", ID, nullable=False),
        sa.Column("right_id", ID, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("planner", PLANNER, nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        _version(),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes"),
        sa.UniqueConstraint(
            "left_id", "right_id", "kind", "stage", name="uq_outcomes_left_id_right_id_kind_stage"
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("planner", PLANNER, nullable=False),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("row_id", sa.Integer, nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("left_id", ID, nullable=True),
        sa.Column("right_id", ID, nullable=True),
        sa.Column("ref", sa.String(200), nullable=True),
        sa.Column("before_json", sa.Text, nullable=True),
        sa.Column("after_json", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_left_id", "audit_log", ["left_id"])
    op.create_index("ix_audit_log_right_id", "audit_log", ["right_id"])
    op.create_index("ix_audit_log_ref", "audit_log", ["ref"])


def downgrade() -> None:
    for table in ("audit_log", "outcomes", "meetings", "decisions", "shortlist_items", "shortlists", "runs"):
        op.drop_table(table)
