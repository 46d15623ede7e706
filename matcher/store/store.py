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
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    exc,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from matcher.exceptions import ConflictError, MatcherError, StoreUnavailableError, ValidationError
from matcher.store import models as m

ENV_WORKSPACE = "MATCHER_WORKSPACE"
ENV_DB_URL = "MATCHER_DB_URL"
DEFAULT_WORKSPACE = "workspace"
DB_FILENAME = "matcher.db"
#: How long an SQLite writer waits for another writer before giving up, in seconds.
BUSY_TIMEOUT_S = 15.0
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BACKUP_FORMAT = "matcher-store-backup"
BACKUP_FORMAT_VERSION = 1
#: Any constant: the PostgreSQL advisory lock taken while a store is upgraded.
_MIGRATION_LOCK_KEY = 7_345_120_611

#: Fields of a shortlist item a planner may change through ``update``.
ITEM_FIELDS = ("status", "notes", "locked", "score")
#: Fields of a meeting a planner may change through ``update_meeting``.
MEETING_FIELDS = ("slot", "table_label")


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


def _pair(row: Mapping[str, Any]) -> str:
    return f"{row['left_id']} <-> {row['right_id']} ({row['kind']})"


def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    return repr(value)


def _conflict_message(
    what: str,
    expected: int | None,
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    when_field: str,
) -> str:
    who = current.get("planner") or "another planner"
    when = current.get(when_field) or "?"
    if expected is None:
        lines = [
            f"{what} is already recorded by {who} at {when} (version {current['version']}), "
            "and you did not name the version you replace."
        ]
        changes = {k: v for k, v in changes.items() if current.get(k) != v}
    else:
        lines = [
            f"{what} was changed by {who} at {when} since you loaded it: "
            f"yours is based on version {expected}, theirs is now version {current['version']}."
        ]
    for field, mine in changes.items():
        lines.append(f"  {field}: yours {_show(mine)}, theirs {_show(current.get(field))}")
    lines.append("Nothing was saved. Reload it, then apply your change again if it still holds.")
    return "\n".join(lines)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _text_id(value: Any, name: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        raise ValidationError(f"{name} is empty; give the entity id (e.g. C001).")
    value = str(value).strip()
    if not value:
        raise ValidationError(f"{name} is empty; give the entity id (e.g. C001).")
    return value


def _planner(planner: Any) -> str:
    if planner is None or not str(planner).strip():
        raise ValidationError("Say who makes the change: planner is empty.")
    return str(planner).strip()


def _choice(value: Any, allowed: Mapping[str, Any], what: str) -> str:
    if value not in allowed:
        raise ValidationError(f"{what} {value!r} is not known; use one of: {', '.join(allowed)}.")
    return str(value)


# ----------------------------------------------------------------------------------------------
# The store
# ----------------------------------------------------------------------------------------------
class Store:
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

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        migrate: bool = True,
    ) -> None:
        self.url = url or default_url()
        self.location = describe_url(self.url)
        self.engine = make_engine(self.url)
        self.backend = self.engine.dialect.name
        self._clock = clock or (lambda: datetime.now(UTC))
        if migrate:
            self.upgrade()

    def __repr__(self) -> str:
        return f"Store({self.location})"

    # -- plumbing ---------------------------------------------------------------------------
    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="microseconds")

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except MatcherError:
            raise
        except exc.IntegrityError as err:
            raise ConflictError(
                f"Could not {action}: another planner saved the same thing at the same moment "
                f"({str(err.orig).strip().splitlines()[0]}). Nothing was saved; reload and try again."
            ) from None
        except exc.DBAPIError as err:
            reason = _reason(err)
            if self.backend == "sqlite" and "disk i/o error" in reason.lower() and _disk_full(self.url):
                # A full disk often shows as a bare I/O error: SQLite cannot create its WAL index.
                reason = "is out of disk space; free some space and try again"
            raise StoreUnavailableError(
                f"Could not {action}: the store ({self.location}) {reason}. Nothing was written."
            ) from None
        except OSError as err:
            raise StoreUnavailableError(
                f"Could not {action}: the store ({self.location}) cannot be used ({err}). Nothing was written."
            ) from None

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        """One connection, one write transaction: committed whole on success, else rolled back."""
        with self._translated(action):
            with self.engine.connect() as conn:
                conn.execution_options(matcher_write=True)
                with conn.begin():
                    yield conn

    @contextmanager
    def _read(self, action: str, *, snapshot: bool = False) -> Iterator[Connection]:
        """One connection, one read transaction (a consistent snapshot when ``snapshot``)."""
        with self._translated(action):
            with self.engine.connect() as conn:
                if snapshot and self.backend == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn

    def _audit(
        self,
        conn: Connection,
        *,
        planner: str,
        table: Table,
        action: str,
        row_id: int | None,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        ref: str | None = None,
    ) -> None:
        row = after or before or {}
        conn.execute(
            insert(m.audit_log).values(
                at=self._now(),
                planner=planner,
                table_name=table.name,
                row_id=row_id,
                action=action,
                left_id=row.get("left_id"),
                right_id=row.get("right_id"),
                ref=ref,
                before_json=_json(dict(before) if before is not None else None),
                after_json=_json(dict(after) if after is not None else None),
            )
        )

    @staticmethod
    def _row(conn: Connection, table: Table, row_id: int, *, lock: bool = False) -> dict[str, Any] | None:
        query = select(table).where(table.c.id == row_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL row lock; SQLite already holds the write lock
        found = conn.execute(query).mappings().first()
        return dict(found) if found is not None else None

    def _insert(
        self, conn: Connection, table: Table, values: Mapping[str, Any], planner: str, ref: str | None = None
    ) -> dict[str, Any]:
        after = dict(conn.execute(insert(table).values(**values).returning(*table.c)).mappings().one())
        row_id = after["id"]
        self._audit(
            conn,
            planner=planner,
            table=table,
            action="insert",
            row_id=row_id,
            before=None,
            after=after,
            ref=ref,
        )
        return after

    def _versioned_update(
        self,
        conn: Connection,
        table: Table,
        row_id: int,
        changes: Mapping[str, Any],
        expected_version: int | None,
        planner: str,
        *,
        what: Callable[[Mapping[str, Any]], str],
        when_field: str,
        stamp: Mapping[str, Any] | None = None,
        action: str = "update",
        ref: str | None = None,
    ) -> dict[str, Any]:
        before = self._row(conn, table, row_id, lock=True)
        if before is None:
            raise MatcherError(f"There is no {table.name.replace('_', ' ').rstrip('s')} with id {row_id}.")
        if expected_version is not None and int(expected_version) != before["version"]:
            raise ConflictError(
                _conflict_message(what(before), int(expected_version), before, changes, when_field)
            )
        values = {**changes, **(stamp or {}), "planner": planner, "version": before["version"] + 1}
        updated = (
            conn.execute(
                update(table)
                .where(table.c.id == row_id, table.c.version == before["version"])
                .values(**values)
                .returning(*table.c)
            )
            .mappings()
            .first()
        )
        if updated is None:  # cannot happen under the row lock; never lose an update silently
            current = self._row(conn, table, row_id) or before
            raise ConflictError(
                _conflict_message(what(current), before["version"], current, changes, when_field)
            )
        after = dict(updated)
        self._audit(
            conn,
            planner=planner,
            table=table,
            action=action,
            row_id=row_id,
            before=before,
            after=after,
            ref=ref,
        )
        return after

    # -- schema -----------------------------------------------------------------------------
    def revision(self, *, _action: str = "read the store's schema revision") -> str | None:
        """The schema revision the store is at (``None`` for an empty database)."""
        with self._read(_action) as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default the newest); runs on open.

        The upgrade is one transaction (SQLite and PostgreSQL both have transactional DDL) under a
        write lock, so two planners opening an old store at once upgrade it exactly once.
        """
        script = _script()
        target = script.get_current_head() if revision == "head" else revision
        current = self.revision(_action="open the store")
        if current == target:
            return
        known = {rev.revision for rev in script.walk_revisions()}
        if current is not None and current not in known:
            raise StoreUnavailableError(
                f"The store ({self.location}) was written by a newer release of the matcher "
                f"(schema revision {current}; this release knows up to {script.get_current_head()}). "
                "Upgrade the matcher before opening it. Nothing was changed."
            )
        with self._write("upgrade the store's schema") as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            command.upgrade(_alembic_config(conn), target)

    # -- runs -------------------------------------------------------------------------------
    def record_run(
        self,
        run_id: str,
        *,
        data_version: str,
        kind: str,
        weights: Mapping[str, Any],
        planner: str,
    ) -> dict[str, Any]:
        """Keep one engine run: its id, the data version hash, the kind of docking and the weights."""
        planner = _planner(planner)
        values = {
            "run_id": _text_id(run_id, "run id"),
            "data_version": str(data_version),
            "kind": str(kind),
            "weights_json": _json(dict(weights)),
            "created_at": self._now(),
            "planner": planner,
        }
        with self._write(f"record run {run_id}") as conn:
            if conn.execute(select(m.runs.c.id).where(m.runs.c.run_id == values["run_id"])).first():
                raise ConflictError(f"A run with id {run_id!r} is already stored; run ids are unique.")
            return self._insert(conn, m.runs, values, planner, ref=values["run_id"])

    def runs(self) -> pd.DataFrame:
        """All runs, oldest first, with ``weights`` decoded from JSON."""
        with self._read("list runs") as conn:
            rows = [dict(r) for r in conn.execute(select(m.runs).order_by(m.runs.c.id)).mappings()]
        for row in rows:
            row["weights"] = json.loads(row.pop("weights_json"))
        return _frame(rows, m.runs, extra=("weights",), drop=("weights_json",))

    # -- shortlists -------------------------------------------------------------------------
    def create_shortlist(self, name: str, *, planner: str, run_id: str | None = None) -> dict[str, Any]:
        """Start a shortlist, optionally tied to the run whose suggestions it draws from."""
        planner = _planner(planner)
        if not str(name).strip():
            raise ValidationError("A shortlist needs a name.")
        with self._write(f"create shortlist {name!r}") as conn:
            if (
                run_id is not None
                and not conn.execute(select(m.runs.c.id).where(m.runs.c.run_id == run_id)).first()
            ):
                raise MatcherError(f"There is no stored run {run_id!r}; record the run before its shortlist.")
            now = self._now()
            values = dict(
                name=str(name).strip(), run_id=run_id, planner=planner, created_at=now, updated_at=now
            )
            return self._insert(conn, m.shortlists, values, planner, ref=str(name).strip())

    def shortlists(self) -> pd.DataFrame:
        """All shortlists, oldest first."""
        with self._read("list shortlists") as conn:
            rows = [
                dict(r) for r in conn.execute(select(m.shortlists).order_by(m.shortlists.c.id)).mappings()
            ]
        return _frame(rows, m.shortlists)

    def add_items(self, shortlist_id: int, suggestions: pd.DataFrame, *, planner: str) -> list[int]:
        """Add suggestion rows to a shortlist, all or none; returns the new item ids in row order.

        ``suggestions`` needs ``left_id``, ``right_id``, ``kind``; ``score``, ``notes``,
        ``status`` and ``locked`` are taken when present. A pair already on the shortlist is
        refused (it keeps its notes and status); a pair with a decision starts with that status.
        """
        planner = _planner(planner)
        _require_columns(suggestions, ("left_id", "right_id", "kind"), "suggestions")
        rows = []
        for number, rec in enumerate(suggestions.to_dict("records"), start=1):
            status = "proposed" if _blank(rec.get("status")) else rec["status"]
            rows.append(
                {
                    "left_id": _text_id(rec["left_id"], f"left_id of suggestion row {number}"),
                    "right_id": _text_id(rec["right_id"], f"right_id of suggestion row {number}"),
                    "kind": _text_id(rec["kind"], f"kind of suggestion row {number}"),
                    "score": _float_or_none(rec.get("score")),
                    "status": _choice(status, m.ITEM_STATUSES, f"status of suggestion row {number}"),
                    "notes": "" if _blank(rec.get("notes")) else str(rec["notes"]),
                    "locked": False if _blank(rec.get("locked")) else bool(rec["locked"]),
                }
            )
        with self._write(f"add {len(rows)} items to shortlist {shortlist_id}") as conn:
            if self._row(conn, m.shortlists, shortlist_id) is None:
                raise MatcherError(f"There is no shortlist with id {shortlist_id}.")
            decided = {
                (d.left_id, d.right_id, d.kind): d.decision
                for d in conn.execute(
                    select(
                        m.decisions.c.left_id,
                        m.decisions.c.right_id,
                        m.decisions.c.kind,
                        m.decisions.c.decision,
                    )
                )
            }
            present = {
                (r.left_id, r.right_id, r.kind)
                for r in conn.execute(
                    select(
                        m.shortlist_items.c.left_id, m.shortlist_items.c.right_id, m.shortlist_items.c.kind
                    ).where(m.shortlist_items.c.shortlist_id == shortlist_id)
                )
            }
            ids = []
            now = self._now()
            for row in rows:
                key = (row["left_id"], row["right_id"], row["kind"])
                if key in present:
                    raise ConflictError(
                        f"Pair {_pair(row)} is already on shortlist {shortlist_id}; nothing was added."
                    )
                present.add(key)
                if key in decided and row["status"] == "proposed":
                    row["status"] = "accepted" if decided[key] == "accept" else "rejected"
                values = {
                    **row,
                    "shortlist_id": shortlist_id,
                    "planner": planner,
                    "created_at": now,
                    "updated_at": now,
                }
                ids.append(self._insert(conn, m.shortlist_items, values, planner)["id"])
            return ids

    def item(self, item_id: int) -> dict[str, Any]:
        """One shortlist item as a dict (includes its ``version``)."""
        with self._read(f"read shortlist item {item_id}") as conn:
            row = self._row(conn, m.shortlist_items, item_id)
        if row is None:
            raise MatcherError(f"There is no shortlist item with id {item_id}.")
        return row

    def items(self, shortlist_id: int | None = None) -> pd.DataFrame:
        """Shortlist items (of one shortlist, or all), by id."""
        query = select(m.shortlist_items).order_by(m.shortlist_items.c.id)
        if shortlist_id is not None:
            query = query.where(m.shortlist_items.c.shortlist_id == shortlist_id)
        with self._read("list shortlist items") as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return _frame(rows, m.shortlist_items)

    def _check_item_changes(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(changes) - set(ITEM_FIELDS))
        if unknown:
            raise ValidationError(
                f"Shortlist items have no changeable field {', '.join(unknown)}; "
                f"a planner may change: {', '.join(ITEM_FIELDS)}."
            )
        if not changes:
            raise ValidationError("No change given: name at least one of " + ", ".join(ITEM_FIELDS) + ".")
        clean = dict(changes)
        if "status" in clean:
            clean["status"] = _choice(clean["status"], m.ITEM_STATUSES, "Status")
        if "notes" in clean:
            clean["notes"] = "" if clean["notes"] is None else str(clean["notes"])
        if "locked" in clean:
            clean["locked"] = bool(clean["locked"])
        if "score" in clean:
            clean["score"] = _float_or_none(clean["score"])
        return clean

    def update(
        self, item_id: int, changes: Mapping[str, Any], expected_version: int, planner: str
    ) -> dict[str, Any]:
        """Change a shortlist item, if nobody changed it since ``expected_version``.

        Parameters
        ----------
        item_id : int
            The item.
        changes : mapping
            New values of ``status``, ``notes``, ``locked`` and/or ``score``.
        expected_version : int
            The ``version`` the planner saw when they started editing.
        planner : str
            Who makes the change (kept in the item and the audit log).

        Returns
        -------
        dict
            The item after the change (its ``version`` is ``expected_version + 1``).

        Raises
        ------
        ConflictError
            The item moved on since ``expected_version``; the message shows, per field, your value
            and theirs. Nothing was saved.
        """
        return self.update_many([(item_id, changes, expected_version)], planner=planner)[0]

    def update_many(
        self, updates: Iterable[tuple[int, Mapping[str, Any], int]], *, planner: str
    ) -> list[dict[str, Any]]:
        """Apply several item updates ``(item_id, changes, expected_version)`` all or none."""
        planner = _planner(planner)
        checked = [(int(i), self._check_item_changes(c), v) for i, c, v in updates]
        with self._write(f"update {len(checked)} shortlist item(s)") as conn:
            return [
                self._versioned_update(
                    conn,
                    m.shortlist_items,
                    item_id,
                    changes,
                    expected_version,
                    planner,
                    what=lambda row: f"Shortlist item {row['id']} ({_pair(row)})",
                    when_field="updated_at",
                    stamp={"updated_at": self._now()},
                )
                for item_id, changes, expected_version in checked
            ]

    # -- decisions --------------------------------------------------------------------------
    def _keyed_upsert(
        self,
        conn: Connection,
        table: Table,
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        expected_version: int | None,
        planner: str,
        *,
        what: str,
        when_field: str,
    ) -> dict[str, Any]:
        """Insert the row for ``key``, or change it when ``expected_version`` matches its version.

        Without ``expected_version`` an existing row with other values is a conflict: recording
        over someone's entry must be deliberate. The same values again change nothing.
        """
        query = select(table).where(*(table.c[k] == v for k, v in key.items())).with_for_update()
        existing = conn.execute(query).mappings().first()
        if existing is None:
            if expected_version is not None:
                raise MatcherError(
                    f"{what} has no stored entry to replace (you named version {expected_version})."
                )
            return self._insert(conn, table, {**key, **values, "planner": planner}, planner)
        existing = dict(existing)
        compared = {k: v for k, v in values.items() if k != when_field}
        if expected_version is None:
            if all(existing[k] == v for k, v in compared.items()):
                return existing
            message = _conflict_message(what, None, existing, compared, when_field)
            raise ConflictError(
                message + f"\nTo replace it deliberately, pass expected version {existing['version']}."
            )
        return self._versioned_update(
            conn,
            table,
            existing["id"],
            {k: v for k, v in values.items() if k != when_field},
            expected_version,
            planner,
            what=lambda row: what,
            when_field=when_field,
            stamp={when_field: values[when_field]},
        )

    def decide(
        self,
        left_id: str,
        right_id: str,
        kind: str,
        decision: str,
        *,
        planner: str,
        reason: str | None = None,
        note: str = "",
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Accept or reject a pair; the decision outlives reruns (see :meth:`annotate`).

        ``reason`` is required with ``reject`` (one of :data:`models.REJECT_REASONS`) and must be
        empty with ``accept``. Every shortlist item of the pair takes the matching status. A pair
        already decided differently needs ``expected_version`` (the decision's version), else
        :class:`ConflictError` shows both decisions.
        """
        planner = _planner(planner)
        decision = _choice(decision, m.DECISIONS, "Decision")
        if decision == "reject":
            if reason is None:
                raise ValidationError(f"A rejection needs a reason: one of {', '.join(m.REJECT_REASONS)}.")
            reason = _choice(reason, m.REJECT_REASONS, "Reject reason")
        elif reason is not None:
            raise ValidationError("Only a rejection takes a reason; leave the reason empty when accepting.")
        key = {
            "left_id": _text_id(left_id, "left_id"),
            "right_id": _text_id(right_id, "right_id"),
            "kind": _text_id(kind, "kind"),
        }
        now = self._now()
        values = {"decision": decision, "reason": reason, "note": note or "", "decided_at": now}
        with self._write(f"record the decision on {_pair(key)}") as conn:
            row = self._keyed_upsert(
                conn,
                m.decisions,
                key,
                values,
                expected_version,
                planner,
                what=f"The decision on {_pair(key)}",
                when_field="decided_at",
            )
            status = "accepted" if decision == "accept" else "rejected"
            items = conn.execute(
                select(m.shortlist_items.c.id, m.shortlist_items.c.status).where(
                    *(m.shortlist_items.c[k] == v for k, v in key.items())
                )
            ).all()
            for item in items:
                if item.status != status:
                    self._versioned_update(
                        conn,
                        m.shortlist_items,
                        item.id,
                        {"status": status},
                        None,
                        planner,
                        what=lambda r: f"Shortlist item {r['id']}",
                        when_field="updated_at",
                        stamp={"updated_at": now},
                    )
            return row

    def decisions(self) -> pd.DataFrame:
        """All decisions, by id."""
        with self._read("list decisions") as conn:
            rows = [dict(r) for r in conn.execute(select(m.decisions).order_by(m.decisions.c.id)).mappings()]
        return _frame(rows, m.decisions)

    def annotate(self, suggestions: pd.DataFrame) -> pd.DataFrame:
        """Mark a fresh suggestions frame with what planners already decided.

        Adds (or replaces) ``decision`` (``accept``/``reject``/NA), ``reject_reason``,
        ``decided_by`` and ``status``: ``rejected``/``accepted`` from a decision, else the status of
        the pair's newest shortlist item, else ``new``. Pairs match on ``(left_id, right_id, kind)``
        as text, in either order except for the directed ``peer_learning`` kind, so a rejected pair
        stays rejected after a rerun on changed data and in the partner's list too. Row order and
        index are kept.
        """
        _require_columns(suggestions, ("left_id", "right_id", "kind"), "suggestions")
        with self._read("read decisions", snapshot=True) as conn:
            decided = conn.execute(
                select(
                    m.decisions.c.left_id,
                    m.decisions.c.right_id,
                    m.decisions.c.kind,
                    m.decisions.c.decision,
                    m.decisions.c.reason,
                    m.decisions.c.planner,
                )
            ).all()
            listed = conn.execute(
                select(
                    m.shortlist_items.c.left_id,
                    m.shortlist_items.c.right_id,
                    m.shortlist_items.c.kind,
                    m.shortlist_items.c.status,
                ).order_by(m.shortlist_items.c.id)
            ).all()
        by_pair = {(d.left_id, d.right_id, d.kind): d for d in decided}
        item_status = {(i.left_id, i.right_id, i.kind): i.status for i in listed}  # newest wins
        # suggestions list a pair in both entities' lists: a decision on A-B holds for B-A too,
        # except for peer_learning, whose pairs are directed (learner, teacher)
        for table in (by_pair, item_status):
            for (left, right, kind), value in list(table.items()):
                if kind != "peer_learning":
                    table.setdefault((right, left, kind), value)
        keys = list(
            zip(
                suggestions["left_id"].astype("string"),
                suggestions["right_id"].astype("string"),
                suggestions["kind"].astype("string"),
                strict=True,
            )
        )
        out = suggestions.copy()
        found = [by_pair.get(k) for k in keys]
        out["decision"] = pd.array([d.decision if d else pd.NA for d in found], dtype="string")
        out["reject_reason"] = pd.array(
            [d.reason if d and d.reason else pd.NA for d in found], dtype="string"
        )
        out["decided_by"] = pd.array([d.planner if d else pd.NA for d in found], dtype="string")
        status = []
        for key, d in zip(keys, found, strict=True):
            if d is not None:
                status.append("accepted" if d.decision == "accept" else "rejected")
            else:
                status.append(item_status.get(key, "new"))
        out["status"] = pd.array(status, dtype="string")
        return out

    def flag_missing(
        self, entity_ids: Iterable[str], *, planner: str = "system", data_version: str | None = None
    ) -> int:
        """Flag shortlist items whose entity is not in a new data version; never delete them.

        Parameters
        ----------
        entity_ids : iterable of str
            Every entity id present in the new data version (clusters, markets, enterprises).
        planner : str
            Recorded as the author of the flags.
        data_version : str, optional
            Kept in ``missing_since`` so planners see when the entity went missing.

        Returns
        -------
        int
            Number of items whose flag changed (newly flagged, or cleared because the entity is
            back). Flagged items keep notes, status and decisions; ``missing_ids`` names the absent
            ids.
        """
        planner = _planner(planner)
        present = {str(e) for e in entity_ids if e is not None and not pd.isna(e)}
        now = self._now()
        changed = 0
        with self._write("flag items whose entity left the data") as conn:
            rows = conn.execute(
                select(
                    m.shortlist_items.c.id,
                    m.shortlist_items.c.left_id,
                    m.shortlist_items.c.right_id,
                    m.shortlist_items.c.missing_ids,
                ).order_by(m.shortlist_items.c.id)
            ).all()
            for row in rows:
                absent = [e for e in (row.left_id, row.right_id) if e not in present]
                missing = ";".join(absent) if absent else None
                if missing == row.missing_ids:
                    continue
                self._versioned_update(
                    conn,
                    m.shortlist_items,
                    row.id,
                    {"missing_ids": missing, "missing_since": (data_version or now) if missing else None},
                    None,
                    planner,
                    what=lambda r: f"Shortlist item {r['id']}",
                    when_field="updated_at",
                    stamp={"updated_at": now},
                    action="flag" if missing else "unflag",
                )
                changed += 1
        return changed

    # -- meetings ---------------------------------------------------------------------------
    def schedule_meeting(
        self,
        left_id: str,
        right_id: str,
        kind: str,
        *,
        slot: str,
        table: str,
        planner: str,
        item_id: int | None = None,
    ) -> dict[str, Any]:
        """Book a meeting of a pair at a time slot and table; a taken table is a conflict."""
        planner = _planner(planner)
        values = {
            "left_id": _text_id(left_id, "left_id"),
            "right_id": _text_id(right_id, "right_id"),
            "kind": _text_id(kind, "kind"),
            "slot": _text_id(slot, "slot"),
            "table_label": _text_id(table, "table"),
            "item_id": item_id,
        }
        with self._write(f"book a meeting for {_pair(values)}") as conn:
            taken = (
                conn.execute(
                    select(m.meetings).where(
                        m.meetings.c.slot == values["slot"], m.meetings.c.table_label == values["table_label"]
                    )
                )
                .mappings()
                .first()
            )
            if taken is not None:
                raise ConflictError(
                    f"Table {values['table_label']} at slot {values['slot']} is already taken by "
                    f"{_pair(taken)} (booked by {taken['planner']}). Pick another table or slot."
                )
            if item_id is not None and self._row(conn, m.shortlist_items, item_id) is None:
                raise MatcherError(f"There is no shortlist item with id {item_id}.")
            now = self._now()
            return self._insert(
                conn,
                m.meetings,
                {**values, "planner": planner, "created_at": now, "updated_at": now},
                planner,
            )

    def update_meeting(
        self, meeting_id: int, changes: Mapping[str, Any], expected_version: int, planner: str
    ) -> dict[str, Any]:
        """Move a meeting (``slot`` and/or ``table_label``) if nobody moved it since ``expected_version``."""
        planner = _planner(planner)
        unknown = sorted(set(changes) - set(MEETING_FIELDS))
        if unknown or not changes:
            raise ValidationError(f"A meeting's changeable fields are: {', '.join(MEETING_FIELDS)}.")
        clean = {k: _text_id(v, k) for k, v in changes.items()}
        with self._write(f"move meeting {meeting_id}") as conn:
            current = self._row(conn, m.meetings, meeting_id, lock=True)
            if current is not None and int(expected_version) == current["version"]:
                target = {**current, **clean}
                self._check_table_free(conn, target["slot"], target["table_label"], {meeting_id})
            return self._versioned_update(
                conn,
                m.meetings,
                meeting_id,
                clean,
                expected_version,
                planner,
                what=lambda row: f"Meeting {row['id']} ({_pair(row)})",
                when_field="updated_at",
                stamp={"updated_at": self._now()},
            )

    @staticmethod
    def _check_table_free(conn: Connection, slot: str, table_label: str, allowed: set[int]) -> None:
        taken = (
            conn.execute(
                select(m.meetings).where(m.meetings.c.slot == slot, m.meetings.c.table_label == table_label)
            )
            .mappings()
            .first()
        )
        if taken is not None and taken["id"] not in allowed:
            raise ConflictError(
                f"Table {table_label} at slot {slot} is already taken by {_pair(taken)} "
                f"(meeting {taken['id']}, booked by {taken['planner']}). Pick another table or slot."
            )

    def book_meetings(self, bookings: Iterable[Mapping[str, Any]], *, planner: str) -> list[dict[str, Any]]:
        """Book a whole meeting plan in one transaction: all of it or nothing.

        Parameters
        ----------
        bookings : iterable of mappings
            Each with ``left_id``, ``right_id``, ``kind``, ``slot``, ``table`` and optionally
            ``item_id``; to move a stored meeting also ``meeting_id`` and ``expected_version``
            (the version you saw). Meetings of the plan may swap tables and slots among themselves.
        planner : str
            Who books.

        Returns
        -------
        list of dict
            The booked meetings, in the order given (unchanged ones as stored).

        Raises
        ------
        ConflictError
            A table is held by a meeting outside the plan, or a moved meeting changed since its
            ``expected_version``. Nothing was booked.
        ValidationError
            The plan itself puts two meetings at one table in one slot.
        """
        planner = _planner(planner)
        plan = []
        for number, booking in enumerate(bookings, start=1):
            entry = {
                "left_id": _text_id(booking.get("left_id"), f"left_id of booking {number}"),
                "right_id": _text_id(booking.get("right_id"), f"right_id of booking {number}"),
                "kind": _text_id(booking.get("kind"), f"kind of booking {number}"),
                "slot": _text_id(booking.get("slot"), f"slot of booking {number}"),
                "table_label": _text_id(booking.get("table"), f"table of booking {number}"),
                "item_id": None if _blank(booking.get("item_id")) else int(booking["item_id"]),
                "meeting_id": None if _blank(booking.get("meeting_id")) else int(booking["meeting_id"]),
                "expected_version": None
                if _blank(booking.get("expected_version"))
                else int(booking["expected_version"]),
            }
            plan.append(entry)
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in plan:
            place = (entry["slot"], entry["table_label"])
            if place in seen:
                raise ValidationError(
                    f"The plan puts {_pair(seen[place])} and {_pair(entry)} both at table {place[1]} "
                    f"in slot {place[0]}."
                )
            seen[place] = entry
        now = self._now()
        with self._write(f"book {len(plan)} meetings") as conn:
            originals: dict[int, dict[str, Any]] = {}
            for entry in plan:  # check every moved meeting, then park it off the grid
                if entry["meeting_id"] is None:
                    continue
                row = self._row(conn, m.meetings, entry["meeting_id"], lock=True)
                if row is None:
                    raise MatcherError(f"There is no meeting with id {entry['meeting_id']}.")
                expected = entry["expected_version"]
                if expected is not None and expected != row["version"]:
                    wanted = {"slot": entry["slot"], "table_label": entry["table_label"]}
                    raise ConflictError(
                        _conflict_message(
                            f"Meeting {row['id']} ({_pair(row)})", expected, row, wanted, "updated_at"
                        )
                    )
                originals[row["id"]] = row
                # A temporary label frees its place, so meetings of the plan can swap places.
                conn.execute(
                    update(m.meetings).where(m.meetings.c.id == row["id"]).values(table_label=f"~{row['id']}")
                )
            for entry in plan:
                self._check_table_free(conn, entry["slot"], entry["table_label"], set(originals))
            booked = []
            for entry in plan:
                row = originals.get(entry["meeting_id"]) if entry["meeting_id"] is not None else None
                if row is None:
                    values = {
                        k: entry[k] for k in ("left_id", "right_id", "kind", "slot", "table_label", "item_id")
                    }
                    booked.append(
                        self._insert(
                            conn,
                            m.meetings,
                            {**values, "planner": planner, "created_at": now, "updated_at": now},
                            planner,
                        )
                    )
                    continue
                if (row["slot"], row["table_label"]) == (entry["slot"], entry["table_label"]):
                    conn.execute(  # back from its temporary label, unchanged: no new version
                        update(m.meetings)
                        .where(m.meetings.c.id == row["id"])
                        .values(table_label=row["table_label"])
                    )
                    booked.append(row)
                    continue
                after = dict(
                    conn.execute(
                        update(m.meetings)
                        .where(m.meetings.c.id == row["id"])
                        .values(
                            slot=entry["slot"],
                            table_label=entry["table_label"],
                            planner=planner,
                            updated_at=now,
                            version=row["version"] + 1,
                        )
                        .returning(*m.meetings.c)
                    )
                    .mappings()
                    .one()
                )
                self._audit(
                    conn,
                    planner=planner,
                    table=m.meetings,
                    action="update",
                    row_id=row["id"],
                    before=row,
                    after=after,
                )
                booked.append(after)
            return booked

    def meetings(self) -> pd.DataFrame:
        """All meetings, by slot, then table."""
        query = select(m.meetings).order_by(m.meetings.c.slot, m.meetings.c.table_label, m.meetings.c.id)
        with self._read("list meetings") as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return _frame(rows, m.meetings)

    # -- outcomes ---------------------------------------------------------------------------
    def record_outcome(
        self,
        left_id: str,
        right_id: str,
        kind: str,
        *,
        stage: str,
        value: str,
        planner: str,
        rating: int | None = None,
        note: str = "",
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Record what came of a pair, at the meeting or months later.

        ``stage="meeting"``: ``met`` or ``no_show``, with an optional ``rating`` 1-5 when met.
        ``stage="followup"``: ``no_further_contact``, ``valuable_contact``,
        ``negotiation_started`` or ``agreement_reached``. Replacing a recorded outcome needs its
        ``expected_version``.
        """
        planner = _planner(planner)
        stage = _choice(stage, m.OUTCOMES, "Outcome stage")
        value = _choice(value, m.OUTCOMES[stage], f"Outcome at stage {stage!r}")
        if rating is not None:
            if stage != "meeting" or value != "met":
                raise ValidationError(
                    "A rating (1-5) belongs to a meeting that took place (stage meeting, value met)."
                )
            try:
                rating = int(rating)
            except (TypeError, ValueError):
                raise ValidationError(f"Rating {rating!r} is not a whole number from 1 to 5.") from None
            low, high = m.RATING_RANGE
            if not low <= rating <= high:
                raise ValidationError(f"Rating {rating} is outside {low}-{high}.")
        key = {
            "left_id": _text_id(left_id, "left_id"),
            "right_id": _text_id(right_id, "right_id"),
            "kind": _text_id(kind, "kind"),
            "stage": stage,
        }
        values = {"value": value, "rating": rating, "note": note or "", "recorded_at": self._now()}
        with self._write(f"record the {stage} outcome of {_pair(key)}") as conn:
            return self._keyed_upsert(
                conn,
                m.outcomes,
                key,
                values,
                expected_version,
                planner,
                what=f"The {stage} outcome of {_pair(key)}",
                when_field="recorded_at",
            )

    def outcomes(self) -> pd.DataFrame:
        """All outcomes, by id."""
        with self._read("list outcomes") as conn:
            rows = [dict(r) for r in conn.execute(select(m.outcomes).order_by(m.outcomes.c.id)).mappings()]
        return _frame(rows, m.outcomes)

    # -- audit ------------------------------------------------------------------------------
    def history(self, for_id: str | None = None) -> pd.DataFrame:
        """The audit log, oldest first: every change with who, when, and the row before and after.

        ``for_id`` keeps the entries about one entity (as ``left_id`` or ``right_id``) or one
        reference (run id, shortlist name). ``before``/``after`` are decoded dicts (None for an
        insert's before).
        """
        query = select(m.audit_log).order_by(m.audit_log.c.id)
        if for_id is not None:
            key = str(for_id)
            query = query.where(
                (m.audit_log.c.left_id == key) | (m.audit_log.c.right_id == key) | (m.audit_log.c.ref == key)
            )
        with self._read("read the history") as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["before"] = json.loads(row.pop("before_json")) if row["before_json"] else None
            row["after"] = json.loads(row.pop("after_json")) if row["after_json"] else None
        frame = _frame(rows, m.audit_log, extra=("before", "after"), drop=("before_json", "after_json"))
        return frame

    # -- backup -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self._read("count rows", snapshot=True) as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in m.TABLES}

    def is_empty(self) -> bool:
        """True when the store holds no rows at all."""
        return not any(self.counts().values())

    def export_data(self) -> dict[str, Any]:
        """The whole store as JSON-ready data (a consistent snapshot)."""
        with self._read("export the store", snapshot=True) as conn:
            tables = {
                t.name: [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]
                for t in m.TABLES
            }
            revision = MigrationContext.configure(conn).get_current_revision()
        return {
            "format": BACKUP_FORMAT,
            "format_version": BACKUP_FORMAT_VERSION,
            "schema_revision": revision,
            "exported_at": self._now(),
            "tables": tables,
        }

    def backup(self, path: str | os.PathLike) -> dict[str, int]:
        """Write the whole store to a JSON file (atomically: a failed backup leaves no half file).

        Returns the rows written per table.
        """
        data = self.export_data()
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as err:
            raise StoreUnavailableError(
                f"Could not write the backup file {target} ({err.strerror or err})."
            ) from None
        return {name: len(rows) for name, rows in data["tables"].items()}

    def restore(self, path: str | os.PathLike) -> dict[str, int]:
        """Load a backup file into this store, which must be empty; all or nothing."""
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MatcherError(f"The backup file {source} does not exist.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValidationError(f"The backup file {source} cannot be read as JSON ({err}).") from None
        return self.import_data(data, source=str(source))

    def import_data(self, data: Mapping[str, Any], *, source: str = "the backup") -> dict[str, int]:
        """Load exported data into this empty store in one transaction; returns rows per table.

        Raises
        ------
        MatcherError
            The store already holds rows (restore only into an empty store).
        ValidationError
            The data is not a matcher store backup, or names unknown tables or columns.
        """
        if not isinstance(data, Mapping) or data.get("format") != BACKUP_FORMAT:
            raise ValidationError(f'{source} is not a matcher store backup (no "format": "{BACKUP_FORMAT}").')
        if data.get("format_version") != BACKUP_FORMAT_VERSION:
            raise ValidationError(
                f"{source} has backup format version {data.get('format_version')!r}; this release reads "
                f"version {BACKUP_FORMAT_VERSION}. Use a matcher release that matches the backup."
            )
        tables = data.get("tables")
        if not isinstance(tables, Mapping):
            raise ValidationError(f'{source} has no "tables" section.')
        known = {t.name: t for t in m.TABLES}
        unknown = sorted(set(tables) - set(known))
        if unknown:
            raise ValidationError(
                f"{source} holds tables this release does not know: {', '.join(unknown)} "
                f"(known: {', '.join(known)}). It was probably written by a newer release."
            )
        prepared: dict[str, list[dict[str, Any]]] = {}
        for name, rows in tables.items():
            table = known[name]
            columns = set(table.c.keys())
            if not isinstance(rows, list):
                raise ValidationError(f"{source}: table {name} is not a list of rows.")
            for number, row in enumerate(rows, start=1):
                if not isinstance(row, Mapping):
                    raise ValidationError(f"{source}: table {name}, row {number} is not an object.")
                extra = sorted(set(row) - columns)
                if extra:
                    raise ValidationError(
                        f"{source}: table {name}, row {number} has unknown column(s) {', '.join(extra)}; "
                        f"known: {', '.join(table.c.keys())}."
                    )
            # Columns a backup from an older revision lacks take their empty value.
            prepared[name] = [{c: row.get(c) for c in table.c.keys()} for row in rows]
        with self._write(f"restore {source}") as conn:
            held = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in m.TABLES}
            if any(held.values()):
                summary = ", ".join(f"{n} {name}" for name, n in held.items() if n)
                raise MatcherError(
                    f"The store ({self.location}) is not empty ({summary}); a backup is restored only into "
                    f"an empty store. Point {ENV_WORKSPACE} or {ENV_DB_URL} at a new store and restore there. "
                    "Nothing was changed."
                )
            for table in m.TABLES:
                rows = prepared.get(table.name, [])
                for start in range(0, len(rows), 1000):
                    try:
                        conn.execute(insert(table), rows[start : start + 1000])
                    except exc.IntegrityError as err:  # rolled back whole when this leaves the block
                        raise ValidationError(
                            f"{source}: table {table.name} has rows that break the store's rules "
                            f"({str(err.orig).strip().splitlines()[0]}). Nothing was restored."
                        ) from None
            if self.backend == "postgresql":
                for table in m.TABLES:  # ids came from the backup: move each id sequence past them
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
        return {name: len(rows) for name, rows in prepared.items()}


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    """None, NaN or NA: a cell with nothing in it."""
    return value is None or (not isinstance(value, (str, bytes)) and bool(pd.isna(value)))


def _float_or_none(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Score {value!r} is not a number.") from None
    return None if math.isnan(number) else number


def _require_columns(frame: pd.DataFrame, needed: Iterable[str], what: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"The {what} lack column(s) {', '.join(missing)}; they have: {', '.join(map(str, frame.columns))}."
        )


_DTYPES = {"Integer": "Int64", "Float": "Float64", "Boolean": "boolean"}


def _frame(
    rows: list[dict[str, Any]], table: Table, *, extra: Iterable[str] = (), drop: Iterable[str] = ()
) -> pd.DataFrame:
    """Rows as a DataFrame with the project's dtypes (text "string", counts "Int64", ...)."""
    dropped = set(drop)
    columns = [c for c in table.c.keys() if c not in dropped] + list(extra)
    frame = pd.DataFrame(rows, columns=columns)
    for column in table.c:
        if column.key in dropped:
            continue
        dtype = _DTYPES.get(type(column.type).__name__, "string")
        frame[column.key] = frame[column.key].astype(dtype)
    return frame
