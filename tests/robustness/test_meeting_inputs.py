"""Hostile inputs to ``shortlist`` and ``schedule``: each test pins one finding of the hostile-input
review (a shortlist shortlisted again, over-long cells, look-alike ids, bad locks and windows, partial
output, a flood of "not scheduled" lines). The CLI runs in-process on small files in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli_runs import run, write

from matcher.exceptions import ValidationError
from matcher.meetings.schedule import schedule
from matcher.meetings.tables import read_suggestions

DATA = str(Path(__file__).resolve().parents[2] / "data")
SHORTLIST = "left_id,right_id,score\nC001,M001,0.9\nC001,M002,0.8\nC002,M001,0.7\n"



def refused_row(capsys, file: str, *argv: str) -> str:
    """Run a command that must refuse one row of ``file``: that row's line of the printed problems."""
    code, err = run(capsys, *argv)
    assert code == 2, err
    return next(iter(problem_rows(err, file).values()))


def problem_rows(err: str, file: str) -> dict[str, str]:
    """The printed problems table's lines of ``file``, by their row number."""
    return {line.split()[1]: line for line in err.splitlines() if line.lstrip().startswith(file)}

def schedule_args(tmp_path: Path, out: str = "s.csv", *extra: str) -> list[str]:
    short = write(tmp_path / "short.csv", SHORTLIST)
    return ["schedule", "--shortlist", short, "--slots", "4", "--tables", "2", *extra,
            "--out", str(tmp_path / out)]


# A. a shortlist shortlisted again -------------------------------------------------------------


@pytest.mark.parametrize("ext", ["csv", "xlsx", "json"])
def test_a_shortlist_can_be_shortlisted_again_and_its_ranks_are_recomputed(tmp_path, capsys, ext):
    src = write(tmp_path / "suggestions.csv", SHORTLIST + "C003,M003,0.6\n")
    first = str(tmp_path / f"top.{ext}")
    assert run(capsys, "shortlist", "--suggestions", src, "--out", first)[0] == 0
    again = tmp_path / "one_to_one.csv"
    code, err = run(capsys, "shortlist", "--suggestions", first, "--method", "hungarian", "--out", str(again))
    assert code == 0, err
    assert "selection_rank column was replaced" in err
    back = pd.read_csv(again, dtype=str, encoding="utf-8-sig")
    assert list(back.columns).count("selection_rank") == 1
    assert back["selection_rank"].tolist() == [str(i) for i in range(1, len(back) + 1)]
    assert sorted(zip(back.left_id, back.right_id, strict=True)) == [("C001", "M002"), ("C002", "M001"),
                                                                     ("C003", "M003")]


# B. cells longer than a spreadsheet cell ------------------------------------------------------


@pytest.mark.parametrize("option", ["suggestions", "shortlist", "locks", "availability"])
def test_a_cell_longer_than_a_spreadsheet_cell_is_refused_with_file_row_and_column(tmp_path, capsys, option):
    long_id = "C" + "x" * 40_000
    if option == "suggestions":
        bad = write(tmp_path / "long.csv", f"left_id,right_id,score\nC001,M001,0.5\n{long_id},M001,0.4\n")
        argv = ["shortlist", "--suggestions", bad, "--out", str(tmp_path / "x.xlsx")]
        out = tmp_path / "x.xlsx"
    elif option == "shortlist":
        bad = write(tmp_path / "long.csv", f"left_id,right_id,score\nC001,M001,0.5\n{long_id},M001,0.4\n")
        argv = ["schedule", "--shortlist", bad, "--slots", "2", "--tables", "2", "--out", str(tmp_path / "s.xlsx")]
        out = tmp_path / "s.xlsx"
    elif option == "locks":
        bad = write(tmp_path / "long.csv", f"left_id,right_id,slot\n{long_id},M001,1\n")
        argv = schedule_args(tmp_path, "s.xlsx", "--locks", bad)
        out = tmp_path / "s.xlsx"
    else:
        bad = write(tmp_path / "long.csv", f"participant_id,slots\n{long_id},1-2\n")
        argv = schedule_args(tmp_path, "s.xlsx", "--availability", bad)
        out = tmp_path / "s.xlsx"
    code, err = run(capsys, *argv)
    assert code == 2
    assert "long.csv" in err and "longer than 32,767 characters" in err
    line = next(iter(problem_rows(err, "long.csv").values()))
    assert ("3" if option in ("suggestions", "shortlist") else "2") in line.split()[1]
    assert ("left_id" if option != "availability" else "participant_id") in line
    assert len(err) < 2_000  # the cell is shown cut, not whole
    assert not out.exists()


# C. look-alike ids ----------------------------------------------------------------------------


def test_ids_with_invisible_or_full_width_characters_are_refused_in_a_shortlist(tmp_path, capsys):
    bad = write(tmp_path / "ws.csv", "left_id,right_id,score\n C001,M001 ,0.5\n\uff23001,M001,0.9\n"
                "C001\u200b,M002,0.4\n")
    for argv in (["shortlist", "--suggestions", bad, "--out", str(tmp_path / "x.csv")],
                 ["schedule", "--data", DATA, "--shortlist", bad, "--slots", "3", "--tables", "3",
                  "--out", str(tmp_path / "x.csv")]):
        code, err = run(capsys, *argv)
        assert code == 2, err
        rows = problem_rows(err, "ws.csv")
        assert "invisible character" in rows["4"] and "left_id" in rows["4"]
        assert "looks like 'C001'" in rows["3"] and "full-width" in rows["3"]
        assert not (tmp_path / "x.csv").exists()


def test_look_alike_ids_across_the_shortlist_and_the_windows_are_refused(tmp_path, capsys):
    avail = write(tmp_path / "avail.csv", "participant_id,slots\n\uff23001,1-2\n")
    code, err = run(capsys, *schedule_args(tmp_path, "s.csv", "--availability", avail))
    assert code == 2
    assert "avail.csv" in err and "participant_id" in err and "which has 'C001'" in err
    assert not (tmp_path / "s.csv").exists()


def test_a_forbidden_pair_written_with_a_full_width_id_is_refused_not_ignored(tmp_path, capsys):
    src = write(tmp_path / "suggestions.csv", SHORTLIST)
    forbid = write(tmp_path / "forbid.csv", "left_id,right_id,reason\n\uff23001,M001,same owner\n")
    line = refused_row(capsys, "forbid.csv", "shortlist", "--suggestions", src, "--forbid", forbid,
                       "--out", str(tmp_path / "x.csv"))
    assert line.split()[1:3] == ["2", "left_id"] and "which has 'C001'" in line
    assert not (tmp_path / "x.csv").exists()


def test_with_data_an_id_not_in_the_data_set_is_refused_with_its_row(tmp_path, capsys):
    short = write(tmp_path / "short.csv", "left_id,right_id,score\nC001,M001,0.9\nC001,M999,0.5\n")
    line = refused_row(capsys, "short.csv", "schedule", "--data", DATA, "--shortlist", short, "--slots", "3",
                       "--tables", "3", "--out", str(tmp_path / "s.csv"))
    assert line.split()[1:4] == ["3", "right_id", "M999"] and "not in the data set" in line
    assert not (tmp_path / "s.csv").exists()


def test_row_numbers_count_blank_rows_as_excel_does(tmp_path):
    bad = write(tmp_path / "gap.csv", "left_id,right_id,score\nC1,M1,1\n,,\nC2,M2,x\n")
    with pytest.raises(ValidationError) as err:
        read_suggestions(bad)
    assert err.value.problems[["row", "column"]].values.tolist() == [[4, "score"]]


# D. bad locks and windows ---------------------------------------------------------------------


def test_locks_outside_the_slots_or_tables_are_refused_not_dropped(tmp_path, capsys):
    locks = write(tmp_path / "locks.csv", "left_id,right_id,slot,table\nC001,M001,999,1\nC001,M002,-1,1\n"
                  "C002,M001,0,\nC001,M002,1,9\n")
    code, err = run(capsys, *schedule_args(tmp_path, "s.csv", "--locks", locks))
    assert code == 2
    lines = [x.split() for x in err.splitlines() if x.lstrip().startswith("locks.csv")]
    assert [(x[1], x[2], x[3]) for x in lines] == [("2", "slot", "999"), ("3", "slot", "-1"), ("4", "slot", "0"),
                                                   ("5", "table", "9")]
    assert "slots 1–4" in err and "tables 1–2" in err
    assert not (tmp_path / "s.csv").exists()


def test_a_lock_naming_an_unknown_id_is_refused_with_data(tmp_path, capsys):
    locks = write(tmp_path / "locks.csv", "left_id,right_id,slot,table\nC001,M999,1,1\n")
    line = refused_row(capsys, "locks.csv", *schedule_args(tmp_path, "s.csv", "--data", DATA, "--locks", locks))
    assert line.split()[1:4] == ["2", "right_id", "M999"] and "not in the data set" in line
    assert not (tmp_path / "s.csv").exists()
    # without --data a locked pair missing from the shortlist is still a meeting the planner adds
    assert run(capsys, *schedule_args(tmp_path, "s.csv", "--locks", locks))[0] == 0


def test_empty_zero_and_too_late_windows_are_refused(tmp_path, capsys):
    avail = write(tmp_path / "avail.csv", "participant_id,slots\nM001,0\nC002,\nC001,5-6\n")
    code, err = run(capsys, *schedule_args(tmp_path, "s.csv", "--availability", avail))
    assert code == 2
    rows = problem_rows(err, "avail.csv")
    assert "numbered from 1" in rows["2"]
    assert "empty" in rows["3"] and "leave C002 out of the file" in rows["3"]
    assert "past the last slot" in rows["4"] and "1–4" in rows["4"]
    assert not (tmp_path / "s.csv").exists()


def test_windows_for_someone_with_no_meeting_are_warned_of(tmp_path, capsys):
    """A mistyped id in the availability file would leave that participant's windows unapplied."""
    avail = write(tmp_path / "avail.csv", "participant_id,slots\nC01,1-2\n")
    code, err = run(capsys, *schedule_args(tmp_path, "s.csv", "--availability", avail))
    assert code == 0
    assert "gives windows for 1 participant(s) with no meeting in the shortlist (a mistyped id?): C01" in err


def test_the_library_refuses_a_frames_rows_and_reports_a_held_booking(tmp_path):
    pairs = pd.DataFrame({"left_id": ["C1"], "right_id": ["M1"], "score": [1.0]})
    locks = pd.DataFrame({"left_id": ["C1"], "right_id": ["M1"], "slot": ["1"], "table": ["3"]})
    with pytest.raises(ValidationError) as err:
        schedule(pairs, 3, 2, locks=locks, availability={"C1": [0, 1]})
    assert set(err.value.problems["column"]) == {"table", "slots"}  # both tables' problems at once
    # a mapping is a booking the program holds (the app's, after the planner cut the slots): the
    # meeting is reported with the reason, not dropped silently and not a crash
    plan = schedule(pairs, 3, 2, locks={("C1", "M1"): 4})
    assert plan.unscheduled["reason"].tolist() == [
        "locked, but slot 4 is outside this meeting's slots 1–3"]


# E. nothing written when an output cannot be ---------------------------------------------------


def test_an_ics_dir_that_is_a_file_is_refused_before_anything_is_written(tmp_path, capsys):
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    for ics_dir in (blocker, blocker / "calendars"):
        code, err = run(capsys, *schedule_args(tmp_path, "s2.ics", "--date", "2026-05-20",
                                               "--ics-dir", str(ics_dir)))
        assert code == 2 and "--ics-dir" in err and "Nothing was written" in err
        assert not (tmp_path / "s2.ics").exists()
    assert blocker.read_text(encoding="utf-8") == "not a folder"


# F. a bounded list of what did not fit ----------------------------------------------------------


def test_many_unscheduled_meetings_are_summarised_not_all_printed(tmp_path, capsys):
    rows = "".join(f"C{i:04d},M{i:04d},0.5\n" for i in range(500))
    short = write(tmp_path / "many.csv", "left_id,right_id,score\n" + rows)
    for out in ("s.csv", "s.xlsx"):
        code, err = run(capsys, "schedule", "--shortlist", short, "--slots", "2", "--tables", "3",
                        "--out", str(tmp_path / out))
        assert code == 0
        assert "500 meetings cannot all fit" in err.splitlines()[2]  # said before the work
        assert "not scheduled: 494 meeting(s); the first 20" in err
        assert err.count("all 3 tables are taken") == 20
        assert len(err.splitlines()) < 40
    assert "'unscheduled' sheet of" in err
    assert len(pd.read_excel(tmp_path / "s.xlsx", sheet_name="unscheduled")) == 494


def test_a_pair_locked_twice_differently_is_refused_not_the_last_kept(tmp_path, capsys):
    """``C001,M001,1`` and ``C001,M001,2`` (or ``M001,C001,2``): the last row won without a word."""
    for second in ("C001,M001,2,1", "M001,C001,2,1"):
        locks = write(tmp_path / "locks.csv", f"left_id,right_id,slot,table\nC001,M001,1,1\n{second}\nC001,M002,3,\n")
        code, err = run(capsys, *schedule_args(tmp_path, "s.csv", "--locks", locks))
        assert code == 2 and "locked again, differently from row 2" in err, err
        assert not (tmp_path / "s.csv").exists()
    same = write(tmp_path / "same.csv", "left_id,right_id,slot,table\nC001,M001,1,1\nC001,M001,1,1\n")
    code, err = run(capsys, *schedule_args(tmp_path, "s.csv", "--locks", same))
    assert code == 0, err  # the same lock twice holds no contradiction
