"""Every public method of the store is either a read or a change, and every change is refused to a
viewer (by the store itself, on SQLite and PostgreSQL), leaving the store exactly as it was.

A method added to the store fails ``test_every_store_method_is_known`` until it is put in one of the
lists below, and a change put in ``CHANGES`` gets a call that a planner (or an admin) may make, so the
refusal is seen to come from the role and not from a bad call.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from matcher.exceptions import AccessError, MatcherError
from matcher.store import Store

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

ADMIN_PW = "harbour kettle violet 42"
PLANNER_PW = "lantern quarry meadow 17"
VIEWER_PW = "amber pylon orchard 93"
NEW_PW = "copper willow ridge 58"

Call = Callable[[Store, str, dict[str, Any]], Any]

#: Each change, as a call made by ``who``; ``ctx`` holds the ids made by the fixture.
CHANGES: dict[str, tuple[str, Call]] = {  # name: (the least role that may, the call)
    "create_shortlist": ("planner", lambda s, who, ctx: s.create_shortlist("另一份清单", planner=who)),
    "add_items": ("planner", lambda s, who, ctx: s.add_items(ctx["list"], pd.DataFrame(
        {"left_id": ["C007"], "right_id": ["M007"], "kind": ["cluster_market"], "score": [0.4]}), planner=who)),
    "update": ("planner", lambda s, who, ctx: s.update(ctx["items"][0], {"notes": "跟进"}, 1, planner=who)),
    "update_many": ("planner", lambda s, who, ctx: s.update_many(
        [(i, {"status": "accepted"}, 1) for i in ctx["items"]], planner=who)),
    "decide": ("planner", lambda s, who, ctx: s.decide("C002", "M002", "cluster_market", "reject",
                                                       reason="other", planner=who)),
    "record_outcome": ("planner", lambda s, who, ctx: s.record_outcome(
        "C001", "M001", "cluster_market", stage="meeting", value="met", rating=4, planner=who)),
    "record_run": ("planner", lambda s, who, ctx: s.record_run(
        "run-2", data_version="v1", kind="cluster_market", weights={"chain": 1.0}, planner=who)),
    "schedule_meeting": ("planner", lambda s, who, ctx: s.schedule_meeting(
        "C002", "M002", "cluster_market", slot="2026-05-20T10:00", table="T2", planner=who)),
    "book_meetings": ("planner", lambda s, who, ctx: s.book_meetings(
        [{"left_id": "C003", "right_id": "M003", "kind": "cluster_market", "slot": "2026-05-20T11:00",
          "table": "T3"}], planner=who)),
    "update_meeting": ("planner", lambda s, who, ctx: s.update_meeting(
        ctx["meeting"], {"table_label": "T9"}, 1, planner=who)),
    "flag_missing": ("planner", lambda s, who, ctx: s.flag_missing(["C001", "M001"], planner=who)),
    "add_account": ("admin", lambda s, who, ctx: s.add_account("zhou", NEW_PW, "viewer", by=who)),
    "set_role": ("admin", lambda s, who, ctx: s.set_role("zhao", "viewer", by=who)),
    "disable": ("admin", lambda s, who, ctx: s.disable("zhao", by=who)),
    "enable": ("admin", lambda s, who, ctx: s.enable("gone", by=who)),
    "unlock": ("admin", lambda s, who, ctx: s.unlock("zhao", by=who)),
    "reset_password": ("admin", lambda s, who, ctx: s.reset_password("zhao", NEW_PW, by=who)),
    "restore": ("admin", lambda s, who, ctx: s.restore(ctx["backup"], by=who)),
    "import_data": ("admin", lambda s, who, ctx: s.import_data(json.loads(Path(ctx["backup"]).read_text()),
                                                               by=who)),
}
#: Reads: they change nothing (``backup`` writes a file, not the store).
READS = {"account", "accounts", "annotate", "backup", "counts", "decisions", "export_data", "has_accounts",
         "history", "is_empty", "item", "items", "meetings", "outcomes", "require", "revision", "rules", "runs",
         "session_stamp", "shortlists", "sign_ins"}
#: An account's own: signing in (with its password) and changing its own password (with the old one).
OWN = {"sign_in", "change_password"}
#: The schema itself: run by whoever holds the database's credentials (an administrator's tool).
SCHEMA = {"upgrade"}


def test_every_store_method_is_known() -> None:
    public = {name for name, _ in inspect.getmembers(Store) if not name.startswith("_")}
    assert public == set(CHANGES) | READS | OWN | SCHEMA


def _everything(store: Store) -> dict[str, Any]:
    data = store.export_data(accounts=True)
    return {name: sorted(map(repr, rows)) for name, rows in data["tables"].items()}


@pytest.fixture(scope="module")
def made_once(tmp_path_factory) -> tuple[dict[str, Any], dict[str, Any]]:
    """An admin, two planners, a viewer and a disabled account; a run, a shortlist of two pairs and a
    meeting made by the planner li: made once (hashing passwords is slow on purpose), restored per test."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('roles') / 'matcher.db'}")
    store.add_account("admin", ADMIN_PW, "admin")
    store.add_account("li", PLANNER_PW, "planner", by="admin")
    store.add_account("zhao", PLANNER_PW, "planner", by="admin")
    store.add_account("wang", VIEWER_PW, "viewer", by="admin")
    store.add_account("gone", PLANNER_PW, "planner", by="admin")
    store.disable("gone", by="admin")
    store.record_run("run-1", data_version="v1", kind="cluster_market", weights={"chain": 0.6}, planner="li")
    listed = store.create_shortlist("柯桥对接会", planner="li", run_id="run-1")
    items = store.add_items(listed["id"], pd.DataFrame({
        "left_id": ["C001", "C002"], "right_id": ["M001", "M002"], "kind": ["cluster_market"] * 2,
        "score": [0.9, 0.8]}), planner="li")
    meeting = store.schedule_meeting("C001", "M001", "cluster_market", slot="2026-05-20T09:00", table="T1",
                                     planner="li", item_id=items[0])
    ids = {"list": int(listed["id"]), "items": items, "meeting": int(meeting["id"])}
    data = store.export_data(accounts=True)
    store.engine.dispose()
    return data, ids


@pytest.fixture
def roles(store: Store, made_once, tmp_path: Path) -> tuple[Store, dict[str, Any]]:
    data, ids = made_once
    store.import_data(data)
    backup = tmp_path / "backup.json"
    store.backup(backup)
    return store, {**ids, "backup": str(backup)}


@pytest.mark.parametrize("method", sorted(CHANGES))
def test_a_viewer_is_refused_every_change(roles, method: str) -> None:
    store, ctx = roles
    needs, call = CHANGES[method]
    before = _everything(store)
    with pytest.raises(AccessError, match=r"wang is a viewer; this needs (a planner or )?an admin\."):
        call(store, "wang", ctx)
    assert _everything(store) == before, f"{method} refused to a viewer still changed the store"
    if needs == "admin":  # a planner is refused an admin's change too
        with pytest.raises(AccessError, match=r"li is a planner; this needs an admin\."):
            call(store, "li", ctx)
        assert _everything(store) == before
    allowed = "admin" if needs == "admin" else "li"
    if method in ("restore", "import_data"):  # the role passes; the store is not empty, so still nothing
        with pytest.raises(MatcherError, match="is not empty"):
            call(store, allowed, ctx)
        assert _everything(store) == before
        return
    call(store, allowed, ctx)  # the same call by a role that may: it goes through
    assert _everything(store) != before


@pytest.mark.parametrize("who", ["gone", "nobody", ""])
def test_disabled_unknown_and_unnamed_accounts_are_refused(roles, who: str) -> None:
    store, ctx = roles
    before = _everything(store)
    expected = {"gone": "The account gone is disabled", "nobody": "nobody is not an account of this store",
                "": "Say who makes the change"}[who]
    with pytest.raises(MatcherError, match=expected):
        store.create_shortlist("清单", planner=who)
    assert _everything(store) == before


def test_the_command_line_restores_only_as_an_admin_once_there_are_accounts(made_once, tmp_path, monkeypatch,
                                                                           capsys) -> None:
    from matcher.cli import main

    data, _ = made_once
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(data), encoding="utf-8")
    Store().add_account("root", ADMIN_PW, "admin")
    assert main(["store", "restore", str(backup), "--as", "wang"]) == 2
    assert "wang is not an account of this store" in capsys.readouterr().err
    assert main(["store", "restore", str(backup)]) == 2
    assert "Nobody is not an account" in capsys.readouterr().err
    assert main(["store", "restore", str(backup), "--as", "root"]) == 2  # the role passes; accounts collide
    assert "has accounts of its own" in capsys.readouterr().err
    assert Store().shortlists().empty
