"""Backup to JSON and restore into an empty store, all or nothing; across SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from matcher.exceptions import MatcherError, ValidationError
from matcher.store import Store

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)


def _fill(store: Store) -> tuple[dict, list[int]]:
    store.record_run(
        "run-1", data_version="data-v1", kind="east_west", weights={"chain": 0.6, "policy": 0.4}, planner="li"
    )
    listed = store.create_shortlist("西部对接会 2025", planner="li", run_id="run-1")
    frame = {
        "left_id": ["C001", "00123"],
        "right_id": ["M001", "M002"],
        "kind": ["east_west"] * 2,
        "score": [0.91, None],
    }
    ids = store.add_items(listed["id"], pd.DataFrame(frame), planner="li")
    store.update(
        ids[0], {"notes": "阿克苏棉纱 → 柯桥织造", "locked": True}, expected_version=1, planner="wang"
    )
    store.decide("00123", "M002", "east_west", "reject", reason="other", note="已有合作", planner="zhao")
    store.schedule_meeting(
        "C001", "M001", "east_west", slot="2025-05-20T09:00", table="T1", planner="li", item_id=ids[0]
    )
    store.record_outcome("C001", "M001", "east_west", stage="meeting", value="met", rating=5, planner="li")
    return listed, ids


def _tables(store: Store) -> dict:
    return store.export_data()["tables"]


def test_backup_restores_identically_into_an_empty_store(store: Store, new_db_url, tmp_path: Path) -> None:
    _fill(store)
    counts = store.backup(tmp_path / "out" / "backup.json")
    assert counts["shortlist_items"] == 2 and counts["audit_log"] > 5
    text = (tmp_path / "out" / "backup.json").read_text(encoding="utf-8")
    assert "阿克苏棉纱" in text  # Chinese kept readable, not \u-escaped
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["backup.json"]  # no temp file left

    moved = Store(new_db_url())
    assert moved.restore(tmp_path / "out" / "backup.json") == counts
    assert _tables(moved) == _tables(store)
    # The restored store goes on working: new ids follow the restored ones, versions are kept.
    item = moved.items().iloc[0]
    assert moved.update(int(item["id"]), {"notes": "next"}, expected_version=2, planner="li")["version"] == 3
    assert moved.create_shortlist("next", planner="li")["id"] == 2


def test_a_name_the_store_takes_is_one_its_backup_brings_back(store: Store, new_db_url, tmp_path: Path) -> None:
    """A planner named with a control character was recorded (no accounts: any name goes), backed up, and
    then the whole backup was refused on restore. The store checks a planner's name as a restore does."""
    for bad in ("Wang\x7f", "Wang\x1b[2J", "li\x00"):
        with pytest.raises(ValidationError, match="control character|NUL"):
            store.record_outcome("C001", "M001", "cluster_market", stage="meeting", value="met", planner=bad)
        with pytest.raises(ValidationError):
            store.create_shortlist("清单", planner=bad)
    assert store.outcomes().empty
    store.record_outcome("C001", "M001", "cluster_market", stage="meeting", value="met", planner="王 Wang")
    store.backup(tmp_path / "b.json")
    assert Store(new_db_url()).restore(tmp_path / "b.json")["outcomes"] == 1


@pytest.mark.postgres
def test_backup_moves_between_sqlite_and_postgresql(tmp_path: Path, make_pg_database) -> None:
    # Not parametrized: it uses both databases, as when a planner's file moves to the shared server.
    laptop = Store(f"sqlite:///{tmp_path / 'laptop' / 'matcher.db'}")
    _fill(laptop)
    laptop.backup(tmp_path / "move.json")
    server = Store(make_pg_database())
    server.restore(tmp_path / "move.json")
    assert _tables(server) == _tables(laptop)
    server.backup(tmp_path / "back.json")
    again = Store(f"sqlite:///{tmp_path / 'again' / 'matcher.db'}")
    again.restore(tmp_path / "back.json")
    assert _tables(again) == _tables(laptop)


def test_restore_refuses_a_store_that_is_not_empty(store: Store, new_db_url, tmp_path: Path) -> None:
    _fill(store)
    store.backup(tmp_path / "backup.json")
    before = _tables(store)
    with pytest.raises(MatcherError, match=r"not empty \(1 runs, 1 shortlists, 2 shortlist_items"):
        store.restore(tmp_path / "backup.json")
    assert _tables(store) == before


def test_restore_is_all_or_nothing(store: Store, new_db_url, tmp_path: Path) -> None:
    _fill(store)
    data = store.export_data()
    # The last table holds a row that only the database can see is wrong: an id used twice.
    data["tables"]["audit_log"][-1]["id"] = data["tables"]["audit_log"][0]["id"]
    target = Store(new_db_url())
    with pytest.raises(ValidationError, match="table audit_log has rows that break"):
        target.import_data(data)
    assert target.is_empty()


def test_restore_checks_every_value_the_same_on_both_databases(store: Store, new_db_url) -> None:
    """What PostgreSQL would refuse and SQLite would keep (a NUL, an over-long id) is refused on both,
    and so are values outside the store's vocabularies, a pair with itself and a newer schema."""
    _fill(store)
    good = store.export_data()
    cases = {
        ("outcomes", "stage"): ("holding", "'holding' is not one of meeting, followup"),
        ("outcomes", "rating"): (9, "rating: 9 is not from 1 to 5"),
        ("outcomes", "left_id"): ("C" * 65, "left_id: is 65 characters long, more than 64"),
        ("shortlist_items", "notes"): ("a\x00b", "notes: holds a NUL character"),
        ("shortlist_items", "status"): ("maybe", "status: 'maybe' is not one of"),
        ("shortlist_items", "locked"): ("yes", "locked: 'yes' is not true or false"),
        ("decisions", "decided_at"): ("yesterday", "'yesterday' is not a date and time"),
        ("meetings", "right_id"): (None, "right_id: is empty"),
        ("runs", "planner"): ("Li\u0007", "planner: holds a control character"),
    }
    for (table, column), (value, message) in cases.items():
        data = json.loads(json.dumps(good))
        rows = data["tables"][table]
        assert rows, f"the filled store has no {table}"
        rows[0][column] = value
        target = Store(new_db_url())
        with pytest.raises(ValidationError, match=re.escape(message)):
            target.import_data(data)
        assert target.is_empty()
    data = json.loads(json.dumps(good))
    data["tables"]["outcomes"][0]["right_id"] = data["tables"]["outcomes"][0]["left_id"]
    with pytest.raises(ValidationError, match="with itself"):
        Store(new_db_url()).import_data(data)
    data = json.loads(json.dumps(good))
    data["schema_revision"] = "9999"
    with pytest.raises(ValidationError, match="schema revision '9999', which this release does not know"):
        Store(new_db_url()).import_data(data)
    # and the untouched backup restores
    assert Store(new_db_url()).import_data(good) == {name: len(rows) for name, rows in good["tables"].items()}


def test_restore_names_what_is_wrong_with_a_file(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="bad.json cannot be read as JSON"):
        store.restore(bad)
    with pytest.raises(MatcherError, match="does not exist"):
        store.restore(tmp_path / "missing.json")
    bad.write_text(json.dumps({"tables": {}}), encoding="utf-8")
    with pytest.raises(ValidationError, match="not a matcher store backup"):
        store.restore(bad)
    data = store.export_data()
    data["tables"]["runs"] = [{"run_id": "r", "colour": "red"}]
    with pytest.raises(ValidationError, match="table runs, row 1 has unknown column\\(s\\) colour"):
        store.import_data(data)
    assert store.is_empty()


def test_backup_from_an_older_release_restores(store: Store, new_db_url) -> None:
    _, ids = _fill(store)
    data = store.export_data()
    for row in data["tables"]["shortlist_items"]:  # revision 0001 had no missing-entity columns
        del row["missing_ids"], row["missing_since"]
    data["schema_revision"] = "0001"
    target = Store(new_db_url())
    target.import_data(data)
    assert target.item(ids[0])["notes"] == "阿克苏棉纱 → 柯桥织造"
    assert target.item(ids[0])["missing_ids"] is None
