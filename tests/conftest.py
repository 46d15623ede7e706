"""Shared fixtures: the bundled dataset and an engine over it, built once per test session."""

from __future__ import annotations

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
