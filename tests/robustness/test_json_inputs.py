"""Every JSON input (weights, a model, a store backup, a JSON table, a shortlist's run metadata) goes
through one bounded reader (:mod:`matcher.jsonfile`): a device, a pipe or a folder is refused before
a byte is read, a file over its bound (``matcher.limits``) is refused, and JSON nested too deeply,
numbers too large for a column and notes too long get a clear message and exit 2, never a traceback.

Run through ``matcher.cli.main`` in-process, as a planner runs them, with memory capped (an unbounded
read fails the test with ``MemoryError`` instead of taking the machine down).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from matcher import limits
from matcher.cli import main
from matcher.exceptions import ConflictError, MatcherError, ValidationError
from matcher.jsonfile import JsonFileError, read_json_file

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

#: A refusal must come at once: nothing is read from a device or waited for on a pipe.
SECONDS = 10.0
SUGGEST = ["suggest", "--kind", "east_west", "--top", "2", "--for", "C001"]
DEEP = "[" * 100_000


@pytest.fixture(autouse=True)
def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh SQLite store per test, in the test's own folder."""
    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "ws"))


def _refused(argv: list[str], capsys: pytest.CaptureFixture, words: str) -> str:
    """Run the command line; assert exit 2 within :data:`SECONDS`, no traceback, and ``words`` said."""
    started = time.perf_counter()
    code = main([str(a) for a in argv])
    seconds = time.perf_counter() - started
    said = capsys.readouterr()
    said = said.out + said.err
    assert code == 2, f"exit {code}\n{said[-2000:]}"
    assert "Traceback" not in said, said[-2000:]
    assert words in said, said[-2000:]
    assert seconds < SECONDS, f"{seconds:.1f} s"
    return said


@contextlib.contextmanager
def _rescued_fifo(path: Path):
    """A named pipe at ``path``; a reader still waiting on it after :data:`SECONDS` is let go (a
    writer opens and closes it), so code that opens the pipe fails the test instead of hanging it."""
    os.mkfifo(path)
    done = threading.Event()

    def rescue() -> None:
        if done.wait(SECONDS):
            return
        with contextlib.suppress(OSError):  # ENXIO: nobody is reading, nothing to rescue
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    helper = threading.Thread(target=rescue, daemon=True)
    helper.start()
    try:
        yield path
    finally:
        done.set()
        helper.join()


def _backup(tmp_path: Path, change=None) -> Path:
    """A real backup of a store holding one outcome, changed by ``change(data)`` before it is written."""
    from matcher.store import Store

    source = Store(f"sqlite:///{tmp_path / 'source.db'}")
    source.record_outcome("C001", "M001", "cluster_market", stage="meeting", value="met", planner="li")
    path = tmp_path / "backup.json"
    source.backup(path)
    if change is not None:
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- not a regular file --------------------------------------------------------------------------

DEVICE_CASES = {
    "weights": (SUGGEST + ["--weights", "{file}", "--out", "{tmp}/o.csv"], "give a weights file"),
    "model (suggest)": (SUGGEST + ["--model", "{file}", "--out", "{tmp}/o.csv"], "give a model file"),
    "model (evaluate)": (["evaluate", "--kind", "east_west", "--model", "{file}"], "give a model file"),
    "backup": (["store", "restore", "{file}"], "cannot be read as JSON: it is not a regular file"),
}


def _argv(case: str, file: Path, tmp_path: Path) -> list[str]:
    argv, _ = DEVICE_CASES[case]
    return [a.replace("{file}", str(file)).replace("{tmp}", str(tmp_path)) for a in argv]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize("case", list(DEVICE_CASES))
def test_a_device_is_refused_without_reading_it(case, tmp_path, capsys):
    said = _refused(_argv(case, Path("/dev/zero"), tmp_path), capsys, DEVICE_CASES[case][1])
    assert "/dev/zero: it is not a regular file but a device, pipe or socket" in said or "backup file /dev/zero" in said


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("case", list(DEVICE_CASES))
def test_a_named_pipe_is_refused_without_waiting_on_it(case, tmp_path, capsys):
    with _rescued_fifo(tmp_path / "pipe.json") as pipe:
        said = _refused(_argv(case, pipe, tmp_path), capsys, DEVICE_CASES[case][1])
    assert str(pipe) in said


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_as_a_table_or_run_sheet_is_not_waited_on(tmp_path, capsys):
    from matcher.commands.schedule import read_run_sheet

    with _rescued_fifo(tmp_path / "pipe.json") as pipe:
        _refused(["shortlist", "--suggestions", pipe, "--out", tmp_path / "s.csv"], capsys, "not a file")
        started = time.perf_counter()
        assert read_run_sheet(pipe) == {}  # the run metadata is optional: the shortlist's reader says why
        assert time.perf_counter() - started < SECONDS


def test_a_folder_and_a_missing_file_are_named(tmp_path, capsys):
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    _refused(SUGGEST + ["--model", folder, "--out", tmp_path / "o.csv"], capsys, "it is a folder, not a model file")
    _refused(["store", "restore", folder], capsys, "it is a folder, not a backup file")
    _refused(["store", "restore", tmp_path / "none.json"], capsys, f"The backup file {tmp_path / 'none.json'} does "
             "not exist")
    _refused(SUGGEST + ["--weights", tmp_path / "none.json", "--out", tmp_path / "o.csv"], capsys,
             "weights file not found")


# --- over the bound ------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--weights", "--model"])
def test_a_settings_file_over_its_bound_is_refused(flag, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "MAX_SETTINGS_JSON_BYTES", 100)
    file = tmp_path / "big.json"
    file.write_text(json.dumps({"weights": {"chain": 0.5}, "padding": "x" * 200}), encoding="utf-8")
    said = _refused(SUGGEST + [flag, file, "--out", tmp_path / "o.csv"], capsys, "it is 2")
    assert "may have at most 100 bytes (100 bytes)" in said


def test_a_backup_over_its_bound_is_refused(tmp_path, capsys, monkeypatch):
    backup = _backup(tmp_path)
    monkeypatch.setattr(limits, "MAX_DATA_JSON_BYTES", backup.stat().st_size - 1)
    _refused(["store", "restore", backup], capsys, "a backup file may have at most")
    monkeypatch.setattr(limits, "MAX_DATA_JSON_BYTES", backup.stat().st_size)  # the bound itself passes
    assert main(["store", "restore", str(backup)]) == 0


def test_a_json_table_over_its_bound_is_refused(tmp_path, capsys, monkeypatch):
    table = tmp_path / "suggestions.json"
    table.write_text(json.dumps([{"left_id": "C001", "right_id": "M001", "score": 0.5}] * 10), encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_DATA_JSON_BYTES", 100)
    _refused(["shortlist", "--suggestions", table, "--out", tmp_path / "s.csv"], capsys,
             "the file cannot be read as JSON: it is ")


def test_a_file_growing_while_read_cannot_pass(tmp_path, monkeypatch):
    file = tmp_path / "w.json"
    file.write_text('{"chain": 0.5, "distance": 0.25}', encoding="utf-8")
    real_fstat = os.fstat

    def small_at_first(fd):  # the size as it was when opened, before something appended to it
        found = real_fstat(fd)
        return os.stat_result((*found[:6], 10, *found[7:]))

    monkeypatch.setattr(os, "fstat", small_at_first)
    with pytest.raises(JsonFileError, match="grew past 20 bytes while it was read"):
        read_json_file(file, "weights", max_bytes=20)
    monkeypatch.undo()
    assert read_json_file(file, "weights", max_bytes=file.stat().st_size) == {"chain": 0.5, "distance": 0.25}


def test_the_bounds_admit_real_files():
    assert limits.MAX_SETTINGS_JSON_BYTES >= 16 << 20
    assert limits.MAX_DATA_JSON_BYTES >= 1 << 30


# --- what is inside -------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--weights", "--model"])
def test_deep_nesting_in_a_settings_file(flag, tmp_path, capsys):
    file = tmp_path / "deep.json"
    file.write_text(DEEP, encoding="utf-8")
    _refused(SUGGEST + [flag, file, "--out", tmp_path / "o.csv"], capsys, f"{file}: the JSON is nested too deeply")


def test_deep_nesting_in_a_backup(tmp_path, capsys):
    file = tmp_path / "deep.json"
    file.write_text(DEEP, encoding="utf-8")
    _refused(["store", "restore", file], capsys, "cannot be read as JSON: the JSON is nested too deeply")


@pytest.mark.parametrize("argv", [
    ["shortlist", "--suggestions", "{file}", "--out", "{tmp}/s.csv"],
    ["schedule", "--slots", "4", "--tables", "2", "--shortlist", "{file}", "--out", "{tmp}/m.xlsx"],
], ids=["shortlist", "schedule"])
def test_deep_nesting_in_a_json_table(argv, tmp_path, capsys):
    from matcher.commands.schedule import read_run_sheet

    file = tmp_path / "deep.json"
    file.write_text('{"shortlist": ' + DEEP, encoding="utf-8")
    argv = [a.replace("{file}", str(file)).replace("{tmp}", str(tmp_path)) for a in argv]
    _refused(argv, capsys, "the file cannot be read as JSON: the JSON is nested too deeply")
    assert read_run_sheet(file) == {}


def test_json_a_little_less_deep_is_still_told_clearly(tmp_path, capsys):
    """Deep enough to reach the rows, not deep enough for the parser to give up."""
    file = tmp_path / "backup.json"
    file.write_text('{"format": "matcher-store-backup", "format_version": 1, "tables": {"outcomes": '
                    + "[" * 900 + "]" * 900 + "}}", encoding="utf-8")
    _refused(["store", "restore", file], capsys, "table outcomes, row 1 is not an object")


def test_numbers_of_thousands_of_digits_are_not_json_we_read(tmp_path, capsys):
    file = tmp_path / "w.json"
    file.write_text('{"chain": ' + "9" * 5000 + "}", encoding="utf-8")
    _refused(SUGGEST + ["--weights", file, "--out", tmp_path / "o.csv"], capsys, f"{file}: not valid JSON")


def test_a_byte_order_mark_is_fine(tmp_path):
    file = tmp_path / "w.json"
    file.write_bytes(b"\xef\xbb\xbf" + b'{"chain": 1}')
    assert read_json_file(file, "weights", max_bytes=100) == {"chain": 1}


def test_a_broken_file_says_where(tmp_path):
    file = tmp_path / "w.json"
    file.write_text('{\n  "chain": 1,\n  oops\n}', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"w.json: not valid JSON \(line 3, column 3\)"):
        read_json_file(file, "weights", max_bytes=100)


# --- values a store cannot hold ---------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value", "words"), [
    ("id", 2**70, "table outcomes, row 1, id: 1180591620717411303424 is outside the whole numbers it holds"),
    ("rating", -(2**63), "table outcomes, row 1, rating: -9223372036854775808 is outside the whole numbers"),
    ("version", 10**400, "table outcomes, row 1, version: 1000"),
], ids=["id 2**70", "rating -2**63", "version 10**400"])
def test_a_number_too_large_for_its_column_is_refused(column, value, words, tmp_path, capsys):
    backup = _backup(tmp_path, lambda data: data["tables"]["outcomes"][0].update({column: value}))
    said = _refused(["store", "restore", backup], capsys, words)
    assert "nothing was restored" in said
    assert len(said) < 2_000  # a 400-digit number is not echoed whole
    assert main(["store", "restore", str(_backup(tmp_path))]) == 0  # and the store is still empty


def test_a_whole_number_too_large_for_a_float_column_is_refused(tmp_path):
    from matcher.store import models as m
    from matcher.store.rows import value_problem

    floats = [c.key for c in m.shortlist_items.c if type(c.type).__name__ == "Float"]
    assert floats, "shortlist items keep a score"
    assert "is not a number" in value_problem(m.shortlist_items, floats[0], 10**400)
    assert value_problem(m.shortlist_items, floats[0], 2**70) is None  # 1.2e21 is a float


# --- notes ----------------------------------------------------------------------------------------------

OUTCOME = ["store", "outcome", "--left", "C001", "--right", "M001", "--kind", "cluster_market", "--stage",
           "meeting", "--value", "met", "--planner", "li"]


def test_a_note_over_its_bound_is_refused_without_echoing_it(capsys):
    note = "很长的备注" * 1_000
    said = _refused(OUTCOME + ["--note", note], capsys, f"more than the {limits.MAX_NOTE_CHARS:,} a note may have")
    assert "The note is 5,000 characters long" in said and note[:300] not in said
    assert main(OUTCOME + ["--note", "x" * limits.MAX_NOTE_CHARS]) == 0  # the bound itself is kept


def test_a_conflict_does_not_echo_a_long_note(tmp_path):
    from matcher.store import Store

    store = Store(f"sqlite:///{tmp_path / 'notes.db'}")
    key = ("C001", "M001", "cluster_market")
    store.record_outcome(*key, stage="meeting", value="met", planner="li", note="a" * limits.MAX_NOTE_CHARS)
    with pytest.raises(ConflictError) as caught:
        store.record_outcome(*key, stage="meeting", value="met", planner="wang", note="b" * limits.MAX_NOTE_CHARS)
    message = str(caught.value)
    assert "yours 'bbbb" in message and "theirs 'aaaa" in message and f"({limits.MAX_NOTE_CHARS + 2:,} characters)" \
        in message
    assert "b" * 300 not in message and len(message) < 1_000


def test_an_unknown_kind_is_not_echoed_whole(tmp_path):
    from matcher.store import Store

    store = Store(f"sqlite:///{tmp_path / 'kinds.db'}")
    with pytest.raises(MatcherError, match="Docking kind 'xxxx") as caught:
        store.record_outcome("C001", "M001", "x" * 100_000, stage="meeting", value="met", planner="li")
    assert len(str(caught.value)) < 1_000


def test_a_key_given_twice_is_refused_not_the_last_one_kept(tmp_path, capsys):
    """``{"weights": {"trade": 1, "trade": 0}}`` weighed trade 0 without a word (``json`` keeps the last)."""
    f = tmp_path / "w.json"
    f.write_text('{"weights": {"trade": 1, "trade": 0}}', encoding="utf-8")
    with pytest.raises(JsonFileError, match="the key 'trade' appears twice"):
        read_json_file(f, "weights", max_bytes=1000)
    assert main(["suggest", "--kind", "cluster_market", "--weights", str(f), "--out", str(tmp_path / "s.csv")]) == 2
    assert "appears twice" in capsys.readouterr().err and not (tmp_path / "s.csv").exists()


def test_a_weight_in_quotes_is_text_not_a_number(tmp_path, capsys):
    f = tmp_path / "w.json"
    f.write_text('{"weights": {"trade": "0.5"}}', encoding="utf-8")
    assert main(["suggest", "--kind", "cluster_market", "--weights", str(f), "--out", str(tmp_path / "s.csv")]) == 2
    assert "the weight of 'trade' must be a number, not '0.5'" in capsys.readouterr().err
