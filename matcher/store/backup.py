"""Backup and restore: the whole store as one JSON file, loaded back only into an empty store."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, func, insert, select, text

from matcher import limits
from matcher.exceptions import MatcherError, StoreUnavailableError, ValidationError
from matcher.jsonfile import JsonFileError, read_json_file
from matcher.outputs.atomic import replacing
from matcher.store import models as m
from matcher.store.connection import ENV_DB_URL, ENV_WORKSPACE, head_revision, known_revisions
from matcher.store.core import StoreCore
from matcher.store.rows import check_rows

BACKUP_FORMAT = "matcher-store-backup"
BACKUP_FORMAT_VERSION = 1


class Backups(StoreCore):
    """Part of :class:`~matcher.store.Store`: row counts, export, backup file, restore."""

    # -- backup -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self._read("count rows", snapshot=True) as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in m.TABLES}

    def is_empty(self) -> bool:
        """True when the store holds no rows at all."""
        return not any(self.counts().values())

    def export_data(self, *, accounts: bool = False) -> dict[str, Any]:
        """The whole store as JSON-ready data (a consistent snapshot); the accounts (with their
        password hashes) only when ``accounts``."""
        with self._read("export the store", snapshot=True) as conn:
            tables = {
                t.name: [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]
                for t in m.TABLES + (m.ACCOUNT_TABLES if accounts else ())
            }
            revision = MigrationContext.configure(conn).get_current_revision()
        return {
            "format": BACKUP_FORMAT,
            "format_version": BACKUP_FORMAT_VERSION,
            "schema_revision": revision,
            "exported_at": self._now(),
            "tables": tables,
        }

    def _live_file(self) -> Path | None:
        """The SQLite file the store lives in (resolved), or None (PostgreSQL, in memory)."""
        database = self.engine.url.database if self.backend == "sqlite" else None
        return Path(database).resolve() if database and database != ":memory:" else None

    def backup(self, path: str | os.PathLike, *, accounts: bool = False) -> dict[str, int]:
        """Write the whole store to a JSON file (atomically: a failed backup leaves no half file);
        the accounts only when ``accounts``.

        Returns the rows written per table.
        """
        target = Path(path)
        live = self._live_file()
        try:
            same = live is not None and target.resolve() == live
        except (OSError, RuntimeError):  # a symbolic link in a loop
            raise MatcherError(f"cannot write {target}: it is a symbolic link that points round in a loop; remove "
                               "it or choose another file") from None
        if same:
            raise MatcherError(f"{target} is the store's own database file: a backup must go to another file")
        data = self.export_data(accounts=accounts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with replacing(target, private=accounts) as tmp:  # password hashes: for the owner only
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=False)
        except OSError as err:
            raise StoreUnavailableError(
                f"Could not write the backup file {target} ({err.strerror or err})."
            ) from None
        return {name: len(rows) for name, rows in data["tables"].items()}

    def restore(self, path: str | os.PathLike, *, by: str | None = None) -> dict[str, int]:
        """Load a backup file into this store, which must be empty; all or nothing. Once the store
        holds accounts (set up before its data came back), ``by`` must name an admin."""
        source = Path(path)
        try:
            data = read_json_file(source, "backup", max_bytes=limits.MAX_DATA_JSON_BYTES)
        except JsonFileError as err:
            if err.missing:
                raise MatcherError(f"The backup file {source} does not exist.") from None
            raise ValidationError(f"The backup file {source} cannot be read as JSON: {err.reason}.") from None
        return self.import_data(data, source=str(source), by=by)

    def import_data(self, data: Mapping[str, Any], *, source: str = "the backup", by: str | None = None
                    ) -> dict[str, int]:
        """Load exported data into this empty store in one transaction; returns rows per table. Once
        the store holds accounts, ``by`` must name an admin of it.

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
        revision = data.get("schema_revision")
        if revision is not None and not isinstance(revision, str):
            raise ValidationError(f"{source} has a schema revision {str(revision)[:80]!s} that is no revision name (a "
                                  "text such as \"0004\"): the file was changed by hand. Nothing was restored.")
        if revision is not None and revision not in known_revisions():
            raise ValidationError(
                f"{source} was written by a store at schema revision {revision!r}, which this release does "
                f"not know (it knows up to {head_revision()}): it comes from a newer release. Restore it with "
                "that release. Nothing was restored."
            )
        tables = data.get("tables")
        if not isinstance(tables, Mapping):
            raise ValidationError(f'{source} has no "tables" section.')
        known = {t.name: t for t in m.TABLES + m.ACCOUNT_TABLES}
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
            check_rows(source, table, prepared[name])
        with self._write(f"restore {source}") as conn:
            held = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in m.TABLES}
            has_accounts = conn.execute(select(func.count()).select_from(m.accounts)).scalar_one() > 0
            if has_accounts:
                self._authorize(conn, by, "admin")
            if prepared.get(m.accounts.name) and has_accounts:
                raise MatcherError(
                    f"{source} carries accounts and the store ({self.location}) has accounts of its own; restore "
                    "the accounts only into a store without any. Nothing was changed."
                )
            if any(held.values()):
                summary = ", ".join(f"{n} {name}" for name, n in held.items() if n)
                raise MatcherError(
                    f"The store ({self.location}) is not empty ({summary}); a backup is restored only into "
                    f"an empty store. Point {ENV_WORKSPACE} or {ENV_DB_URL} at a new store and restore there. "
                    "Nothing was changed."
                )
            for table in m.TABLES + m.ACCOUNT_TABLES:
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
                for table in m.TABLES + m.ACCOUNT_TABLES:  # ids came from the backup: move each id sequence past them
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
        return {name: len(rows) for name, rows in prepared.items()}
