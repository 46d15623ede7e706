"""Faults under the store: a database server that is down, a read-only or a full workspace.

Each fault gives a clear message and exit 2 from the command line (never a traceback, never a
hang or a retry loop), changes nothing that was stored before (a backup taken before the fault
equals one taken after), and the same command succeeds once the fault is gone.

- PostgreSQL: a server of this test's own (the store tests' ``_LocalServer`` machinery, so the
  session's shared server is never stopped) is stopped and started again on the same port.
- Read-only and full workspace: as root, a tiny tmpfs is mounted as the workspace folder and
  remounted read-only, or filled to the last byte. Where mounting is not allowed (not root, or a
  sandbox without CAP_SYS_ADMIN) the same checks run on the fallbacks the issue names: folder
  permissions for read-only, SQLite ``max_page_count`` for a full disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from matcher.cli import main
from matcher.exceptions import StoreUnavailableError
from matcher.store import Store

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
#: A command facing a fault must answer within this many seconds (the PostgreSQL connect timeout is 10).
PROMPT_S = 15.0


def outcome(left: str, note: str = "") -> list[str]:
    return ["store", "outcome", "--left", left, "--right", "M001", "--kind", "cluster_market",
            "--stage", "meeting", "--value", "met", "--planner", "li", "--note", note]  # fmt: skip


def run(capsys, argv: list[str]) -> tuple[int, str, float]:
    started = time.perf_counter()
    code = main(argv)
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    return code, captured.out + captured.err, elapsed


def assert_refused(result: tuple[int, str, float], *words: str) -> None:
    code, text, elapsed = result
    assert code == 2, text
    assert "Traceback" not in text
    assert "Nothing was written" in text or "Nothing was changed" in text, text
    for word in words:
        assert word in text, text
    assert elapsed < PROMPT_S


def backup(capsys, path: Path) -> dict:
    code, text, _ = run(capsys, ["store", "backup", "--out", str(path)])
    assert code == 0, text
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("exported_at")  # when the backup was taken is not part of the store
    return data


# ----------------------------------------------------------------------------------------------
# PostgreSQL down
# ----------------------------------------------------------------------------------------------
def test_unreachable_postgresql_from_a_fresh_process(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = {**os.environ, "MATCHER_DB_URL": f"postgresql+psycopg://planner:s3cret@127.0.0.1:{closed}/x"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "matcher", "store", "init"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    elapsed = time.perf_counter() - started
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "cannot be reached (is the database server running" in done.stderr
    assert f"127.0.0.1:{closed}" in done.stderr and "s3cret" not in done.stderr
    assert elapsed < PROMPT_S + 5  # plus the interpreter's start-up


@pytest.fixture
def own_postgresql() -> Iterator[tuple[str, object]]:
    """A PostgreSQL server for this test alone, so it can be stopped and started at will."""
    import postgres_server as fixtures  # the session's PostgreSQL plugin (tests/postgres_server.py)

    bin_dir = fixtures._pg_bin_dir()
    if bin_dir is None:
        fixtures._install_postgresql()
        bin_dir = fixtures._pg_bin_dir()
    assert bin_dir is not None, "PostgreSQL is needed (make system installs it)"
    server = fixtures._LocalServer(bin_dir)
    try:
        yield server.start(), server
    finally:
        server.stop()


def _pg_ctl(server, action: str) -> None:
    options = f"-p {server.port} -h 127.0.0.1 -k {server.root} -F -c max_connections=20"
    args = [str(server.bin_dir / "pg_ctl"), "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60"]
    if action == "start":
        args += ["-o", options, "start"]
    else:
        args += ["-m", "fast", "stop"]
    done = server._run(*args)
    assert done.returncode == 0, done.stderr


@pytest.mark.postgres
def test_postgresql_stopped_then_back(own_postgresql, tmp_path: Path, monkeypatch, capsys) -> None:
    url, server = own_postgresql
    monkeypatch.setenv("MATCHER_DB_URL", url)
    assert run(capsys, ["store", "init"])[0] == 0
    assert run(capsys, outcome("C001", "before the outage"))[0] == 0
    before = backup(capsys, tmp_path / "before.json")

    _pg_ctl(server, "stop")
    for argv in (["store", "init"], outcome("C002"), ["store", "history", "--for", "C001"]):
        # Each attempt answers at once with the same plain message: no hang, no retry loop.
        assert_refused(run(capsys, argv), "cannot be reached", f"127.0.0.1:{server.port}")
    code, text, _ = run(capsys, ["store", "backup", "--out", str(tmp_path / "during.json")])
    assert code == 2 and "cannot be reached" in text and not (tmp_path / "during.json").exists()

    _pg_ctl(server, "start")
    code, text, _ = run(capsys, ["store", "init"])  # the retry succeeds
    assert code == 0 and "store ready" in text
    assert backup(capsys, tmp_path / "after.json") == before
    assert run(capsys, outcome("C002", "after the outage"))[0] == 0


# ----------------------------------------------------------------------------------------------
# Read-only and full workspace
# ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def tiny_filesystem(folder: Path, size: str) -> Iterator[bool]:
    """Mount a tmpfs of ``size`` at ``folder``; yields False (and mounts nothing) when not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    mounted = False
    if os.geteuid() == 0 and mount:
        done = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(folder)],
                              capture_output=True, text=True)  # fmt: skip
        mounted = done.returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run([shutil.which("umount") or "umount", "-l", str(folder)], capture_output=True)


def _remount(folder: Path, mode: str) -> None:
    done = subprocess.run([shutil.which("mount") or "mount", "-o", f"remount,{mode}", str(folder)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr


@contextlib.contextmanager
def workspace_with_one_outcome(tmp_path: Path, monkeypatch, capsys, size: str) -> Iterator[tuple[Path, bool, dict]]:
    """The store's workspace on a tmpfs of ``size`` (when mounting is allowed) holding one outcome:
    yields the folder, whether it is mounted, and a backup taken before the fault."""
    workspace = tmp_path / "workspace"
    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    monkeypatch.setenv("MATCHER_WORKSPACE", str(workspace))
    with tiny_filesystem(workspace, size) as mounted:
        assert run(capsys, outcome("C001", "kept"))[0] == 0
        yield workspace, mounted, backup(capsys, tmp_path / "before.json")


def test_read_only_workspace(tmp_path: Path, monkeypatch, capsys) -> None:
    with workspace_with_one_outcome(tmp_path, monkeypatch, capsys, "4m") as (workspace, mounted, before):
        if mounted:
            _remount(workspace, "ro")  # a read-only file system: even root cannot write
        elif os.geteuid() != 0:
            for path in (workspace, *workspace.iterdir()):
                path.chmod(0o555 if path.is_dir() else 0o444)
        else:
            pytest.fail("running as root without permission to mount: no way to make a folder read-only")
        try:
            for argv in (outcome("C002", "lost?"), ["store", "init"]):
                result = run(capsys, argv)
                assert_refused(result, "Could not", str(workspace / "matcher.db"))
                # The message says what to do: a folder that can be written.
                assert "can be written" in result[1] or "read-only" in result[1], result[1]
        finally:
            if mounted:
                _remount(workspace, "rw")
            else:
                for path in (workspace, *workspace.iterdir()):
                    path.chmod(0o755 if path.is_dir() else 0o644)
        assert backup(capsys, tmp_path / "after.json") == before
        assert run(capsys, outcome("C002", "writable again"))[0] == 0


def test_full_workspace(tmp_path: Path, monkeypatch, capsys) -> None:
    with workspace_with_one_outcome(tmp_path, monkeypatch, capsys, "2m") as (workspace, mounted, before):
        big_note = "满" * 400_000  # 1.2 MB: more than the room left
        if mounted:
            filler = workspace / "filler"
            with open(filler, "wb") as handle, contextlib.suppress(OSError):
                while True:  # fill the file system to the last block
                    handle.write(b"\0" * 65_536)
                    handle.flush()
            result = run(capsys, outcome("C002", big_note))
            filler.unlink()
            assert_refused(result, "out of disk space")
        else:
            # The fallback: SQLite's max_page_count gives the error a full disk gives.
            store = Store()
            with sqlite3.connect(workspace / "matcher.db") as raw:
                pages = raw.execute("PRAGMA page_count").fetchone()[0]

            def small_disk(dbapi_connection, _record) -> None:
                dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 2}")

            event.listen(store.engine, "connect", small_disk)
            with pytest.raises(StoreUnavailableError, match="out of disk space"):
                store.record_outcome("C002", "M001", "cluster_market", stage="meeting", value="met",
                                     note=big_note, planner="li")  # fmt: skip
            event.remove(store.engine, "connect", small_disk)
        assert backup(capsys, tmp_path / "after.json") == before
        assert run(capsys, outcome("C002", "room again"))[0] == 0


def test_unwritable_backup_target_leaves_no_half_file(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "workspace"))
    assert run(capsys, outcome("C001"))[0] == 0
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    code, text, _ = run(capsys, ["store", "backup", "--out", str(blocker / "backup.json")])
    assert code == 2 and "Traceback" not in text and "is a file, not a folder" in text  # said before writing
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".json") or "backup" in p.name] == []
    code, text, _ = run(capsys, ["store", "history", "--for", "C001"])  # the store is untouched
    assert code == 0 and "met" in text
