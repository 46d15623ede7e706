"""Planners at once, and writers that die: real separate processes on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
import traceback

from sqlalchemy import event

from matcher.exceptions import ConflictError
from matcher.store import Store

# fork: the children share nothing with the parent but the URL (no pool: one connection per call),
# and start in milliseconds instead of re-importing pandas.
CTX = multiprocessing.get_context("fork")
ROUNDS = 6


def _racer(url: str, item_id: int, planner: str, barrier, results) -> None:
    try:
        store = Store(url)
        for round_no in range(ROUNDS):
            barrier.wait(timeout=60)
            version = store.item(item_id)["version"]
            barrier.wait(timeout=60)  # both have read the same version: now both write at once
            note = f"{planner} round {round_no}"
            try:
                store.update(item_id, {"notes": note}, expected_version=version, planner=planner)
                results.put((round_no, planner, "won", note))
            except ConflictError as err:
                results.put((round_no, planner, "conflict", str(err)))
    except BaseException:  # report, never hang the parent
        results.put((-1, planner, "error", traceback.format_exc()))
        barrier.abort()


def test_two_processes_updating_one_item_one_wins_one_gets_conflict(shortlist) -> None:
    store, _, ids = shortlist
    item_id = ids[0]
    barrier = CTX.Barrier(2)
    results = CTX.Queue()
    racers = [
        CTX.Process(target=_racer, args=(store.url, item_id, name, barrier, results))
        for name in ("li", "wang")
    ]
    for racer in racers:
        racer.start()
    got = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    errors = [g for g in got if g[2] == "error"]
    assert not errors, errors[0][3]
    for round_no in range(ROUNDS):
        this_round = sorted((g for g in got if g[0] == round_no), key=lambda g: g[2])
        assert [g[2] for g in this_round] == ["conflict", "won"], this_round
        (_, loser, _, message), (_, winner, _, won_note) = this_round
        # The loser is told both values: its own and the one that won.
        assert f"yours '{loser} round {round_no}', theirs '{won_note}'" in message
    item = store.item(item_id)
    assert item["version"] == 1 + ROUNDS  # every round exactly one update landed
    last_winner = next(g for g in got if g[0] == ROUNDS - 1 and g[2] == "won")
    assert item["notes"] == last_winner[3]
    updates = store.history("C001").query("action == 'update'")
    assert [a["notes"] for a in updates["after"]] == [
        next(g[3] for g in got if g[0] == r and g[2] == "won") for r in range(ROUNDS)
    ]


def _doomed_writer(url: str, item_ids: list[int], ready) -> None:
    store = Store(url)

    def hold_before_commit(conn) -> None:  # every write is done; the COMMIT is not
        ready.set()
        time.sleep(120)

    event.listen(store.engine, "commit", hold_before_commit)
    store.update_many(
        [(i, {"notes": "half-done", "status": "accepted"}, 1) for i in item_ids], planner="doomed"
    )


def test_writer_killed_mid_transaction_leaves_old_state_then_new_state_lands(store, make_suggestions) -> None:
    listed = store.create_shortlist("many", planner="li")
    pairs = [(f"C{n:03d}", f"M{n:03d}") for n in range(200)]
    ids = store.add_items(listed["id"], make_suggestions(pairs), planner="li")
    ready = CTX.Event()
    writer = CTX.Process(target=_doomed_writer, args=(store.url, ids, ready))
    writer.start()
    try:
        assert ready.wait(timeout=60), "the writer never reached its commit"
        # Mid-transaction, others still read the old state.
        assert set(store.items()["notes"]) == {""}
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(timeout=30)
    assert writer.exitcode == -signal.SIGKILL
    items = store.items()
    assert len(items) == 200
    assert (
        set(items["notes"]) == {""} and set(items["status"]) == {"proposed"} and set(items["version"]) == {1}
    )
    assert "doomed" not in set(store.history()["planner"])
    if store.backend == "sqlite":
        with sqlite3.connect(store.engine.url.database) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The locks died with the writer: the same change from another planner now lands whole.
    done = store.update_many([(i, {"notes": "all done", "status": "accepted"}, 1) for i in ids], planner="li")
    assert len(done) == 200
    items = store.items()
    assert set(items["notes"]) == {"all done"} and set(items["version"]) == {2}
