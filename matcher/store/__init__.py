"""The store that keeps planners' judgement: runs, shortlists, decisions, meetings, outcomes.

SQLite file in the workspace by default, PostgreSQL when ``MATCHER_DB_URL`` is set; schema
migrations run on open. See ``docs/store.md``.

>>> from matcher.store import Store
>>> store = Store()  # doctest: +SKIP
"""

from matcher.store.models import DECISIONS, ITEM_STATUSES, OUTCOMES, REJECT_REASONS, ROLES, UNKNOWN
from matcher.store.store import (
    ENV_DB_URL,
    ENV_WORKSPACE,
    ITEM_FIELDS,
    AccountRules,
    Store,
    default_url,
    describe_url,
    head_revision,
    make_engine,
    password_problem,
    workspace_dir,
)

__all__ = [
    "AccountRules",
    "DECISIONS",
    "ENV_DB_URL",
    "ENV_WORKSPACE",
    "ITEM_FIELDS",
    "ITEM_STATUSES",
    "OUTCOMES",
    "REJECT_REASONS",
    "ROLES",
    "Store",
    "UNKNOWN",
    "default_url",
    "describe_url",
    "head_revision",
    "make_engine",
    "password_problem",
    "workspace_dir",
]
