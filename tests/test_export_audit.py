"""Defects of the meeting exports found by the browser audit (run sheet, scores, PDF agendas,
calendars, calendar file names, the meeting planner's messages), each with the test that keeps it
fixed."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from icalendar import Calendar

from matcher.meetings.schedule import schedule
from matcher.meetings.select import select
from matcher.meetings.slots import SlotClock
from matcher.outputs.calendar import write_ics
from matcher.outputs.export import write_xlsx
from matcher.outputs.pdf import write_pdf
from matcher.outputs.words import RUN_ITEMS

CLOCK = SlotClock.parse("2026-05-20", "09:00", 20)
#: An English reason as long as the audit's (cut off at "…nearby trans…" before).
LONG_EN = ("weaving feeds apparel; similar products; both in the Yangtze River Delta, Yangtze River Economic "
           "Belt; receiver is a textile transfer pilot park; nearby transfer (the receiver's nearest eastern "
           "cluster: 259 km); capacity transfer (spinning); docking experience (documented dockings: 1 and 2); "
           "lower labour cost at the receiver (minimum wage 1,100→720 yuan/month); 290 km")
LONG_ZH = "织造→服装互补；产品相近；同属长三角、长江经济带；承接方为纺织产业转移试点园区；就近转移（承接地最近的东部集群 259 公里）"


@pytest.fixture()
def pairs() -> pd.DataFrame:
    return pd.DataFrame({
        "kind": ["east_west"] * 3, "left_id": ["C028", "C003", "C004"], "right_id": ["C093", "C094", "C129"],
        "left_name_zh": ["兰溪", "张家港", "南通通州"], "left_name_en": ["Lanxi", "Zhangjiagang", "Nantong Tongzhou"],
        "right_name_zh": ["望江", "宿松", "伊宁县"], "right_name_en": ["Wangjiang", "Susong", "Yining County"],
        "score": [0.6196407446494469, 0.6772029859324294, 0.5123456789],
        "reason_zh": [LONG_ZH] * 3, "reason_en": [LONG_EN] * 3,
    })


@pytest.fixture()
def plan(pairs):
    return schedule(select(pairs, "capacity", cap=1), n_slots=3, n_tables=2)


def pdf_text(data: bytes | Path, mode: str = "-raw") -> str:
    """The PDF's text: ``-raw`` in the order it is drawn (a cell's lines together), ``-layout`` as laid out."""
    data = data.read_bytes() if isinstance(data, Path) else data
    return subprocess.run(["pdftotext", mode, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def run_sheet(book: openpyxl.Workbook) -> dict[str, object]:
    rows = list(book.worksheets[-1].iter_rows(values_only=True))
    return {str(k): v for k, v in rows[1:]}


class _Data:
    version, name = "69fbb8c3813f", "bundled"


# 1. the run sheet in the planner's language ------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_run_sheet_has_words_not_codes(tmp_path, lang):
    """What the app's shortlist page passes (``new_run(data, "shortlist", {}, planner=...)``): no kind
    code where a docking kind belongs, no untranslated item, no blank value, an anonymous planner is
    "未署名" / "unnamed" as the app says."""
    from app_components import downloads
    from app_components.i18n import UNNAMED_PLANNER
    from matcher.docking.engine import new_run

    meta = new_run(_Data(), "shortlist", {}, planner=UNNAMED_PLANNER)
    frame = pd.DataFrame({"kind": ["east_west"], "left_id": ["C1"], "right_id": ["C2"], "score": [0.5]})
    sheet = run_sheet(openpyxl.load_workbook(io.BytesIO(downloads.shortlist_xlsx(frame, meta, lang))))
    i = 0 if lang == "zh" else 1
    assert not set(sheet) & set(meta), sheet  # every item's label in words, none an id (weights_hash)
    assert all(v not in (None, "") for v in sheet.values()), sheet  # no blank preset
    assert "shortlist" not in sheet.values() and UNNAMED_PLANNER not in sheet.values()
    assert sheet[RUN_ITEMS["planner"][i]] == ("未署名", "unnamed")[i]
    assert sheet[RUN_ITEMS["export"][i]] == ("候选清单", "Shortlist")[i]
    assert RUN_ITEMS["kind"][i] not in sheet  # "docking kind: shortlist" is gone


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_meeting_run_sheet_names_the_preset_of_the_runs_behind_the_pairs(tmp_path, plan, pairs, lang):
    from app_components import meeting_plan
    from app_components.i18n import UNNAMED_PLANNER

    runs = pd.DataFrame({"run_id": ["r-old", "r-mine"], "kind": ["east_west"] * 2,
                         "weights": [{"chain": 0.5}, {"chain": 0.35}], "preset": ["transfer", "supply"]})
    meta = meeting_plan.metadata(_Data(), runs, ["east_west"], UNNAMED_PLANNER, 3, 2, run_ids=["r-mine"])
    write_xlsx(tmp_path / "m.xlsx", shortlist=pairs, plan=plan, metadata=meta, lang=lang)
    sheet = run_sheet(openpyxl.load_workbook(tmp_path / "m.xlsx"))
    i = 0 if lang == "zh" else 1
    preset = [v for k, v in sheet.items() if k.startswith(RUN_ITEMS["preset"][i])]
    assert preset == [("重供应链", "supply chain first")[i]], sheet
    assert [v for k, v in sheet.items() if k.startswith(RUN_ITEMS["weights"][i] + ("：", ": ")[i])] == [0.35]
    assert sheet[RUN_ITEMS["planner"][i]] == ("未署名", "unnamed")[i]


# 2. rounded scores ---------------------------------------------------------------------------------
def test_app_workbooks_hold_rounded_scores(plan, pairs):
    from app_components import downloads

    def scores(data: bytes) -> list[float]:
        book = openpyxl.load_workbook(io.BytesIO(data))
        out = []
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            for j, head in enumerate(rows[0]):
                if head in ("得分", "Score"):
                    out += [row[j] for row in rows[1:] if row[j] is not None]
        return out

    meta = {"run_id": "r1", "planner": "li"}
    shortlist = scores(downloads.shortlist_xlsx(pairs, meta, "zh"))
    meeting = scores(downloads.schedule_files(plan, CLOCK, pairs, meta, "en")["xlsx"])
    assert shortlist and meeting
    assert all(round(v, 4) == v for v in shortlist + meeting), shortlist + meeting
    assert 0.6772 in shortlist and 0.6772 in meeting


# 3. PDF agendas ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh", None])
def test_pdf_prints_the_whole_reason_fitting_headers_and_footer_in_words(tmp_path, plan, pairs, lang):
    path = write_pdf(plan, tmp_path / "a.pdf", clock=CLOCK, reasons=pairs, lang=lang,
                     metadata={"run_id": "run-42", "data_version": "dv-1"})
    text, laid_out = pdf_text(path), pdf_text(path, "-layout")
    flat = re.sub(r"\s+", "", text)
    if lang != "zh":
        assert re.sub(r"\s+", "", LONG_EN) in flat and "…" not in text
        assert "Run ID: run-42" in text and "Data version: dv-1" in text
    if lang != "en":
        assert re.sub(r"\s+", "", LONG_ZH) in flat
        assert "运行编号" in text and "数据版本" in text
    assert "run_id" not in text and "data_version" not in text
    lines = laid_out.splitlines()
    header = next(i for i, line in enumerate(lines) if "Slot" in line or "时段" in line)
    if lang == "en":  # the headers on one line, none broken ("Tabl" / "e")
        assert re.search(r"Slot\s+Time\s+Table\s+Partner\s+Topic", lines[header]), lines[header:header + 3]
    elif lang == "zh":
        assert re.search(r"时段\s+时间\s+桌号\s+对接方\s+议题", lines[header]), lines[header:header + 3]
    else:
        assert re.search(r"Slot\s+Time\s+Table\s+Partner\s+Topic", lines[header + 1]), lines[header:header + 3]


# 4. calendars carry the event and the venue --------------------------------------------------------
def _events(data: bytes) -> list:
    return [c for c in Calendar.from_ical(data).walk() if c.name == "VEVENT"]


def test_calendar_names_the_event_and_the_venue(tmp_path, plan, pairs):
    from app_components import downloads

    meta = {"run_id": "r1", "event_name": "2026 东西部纺织对接洽谈会", "venue": "=绍兴柯桥国际会展中心"}
    for data in (write_ics(plan, tmp_path / "c.ics", CLOCK, metadata=meta).read_bytes(),
                 downloads.schedule_files(plan, CLOCK, pairs, meta, "zh")["ics"]):
        events = _events(data)
        assert events
        for event in events:
            assert "2026 东西部纺织对接洽谈会" in str(event["summary"])
            location = str(event["location"])
            assert location.startswith("'=绍兴柯桥国际会展中心") and "Table" in location  # neutralised


def test_schedule_command_takes_event_and_venue(tmp_path, pairs):
    pairs.to_csv(tmp_path / "s.csv", index=False)
    out = tmp_path / "o.ics"
    done = subprocess.run([sys.executable, "-m", "matcher", "schedule", "--shortlist", str(tmp_path / "s.csv"),
                           "--slots", "3", "--tables", "2", "--date", "2026-05-20", "--out", str(out),
                           "--event", "对接会", "--venue", "柯桥"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    events = _events(out.read_bytes())
    assert events and all("对接会" in str(e["summary"]) and str(e["location"]).startswith("柯桥") for e in events)
    help_text = subprocess.run([sys.executable, "-m", "matcher", "schedule", "--help"], capture_output=True,
                               text=True).stdout
    assert "--event" in help_text and "--venue" in help_text


# 5. one calendar file per participant ----------------------------------------------------------------
def test_calendar_files_never_overwrite_each_other(tmp_path):
    # a/b and a_b clean to one name; x/Y and x_y to names that differ only in case (ids differing only in
    # case are look-alikes, refused: ingest.ids.fold_id)
    frame = pd.DataFrame({"left_id": ["a/b", "a_b", "x/Y", "x_y"], "right_id": ["M1", "M2", "M1", "M3"],
                          "score": [0.9, 0.8, 0.7, 0.6]})
    frame.to_csv(tmp_path / "s.csv", index=False)
    folder = tmp_path / "cal"
    done = subprocess.run([sys.executable, "-m", "matcher", "schedule", "--shortlist", str(tmp_path / "s.csv"),
                           "--slots", "5", "--tables", "5", "--date", "2026-05-20", "--out", str(tmp_path / "o.ics"),
                           "--ics-dir", str(folder)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = sorted(folder.glob("*.ics"))
    ids = {"a/b", "a_b", "x/Y", "x_y", "M1", "M2", "M3"}
    assert len(files) == len(ids)
    assert len({f.name.casefold() for f in files}) == len(files)  # distinct on a case-insensitive disk too
    owners = set()
    for f in files:
        cats = {str(c) for e in _events(f.read_bytes()) for c in e["categories"].cats}
        assert len(cats) == 1, (f.name, cats)
        owners |= cats
    assert owners == ids


# 6. the meeting planner says each message once --------------------------------------------------------
APP = Path(__file__).resolve().parents[1] / "app.py"


def _texts(at) -> list[str]:
    """Every text the page shows: alerts, captions, markdown and the labels of boxes (st.status)."""
    out = []
    for kind in ("success", "info", "warning", "error", "markdown", "caption"):
        out += [str(element.value) for element in at.get(kind)]

    def boxes(node) -> None:  # st.status and st.expander are blocks: their label is the message
        if getattr(node, "type", None) in ("status", "expandable", "expander"):
            out.append(str(getattr(node, "label", "")))
        for child in getattr(node, "children", {}).values():
            boxes(child)

    boxes(at._tree)
    return out


@pytest.fixture()
def workspace(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    return tmp_path / "workspace"


def _meetings_page():
    from streamlit.testing.v1 import AppTest  # noqa: TID251 - drives the app page, as tests/app do

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("app_pages/meetings.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="meetings.run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_meeting_planner_with_nothing_to_schedule_says_so_once(workspace):
    texts = _texts(_meetings_page())  # an empty store
    assert any("没有可排期" in x for x in texts), texts
    assert not any("先生成排期" in x for x in texts), texts  # not "run the scheduler first" right after running it


def test_meeting_planner_says_the_summary_once(workspace):
    from matcher.store import Store

    store = Store()
    sid = store.create_shortlist("会议清单", planner="li")["id"]
    store.add_items(sid, pd.DataFrame({"left_id": ["C001", "C002", "C003"], "right_id": ["C093", "C094", "C095"],
                                       "kind": "east_west", "score": [0.9, 0.8, 0.7]}), planner="li")
    texts = _texts(_meetings_page())
    assert len([x for x in texts if "已安排 3 场会谈" in x]) == 1, texts
