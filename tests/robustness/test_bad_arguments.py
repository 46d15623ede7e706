"""Every bad argument gets a clear message and exit 2 within 10 s: never a traceback, nothing lost.

Each case runs the command line in-process (``matcher.cli.main``, as the CLI tests do) and checks the
exit code, the time, the words of the message and that no traceback or raw terminal control
character reached the terminal; a few run as a real subprocess too, with memory capped at 3 GB.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 10.0
MEMORY_BYTES = 3 << 30


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad-arguments")
    (folder / "utf16.json").write_bytes('{"weights": {"chain": 1}}'.encode("utf-16"))
    (folder / "binary.json").write_bytes(bytes(range(256)) * 4)
    (folder / "a-folder.json").mkdir()
    (folder / "nested.json").write_text('{"weights": {"chain": {"x": 1}}}', encoding="utf-8")
    (folder / "scalar.json").write_text("5", encoding="utf-8")
    (folder / "inf.json").write_text('{"weights": {"chain": Infinity}}', encoding="utf-8")
    (folder / "nan.json").write_text('{"weights": {"chain": NaN}}', encoding="utf-8")
    (folder / "fake.xlsx").write_text("left_id,right_id,score\nC001,M001,0.5\n", encoding="utf-8")
    (folder / "scores-inf.csv").write_text("left_id,right_id,score\nC001,M001,inf\nC002,M002,0.4\n", encoding="utf-8")
    (folder / "scores-nan.csv").write_text("left_id,right_id,score\nC001,M001,nan\n", encoding="utf-8")
    (folder / "pairs.csv").write_text("left_id,right_id,score\nC001,M001,0.5\n", encoding="utf-8")
    (folder / "existing.csv").write_text("keep me\n", encoding="utf-8")
    escape = folder / "escape"
    escape.mkdir()
    rows = ["id,name_zh,province,stages"] + [f"C{i:03d},名{i},浙江,weaving" for i in range(50)]
    (escape / "clusters.csv").write_text("\n".join(rows + ["C999,名,浙江,\x1b[2J\x1b]0;owned\x07silk"]) + "\n",
                                         encoding="utf-8")
    return folder


SUGGEST = ["suggest", "--kind", "east_west", "--top", "2", "--for", "C001"]
SCHEDULE = ["schedule", "--slots", "4", "--tables", "2"]
CASES = {
    "output in a missing folder": (SUGGEST + ["--out", "{f}/missing/out.csv"], "folder {f}/missing does not exist"),
    "output in a missing folder (schedule)": (SCHEDULE + ["--shortlist", "{f}/pairs.csv", "--out",
                                                          "{f}/missing/m.xlsx"], "does not exist; create it first"),
    "output that is a folder": (SUGGEST + ["--out", "{f}/a-folder.json"], "it is a folder"),
    "weights in UTF-16": (SUGGEST + ["--weights", "{f}/utf16.json", "--out", "{f}/o.csv"], "not a UTF-8 text file"),
    "weights file binary": (SUGGEST + ["--weights", "{f}/binary.json", "--out", "{f}/o.csv"], "not a UTF-8 text file"),
    "weights file a folder": (SUGGEST + ["--weights", "{f}/a-folder.json", "--out", "{f}/o.csv"], "is a folder"),
    "weights nested": (SUGGEST + ["--weights", "{f}/nested.json", "--out", "{f}/o.csv"], "must be a number"),
    "weights a scalar JSON": (SUGGEST + ["--weights", "{f}/scalar.json", "--out", "{f}/o.csv"],
                              "expected an object of feature weights"),
    "weights infinite": (SUGGEST + ["--weights", "{f}/inf.json", "--out", "{f}/o.csv"], "not inf"),
    "weights NaN": (SUGGEST + ["--weights", "{f}/nan.json", "--out", "{f}/o.csv"], "not nan"),
    "weights a fake XLSX": (SUGGEST + ["--weights", "{f}/fake.xlsx", "--out", "{f}/o.csv"], "not valid JSON"),
    "negative --top": (["suggest", "--kind", "east_west", "--top", "-3", "--out", "{f}/o.csv"], "at least 1"),
    "negative block size": (SUGGEST + ["--backend", "blocks", "--block-size", "-1", "--out", "{f}/o.csv"],
                            "block size must be at least 1"),
    "Dask scheduler nobody listens on": (SUGGEST + ["--scheduler", "tcp://127.0.0.1:1", "--out", "{f}/o.csv"],
                                         "cannot reach the Dask scheduler"),
    "Dask scheduler address malformed": (SUGGEST + ["--scheduler", "tcp://256.1.1.1:99999", "--out", "{f}/o.csv"],
                                         "is not tcp://HOST:PORT"),
    "infinite score": (SCHEDULE + ["--shortlist", "{f}/scores-inf.csv", "--out", "{f}/m.xlsx"], "not a number"),
    "NaN score": (SCHEDULE + ["--shortlist", "{f}/scores-nan.csv", "--out", "{f}/m.xlsx"], "not a number"),
    "unknown time zone": (SCHEDULE + ["--shortlist", "{f}/pairs.csv", "--date", "2026-05-20", "--timezone",
                                      "Mars/Base", "--out", "{f}/m.ics"], "unknown time zone 'Mars/Base'"),
    "date out of range": (SCHEDULE + ["--shortlist", "{f}/pairs.csv", "--date", "1900-01-01", "--out", "{f}/m.ics"],
                          "not between 2000 and 2100"),
    "date not a date": (SCHEDULE + ["--shortlist", "{f}/pairs.csv", "--date", "99999-01-01", "--out", "{f}/m.ics"],
                        "is not YYYY-MM-DD"),
    "negative slots": (["schedule", "--slots", "-4", "--tables", "2", "--shortlist", "{f}/pairs.csv", "--out",
                        "{f}/m.xlsx"], "from 1 to 500"),
    "slot length of a day and more": (SCHEDULE + ["--shortlist", "{f}/pairs.csv", "--date", "2026-05-20", "--minutes",
                                                  "5000", "--out", "{f}/m.ics"], "5 to 480 minutes"),
    "shortlist a fake XLSX": (SCHEDULE + ["--shortlist", "{f}/fake.xlsx", "--out", "{f}/m.xlsx"],
                              "not an Excel workbook"),
    "terminal escape codes in data": (["validate", "{f}/escape/clusters.csv"], "\\x1b[2J"),
    "validate a file that is not there": (["validate", "{f}/nowhere.csv"], "nowhere.csv: file not found"),
    "start time no time, without a date": (SCHEDULE + ["--shortlist", "{f}/pairs.csv", "--start", "25:99", "--out",
                                                       "{f}/m.xlsx"], "start time '25:99' is not HH:MM"),
    "slot length 0, without a date": (SCHEDULE + ["--shortlist", "{f}/pairs.csv", "--minutes", "0", "--out",
                                                  "{f}/m.xlsx"], "slot length must be 5 to 480 minutes"),
    "no partners per gap": (["gaps", "--for", "C056", "--partners", "0"], "--partners must be from 1 to 100"),
    "negative partners per gap": (["gaps", "--partners", "-1"], "--partners must be from 1 to 100"),
    "gap threshold not a number": (["gaps", "--for", "C056", "--threshold", "nan"], "--threshold must be above 0"),
    "gap threshold above 1": (["gaps", "--for", "C056", "--threshold", "5"], "--threshold must be above 0"),
    "no outcomes to simulate": (["learn", "--kind", "east_west", "--simulate", "0", "--out", "{f}/m.json"],
                                "simulate at least 2 outcomes"),
    "negative outcomes to simulate": (["learn", "--kind", "east_west", "--simulate", "-1", "--out", "{f}/m.json"],
                                      "simulate at least 2 outcomes"),
}


#: The cases also run as a real process, memory capped.
IN_A_PROCESS = ("output in a missing folder", "Dask scheduler nobody listens on", "terminal escape codes in data")


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_argument_gets_a_clear_message(files, tmp_path, monkeypatch, capsys, case):
    from matcher.cli import main

    argv, words = CASES[case]
    argv = [a.replace("{f}", str(files)) for a in argv]
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "workspace"))
    before = (files / "existing.csv").read_bytes()
    started = time.perf_counter()
    code = main(argv)
    seconds = time.perf_counter() - started
    out = capsys.readouterr()
    _judge(case, code, out.out + out.err, words.replace("{f}", str(files)), seconds)
    assert (files / "existing.csv").read_bytes() == before


@pytest.mark.parametrize("case", IN_A_PROCESS)
def test_a_bad_argument_in_a_real_process(files, tmp_path, case):
    argv, words = CASES[case]
    argv = [a.replace("{f}", str(files)) for a in argv]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "matcher", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, preexec_fn=_cap_memory, env={"PATH": "/usr/bin:/bin", "MATCHER_WORKSPACE":
                                                                    str(tmp_path / "workspace")})
    _judge(case, done.returncode, done.stdout + done.stderr, words.replace("{f}", str(files)),
           time.perf_counter() - started)


def _judge(case: str, code: int, said: str, words: str, seconds: float) -> None:
    assert code == 2, f"{case}: exit {code}\n{said[-2000:]}"
    assert "Traceback" not in said, said[-2000:]
    assert words in said, said[-2000:]
    assert "\x1b" not in said and "\x07" not in said, "a terminal control character was printed raw"
    assert seconds < SECONDS, f"{case}: {seconds:.1f} s"


def test_a_database_url_with_a_bad_port_is_said(tmp_path):
    done = subprocess.run([sys.executable, "-m", "matcher", "store", "init"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, preexec_fn=_cap_memory,
                          env={"PATH": "/usr/bin:/bin", "MATCHER_DB_URL": "postgresql+psycopg://u:secret@localhost:99999/db"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "invalid port number" in done.stderr and "secret" not in done.stderr


@pytest.mark.parametrize(("argv", "words"), [
    # a suggestions file written over the data it was computed from
    (["suggest", "--data", "{d}", "--kind", "east_west", "--top", "2", "--out", "{d}/clusters.csv"],
     "would replace the clusters table of the data folder"),
    # a table the data folder does not have yet would be read next time
    (["suggest", "--data", "{d}", "--kind", "east_west", "--top", "2", "--out", "{d}/markets.xlsx"],
     "would replace the markets table"),
    (["evaluate", "--kind", "east_west", "--known", "{d}/known_dockings.csv", "--out", "{d}/known_dockings.csv"],
     "is the file given as --known"),
    (["shortlist", "--suggestions", "{d}/pairs.csv", "--out", "{d}/pairs.csv"], "is the file given as --suggestions"),
    (["shortlist", "--suggestions", "{d}/pairs.csv", "--forbid", "{d}/known_dockings.csv", "--out",
      "{d}/known_dockings.csv"], "is the file given as --forbid"),
    (["shortlist", "--suggestions", "{d}/pairs.csv", "--method", "capacity", "--capacities", "{d}/known_dockings.csv",
      "--out", "{d}/known_dockings.csv"], "is the file given as --capacities"),
    # evaluate writes the ranks of the dockings named by region beside --out, as FILE_regional
    (["evaluate", "--kind", "east_west", "--known", "{d}/known_dockings.csv", "--regional", "{d}/r_regional.csv",
      "--out", "{d}/r.csv"], "r_regional.csv is the file given as --regional"),
])
def test_an_output_never_replaces_an_input(tmp_path, capsys, argv, words):
    from matcher.cli import main
    from matcher.ingest.dataset import BUNDLED_DATA

    data = tmp_path / "data"
    data.mkdir()
    for name in ("clusters.csv", "known_dockings.csv"):
        (data / name).write_bytes((BUNDLED_DATA / name).read_bytes())
    (data / "pairs.csv").write_text("left_id,right_id,score\nC001,M001,0.5\n", encoding="utf-8")
    (data / "r_regional.csv").write_text("query,partner_provinces,kind\nC001,Xinjiang,east_west\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    code = main([a.replace("{d}", str(data)) for a in argv])
    said = capsys.readouterr()
    _judge(argv[0], code, said.out + said.err, words, 0.0)
    assert "Nothing was written" in said.err
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before  # nothing replaced, nothing added


def test_an_output_never_replaces_the_bundled_data(capsys):
    from matcher.cli import main
    from matcher.ingest.dataset import BUNDLED_DATA

    before = (BUNDLED_DATA / "clusters.csv").read_bytes()
    code = main(["suggest", "--kind", "east_west", "--top", "2", "--out", str(BUNDLED_DATA / "clusters.csv")])
    said = capsys.readouterr()
    _judge("bundled", code, said.out + said.err, "would replace the clusters table of the bundled data", 0.0)
    assert (BUNDLED_DATA / "clusters.csv").read_bytes() == before
    code = main(["synth", "--enterprises", "5", "--out", str(BUNDLED_DATA), "--force"])
    said = capsys.readouterr()
    _judge("bundled folder", code, said.out + said.err, "is the bundled data folder", 0.0)
    assert not (BUNDLED_DATA / "enterprises.csv").exists()


def test_a_backup_never_replaces_the_store_it_is_taken_from(tmp_path, monkeypatch, capsys):
    from matcher.cli import main

    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path))
    assert main(["store", "init"]) == 0
    before = (tmp_path / "matcher.db").read_bytes()
    capsys.readouterr()
    code = main(["store", "backup", "--out", str(tmp_path / "matcher.db")])
    said = capsys.readouterr()
    _judge("backup over the store", code, said.out + said.err, "is the store's database file", 0.0)
    assert (tmp_path / "matcher.db").read_bytes() == before
