"""Shared fixtures: the bundled dataset and an engine over it, built once per test session."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

pytest_plugins = ["postgres_server"]  # a real PostgreSQL server for the session, shared by store and app tests


@pytest.fixture(scope="session")
def bundled():
    from matcher.ingest.dataset import load_dataset

    return load_dataset()


@pytest.fixture(scope="session")
def engine(bundled):
    from matcher.docking.engine import DockingEngine

    return DockingEngine(bundled)


#: Room a memory-capped test gets above what the test process already holds (address space).
MEMORY_HEADROOM = 2 << 30


def _address_space() -> int:
    """Bytes of address space the process holds now (VmSize)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


@pytest.fixture(autouse=True)
def _memory_cap(request: pytest.FixtureRequest):
    """Tests marked ``memory_capped`` (hostile inputs and bad arguments) run with the process's address
    space capped at what it holds plus :data:`MEMORY_HEADROOM`: an input that would exhaust a shared
    server fails the test with MemoryError instead of taking the machine down. Subprocesses the test
    starts inherit the cap."""
    if request.node.get_closest_marker("memory_capped") is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield cap
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
