"""Serve ``app.py`` for a benchmark or a browser test as ``make run`` does (``python -m
app_components.serve``: the caches warmed, then ``streamlit run``) on a local port with a workspace of its own, started once here for both (``bench_app_sessions.py``, ``tests/app``).

Not a benchmark itself (``python -m matcher bench`` runs only ``bench_*.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 90.0
#: The proxy's configuration for several app processes (sticky sessions by cookie).
NGINX_CONF = ROOT / "deploy" / "nginx.conf"


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
def served_app(port: int | None = None, workspace: Path | None = None, env: dict[str, str] | None = None
               ) -> Iterator[str]:
    """The app (``python -m app_components.serve``) on 127.0.0.1:``port`` (a free one by default) with ``workspace`` as
    ``MATCHER_WORKSPACE`` (a fresh temporary folder by default) and SQLite, not ``MATCHER_DB_URL``, unless ``env``
    (added to the environment) names one; yields its base URL and stops it afterwards."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="served-app-") as scratch:
        folder = Path(workspace) if workspace is not None else Path(scratch)
        extra = env or {}
        env = {**os.environ, "MATCHER_WORKSPACE": str(folder)}
        env.pop("MATCHER_DB_URL", None)
        env.update(extra)
        log_path = Path(scratch) / "streamlit.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "app_components.serve", "--server.headless", "true", "--server.port", str(port),
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
                stop(process)


def stop(process: subprocess.Popen) -> None:
    """End a served process: asked first, killed after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def proxy_conf(listen_port: int, app_ports: list[int]) -> str:
    """``deploy/nginx.conf`` with its ports: nginx on ``listen_port`` in front of the app processes
    (the cookie map, the least-busy pool and one upstream per process, written for ``app_ports``)."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    blocks = (
        (r"(?m)(?:^        127\.0\.0\.1:\d+ +matcher_\d+;\n)+",
         "".join(f"        127.0.0.1:{p}   matcher_{p};\n" for p in app_ports)),
        (r"(?m)(?:^        server 127\.0\.0\.1:\d+;\n)+", "".join(f"        server 127.0.0.1:{p};\n" for p in app_ports)),
        (r"(?m)(?:^    upstream matcher_\d+ \{ server 127\.0\.0\.1:\d+; \}\n)+",
         "".join(f"    upstream matcher_{p} {{ server 127.0.0.1:{p}; }}\n" for p in app_ports)),
        (r"listen 127\.0\.0\.1:\d+;", f"listen 127.0.0.1:{listen_port};"),
    )
    for pattern, replacement in blocks:
        text, n = re.subn(pattern, replacement, text)
        if n != 1:
            raise AppNotServed(f"{NGINX_CONF} no longer has the blocks served_app.proxy_conf rewrites ({pattern})")
    return text


@contextmanager
def served_behind_proxy(processes: int = 2, workspace: Path | None = None) -> Iterator[str]:
    """``processes`` app servers (:func:`served_app`, one workspace and store for all) behind nginx
    configured by ``deploy/nginx.conf``, as docs/deploy.md sets it up; yields the proxy's base URL."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        raise AppNotServed("nginx is not installed: `make setup` installs it (Debian package nginx-light)")
    with ExitStack() as stack:
        folder = Path(workspace) if workspace is not None else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="served-apps-")))
        bases = [stack.enter_context(served_app(workspace=folder)) for _ in range(processes)]
        prefix = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="proxy-")))
        prefix.chmod(0o777)  # nginx's workers (user nobody when started as root) write their temporary files here
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(proxy_conf(port, [int(b.rsplit(":", 1)[1]) for b in bases]), encoding="utf-8")
        process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, process, prefix / "error.log", timeout=20)
            yield base
        finally:
            stop(process)
