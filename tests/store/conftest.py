"""Fixtures of the store tests: every store test runs on a real SQLite file and a real PostgreSQL.

PostgreSQL: the server named by ``MATCHER_TEST_PG_URL`` when it answers (its role needs CREATEDB);
otherwise the set-up starts its own: it installs PostgreSQL with apt-get when ``pg_ctl`` is not
found, runs ``initdb`` into a temporary folder as the ``postgres`` OS user (root may not run the
server), starts it with ``pg_ctl`` on a free localhost port and stops it when the session ends.
Its data folder lives in /dev/shm when there is room (thrown away anyway, and much faster there).
Each test gets an empty store of its own: a shared database emptied with TRUNCATE, or a new database
(CREATE DATABASE) when the test needs an empty schema or a second store. There are no skips: a server
that cannot be had fails the PostgreSQL tests with the reason.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import make_url

from matcher.store import Store
from matcher.store.models import ACCOUNT_TABLES, TABLES

PG_URL_ENV = "MATCHER_TEST_PG_URL"
#: Admin URLs of servers this session started (their databases need no dropping).
_OWN_SERVERS: set[str] = set()
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


# ----------------------------------------------------------------------------------------------
# A PostgreSQL server for the session
# ----------------------------------------------------------------------------------------------
def _conninfo(url: str) -> str:
    """An SQLAlchemy URL as a libpq connection string for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(_conninfo(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _pg_bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent  # initdb sits next to the real pg_ctl
    # Debian keeps the binaries off PATH, one folder per major version: take the newest.
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    candidates.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _install_postgresql() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql/*/bin) and the tests "
            "are not running as root, so they cannot apt-get it. Install the postgresql package or set "
            f"{PG_URL_ENV} to a server whose role may create databases.",
            pytrace=False,
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"Installing PostgreSQL failed at `{' '.join(cmd)}` (exit {done.returncode}):\n"
                + (done.stderr or done.stdout)[-2000:],
                pytrace=False,
            )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scratch_dir() -> str | None:
    """A memory-backed folder when there is room (the cluster is thrown away: no need for a disk,
    and creating and removing its databases is much faster there); else the usual temp folder."""
    shm = Path("/dev/shm")
    try:
        stats = os.statvfs(shm)
    except OSError:
        return None
    room = stats.f_bavail * stats.f_frsize
    return str(shm) if os.access(shm, os.W_OK) and room > 1 << 30 else None


class _LocalServer:
    """A throwaway PostgreSQL cluster in a temporary folder, run as the ``postgres`` OS user."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="matcher-pg-", dir=_scratch_dir()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            import pwd

            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail(
                    "The tests run as root, which may not run PostgreSQL, and there is no `postgres` OS "
                    "user to run it as (the postgresql package creates one).",
                    pytrace=False,
                )
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.port = 0

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"  # /usr/sbin may be off PATH
        prefix = [runuser, "-u", "postgres", "--"] if self.as_root else []
        return subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=timeout, cwd=self.root
        )

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no server log)"

    def start(self) -> str:
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "-N",
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"initdb failed (exit {done.returncode}):\n{done.stderr[-2000:]}", pytrace=False)
        errors = []
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = _free_port()
            # fsync off: a test server need not survive a power cut, and it makes CREATE DATABASE fast.
            options = (
                f"-p {self.port} -h 127.0.0.1 -k {self.root} -F "
                "-c full_page_writes=off -c synchronous_commit=off -c max_connections=60"
            )
            done = self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                "-w", "-t", "60", "start",
            )  # fmt: skip
            if done.returncode == 0:
                return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
            errors.append(done.stderr.strip() or done.stdout.strip())
        pytest.fail(
            "PostgreSQL could not be started with pg_ctl:\n" + "\n".join(errors) + "\n" + self._log_tail(),
            pytrace=False,
        )

    def stop(self) -> None:
        if self.data.exists():
            self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a PostgreSQL database whose role may create databases."""
    given = os.environ.get(PG_URL_ENV, "").strip()
    if given and _answers(given):
        yield given
        return
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        _install_postgresql()
        bin_dir = _pg_bin_dir()
        if bin_dir is None:
            pytest.fail("apt-get installed postgresql but no pg_ctl was found afterwards.", pytrace=False)
    server = _LocalServer(bin_dir)
    try:
        url = server.start()
        _OWN_SERVERS.add(url)
        if not _answers(url):
            pytest.fail(
                f"PostgreSQL started but does not answer at {url}:\n{server._log_tail()}", pytrace=False
            )
        yield url
    finally:
        server.stop()


def _create_pg_database(admin_url: str, template: str | None = None) -> tuple[str, Callable[[], None]]:
    name = f"matcher_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def drop() -> None:
        if admin_url in _OWN_SERVERS:  # the whole throwaway cluster is removed at the end anyway
            return
        with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def pg_migrated_template(pg_admin_url: str) -> Iterator[str]:
    """Name of a database at the newest schema, copied when a test wants a second ready store."""
    url, drop = _create_pg_database(pg_admin_url)
    Store(url).engine.dispose()  # migrates; no connection stays open (a template must be idle)
    yield make_url(url).database
    drop()


@pytest.fixture(scope="session")
def pg_reused_store_url(pg_admin_url: str) -> Iterator[str]:
    """A database at the newest schema that tests share, emptied before each (CREATE DATABASE is slow)."""
    url, drop = _create_pg_database(pg_admin_url)
    Store(url).engine.dispose()
    yield url
    drop()


def _emptied(url: str) -> str:
    tables = ", ".join(t.name for t in TABLES + ACCOUNT_TABLES)
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
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
        url, drop = _create_pg_database(request.getfixturevalue("pg_admin_url"), template)
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
