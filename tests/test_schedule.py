"""Meeting schedules: no double booking, windows and locks, König's bound, explanations."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import pair_tables

from matcher.cli import main
from matcher.exceptions import InfeasibleError, ValidationError
from matcher.meetings.schedule import schedule
from matcher.meetings.slots import SlotClock, parse_slots

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]


def requests(max_side: int = 6, max_pairs: int = 18):
    """Meeting requests between clusters (C...) and markets (M...)."""
    return pair_tables("C", "M", max_side=max_side, max_pairs=max_pairs, top_score=9)


def max_load(frame: pd.DataFrame) -> int:
    return int(pd.concat([frame.left_id, frame.right_id]).value_counts().max())


def assert_no_double_booking(plan) -> None:
    for col in ("left_id", "right_id"):
        assert not plan.meetings.duplicated(["slot", col]).any()
    people = pd.concat(
        [
            plan.meetings[["slot", "left_id"]].set_axis(["slot", "p"], axis=1),
            plan.meetings[["slot", "right_id"]].set_axis(["slot", "p"], axis=1),
        ]
    )
    assert not people.duplicated().any()
    assert not plan.meetings.duplicated(["slot", "table"]).any()
    assert plan.meetings["table"].between(1, plan.n_tables).all()
    assert plan.meetings["slot"].between(1, plan.n_slots).all()


@SETTINGS
@given(requests(), st.integers(1, 8), st.integers(1, 6))
def test_no_double_booking_and_every_request_accounted_for(frame, n_slots, n_tables):
    plan = schedule(frame, n_slots, n_tables)
    assert plan.check_validity()
    assert_no_double_booking(plan)
    assert len(plan.meetings) + len(plan.unscheduled) == len(frame)
    assert plan.unscheduled["reason"].str.len().gt(0).all()


@SETTINGS
@given(requests(), st.data())
def test_slots_used_equal_largest_load_when_tables_allow(frame, data):
    delta = max_load(frame)
    # Enough tables for Δ slots (E <= M·Δ): König's bound must be reached exactly.
    n_tables = data.draw(st.integers(math.ceil(len(frame) / delta), len(frame)), label="tables")
    n_slots = data.draw(st.integers(delta, delta + 3), label="slots")
    plan = schedule(frame, n_slots, n_tables)
    assert plan.complete, plan.unscheduled
    assert plan.slots_used == delta == plan.lower_bound
    assert plan.check_validity()


@SETTINGS
@given(requests(), st.integers(1, 4))
def test_slots_used_equal_bound_when_tables_are_the_limit(frame, n_tables):
    bound = max(max_load(frame), math.ceil(len(frame) / n_tables))
    plan = schedule(frame, bound + 2, n_tables)
    assert plan.complete
    assert plan.slots_used == bound == plan.lower_bound


@SETTINGS
@given(requests(max_side=5, max_pairs=12), st.integers(2, 6), st.integers(1, 4), st.data())
def test_availability_and_locks_respected(frame, n_slots, n_tables, data):
    people = sorted(set(frame.left_id) | set(frame.right_id))
    windows = {}
    for p in people:
        if data.draw(st.booleans(), label=f"window {p}"):
            windows[p] = data.draw(st.sets(st.integers(1, n_slots), min_size=1), label=f"slots {p}")
    locks = {}
    for a, b in zip(frame.left_id, frame.right_id, strict=False):
        if data.draw(st.integers(0, 4), label=f"lock? {a}{b}") == 0:
            slot = data.draw(st.integers(1, n_slots + 1), label="slot")  # n_slots+1: out of range
            table = data.draw(st.none() | st.integers(1, n_tables), label="table")
            locks[(a, b)] = (slot, table)
    plan = schedule(frame, n_slots, n_tables, availability=windows, locks=locks)
    assert plan.check_validity()  # windows, locks, double booking re-checked there
    assert_no_double_booking(plan)
    for m in plan.meetings.itertuples():
        for p in (m.left_id, m.right_id):
            assert p not in windows or m.slot in windows[p]
        lock = locks.get((m.left_id, m.right_id))
        if lock:
            assert m.slot == lock[0] and (lock[1] is None or m.table == lock[1])
    assert len(plan.meetings) + len(plan.unscheduled) == len(frame)


def test_too_few_slots_names_the_meetings_and_the_reason():
    frame = pd.DataFrame(
        {
            "left_id": ["C1", "C1", "C1", "C2"],
            "right_id": ["M1", "M2", "M3", "M1"],
            "score": [0.9, 0.8, 0.1, 0.5],
        }
    )
    plan = schedule(frame, n_slots=2, n_tables=5)
    assert not plan.complete
    row = plan.unscheduled.iloc[0]
    assert (row.left_id, row.right_id) == ("C1", "M3")  # the lowest score gives way
    assert "C1 is already booked in all 2 slots" == row.reason
    assert any("C1 has 3 meetings" in line for line in plan.explanation)
    with pytest.raises(InfeasibleError, match="C1–M3"):
        plan.raise_if_incomplete()


def test_too_few_tables_is_explained():
    frame = pd.DataFrame({"left_id": ["C1", "C2", "C3"], "right_id": ["M1", "M2", "M3"], "score": [3, 2, 1]})
    plan = schedule(frame, n_slots=1, n_tables=2)
    assert plan.unscheduled.reason.tolist() == ["all 2 tables are taken in the slots where both are free (1)"]
    assert any("need at least 2 slots at 2 tables" in line for line in plan.explanation)


def test_lock_against_window_and_no_common_slot_are_reported():
    frame = pd.DataFrame({"left_id": ["C1", "C2"], "right_id": ["M1", "M2"], "score": [0.5, 0.4]})
    plan = schedule(frame, 4, 2, availability={"C1": [1, 2], "M1": "3-4", "M2": [1]}, locks={("C2", "M2"): 2})
    reasons = dict(zip(plan.unscheduled.left_id, plan.unscheduled.reason, strict=False))
    assert reasons["C1"] == "C1 and M1 have no common available slot (C1: 1–2; M1: 3–4)"
    assert reasons["C2"] == "locked to slot 2, but M2 is available only in slots 1"
    assert plan.check_validity()


def test_locked_pair_missing_from_shortlist_is_added_and_table_kept():
    frame = pd.DataFrame({"left_id": ["C1"], "right_id": ["M1"], "score": [0.5]})
    plan = schedule(frame, 3, 3, locks={("C9", "M9"): (2, 3)})
    row = plan.meetings.set_index("left_id").loc["C9"]
    assert (row.slot, row.table, bool(row.locked)) == (2, 3, True)
    assert "not in the shortlist were added" in plan.explanation[0]


def test_odd_cycle_still_gets_a_valid_schedule():
    frame = pd.DataFrame({"left_id": ["C1", "C2", "C3"], "right_id": ["C2", "C3", "C1"], "score": [1, 1, 1]})
    plan = schedule(frame, 3, 3)
    assert not plan.bipartite and plan.complete and plan.slots_used == 3
    assert plan.check_validity()


def test_check_validity_catches_double_booking():
    frame = pd.DataFrame({"left_id": ["C1", "C1"], "right_id": ["M1", "M2"], "score": [1, 1]})
    plan = schedule(frame, 2, 2)
    plan.meetings.loc[:, "slot"] = 1
    with pytest.raises(ValidationError, match="C1 is double-booked in slot 1"):
        plan.check_validity()


def test_agendas_grid_participants_and_clock():
    frame = pd.DataFrame(
        {
            "left_id": ["C1", "C1"],
            "right_id": ["M1", "M2"],
            "score": [1.0, 0.5],
            "left_name_zh": ["常熟", "常熟"],
            "right_name_zh": ["柯桥", "钱清"],
        }
    )
    plan = schedule(frame, 4, 1)
    agenda = plan.agendas()
    assert agenda[agenda.participant_id == "C1"].slot.tolist() == [1, 2]
    assert plan.grid().loc[1, "table 1"] in ("常熟 – 柯桥", "常熟 – 钱清")
    assert plan.participants().set_index("participant_id").loc["C1", "idle_slots"] == 0
    assert plan.idle_slots_total == 0
    assert SlotClock.parse("2026-05-20", "09:00", 20).label(2) == "09:20–09:40"
    assert parse_slots("1-3;5, 7") == [1, 2, 3, 5, 7]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_schedule", ROOT / "benchmarks" / "bench_schedule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_small_version_is_correct():
    bench = _bench()
    plan, seconds = bench.run(n_participants=100, n_meetings=400, seed=3)
    assert plan.check_validity() and plan.complete
    assert plan.slots_used == plan.lower_bound == plan.max_load
    again, _ = bench.run(n_participants=100, n_meetings=400, seed=3)
    pd.testing.assert_frame_equal(plan.meetings, again.meetings)  # deterministic
    assert bench.main(["--participants", "60", "--meetings", "150"]) == 0


def test_cli_schedule_every_format(tmp_path, capsys):
    short = tmp_path / "shortlist.csv"
    pd.DataFrame(
        {"left_id": ["C001", "C001", "C002"], "right_id": ["M001", "M002", "M001"], "score": [0.9, 0.8, 0.7]}
    ).to_csv(short, index=False)
    locks = tmp_path / "locks.csv"
    locks.write_text("left_id,right_id,slot,table\nC002,M001,1,2\n", encoding="utf-8")
    for ext in ("xlsx", "csv", "pdf", "ics"):
        out = tmp_path / f"meeting.{ext}"
        code = main(
            [
                "schedule",
                "--data",
                str(ROOT / "data"),
                "--shortlist",
                str(short),
                "--slots",
                "3",
                "--tables",
                "2",
                "--locks",
                str(locks),
                "--date",
                "2026-05-20",
                "--out",
                str(out),
            ]
        )
        assert code == 0 and out.stat().st_size > 0
    back = pd.read_csv(tmp_path / "meeting.csv", dtype=str, encoding="utf-8-sig")
    locked = back[back.left_id == "C002"].iloc[0]
    assert (locked.slot, locked.table) == ("1", "2")
    assert "江阴" in set(back.left_name_zh)  # names from --data
    assert (
        main(
            [
                "schedule",
                "--shortlist",
                str(short),
                "--slots",
                "1",
                "--tables",
                "1",
                "--strict",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert "cannot be scheduled" in capsys.readouterr().err
