"""Schema migrations: an older store opens with the current code, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from matcher.exceptions import StoreUnavailableError
from matcher.store import Store, head_revision
from matcher.store import models as m

CTX = multiprocessing.get_context("fork")
T0 = "2025-01-01T00:00:00.000000+00:00"


def _store_at_revision_1(url: str) -> None:
    """A store as release 1 left it, with a shortlist, an item and a rejection in it."""
    old = Store(url, migrate=False)
    old.upgrade("0001")
    assert old.revision() == "0001"
    with old.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shortlists (name, planner, created_at, updated_at) VALUES ('spring', 'li', :t, :t)"
            ),
            {"t": T0},
        )
        conn.execute(
            text(
                "INSERT INTO shortlist_items (shortlist_id, left_id, right_id, kind, score, status, notes, "
                "planner, locked, created_at, updated_at) VALUES "
                "(1, 'C001', 'M001', 'market_channel', 0.9, 'rejected', 'old note', 'li', :f, :t, :t)"
            ),
            {"t": T0, "f": False},
        )
        conn.execute(
            text(
                "INSERT INTO decisions (left_id, right_id, kind, decision, reason, planner, decided_at) VALUES "
                "('C001', 'M001', 'market_channel', 'reject', 'competitor', 'li', :t)"
            ),
            {"t": T0},
        )


def test_store_created_at_revision_1_opens_with_current_code(db_url: str, make_suggestions) -> None:
    _store_at_revision_1(db_url)
    store = Store(db_url)  # upgrades on open
    assert store.revision() == head_revision() != "0001"
    item = store.item(1)
    assert (item["notes"], item["status"], item["version"], item["missing_ids"]) == (
        "old note",
        "rejected",
        1,
        None,
    )
    assert store.annotate(make_suggestions([("C001", "M001")]))["status"].tolist() == ["rejected"]
    assert store.flag_missing(["M001"], data_version="v2") == 1  # the new columns work
    assert store.item(1)["missing_ids"] == "C001"
    # New rows get fresh ids after the old ones.
    assert store.add_items(1, make_suggestions([("C002", "M002")]), planner="li") == [2]


def _opener(url: str, results) -> None:
    try:
        results.put(Store(url).revision())
    except BaseException as err:  # report, never hang the parent
        results.put(f"error: {err!r}")


def test_two_planners_opening_an_old_store_at_once_upgrade_it_once(db_url: str) -> None:
    _store_at_revision_1(db_url)
    results = CTX.Queue()
    openers = [CTX.Process(target=_opener, args=(db_url, results)) for _ in range(2)]
    for opener in openers:
        opener.start()
    got = [results.get(timeout=120) for _ in openers]
    for opener in openers:
        opener.join(timeout=60)
    assert got == [head_revision()] * 2
    assert Store(db_url).item(1)["notes"] == "old note"


def test_migrations_build_exactly_the_models_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), m.metadata)
    assert diff == []


@pytest.mark.memory_capped
def test_store_from_a_newer_release_is_refused(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreUnavailableError, match="newer release .*9999"):
        Store(store.url)


def test_empty_database_gets_the_whole_schema(db_url: str) -> None:
    store = Store(db_url)
    assert store.revision() == head_revision()
    assert store.is_empty()
    assert isinstance(store.items(), pd.DataFrame) and store.items().empty


def _store_at_revision_2(url: str) -> None:
    """A store as release 2 left it (revision 0002): a run without a preset, an item without a run."""
    old = Store(url, migrate=False)
    old.upgrade("0002")
    assert old.revision() == "0002"
    with old.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO runs (run_id, data_version, kind, weights_json, created_at, planner) VALUES "
                "('run-old', 'data-v1', 'east_west', '{\"chain\": 0.2}', :t, 'li')"
            ),
            {"t": T0},
        )
        conn.execute(
            text(
                "INSERT INTO shortlists (name, run_id, planner, created_at, updated_at) "
                "VALUES ('spring', 'run-old', 'li', :t, :t)"
            ),
            {"t": T0},
        )
        conn.execute(
            text(
                "INSERT INTO shortlist_items (shortlist_id, left_id, right_id, kind, score, status, notes, "
                "planner, locked, created_at, updated_at) VALUES "
                "(1, 'C001', 'M001', 'east_west', 0.9, 'proposed', 'old note', 'li', :f, :t, :t)"
            ),
            {"t": T0, "f": False},
        )


def test_store_at_revision_2_upgrades_with_preset_and_run_unknown(db_url: str, make_suggestions) -> None:
    _store_at_revision_2(db_url)
    store = Store(db_url)  # upgrades on open
    assert store.revision() == head_revision()
    old_run = store.runs().iloc[0]
    assert old_run["run_id"] == "run-old" and pd.isna(old_run["preset"])  # unknown, not guessed
    assert old_run["weights"] == {"chain": 0.2}
    item = store.item(1)
    assert (item["notes"], item["run_id"], item["version"]) == ("old note", None, 1)  # run left unknown
    # The new columns work on the upgraded store.
    store.record_run(
        "run-new", data_version="data-v2", kind="east_west", weights={}, planner="li", preset="balanced"
    )
    assert store.add_items(1, make_suggestions([("C002", "M002")]), planner="li", run_id="run-new") == [2]
    assert store.items()["run_id"].tolist()[1] == "run-new"
    assert store.runs().set_index("run_id").loc["run-new", "preset"] == "balanced"
