"""Fixtures of the store tests: every store test runs on a real SQLite file and a real PostgreSQL.

PostgreSQL: the session's server (``tests/postgres_server.py``). Each test gets an empty store of its
own: a shared database emptied with TRUNCATE, or a new database (CREATE DATABASE) when the test needs
an empty schema or a second store.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from postgres_server import conninfo, create_pg_database
from sqlalchemy.engine import make_url

from matcher.store import Store
from matcher.store.models import ACCOUNT_TABLES, TABLES

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_migrated_template(pg_admin_url: str) -> Iterator[str]:
    """Name of a database at the newest schema, copied when a test wants a second ready store."""
    url, drop = create_pg_database(pg_admin_url)
    Store(url).engine.dispose()  # migrates; no connection stays open (a template must be idle)
    yield make_url(url).database
    drop()


@pytest.fixture(scope="session")
def pg_reused_store_url(pg_admin_url: str) -> Iterator[str]:
    """A database at the newest schema that tests share, emptied before each (CREATE DATABASE is slow)."""
    url, drop = create_pg_database(pg_admin_url)
    Store(url).engine.dispose()
    yield url
    drop()


def _emptied(url: str) -> str:
    tables = ", ".join(t.name for t in TABLES + ACCOUNT_TABLES)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return url


# ----------------------------------------------------------------------------------------------
# Per-test databases and stores
# ----------------------------------------------------------------------------------------------
@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``: every test using it runs once on each."""
    return request.param


@pytest.fixture
def new_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Make a fresh database of the test's backend and return its URL.

    ``new_db_url()`` is empty; ``new_db_url(migrated=True)`` is already at the newest schema
    (on PostgreSQL a copy of a template, which saves a migration per test).
    """
    reused: list[bool] = []
    counter = itertools.count(1)
    with _pg_databases(request) as create_pg:

        def make(migrated: bool = False) -> str:
            if backend == "sqlite":
                return f"sqlite:///{tmp_path / f'workspace{next(counter)}' / 'matcher.db'}"
            if migrated and not reused:
                reused.append(True)  # the first ready store of a test: the shared one, emptied
                return _emptied(request.getfixturevalue("pg_reused_store_url"))
            return create_pg(request.getfixturevalue("pg_migrated_template") if migrated else None)

        yield make


@pytest.fixture
def make_pg_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Make an empty PostgreSQL database whatever the test's backend (for tests that use both)."""
    with _pg_databases(request) as create_pg:
        yield create_pg


@contextlib.contextmanager
def _pg_databases(request: pytest.FixtureRequest) -> Iterator[Callable[..., str]]:
    """``create(template=None)`` makes a PostgreSQL database and returns its URL; every database
    made is dropped when the block ends."""
    drops: list[Callable[[], None]] = []

    def create(template: str | None = None) -> str:
        url, drop = create_pg_database(request.getfixturevalue("pg_admin_url"), template)
        drops.append(drop)
        return url

    try:
        yield create
    finally:
        for drop in drops:
            drop()


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """A fresh, empty database of the test's backend."""
    return new_db_url()


@pytest.fixture
def store(new_db_url: Callable[..., str]) -> Store:
    """A new, empty store at the newest schema."""
    return Store(new_db_url(migrated=True))


def suggestions_frame(pairs: list[tuple[str, str]], kind: str = "market_channel") -> pd.DataFrame:
    """A minimal suggestions frame as the engine hands it over (only the columns the store reads)."""
    return pd.DataFrame(
        {
            "kind": [kind] * len(pairs),
            "rank": list(range(1, len(pairs) + 1)),
            "left_id": pd.array([p[0] for p in pairs], dtype="string"),
            "right_id": pd.array([p[1] for p in pairs], dtype="string"),
            "score": [round(1.0 - i / 100, 4) for i in range(len(pairs))],
        }
    )


@pytest.fixture
def make_suggestions() -> Callable[..., pd.DataFrame]:
    """The :func:`suggestions_frame` builder, for tests (conftest is not imported by name)."""
    return suggestions_frame


@pytest.fixture
def shortlist(store: Store) -> tuple[Store, dict, list[int]]:
    """A store with one run, one shortlist and three items (C001-M001, C002-M002, C003-M003)."""
    store.record_run(
        "run-1", data_version="data-v1", kind="market_channel", weights={"chain": 0.6}, planner="li"
    )
    listed = store.create_shortlist("Keqiao docking day", planner="li", run_id="run-1")
    ids = store.add_items(
        listed["id"], suggestions_frame([("C001", "M001"), ("C002", "M002"), ("C003", "M003")]), planner="li"
    )
    return store, listed, ids
