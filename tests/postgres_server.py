"""A real PostgreSQL server for the test session (a pytest plugin, registered in ``tests/conftest.py``).

The server named by ``MATCHER_TEST_PG_URL`` when it answers (its role needs CREATEDB); otherwise the
set-up starts its own: it installs PostgreSQL with apt-get when ``pg_ctl`` is not found, runs
``initdb`` into a temporary folder as the ``postgres`` OS user (root may not run the server), starts
it with ``pg_ctl`` on a free localhost port and stops it when the session ends. Its data folder lives
in /dev/shm when there is room (thrown away anyway, and much faster there). There are no skips: a
server that cannot be had fails the PostgreSQL tests with the reason. The store tests and the app's
browser tests share the one server.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

PG_URL_ENV = "MATCHER_TEST_PG_URL"
#: Admin URLs of servers this session started (their databases need no dropping).
_OWN_SERVERS: set[str] = set()

# ----------------------------------------------------------------------------------------------
# A PostgreSQL server for the session
# ----------------------------------------------------------------------------------------------
def conninfo(url: str) -> str:
    """An SQLAlchemy URL as a libpq connection string for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(conninfo(url), connect_timeout=3):
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


def create_pg_database(admin_url: str, template: str | None = None) -> tuple[str, Callable[[], None]]:
    name = f"matcher_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def drop() -> None:
        if admin_url in _OWN_SERVERS:  # the whole throwaway cluster is removed at the end anyway
            return
        with psycopg.connect(conninfo(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop
