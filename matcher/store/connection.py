"""Where the store lives and how it is opened: settings, engines, schema scripts, driver errors.

- an SQLite file (default ``./workspace/matcher.db``; ``MATCHER_WORKSPACE`` names the folder), in
  WAL mode with ``synchronous=FULL`` and a busy timeout, one connection per operation;
- PostgreSQL when ``MATCHER_DB_URL`` is set (``postgresql+psycopg://user:pw@host:port/db``), for
  several planners on one server.

A driver error is put in planners' words by :func:`_reason` (used by ``StoreCore._translated``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from matcher.exceptions import StoreUnavailableError

ENV_WORKSPACE = "MATCHER_WORKSPACE"
ENV_DB_URL = "MATCHER_DB_URL"
DEFAULT_WORKSPACE = "workspace"
DB_FILENAME = "matcher.db"
#: How long an SQLite writer waits for another writer before giving up, in seconds.
BUSY_TIMEOUT_S = 15.0
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Any constant: the PostgreSQL advisory lock taken while a store is upgraded.
_MIGRATION_LOCK_KEY = 7_345_120_611


# ----------------------------------------------------------------------------------------------
# Settings and connections
# ----------------------------------------------------------------------------------------------
def workspace_dir() -> Path:
    """The workspace folder: ``MATCHER_WORKSPACE`` if set, else ``./workspace``."""
    return Path(os.environ.get(ENV_WORKSPACE) or DEFAULT_WORKSPACE)


def default_url() -> str:
    """The database URL the store uses when none is given.

    ``MATCHER_DB_URL`` if set (e.g. ``postgresql+psycopg://planner:pw@db:5432/matcher``), else the
    SQLite file ``matcher.db`` in :func:`workspace_dir`.
    """
    url = os.environ.get(ENV_DB_URL, "").strip()
    if url:
        return url
    return f"sqlite:///{(workspace_dir() / DB_FILENAME).absolute()}"


def describe_url(url: str) -> str:
    """Where a store lives, in words, without its password."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return "the database named in MATCHER_DB_URL (the address could not be read)"
    if parsed.get_backend_name() == "sqlite":
        return f"file {parsed.database}" if parsed.database else "an in-memory SQLite database"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    kind = "PostgreSQL" if parsed.get_backend_name() == "postgresql" else parsed.get_backend_name()
    return f"{kind} database {parsed.database!r} on {host}{port}"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` set up the store's way (see the module docstring).

    SQLite: WAL, ``synchronous=FULL``, foreign keys on, busy timeout, ``BEGIN IMMEDIATE`` for
    writes. Both backends: one connection per operation (no pool), so nothing is shared between
    processes and a killed process leaves no half-used connection behind.
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError as err:
        raise StoreUnavailableError(
            f"The database address in {ENV_DB_URL} cannot be read ({err}). Expected something like "
            "postgresql+psycopg://user:password@host:5432/matcher or sqlite:////path/to/matcher.db."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:"):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                _create_private(Path(path))
            except OSError as err:
                raise StoreUnavailableError(
                    f"The store folder {Path(path).parent} cannot be created ({err.strerror}). "
                    f"Set {ENV_WORKSPACE} to a folder you can write to. Nothing was written."
                ) from None
        engine = create_engine(
            parsed,
            poolclass=NullPool,
            connect_args={"timeout": BUSY_TIMEOUT_S},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3 here
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, poolclass=NullPool, connect_args={"connect_timeout": 10})
    raise StoreUnavailableError(
        f"The store supports SQLite and PostgreSQL, not {backend!r} ({describe_url(url)}). "
        f"Set {ENV_DB_URL} to a postgresql+psycopg://... address or unset it to use the workspace file."
    )


def _create_private(path: Path) -> None:
    """Create a new store file readable by its owner only (0600): it holds the accounts' password
    hashes, and SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions. An
    existing file is left as it is."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (see _sqlite_on_begin) instead of the
    # sqlite3 module's implicit, deferred BEGIN before the first write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A writer takes the write lock up front: two writers then queue (busy timeout) instead of
    # both reading, then one failing with "database is locked" when it tries to write.
    if conn.get_execution_options().get("matcher_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


_SCRIPT: ScriptDirectory | None = None


def _script() -> ScriptDirectory:
    global _SCRIPT
    if _SCRIPT is None:
        _SCRIPT = ScriptDirectory(str(MIGRATIONS_DIR))
    return _SCRIPT


def known_revisions() -> set[str]:
    """Every schema revision this release's migrations know."""
    return {script.revision for script in _script().walk_revisions()}


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return _script().get_current_head()


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


# ----------------------------------------------------------------------------------------------
# Error translation
# ----------------------------------------------------------------------------------------------
def _reason(err: BaseException) -> str:
    """What went wrong, in planners' words, from a driver error."""
    raw = str(getattr(err, "orig", None) or err)
    low = raw.lower()
    if "readonly" in low or "read-only" in low or "read only" in low:
        return "is read-only (check the file and folder permissions, or the database role)"
    if "disk is full" in low or "no space left" in low or "disk full" in low or "could not extend" in low:
        return "is out of disk space; free some space and try again"
    if "database is locked" in low or "database table is locked" in low:
        return (
            f"is busy: another planner or program kept it locked for more than {BUSY_TIMEOUT_S:.0f} s; "
            "try again in a moment"
        )
    if "unable to open database file" in low:
        return "cannot be opened (check that its folder exists and can be written)"
    if "password authentication failed" in low or "authentication" in low:
        return f"refused the login (check user and password in {ENV_DB_URL})"
    if "does not exist" in low and "database" in low:
        return "does not exist on the server (create it first, e.g. with createdb)"
    if any(
        word in low
        for word in (
            "connection refused",
            "could not connect",
            "connection failed",
            "connection is lost",
            "server closed the connection",
            "terminating connection",
            "timeout expired",
            "connection timed out",
            "name or service not known",
            "could not translate host name",
            "no route to host",
        )
    ):
        return "cannot be reached (is the database server running, and is the address right?)"
    if "permission denied" in low:
        return "refused the change: the database role lacks permission"
    first = raw.strip().splitlines()[0] if raw.strip() else type(err).__name__
    return f"reported an error: {first}"


def _disk_full(url: str) -> bool:
    """Whether the file system of an SQLite store's folder has (next to) no room left."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return False
    try:
        return shutil.disk_usage(Path(database).parent).free < 256 * 1024
    except OSError:
        return False
