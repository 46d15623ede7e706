"""Provenance: a run keeps the preset the planner chose, a shortlist item the run that proposed it."""

from __future__ import annotations

import pandas as pd
import pytest

from matcher.cli import main
from matcher.exceptions import MatcherError, ValidationError
from matcher.store import Store


def _run(store: Store, run_id: str, preset: str | None = None) -> dict:
    return store.record_run(
        run_id, data_version="data-v1", kind="east_west", weights={"chain": 0.6}, planner="li", preset=preset
    )


def test_a_run_keeps_the_preset_it_was_recorded_with(store: Store) -> None:
    assert _run(store, "run-1", "balanced")["preset"] == "balanced"
    _run(store, "run-2", " custom ")
    _run(store, "run-3")  # a caller that does not say: unknown, never worked out from the weights
    _run(store, "run-4", "")
    runs = store.runs().set_index("run_id")
    assert runs["preset"].dtype == "string"
    assert runs.loc["run-1", "preset"] == "balanced" and runs.loc["run-2", "preset"] == "custom"
    assert runs["preset"].isna().tolist() == [False, False, True, True]
    assert store.history("run-1")["after"].iloc[0]["preset"] == "balanced"
    with pytest.raises(ValidationError, match="longer than 64"):
        _run(store, "run-5", "x" * 65)


def test_items_keep_the_run_that_proposed_them(store: Store, make_suggestions) -> None:
    _run(store, "run-1", "balanced")
    _run(store, "run-2", "chain_first")
    sid = store.create_shortlist("spring", planner="li")["id"]
    first = store.add_items(
        sid, make_suggestions([("C001", "M001"), ("C002", "M002")]), planner="li", run_id="run-1"
    )
    # the engine's suggestions carry their run id in a column; a row without one takes the argument
    frame = make_suggestions([("C003", "M003"), ("C004", "M004")]).assign(
        run_id=pd.array(["run-2", pd.NA], dtype="string")
    )
    second = store.add_items(sid, frame, planner="li", run_id="run-2")
    unknown = store.add_items(sid, make_suggestions([("C005", "M005")]), planner="li")
    assert store.item(first[0])["run_id"] == "run-1"
    items = store.items(sid).set_index("id")
    assert items.loc[first + second, "run_id"].tolist() == ["run-1", "run-1", "run-2", "run-2"]
    assert pd.isna(items.loc[unknown[0], "run_id"])  # not said: unknown, not guessed
    # the preset of each item, read through its run
    presets = items.merge(store.runs()[["run_id", "preset"]], on="run_id", how="left")["preset"]
    assert presets.tolist()[:4] == ["balanced", "balanced", "chain_first", "chain_first"]


def test_items_of_a_run_that_is_not_stored_are_refused_whole(store: Store, make_suggestions) -> None:
    _run(store, "run-1")
    sid = store.create_shortlist("spring", planner="li")["id"]
    with pytest.raises(MatcherError, match="no stored run 'run-404'.*Nothing was added"):
        store.add_items(sid, make_suggestions([("C001", "M001")]), planner="li", run_id="run-404")
    frame = make_suggestions([("C001", "M001"), ("C002", "M002")]).assign(run_id=["run-1", "run-9"])
    with pytest.raises(MatcherError, match="no stored run 'run-9'"):
        store.add_items(sid, frame, planner="li")
    with pytest.raises(ValidationError, match="row 2 was proposed by run 'run-9'.*added for run 'run-1'"):
        store.add_items(sid, frame, planner="li", run_id="run-1")
    assert store.items().empty


def test_provenance_survives_backup_and_restore(store: Store, new_db_url, make_suggestions, tmp_path) -> None:
    _run(store, "run-1", "balanced")
    sid = store.create_shortlist("spring", planner="li", run_id="run-1")["id"]
    store.add_items(sid, make_suggestions([("C001", "M001")]), planner="li", run_id="run-1")
    store.backup(tmp_path / "backup.json")
    moved = Store(new_db_url())
    moved.restore(tmp_path / "backup.json")
    assert moved.items()["run_id"].tolist() == ["run-1"]
    assert moved.runs()["preset"].tolist() == ["balanced"]


def test_cli_history_shows_the_preset(store: Store, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("MATCHER_DB_URL", store.url)
    _run(store, "run-1", "balanced")
    _run(store, "run-2")
    assert main(["store", "history", "--for", "run-1"]) == 0
    assert "preset=balanced" in capsys.readouterr().out
    assert main(["store", "history", "--for", "run-2"]) == 0
    assert "preset=unknown" in capsys.readouterr().out
