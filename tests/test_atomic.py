"""Every file the product writes is written whole or not at all (``matcher.outputs.atomic``).

Each writer is made to fail half-way (its library writes part of the file, then fails, as a full
disk would): the earlier file keeps its bytes and no temporary file is left in the folder.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from matcher.exceptions import MatcherError
from matcher.meetings.schedule import schedule
from matcher.meetings.select import select
from matcher.meetings.slots import SlotClock
from matcher.outputs import atomic

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[1]
OLD = b"the earlier file"
FRAME = pd.DataFrame({"kind": ["cluster_market"] * 2, "left_id": ["C001", "C002"], "right_id": ["M001", "M001"],
                      "left_name_zh": ["柯桥", "常熟"], "right_name_zh": ["中国轻纺城"] * 2, "score": [0.9, 0.8],
                      "reason_zh": ["理由", "理由"], "reason_en": ["why", "why"]})


class DiskFull(OSError):
    pass


def _half_then_fail(target_arg: int = 1):
    """A stand-in for a library call that writes part of its file and then fails."""

    def fake(*args, **kwargs):
        target = kwargs.get("path") or args[target_arg]
        with open(str(target), "wb") as handle:  # not Path.write_bytes: that may be the call replaced
            handle.write(b"half")
        raise DiskFull(28, "No space left on device")

    return fake


def _writers(tmp_path):
    from matcher.outputs.calendar import write_ics
    from matcher.outputs.export import write_csv, write_json, write_shortlist
    from matcher.outputs.pdf import write_pdf

    plan = schedule(select(FRAME, "capacity", cap=2), n_slots=2, n_tables=1)
    clock = SlotClock.parse("2026-05-20", "09:00", 20)
    return {
        "csv": (lambda p: write_csv(FRAME, p), ("pandas.DataFrame.to_csv", 1)),
        "xlsx": (lambda p: write_shortlist(FRAME, p), ("xlsxwriter.Workbook.close", None)),
        "parquet": (lambda p: write_shortlist(FRAME, p), ("pandas.DataFrame.to_parquet", 1)),
        "json": (lambda p: write_json(FRAME, p), ("pathlib.Path.write_text", 0)),
        "pdf": (lambda p: write_pdf(plan, p, clock=clock), ("reportlab.platypus.SimpleDocTemplate.build", None)),
        "ics": (lambda p: write_ics(plan, p, clock), ("pathlib.Path.write_bytes", 0)),
    }


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "parquet", "json", "pdf", "ics"])
def test_a_write_that_fails_half_way_leaves_the_earlier_file(tmp_path, monkeypatch, suffix):
    write, (target, arg) = _writers(tmp_path)[suffix]
    path = tmp_path / f"out.{suffix}"
    write(path)  # a real write works and leaves one file
    assert path.stat().st_size > 0 and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    path.write_bytes(OLD)
    module, _, name = target.rpartition(".")
    if arg is None:  # a method on the writer's own object: the file it writes is that object's
        def fake(self, *args, **kwargs):
            with open(self.filename, "wb") as handle:
                handle.write(b"half")
            raise DiskFull(28, "No space left on device")
    else:
        inner = _half_then_fail(arg)

        def fake(*args, **kwargs):
            return inner(*args, **kwargs)
    monkeypatch.setattr(target, fake)
    with pytest.raises((DiskFull, MatcherError)):
        write(path)
    assert path.read_bytes() == OLD, f"{suffix}: the earlier file was changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name], f"{suffix}: a temporary file was left"


def test_a_backup_is_written_whole(tmp_path, monkeypatch):
    from matcher.store import Store

    store = Store(f"sqlite:///{tmp_path / 'matcher.db'}")
    backup = tmp_path / "backup.json"
    store.backup(backup)
    backup.write_bytes(OLD)

    def fail(*args, **kwargs):
        raise DiskFull(28, "No space left on device")

    monkeypatch.setattr("json.dump", fail)
    with pytest.raises(MatcherError):
        store.backup(backup)
    assert backup.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.json", "matcher.db"]


def test_a_backup_never_goes_over_the_live_database(tmp_path):
    from matcher.store import Store

    live = tmp_path / "matcher.db"
    store = Store(f"sqlite:///{live}")
    before = live.read_bytes()
    with pytest.raises(MatcherError, match="own database file"):
        store.backup(tmp_path / "." / "matcher.db")
    assert live.read_bytes() == before


def test_orphans_of_interrupted_writes_are_removed(tmp_path):
    old = tmp_path / ".out.xlsx.0123456789ab.partial"
    streamed = tmp_path / "big.parquet.partial"
    fresh = tmp_path / ".out.csv.ba9876543210.partial"
    for p in (old, streamed, fresh):
        p.write_bytes(b"x")
    hour_ago = time.time() - 7200
    for p in (old, streamed):
        os.utime(p, (hour_ago, hour_ago))
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    atomic.write_text(tmp_path / "out.json", "{}")  # every write tidies its folder first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, keep.name, "out.json"])


def test_no_writer_writes_to_its_final_name():
    """In the library, files are written through ``atomic``: a direct write goes to a temporary path
    (``tmp``) or is one of the writers that manage their own (streamed blocks, synthetic data sets)."""
    own = {"matcher/outputs/atomic.py", "matcher/outputs/writers.py", "matcher/ingest/synth.py"}
    direct = re.compile(r"\.(write_text|write_bytes|to_csv|to_parquet|to_excel)\(|Workbook\(|open\([^)]*[\"'][wa]b?[\"']|"
                        r"write_graphml\(")
    found = []
    for file in sorted((ROOT / "matcher").rglob("*.py")):
        name = file.relative_to(ROOT).as_posix()
        if name in own:
            continue
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#")[0]
            if direct.search(code) and "tmp" not in code and not code.lstrip().startswith((">>>", "...")):
                found.append(f"{name}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_a_device_or_pipe_is_never_replaced_and_a_link_is_written_through(tmp_path):
    """``gaps --out /dev/null`` renamed its file over the device: as root, /dev/null became a file for every
    program. A target that is not a regular file is refused by name; a link's file is written, the link kept."""
    from matcher.cli import main
    from matcher.outputs.writers import CsvBlockWriter

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    real = tmp_path / "real.csv"
    real.write_bytes(OLD)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    for target in (fifo, tmp_path / "stdout"):
        if target.name == "stdout":
            target.symlink_to(fifo)  # as /dev/stdout -> /proc/self/fd/1 -> a pipe
        with pytest.raises(MatcherError, match=rf"cannot write {re.escape(str(target))}: it is not a regular file"):
            atomic.write_bytes(target, b"x")
        with pytest.raises(MatcherError, match="not a regular file"):
            CsvBlockWriter(target)
        assert main(["gaps", "--out", str(target)]) == 2
    assert fifo.is_fifo()
    atomic.write_bytes(link, b"through the link")
    assert link.is_symlink() and real.read_bytes() == b"through the link"


def test_a_write_refused_by_the_disk_names_the_file_asked_for(tmp_path, monkeypatch):
    """On a read-only disk even removing the temporary file that is not there fails, and that error named
    the hidden ``.partial`` file instead of the one asked for."""
    import errno

    real_unlink = Path.unlink

    def read_only(self, missing_ok=False):
        if self.name.endswith(atomic.PARTIAL_SUFFIX):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(args[0]))

    monkeypatch.setattr(Path, "unlink", read_only)
    monkeypatch.setattr(Path, "write_bytes", refuse)
    asked = tmp_path / "out.bin"
    with pytest.raises(MatcherError, match=rf"^cannot write {re.escape(str(asked))}: Read-only file system$"):
        atomic.write_bytes(asked, b"x")


def test_validate_never_writes_its_problems_over_a_file_it_validates(tmp_path, capsys):
    """``validate markets.csv --problems-csv markets.csv`` replaced the planner's file with the problem list."""
    import shutil

    from matcher.cli import main
    from matcher.ingest.dataset import BUNDLED_DATA

    folder = tmp_path / "folder"
    shutil.copytree(BUNDLED_DATA, folder)
    single = tmp_path / "markets.csv"
    shutil.copy(BUNDLED_DATA / "markets.csv", single)
    before = {p: p.read_bytes() for p in (single, folder / "clusters.csv")}
    for args in (["validate", str(single), "--problems-csv", str(single)],
                 ["validate", str(BUNDLED_DATA / "markets.csv"), str(single), "--problems-csv", str(single)],
                 ["validate", str(folder), "--problems-csv", str(folder / "clusters.csv")],
                 ["validate", str(single), "--clusters", str(folder / "clusters.csv"),
                  "--problems-csv", str(folder / "clusters.csv")]):
        assert main(args) == 2
        assert "Nothing was written" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before} == before


def test_table_outputs_are_checked_before_the_work(tmp_path, capsys):
    """``gaps --out x.xlsx`` wrote CSV bytes under an .xlsx name (Excel refuses it); ``evaluate`` said an
    unusable --out, or a --regional file without its columns, only after the whole evaluation."""
    from matcher.cli import main

    assert main(["gaps", "--out", str(tmp_path / "gaps.xlsx")]) == 2
    assert "name the file .csv" in capsys.readouterr().err and not list(tmp_path.iterdir())
    assert main(["evaluate", "--kind", "east_west", "--out", str(tmp_path)]) == 2
    (tmp_path / "regional.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["evaluate", "--kind", "east_west", "--regional", str(tmp_path / "regional.csv")]) == 2
    err = capsys.readouterr().err
    assert "missing column(s) query" in err and "engine_cv" not in err and "candidates and features" not in err
