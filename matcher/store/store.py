"""The store that keeps planners' judgement: runs, shortlists, decisions, meetings, outcomes.

One interface over two backends:

- an SQLite file (default ``./workspace/matcher.db``; ``MATCHER_WORKSPACE`` names the folder), in
  WAL mode with ``synchronous=FULL`` and a busy timeout, one connection per operation;
- PostgreSQL when ``MATCHER_DB_URL`` is set (``postgresql+psycopg://user:pw@host:port/db``), for
  several planners on one server.

Every public method is one transaction on its own connection: it is written whole or not at all.
Every change writes an audit row (who, when, row before and after as JSON) in the same transaction.
Mutable rows carry a ``version``; a change names the version it was based on and a moved row raises
:class:`~matcher.exceptions.ConflictError` showing both values, so no planner silently overwrites
another. A database that cannot be reached, is read-only or is full raises
:class:`~matcher.exceptions.StoreUnavailableError` with a message a planner can act on.

:class:`Store` is put together from one part per subject, each a module of this package:

========================  =====================================================================
``connection``            settings, engines, schema scripts, driver errors in planners' words
``rows``                  checking input values; rows as typed DataFrames; conflict messages
``core``                  ``StoreCore``: transactions, audit rows, versioned changes, upgrades
``shortlists``            runs, shortlists and their items
``decisions``             decisions, ``annotate``, ``flag_missing``
``meetings``              booking and moving meetings
``outcomes``              outcomes and the audit history
``backup``                counts, export, backup file, restore
========================  =====================================================================

Each part builds on ``StoreCore`` only; none imports another part.
"""

from __future__ import annotations

from matcher.store.accounts import AccountRules, Accounts, password_problem
from matcher.store.backup import BACKUP_FORMAT, BACKUP_FORMAT_VERSION, Backups
from matcher.store.connection import (
    BUSY_TIMEOUT_S,
    DB_FILENAME,
    DEFAULT_WORKSPACE,
    ENV_DB_URL,
    ENV_WORKSPACE,
    MIGRATIONS_DIR,
    default_url,
    describe_url,
    head_revision,
    make_engine,
    workspace_dir,
)
from matcher.store.decisions import Decisions
from matcher.store.meetings import MEETING_FIELDS, Meetings
from matcher.store.outcomes import OutcomesAndHistory
from matcher.store.shortlists import ITEM_FIELDS, RunsAndShortlists


class Store(RunsAndShortlists, Decisions, Meetings, OutcomesAndHistory, Backups, Accounts):
    """The planners' store over SQLite or PostgreSQL (see the module docstring).

    Parameters
    ----------
    url : str, optional
        SQLAlchemy database URL. Default :func:`default_url` (``MATCHER_DB_URL`` or the workspace
        SQLite file).
    clock : callable, optional
        Returns the current time as an aware ``datetime``; for tests. Default: now, UTC.
    migrate : bool
        Upgrade the schema to the newest revision on open (default). Opening never downgrades:
        a store written by a newer release is refused with a message.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store = Store(f"sqlite:///{folder / 'matcher.db'}")
    >>> store.record_run("r1", data_version="d1", kind="east_west", weights={"w": 1.0}, planner="li")["run_id"]
    'r1'
    """


__all__ = [
    "AccountRules",
    "BACKUP_FORMAT",
    "BACKUP_FORMAT_VERSION",
    "BUSY_TIMEOUT_S",
    "DB_FILENAME",
    "DEFAULT_WORKSPACE",
    "ENV_DB_URL",
    "ENV_WORKSPACE",
    "ITEM_FIELDS",
    "MEETING_FIELDS",
    "MIGRATIONS_DIR",
    "Store",
    "default_url",
    "describe_url",
    "head_revision",
    "make_engine",
    "password_problem",
    "workspace_dir",
]
