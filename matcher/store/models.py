"""The store's tables at the newest schema revision, and the vocabularies its rows use.

The tables are SQLAlchemy Core ``Table`` objects: the store reads and writes rows with explicit,
version-checked statements, so there is no ORM session state to go stale between planners.
The migrations under ``migrations/versions`` build exactly this schema step by step; a test
compares the two so they cannot drift apart.

Every mutable row carries ``version`` (starts at 1, +1 on every change): an update names the
version it was based on and is refused when the row moved on (see ``Store.update``).
Times are ISO 8601 text in UTC (``2025-03-01T09:30:00.000000+00:00``), identical on SQLite and
PostgreSQL and sortable as text.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

# Stable constraint names, so migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)  # entity ids ("C001", "00123"): text, leading zeros kept
PLANNER = String(100)
TIME = String(40)

#: Status of a shortlist item: zh and en labels.
ITEM_STATUSES: dict[str, tuple[str, str]] = {
    "proposed": ("待定", "proposed"),
    "accepted": ("已接受", "accepted"),
    "rejected": ("已拒绝", "rejected"),
    "scheduled": ("已安排会谈", "scheduled"),
}
#: A planner's decision about a pair.
DECISIONS: dict[str, tuple[str, str]] = {
    "accept": ("接受", "accept"),
    "reject": ("拒绝", "reject"),
}
#: Why a pair was rejected (required with ``reject``).
REJECT_REASONS: dict[str, tuple[str, str]] = {
    "already_partners": ("已是合作伙伴", "already partners"),
    "competitor": ("竞争对手", "competitor"),
    "wrong_fit": ("不对口", "wrong fit"),
    "capacity": ("产能不匹配", "capacity does not match"),
    "other": ("其他", "other"),
}
#: Outcome values per stage: at the meeting, and months later.
OUTCOMES: dict[str, dict[str, tuple[str, str]]] = {
    "meeting": {
        "met": ("已会谈", "met"),
        "no_show": ("未到场", "no show"),
    },
    "followup": {
        "no_further_contact": ("无后续联系", "no further contact"),
        "valuable_contact": ("有价值的联系", "valuable contact"),
        "negotiation_started": ("已开始洽谈", "negotiation started"),
        "agreement_reached": ("已达成协议", "agreement reached"),
    },
}
RATING_RANGE = (1, 5)
#: How a run's preset or an item's run that is not on record (NULL) is shown to planners.
UNKNOWN = "unknown"

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", String(64), nullable=False, unique=True),
    Column("data_version", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("weights_json", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("planner", PLANNER, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    # Revision 0003: the weight preset the planner chose ("custom" once a slider moved off it);
    # NULL = unknown (runs recorded before 0003, or by a caller that did not say).
    Column("preset", String(64), nullable=True),
)

shortlists = Table(
    "shortlists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("run_id", String(64), ForeignKey("runs.run_id"), nullable=True),
    Column("planner", PLANNER, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
)

shortlist_items = Table(
    "shortlist_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shortlist_id", Integer, ForeignKey("shortlists.id"), nullable=False),
    Column("left_id", ID, nullable=False),
    Column("right_id", ID, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("score", Float, nullable=True),
    Column("status", String(20), nullable=False, server_default="proposed"),
    Column("notes", Text, nullable=False, server_default=""),
    Column("planner", PLANNER, nullable=False),
    Column("locked", Boolean, nullable=False, server_default=false()),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    # Revision 0002: an entity of the pair vanished from a newer data version.
    Column("missing_ids", Text, nullable=True),  # ";"-joined ids; NULL = both entities present
    Column("missing_since", String(128), nullable=True),  # data version (or time) it was noticed
    # Revision 0003: the run that proposed the item; NULL = unknown (items added before 0003).
    Column("run_id", String(64), ForeignKey("runs.run_id"), nullable=True),
    UniqueConstraint("shortlist_id", "left_id", "right_id", "kind"),
    Index(None, "left_id"),
    Index(None, "right_id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("left_id", ID, nullable=False),
    Column("right_id", ID, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("decision", String(10), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("planner", PLANNER, nullable=False),
    Column("decided_at", TIME, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("left_id", "right_id", "kind"),
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("shortlist_items.id"), nullable=True),
    Column("left_id", ID, nullable=False),
    Column("right_id", ID, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("slot", String(64), nullable=False),
    Column("table_label", String(32), nullable=False),
    Column("planner", PLANNER, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("slot", "table_label"),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("left_id", ID, nullable=False),
    Column("right_id", ID, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("value", String(32), nullable=False),
    Column("rating", Integer, nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("planner", PLANNER, nullable=False),
    Column("recorded_at", TIME, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("left_id", "right_id", "kind", "stage"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", TIME, nullable=False),
    Column("planner", PLANNER, nullable=False),
    Column("table_name", String(32), nullable=False),
    Column("row_id", Integer, nullable=True),
    Column("action", String(16), nullable=False),
    Column("left_id", ID, nullable=True),
    Column("right_id", ID, nullable=True),
    Column("ref", String(200), nullable=True),
    Column("before_json", Text, nullable=True),
    Column("after_json", Text, nullable=True),
    Index(None, "left_id"),
    Index(None, "right_id"),
    Index(None, "ref"),
)

#: Who may do what: a viewer reads; a planner also edits shortlists, decisions, meetings and outcomes;
#: an admin also manages accounts and data sets. In rank order.
ROLES: dict[str, tuple[str, str]] = {
    "viewer": ("只读", "viewer"),
    "planner": ("规划人员", "planner"),
    "admin": ("管理员", "admin"),
}


def role_allows(role: str, needs: str) -> bool:
    """True when ``role`` ranks at least as high as ``needs`` (an admin may what a planner may)."""
    ranks = list(ROLES)
    return ranks.index(role) >= ranks.index(needs)

#: Planners' accounts (``Store`` accounts part). While the table is empty the store runs for one local
#: planner; once it holds an account, every change must be made by an enabled account allowed to.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", PLANNER, nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("failed_sign_ins", Integer, nullable=False, server_default="0"),
    Column("locked_until", TIME, nullable=True),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
)

#: Tables in foreign-key order: a backup writes and restores them in this order.
TABLES: tuple[Table, ...] = (runs, shortlists, shortlist_items, decisions, meetings, outcomes, audit_log)
#: Tables a backup carries only when asked (``backup(..., accounts=True)``).
ACCOUNT_TABLES: tuple[Table, ...] = (accounts,)
