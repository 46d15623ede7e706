"""``schedule`` under hostile input (review findings 2 and 6): an event name or venue of several
lines, control characters in calendar text, participant ids too long for a file name, an
``--ics-dir`` that already holds an earlier run's calendars, an ``--out`` among the participants'
calendars, and a run that fails half-way. The CLI runs in-process on small files in ``tmp_path``."""

from __future__ import annotations

import errno
from pathlib import Path

import openpyxl
import pandas as pd
from icalendar import Calendar
from robustness.cli_runs import run

from matcher.meetings.schedule import schedule
from matcher.meetings.slots import SlotClock
from matcher.outputs import calendar
from matcher.outputs.calendar import calendar_file_names, write_ics

THREE = "left_id,right_id,score\nC001,M001,0.9\nC002,M002,0.5\nC001,M002,0.4\n"
ONE = "left_id,right_id,score\nC001,M001,0.9\n"
LONG_ID = "纺" * 90  # 270 bytes in UTF-8: more than a file name may have
CLOCK = SlotClock.parse("2026-05-20", "09:00", 20)


def shortlist(tmp_path: Path, text: str = THREE, name: str = "sl.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def schedule_args(short: str, out: Path, *extra: str) -> list[str]:
    return ["schedule", "--shortlist", short, "--slots", "4", "--tables", "4", "--date", "2026-05-20",
            "--out", str(out), *extra]


def events(path: Path) -> list:
    return list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def owners(folder: Path, whole: str = "all.ics") -> set[str]:
    """The participant ids the calendars in ``folder`` (but the whole schedule's) are for (their entries'
    category)."""
    found = set()
    for path in folder.glob("*.ics"):
        if path.name == whole:
            continue
        cats = {str(c) for e in events(path) for c in e["categories"].cats}
        assert len(cats) == 1, (path.name, cats)
        found |= cats
    return found


# finding 2: the event name and venue -------------------------------------------------------------


def test_an_event_name_of_two_lines_is_one_line_in_every_output(tmp_path, capsys):
    short = shortlist(tmp_path)
    event, venue = "2026 对接会\n第二场", "柯桥\t国际会展中心\r\n"
    code, err = run(capsys, *schedule_args(short, tmp_path / "k.ics", "--event", event, "--venue", venue))
    assert code == 0, err
    cal = Calendar.from_ical((tmp_path / "k.ics").read_bytes())
    assert str(cal["X-WR-CALNAME"]).startswith("2026 对接会 第二场 ")
    for e in cal.walk("VEVENT"):
        assert str(e["summary"]).startswith("2026 对接会 第二场 · ")
        assert str(e["location"]).startswith("柯桥 国际会展中心, ")
    # with a workbook and the per-participant calendars: all written, the run sheet's event one line
    code, err = run(capsys, *schedule_args(short, tmp_path / "k.xlsx", "--event", event, "--venue", venue,
                                           "--ics-dir", str(tmp_path / "cal")))
    assert code == 0, err
    run_sheet = openpyxl.load_workbook(tmp_path / "k.xlsx")["run"]
    values = {row[0]: row[1] for row in run_sheet.iter_rows(values_only=True)}
    assert values["event_name"] == "2026 对接会 第二场" and values["venue"] == "柯桥 国际会展中心"
    assert owners(tmp_path / "cal") == {"C001", "C002", "M001", "M002"}


def test_an_event_name_with_a_control_character_is_refused_before_anything_is_written(tmp_path, capsys):
    short = shortlist(tmp_path)
    for option in ("--event", "--venue"):
        code, err = run(capsys, *schedule_args(short, tmp_path / "k.xlsx", option, "对接会\x1b[2J",
                                               "--ics-dir", str(tmp_path / "cal")))
        assert code == 2 and f"{option} holds a control character" in err and "Nothing was written" in err
        assert not (tmp_path / "k.xlsx").exists() and not (tmp_path / "cal").exists()


def test_every_calendar_text_is_written_safely_whatever_it_holds(tmp_path):
    """Line breaks, control characters and separators in the event, venue, run id and names: the file
    parses, every property is one line, and no control character is left in it."""
    hostile = "a\nb\r\nc\x1b[2Jd\x00e\x7ff\u2028g\x85h\ti\x0bj"
    pairs = {"left_id": ["C001"], "right_id": ["M001"], "score": [0.9],
             "left_name_zh": [hostile], "left_name_en": ["=1+1\n" + hostile], "right_name_zh": ["\r=2+2"],
             "right_name_en": [hostile]}
    plan = schedule(pd.DataFrame(pairs), 2, 1)
    meta = {"event_name": hostile, "venue": "\n" + hostile, "run_id": hostile}
    data = write_ics(plan, tmp_path / "c.ics", CLOCK, metadata=meta).read_bytes()
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line and "\r" not in line for line in lines)
    assert not any(ch in text for ch in "\x00\x1b\x7f\x0b\x85\u2028")
    cal = Calendar.from_ical(data)
    assert str(cal["X-WR-CALNAME"]).startswith("a b c\ufffd[2Jd\ufffde\ufffdf g h i j ")
    for e in cal.walk("VEVENT"):
        for name in ("summary", "location", "uid"):
            assert "\n" not in str(e[name]) and "\t" not in str(e[name])
        assert "'=2+2" in str(e["summary"]) or "'=2+2" in str(e["description"])


# finding 6: the per-participant calendars --------------------------------------------------------


def test_an_id_too_long_for_a_file_name_gets_a_short_name_with_a_hash(tmp_path, capsys):
    short = shortlist(tmp_path, f"left_id,right_id,score\nC001,M001,0.9\n{LONG_ID},M002,0.5\nC002,M003,0.4\n")
    folder = tmp_path / "cal"
    code, err = run(capsys, *schedule_args(short, tmp_path / "all.ics", "--ics-dir", str(folder)))
    assert code == 0, err
    assert owners(folder) == {"C001", "C002", "M001", "M002", "M003", LONG_ID}
    long_name = next(p.name for p in folder.glob("纺*.ics"))
    assert len(long_name.encode()) <= 120 and long_name.startswith("纺" * 30)  # readable, and fits
    assert not list(tmp_path.rglob(".*"))  # no staging folder, no temporary file left
    # two long ids alike in their first hundred bytes, and ids that clean to one long name: distinct names
    ids = [LONG_ID, LONG_ID + "x", "a/" + LONG_ID, "a_" + LONG_ID, "c001", "C001"]
    names = calendar_file_names(ids)
    assert len({n.casefold() for n in names.values()}) == len(ids)
    assert all(len(n.encode()) <= 255 - 30 for n in names.values())  # room for the temporary names too


def test_a_failed_run_leaves_no_calendar_and_keeps_the_earlier_output(tmp_path, capsys, monkeypatch):
    short = shortlist(tmp_path)
    out, folder = tmp_path / "k.xlsx", tmp_path / "cal"
    out.write_bytes(b"the earlier schedule")
    folder.mkdir()
    (folder / "readme.txt").write_text("keep me", encoding="utf-8")
    before = snapshot(tmp_path)
    written = []
    real = calendar.write_bytes

    def disk_fills(path, data):  # the third calendar finds the disk full
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(path)
        return real(path, data)

    monkeypatch.setattr(calendar, "write_bytes", disk_fills)
    code, err = run(capsys, *schedule_args(short, out, "--ics-dir", str(folder)))
    assert code == 2 and "No space left on device" in err, err
    assert snapshot(tmp_path) == before  # no calendar, no staging folder, the workbook as it was
    monkeypatch.undo()

    # the schedule itself failing once the calendars are staged: none of them is moved in
    import matcher.outputs.export as export

    def fails(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "write_schedule", fails)
    code, err = run(capsys, *schedule_args(short, out, "--ics-dir", str(tmp_path / "new" / "cal")))
    assert code == 2, err
    assert snapshot(tmp_path) == before and not (tmp_path / "new").exists()


def test_a_folder_holding_an_earlier_runs_calendars_needs_force(tmp_path, capsys):
    folder = tmp_path / "cal"
    code, err = run(capsys, *schedule_args(shortlist(tmp_path), tmp_path / "a.ics", "--ics-dir", str(folder)))
    assert code == 0, err
    (folder / "notes.txt").write_text("the planner's own file", encoding="utf-8")
    one = shortlist(tmp_path, ONE, "one.csv")
    before = snapshot(tmp_path)
    code, err = run(capsys, *schedule_args(one, tmp_path / "b.ics", "--ics-dir", str(folder)))
    assert code == 2 and "already holds 4 .ics file(s)" in err and "--force" in err, err
    assert snapshot(tmp_path) == before  # the earlier calendars untouched, no b.ics
    code, err = run(capsys, *schedule_args(one, tmp_path / "b.ics", "--ics-dir", str(folder), "--force"))
    assert code == 0, err
    assert "removed 2 earlier calendar file(s)" in err and "C002.ics" in err and "M002.ics" in err
    assert sorted(p.name for p in folder.iterdir()) == ["C001.ics", "M001.ics", "notes.txt"]
    assert owners(folder) == {"C001", "M001"} and len(events(folder / "C001.ics")) == 1


def test_out_cannot_be_a_participants_calendar_in_the_ics_dir(tmp_path, capsys):
    short, folder = shortlist(tmp_path), tmp_path / "cal"
    folder.mkdir()
    for name in ("C001.ics", "c001.ICS"):  # a case-insensitive disk would take one for the other
        code, err = run(capsys, *schedule_args(short, folder / name, "--ics-dir", str(folder)))
        assert code == 2 and "participant C001's calendar" in err and "Nothing was written" in err, err
        assert list(folder.iterdir()) == []
    # another name in the same folder is the whole schedule, kept when the calendars are replaced
    whole = folder / "all.ics"
    for extra in ((), ("--force",)):
        code, err = run(capsys, *schedule_args(short, whole, "--ics-dir", str(folder), *extra))
        assert code == 0, err
        assert len(events(whole)) == 6 and owners(folder) == {"C001", "C002", "M001", "M002"}


def test_force_without_ics_dir_is_said(tmp_path, capsys):
    code, err = run(capsys, *schedule_args(shortlist(tmp_path), tmp_path / "k.csv", "--force"))
    assert code == 0 and "--force" in err
