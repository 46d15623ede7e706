"""Serve ``app.py`` for a benchmark or a browser test: ``streamlit run`` on a local port with a
workspace of its own, started once here for both (``bench_app_sessions.py``, ``tests/app``).

Not a benchmark itself (``python -m matcher bench`` runs only ``bench_*.py``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 90.0


class AppNotServed(RuntimeError):
    """The app did not answer its health check in time (the message ends with its log)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, process: subprocess.Popen[bytes] | None = None, log: Path | None = None,
                 timeout: float = START_TIMEOUT_S) -> None:
    """Wait until ``base`` answers ``/_stcore/health``; raise :class:`AppNotServed` when the process
    ends or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
            raise AppNotServed(f"streamlit at {base} is not healthy: {tail}")
        time.sleep(0.3)


@contextmanager
def served_app(port: int | None = None, workspace: Path | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on 127.0.0.1:``port`` (a free one by default) with ``workspace`` as
    ``MATCHER_WORKSPACE`` (a fresh temporary folder by default) and SQLite, not ``MATCHER_DB_URL``;
    yields its base URL and stops it afterwards."""
    streamlit = Path(sys.executable).parent / "streamlit"
    command = [str(streamlit)] if streamlit.exists() else [sys.executable, "-m", "streamlit"]
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="served-app-") as scratch:
        folder = Path(workspace) if workspace is not None else Path(scratch)
        env = {**os.environ, "MATCHER_WORKSPACE": str(folder)}
        env.pop("MATCHER_DB_URL", None)
        log_path = Path(scratch) / "streamlit.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [*command, "run", "app.py", "--server.headless", "true", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_healthy(base, process, log_path)
                yield base
            except BaseException:
                log.flush()
                print("streamlit's log (tail):\n" + log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
