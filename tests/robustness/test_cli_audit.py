"""Findings of the hostile-input audit of the command line, one test each: a score of 1e300, seeds
outside numpy's range, a trillion synthetic enterprises, an output folder that cannot be written,
forbidden pairs and capacities that apply to nothing, weights of zero, 1e308 or ``true``, an
evaluate pair naming a market where clusters are needed, outcomes naming unknown ids or other kinds,
and a --min-score no weighted score can reach. Each ran to a traceback, or exited 0 having silently
done less than the planner asked. The CLI runs in-process (``matcher.cli.main``) on small files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cli_runs import run, write

from matcher.cli import main
from matcher.exceptions import MatcherError

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
SUGGESTIONS = "left_id,right_id,score\nC001,M001,0.9\nC001,M002,0.8\nC002,M001,0.7\nC002,M002,0.6\n"
SUGGEST = ["suggest", "--kind", "east_west", "--top", "2", "--for", "C001"]


# 1 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["capacity", "hungarian", "top_k"])
@pytest.mark.parametrize("score", ["1e300", "-1e300", "1000000001"])
def test_a_score_too_large_is_refused_with_its_file_row_and_column(tmp_path, capsys, method, score):
    src = write(tmp_path / "big.csv", f"left_id,right_id,score\nC001,M001,0.5\nC002,M002,{score}\n")
    out = tmp_path / "o.csv"
    code, err = run(capsys, "shortlist", "--suggestions", src, "--method", method, "--out", str(out))
    assert code == 2, err
    line = next(x for x in err.splitlines() if x.lstrip().startswith("big.csv"))
    assert line.split()[1:3] == ["3", "score"] and "between -1,000,000,000 and 1,000,000,000" in line
    assert "inf" not in err and not out.exists()


def test_a_score_at_the_bound_is_still_read(tmp_path, capsys):
    src = write(tmp_path / "ok.csv", "left_id,right_id,score\nC001,M001,1e9\nC002,M002,-1e9\n")
    code, err = run(capsys, "shortlist", "--suggestions", src, "--method", "capacity", "--out", str(tmp_path / "o.csv"))
    assert code == 0, err


# 2 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["evaluate", "--kind", "east_west", "--seed", "-1"],
    ["learn", "--kind", "east_west", "--simulate", "100", "--seed", "-1", "--out", "{t}/m.json"],
    ["learn", "--kind", "east_west", "--simulate", "100", "--seed", "4294967296", "--out", "{t}/m.json"],
    ["synth", "--enterprises", "5", "--seed", "4294967296", "--out", "{t}/syn"],
], ids=["evaluate -1", "learn -1", "learn 2**32", "synth 2**32"])
def test_a_seed_outside_0_to_2_32_is_refused_by_one_check(tmp_path, capsys, argv):
    code, err = run(capsys, *[a.replace("{t}", str(tmp_path)) for a in argv])
    assert code == 2, err
    assert "the seed must be a whole number of 0 or more, at most 4,294,967,295" in err
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "syn").exists()


# 3 -------------------------------------------------------------------------------------------
def test_synth_refuses_more_enterprises_than_its_bound_before_making_the_folder(tmp_path, capsys):
    from matcher import limits

    out = tmp_path / "syh"
    code, err = run(capsys, "synth", "--enterprises", "1000000000000", "--out", str(out))
    assert code == 2 and f"{limits.MAX_SYNTH_ENTERPRISES:,}" in err and "nothing was written" in err
    assert not out.exists()
    assert limits.MAX_SYNTH_ENTERPRISES >= 1_100_000  # the product's real job still fits


# 4 -------------------------------------------------------------------------------------------
def _denied(*args, **kwargs):
    target = kwargs.get("path_or_buf") or (args[1] if len(args) > 1 else getattr(args[0], "filename", ""))
    raise PermissionError(13, "Permission denied", str(target))


@pytest.mark.parametrize("suffix, target", [
    ("xlsx", "xlsxwriter.workbook.Workbook._store_workbook"),  # close() raises FileCreateError
    ("csv", "pandas.DataFrame.to_csv"),
])
def test_an_unwritable_output_is_named_as_asked_not_by_its_temporary_name(tmp_path, capsys, monkeypatch,
                                                                         suffix, target):
    src = write(tmp_path / "s.csv", SUGGESTIONS)
    out = tmp_path / f"x.{suffix}"
    monkeypatch.setattr(target, _denied)
    code, err = run(capsys, "shortlist", "--suggestions", src, "--out", str(out))
    assert code == 2, err
    assert f"cannot write {out}: Permission denied" in err and ".partial" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_a_streamed_output_that_cannot_be_opened_is_named_as_asked(tmp_path, monkeypatch):
    from matcher.outputs.writers import block_writer

    real_open = Path.open

    def fake_open(self, *args, **kwargs):
        if self.name.endswith(".partial"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)
    with pytest.raises(MatcherError, match=r"cannot write .*g\.csv: Permission denied$"):
        block_writer(tmp_path / "g.csv")


@pytest.mark.skipif(not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv")),
                    reason="needs root and setpriv to drop the capability that ignores folder permissions")
def test_a_read_only_folder_really_gives_a_clear_message(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    caps = "-dac_override,-dac_read_search"
    for name in ("x.xlsx", "x.csv"):
        done = subprocess.run(["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", sys.executable, "-m",
                               "matcher", *SUGGEST, "--out", str(folder / name)], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert f"cannot write {folder / name}: Permission denied" in done.stderr and "Traceback" not in done.stderr
    assert list(folder.iterdir()) == []


# 5 -------------------------------------------------------------------------------------------
def test_forbidden_pairs_that_match_no_suggested_pair_are_warned_by_row(tmp_path, capsys):
    src = write(tmp_path / "s.csv", SUGGESTIONS)
    forbid = write(tmp_path / "f.csv", "left_id,right_id\nC003,M003\nC999,C001\nC001,M001\n")
    out = tmp_path / "o.csv"
    code, err = run(capsys, "shortlist", "--suggestions", src, "--forbid", forbid, "--out", str(out))
    assert code == 0, err
    warnings = [x for x in err.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 2, err
    assert "f.csv, row 2" in warnings[0] and "'C003' and 'M003' are in no suggestion" in warnings[0]
    assert "f.csv, row 3" in warnings[1] and "'C999' is in no suggestion" in warnings[1]
    assert ("C001", "M001") not in set(zip(*pd.read_csv(out)[["left_id", "right_id"]].T.values, strict=True))


def test_a_forbidden_pair_typed_in_another_case_is_refused_naming_the_id_it_means(tmp_path, capsys):
    """'c001' is not 'C001' (ids are kept as typed), but a planner means it: refused, naming 'C001',
    rather than letting the pair meet."""
    src = write(tmp_path / "s.csv", SUGGESTIONS)
    forbid = write(tmp_path / "f.csv", "left_id,right_id\nc001,m001\n")
    code, err = run(capsys, "shortlist", "--suggestions", src, "--forbid", forbid, "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "which has 'C001'" in err and "letter case" in err, err
    assert not (tmp_path / "o.csv").exists()


def test_ids_that_differ_only_in_case_are_refused_by_the_importer(tmp_path):
    import shutil

    from matcher.exceptions import ValidationError
    from matcher.ingest.dataset import BUNDLED_DATA, load_dataset

    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    table = pd.read_csv(data / "clusters.csv", dtype=str, keep_default_na=False)
    table.loc[5, "id"] = "c001"
    table.to_csv(data / "clusters.csv", index=False)
    with pytest.raises(ValidationError) as caught:
        load_dataset(data)
    problems = caught.value.problems
    assert problems["row"].tolist() == [7] and "looks like 'C001' (row 2)" in problems["reason"].iloc[0]


def test_many_unused_forbidden_pairs_are_summarised(tmp_path, capsys):
    src = write(tmp_path / "s.csv", SUGGESTIONS)
    forbid = write(tmp_path / "f.csv", "left_id,right_id\n" + "".join(f"X{i},Y{i}\n" for i in range(500)))
    code, err = run(capsys, "shortlist", "--suggestions", src, "--forbid", forbid, "--out", str(tmp_path / "o.csv"))
    assert code == 0
    warnings = [x for x in err.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 21 and "480 more row(s)" in warnings[-1] and "500 in all" in warnings[-1]


# 6 -------------------------------------------------------------------------------------------
def shortlist_with_capacities(tmp_path: Path, capsys, capacities: str) -> tuple[int, str]:
    src = write(tmp_path / "s.csv", SUGGESTIONS)
    caps = write(tmp_path / "caps.csv", capacities)
    return run(capsys, "shortlist", "--suggestions", src, "--method", "capacity", "--capacities", caps,
               "--out", str(tmp_path / "o.csv"))


def test_a_capacity_given_twice_is_refused_by_row(tmp_path, capsys):
    code, err = shortlist_with_capacities(tmp_path, capsys, "id,capacity\nC001,2\nC001,3\n")
    assert code == 2
    line = next(x for x in err.splitlines() if x.lstrip().startswith("caps.csv"))
    assert line.split()[1:4] == ["3", "id", "C001"] and "repeats the id of row 2" in line
    assert not (tmp_path / "o.csv").exists()


def test_a_capacity_for_an_unknown_id_is_warned_by_row(tmp_path, capsys):
    code, err = shortlist_with_capacities(tmp_path, capsys, "id,capacity\nC001,2\nC999,2\n")
    assert code == 0
    assert "warning: caps.csv, row 3: the capacity for 'C999' applies to nothing" in err


# 7 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weights, words", [
    ("zero", "at least one weight must be above 0"),
    ({"chain": 1e308}, "the weight of 'chain' must be at most 1,000,000"),
    ({"chain": 1000001}, "the weight of 'chain' must be at most 1,000,000"),
    ({"chain": True}, "the weight of 'chain' must be a number, not true"),
])
def test_weights_that_would_score_nothing_or_overflow_are_refused(tmp_path, capsys, weights, words):
    from matcher.docking.kinds import get_kind

    if weights == "zero":
        weights = dict.fromkeys(get_kind("east_west").preset_weights(), 0)
    w = write(tmp_path / "w.json", json.dumps({"weights": weights}))
    code, err = run(capsys, *SUGGEST, "--weights", w, "--out", str(tmp_path / "o.csv"))
    assert code == 2, err
    assert f"{w}: " in err and words in err
    assert not (tmp_path / "o.csv").exists()


def test_weights_of_zero_for_some_features_still_work(tmp_path, capsys):
    w = write(tmp_path / "w.json", json.dumps({"weights": {"chain": 0, "product": 1e6}}))
    code, err = run(capsys, *SUGGEST, "--weights", w, "--out", str(tmp_path / "o.csv"))
    assert code == 0, err


# 8 -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def east_west_table():
    from matcher.docking.engine import DockingEngine
    from matcher.ingest.dataset import load_dataset

    return DockingEngine(load_dataset(None)).entities("east_west").table


def test_a_known_pair_naming_a_market_says_it_is_a_market(tmp_path, east_west_table):
    from matcher.learning import evaluate as ev

    f = write(tmp_path / "e.csv", "left,right\nC039,M001\nC039,C999\n")
    reasons = ev.read_known(f, "east_west", east_west_table).problems.set_index("row")["reason"]
    assert reasons[2] == "M001 is a market in the bundled data, but an east_west pair needs two clusters"
    assert reasons[3] == "no bundled entity has this id or name"
    mine = ev.read_known(f, "east_west", east_west_table, data="mine").problems.set_index("row")["reason"]
    assert mine[2] == "M001 is a market in the data set mine, but an east_west pair needs two clusters"
    assert mine[3] == "no entity in the data set mine has this id or name"


# 9 -------------------------------------------------------------------------------------------
def test_outcomes_naming_unknown_ids_or_other_kinds_are_said_by_row(tmp_path, capsys):
    outcomes = write(tmp_path / "l.csv", "left_id,right_id,kind,outcome\nC001,C093,east_west,agreement_reached\n"
                     "\nC999,C093,east_west,declined\nC001,M001,cluster_market,declined\nC002,C093,eastwest,declined\n")
    code, err = run(capsys, "learn", "--kind", "east_west", "--outcomes", outcomes, "--out", str(tmp_path / "m.json"))
    assert code == 0, err
    assert f"warning: {outcomes}, row 4, left_id: 'C999' is no cluster or market in the data" in err
    assert f"warning: {outcomes}, row 6, kind: 'eastwest' is no docking kind" in err
    assert f"warning: {outcomes}: 1 row(s) of other kinds skipped" in err


# 10 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["5", "-0.1", "nan", "inf"])
def test_suggest_refuses_a_min_score_no_weighted_score_can_reach(tmp_path, capsys, value):
    code, err = run(capsys, *SUGGEST, "--min-score", value, "--out", str(tmp_path / "o.csv"))
    assert code == 2, err
    assert "--min-score" in err and not (tmp_path / "o.csv").exists()


def test_a_learned_model_may_take_any_finite_min_score():
    from matcher.commands.suggest import _check_min_score

    _check_min_score(5.0, learned=True)  # log-odds: any number
    _check_min_score(1.0, learned=False)
    with pytest.raises(MatcherError):
        _check_min_score(float("nan"), learned=True)


def test_shortlist_refuses_a_nan_min_score(tmp_path, capsys):
    src = write(tmp_path / "s.csv", SUGGESTIONS)
    code, err = run(capsys, "shortlist", "--suggestions", src, "--min-score", "nan", "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "must be a number" in err


def test_an_infinite_capacity_is_refused_by_row(tmp_path, capsys):
    code, err = shortlist_with_capacities(tmp_path, capsys, "id,capacity\nC001,inf\n")
    assert code == 2 and "must be a whole number >= 0" in err


@pytest.mark.parametrize("argv", [
    ["evaluate", "--kind", "east_west", "--out", "{missing}/ranks.csv"],
    ["learn", "--kind", "east_west", "--simulate", "40", "--out", "{missing}/model.json"],
    ["suggest", "--kind", "east_west", "--top", "2", "--out", "{missing}/s.csv"],
])
def test_an_output_into_a_missing_folder_is_said_before_any_work(tmp_path, capsys, argv):
    """evaluate and learn failed only after their whole run (about 20 s) when --out's folder was missing."""
    import time


    started = time.monotonic()
    code = main([a.replace("{missing}", str(tmp_path / "no" / "such")) for a in argv])
    said = capsys.readouterr().err
    assert code == 2 and "does not exist" in said and "Nothing was run" in said, said
    assert time.monotonic() - started < 5


def test_synth_still_creates_its_output_folder(tmp_path):

    assert main(["synth", "--enterprises", "5", "--seed", "1", "--out", str(tmp_path / "new" / "set")]) == 0
    assert (tmp_path / "new" / "set" / "enterprises.csv").is_file()


def test_slots_of_zero_are_refused_before_any_warning(tmp_path, capsys):

    shortlist = tmp_path / "s.csv"
    shortlist.write_text("left_id,right_id,score\nC001,C093,0.5\nC002,C094,0.4\n", encoding="utf-8")
    code = main(["schedule", "--shortlist", str(shortlist), "--slots", "0", "--tables", "1",
                 "--out", str(tmp_path / "o.csv")])
    said = capsys.readouterr().err
    assert code == 2 and "number of slots must be a whole number from 1" in said
    assert "cannot all fit" not in said and "reading" not in said  # said before the file is read


def test_a_date_that_is_not_on_the_calendar_is_called_so(tmp_path, capsys):

    shortlist = tmp_path / "s.csv"
    shortlist.write_text("left_id,right_id,score\nC001,C093,0.5\n", encoding="utf-8")
    for day, words in (("2026-02-30", "is not a date of the calendar"), ("30/02/2026", "is not YYYY-MM-DD")):
        code = main(["schedule", "--shortlist", str(shortlist), "--slots", "2", "--tables", "1", "--date", day,
                     "--out", str(tmp_path / "o.ics")])
        assert code == 2 and words in capsys.readouterr().err


def test_gaps_of_a_market_says_its_chain_position_is_unknown_not_nan(capsys):

    assert main(["gaps", "--for", "M001"]) == 0
    said = capsys.readouterr().out
    assert "nan" not in said and "chain position unknown" in said


def test_suggestion_headers_are_read_whatever_their_case(tmp_path, capsys):
    """"Left_ID,Right_ID,Score" (a planner's own file) was refused as lacking left_id, right_id."""
    src = write(tmp_path / "s.csv", "Left_ID,RIGHT_ID, Score \nC001,M001,0.9\nC002,M002,0.6\n")
    code, err = run(capsys, "shortlist", "--suggestions", src, "--out", str(tmp_path / "o.csv"))
    assert code == 0, err
    assert pd.read_csv(tmp_path / "o.csv", encoding="utf-8-sig")["left_id"].tolist() == ["C001", "C002"]


def test_a_write_error_names_the_file_asked_for_not_its_temporary_name(tmp_path, capsys, monkeypatch):
    """Writers that go through ``atomic.replacing`` (the graph, calendars, backups) failed naming their
    hidden ``.NAME.RANDOM.partial`` file; the command line names the file the planner asked for."""
    from matcher.outputs import atomic

    gone = tmp_path / "gone"  # the temporary file's folder vanishes between the check and the write
    monkeypatch.setattr(atomic, "partial_path", lambda p: gone / f".{Path(p).name}.0123456789ab.partial")
    code, err = run(capsys, "graph", "--out", str(tmp_path / "chain.json"))
    assert code == 2 and ".partial" not in err and "chain.json" in err, err
    assert f"cannot write {tmp_path / 'chain.json'}" in err  # atomic.replacing names it, for every writer


def test_an_agenda_running_past_midnight_is_warned(tmp_path, capsys):
    shortlist = write(tmp_path / "s.csv", "left_id,right_id,score\nC001,C093,0.5\n")
    code, err = run(capsys, "schedule", "--shortlist", shortlist, "--slots", "10", "--tables", "1", "--date",
                    "2026-05-20", "--start", "23:50", "--out", str(tmp_path / "o.csv"))
    assert code == 0 and "after midnight" in err and "2026-05-21 03:10" in err
    code, err = run(capsys, "schedule", "--shortlist", shortlist, "--slots", "1", "--tables", "1", "--date",
                    "2026-05-20", "--start", "23:40", "--out", str(tmp_path / "o.csv"))
    assert code == 0 and "midnight" not in err  # ending at midnight is the same day's last meeting
