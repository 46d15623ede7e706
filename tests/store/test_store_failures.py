"""A store that cannot be used says why in plain words and writes nothing half."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import psycopg
import pytest
from postgres_server import conninfo as _conninfo
from sqlalchemy import event
from sqlalchemy.engine import make_url

from matcher.exceptions import StoreUnavailableError
from matcher.store import Store
from matcher.store import connection as store_module


def test_unreachable_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the workspace folder should be")
        url = f"sqlite:///{blocker / 'workspace' / 'matcher.db'}"
        expected = "cannot be created"
    else:
        admin = make_url(request.getfixturevalue("pg_admin_url"))
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        url = admin.set(port=closed_port, password="s3cret-pw").render_as_string(hide_password=False)
        expected = "cannot be reached"
    with pytest.raises(StoreUnavailableError, match=expected) as caught:
        Store(url)
    assert "s3cret-pw" not in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_read_only_store_refuses_writes_and_keeps_its_rows(shortlist, request: pytest.FixtureRequest) -> None:
    store, _, ids = shortlist
    if store.backend == "sqlite":
        read_only = Store(f"sqlite:///file:{store.engine.url.database}?mode=ro&uri=true")
    else:
        name = store.engine.url.database
        with psycopg.connect(_conninfo(store.url), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        request.addfinalizer(lambda: _writable_again(store.url, name))
        read_only = Store(store.url)
    assert read_only.item(ids[0])["version"] == 1  # reading still works
    with pytest.raises(StoreUnavailableError, match="is read-only") as caught:
        read_only.update(ids[0], {"notes": "lost?"}, expected_version=1, planner="li")
    assert "Nothing was written" in str(caught.value)
    assert store.item(ids[0])["notes"] == ""


def _writable_again(url: str, name: str) -> None:
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")  # this session first, then the database
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')


def test_full_disk_writes_nothing_half(tmp_path: Path, make_suggestions) -> None:
    # SQLite only: a full disk is simulated with max_page_count (SQLITE_FULL, the error a full disk
    # gives); PostgreSQL's out-of-space cannot be provoked without a separate file system.
    store = Store(f"sqlite:///{tmp_path / 'matcher.db'}")
    listed = store.create_shortlist("big", planner="li")
    with sqlite3.connect(tmp_path / "matcher.db") as raw:
        pages = raw.execute("PRAGMA page_count").fetchone()[0]

    def small_disk(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 3}")

    event.listen(store.engine, "connect", small_disk)
    frame = make_suggestions([(f"C{n:04d}", f"M{n:04d}") for n in range(400)])
    frame["notes"] = "x" * 500
    with pytest.raises(StoreUnavailableError, match="out of disk space"):
        store.add_items(listed["id"], frame, planner="li")
    event.remove(store.engine, "connect", small_disk)
    assert store.items().empty
    assert store.history()["table_name"].tolist() == ["shortlists"]


def test_busy_store_gives_up_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite only: PostgreSQL queues writers on row locks instead of failing.
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    store = Store(f"sqlite:///{tmp_path / 'matcher.db'}")
    holder = sqlite3.connect(tmp_path / "matcher.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailableError, match="is busy"):
            store.create_shortlist("blocked", planner="li")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.create_shortlist("free again", planner="li")["id"] == 1
