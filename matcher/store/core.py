"""The store's core: one connection and one transaction per operation, audit rows, versioned changes.

Every public method of :class:`~matcher.store.Store` is one transaction on its own connection: it is
written whole or not at all. Every change writes an audit row (who, when, row before and after as
JSON) in the same transaction. Mutable rows carry a ``version``; a change names the version it was
based on and a moved row raises :class:`~matcher.exceptions.ConflictError` showing both values, so no
planner silently overwrites another. A database that cannot be reached, is read-only or is full
raises :class:`~matcher.exceptions.StoreUnavailableError` with a message a planner can act on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Table, exc, func, insert, select, text, update

from matcher.exceptions import (
    AccessError,
    ConflictError,
    MatcherError,
    StoreUnavailableError,
    ValidationError,
)
from matcher.store import models as m
from matcher.store.connection import (
    _MIGRATION_LOCK_KEY,
    _alembic_config,
    _disk_full,
    _reason,
    _script,
    default_url,
    describe_url,
    make_engine,
)
from matcher.store.rows import _conflict_message, _json


def account_text(name: Any) -> str:
    """An account's name as typed, the way the store compares it: NFKC-normalised (a full-width
    ``ａｄｍｉｎ`` is ``admin``) and trimmed; "" for None."""
    return "" if name is None else unicodedata.normalize("NFKC", str(name)).strip()


class StoreCore:
    """Opening a store, its transactions, audit rows and version-checked changes (no public rows).

    The parts of :class:`~matcher.store.Store` build on this class; see there for the parameters.
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
        except UnicodeEncodeError:  # bytes that were not UTF-8 (a command-line argument): no text the store keeps
            raise ValidationError(f"Could not {action}: a text holds bytes that are not UTF-8; type it again. "
                                  "Nothing was written.") from None
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
                conn.info.pop("matcher_actor", None)  # who may write is checked afresh in each transaction
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

    def _authorize(self, conn, who: Any, needs: str) -> str:
        """The account name a change is recorded under, after checking that ``who`` may make it
        (role ``needs`` or higher). With no account in the store, any name (the local planner)."""
        name = account_text(who)
        if any(unicodedata.category(ch) == "Cs" for ch in name):  # bytes that were not UTF-8: no account's name
            name = name.encode("utf-8", "replace").decode("utf-8")
        if conn.execute(select(func.count()).select_from(m.accounts)).scalar_one() == 0:
            if not name:
                raise ValidationError("Say who makes the change: planner is empty.")
            return name
        row = conn.execute(select(m.accounts.c.role, m.accounts.c.disabled).where(
            m.accounts.c.username == name)).first()
        if row is None:
            raise AccessError(f"{name or 'Nobody'} is not an account of this store: sign in (or name an account "
                              "with --as).")
        if row.disabled:
            raise AccessError(f"The account {name} is disabled.")
        if not m.role_allows(row.role, needs):
            needed = "an admin" if needs == "admin" else f"a {needs} or an admin"
            raise AccessError(f"The account {name} is a {row.role}; this needs {needed}.")
        return name

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
        if table is not m.accounts:  # every change is checked against the accounts, once per transaction
            if conn.info.get("matcher_actor") != planner:
                planner = self._authorize(conn, planner, "planner")
                conn.info["matcher_actor"] = planner
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
