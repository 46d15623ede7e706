"""Exports: no formulas anywhere, BOM CSV, Chinese in the PDF, calendars, the run sheet."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest
from icalendar import Calendar

from matcher.meetings.schedule import schedule
from matcher.meetings.select import select
from matcher.meetings.slots import SlotClock
from matcher.meetings.tables import read_suggestions
from matcher.outputs.calendar import write_ics, write_ics_per_participant
from matcher.outputs.cells import FORMULA_START, neutralise_cell, neutralise_frame
from matcher.outputs.export import write_csv, write_json, write_schedule, write_xlsx
from matcher.outputs.metadata import run_metadata
from matcher.outputs.pdf import write_pdf

NASTY = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+86 571", "-1+1", "\tTAB", "\rCR"]
CLOCK = SlotClock.parse("2026-05-20", "09:00", 20)
META = {
    "weights": {"supply": 0.4, "policy": 0.2},
    "data_version": "data-2026-05",
    "run_id": "run-42",
    "created_at": "2026-05-01T10:00:00",
}


@pytest.fixture()
def suggestions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["cluster_market"] * 4,
            "rank": [1, 2, 1, 1],
            "left_id": ["C001", "C001", "C002", "00123"],
            "right_id": ["M001", "M002", "M001", "M002"],
            "left_name_zh": [NASTY[0], NASTY[0], "常熟", "柯桥"],
            "left_name_en": [NASTY[1], NASTY[1], "Changshu", NASTY[3]],
            "right_name_zh": ["中国轻纺城", NASTY[2], "中国轻纺城", NASTY[2]],
            "right_name_en": ["China Textile City", NASTY[4], "China Textile City", NASTY[5]],
            "score": [0.9, 0.8, 0.85, 0.5],
            "reason_zh": ["供应互补", "=1+1", "市场渠道", "政策"],
            "reason_en": ["supply", "@x", "channel", "policy"],
            "w_supply": [0.4] * 4,
        }
    )


@pytest.fixture()
def plan(suggestions):
    return schedule(select(suggestions, "capacity", cap=2), n_slots=3, n_tables=2)


def test_neutralise_cell():
    for text in NASTY:
        assert neutralise_cell(text) == "'" + text
    assert neutralise_cell("常熟") == "常熟" and neutralise_cell("'=x") == "'=x"
    assert neutralise_cell(-1.5) == -1.5 and neutralise_cell(None) is None
    frame = neutralise_frame(pd.DataFrame({"=a": ["=b", "c"], "n": [-1, 2]}))
    assert list(frame.columns) == ["'=a", "n"] and frame["=a" if False else "'=a"].tolist() == ["'=b", "c"]


def test_xlsx_has_no_formula_and_every_sheet(tmp_path, plan, suggestions):
    path = write_xlsx(tmp_path / "m.xlsx", shortlist=suggestions, plan=plan, clock=CLOCK, metadata=META)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:6] == ["shortlist", "schedule", "grid", "agendas", "participants", "run"]
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_START)]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'" + NASTY[0] in texts and "'@SUM(A1)" in texts and "常熟" in texts
    header = [c.value for c in book["shortlist"][1]]
    assert "reason_zh" in header and "reason_en" in header
    schedule_header = [c.value for c in book["schedule"][1]]
    assert schedule_header[:6] == ["slot", "start", "end", "table", "left_id", "right_id"]
    run = {r[0]: r[1] for r in book["run"].iter_rows(min_row=2, values_only=True)}
    assert run["weights.supply"] == 0.4 and run["run_id"] == "run-42"
    assert run["data_version"] == "data-2026-05" and run["created_at"] == "2026-05-01T10:00:00"
    ids = [c.value for c in book["shortlist"]["C"][1:]]
    assert "00123" in ids  # leading zeros kept as text
    score = header.index("score")
    formats = {row[score].number_format for row in book["shortlist"].iter_rows(min_row=2)}
    assert formats == {"0.0000"}  # shown as the CSV rounds it (4 decimals), the exact value kept
    again = write_xlsx(tmp_path / "m2.xlsx", shortlist=suggestions, plan=plan, clock=CLOCK, metadata=META)
    assert again.read_bytes() == path.read_bytes()  # same input, same file


def test_csv_has_bom_and_no_formula_cell(tmp_path, plan):
    path = write_schedule(plan, tmp_path / "m.csv", clock=CLOCK)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["slot", "start", "end", "table"]
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_START)]
    assert any(cell == "'" + NASTY[0] for row in rows for cell in row)


def test_shortlist_round_trip_csv_and_json(tmp_path, suggestions):
    for path in (
        write_csv(suggestions, tmp_path / "s.csv"),
        write_json(suggestions, tmp_path / "s.json", META),
    ):
        back = read_suggestions(path)
        assert back["left_id"].tolist() == suggestions["left_id"].tolist()
        assert back["left_name_zh"].tolist() == suggestions["left_name_zh"].tolist()  # quote undone
    raw = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert raw["run"]["run_id"] == "run-42" and raw["shortlist"][0]["left_name_zh"].startswith("'=")


def pdf_text(path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    try:
        from pypdf import PdfReader
    except ImportError:
        pytest.fail("extracting PDF text needs pdftotext (apt-get install poppler-utils) or pypdf")
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_pdf_has_a_page_per_participant_with_chinese_text(tmp_path, plan):
    path = write_pdf(plan, tmp_path / "agendas.pdf", clock=CLOCK, metadata=META)
    text = pdf_text(path)
    for name in ("常熟", "柯桥", "中国轻纺城", "对接洽谈会议日程", "Docking meeting agenda", "run-42"):
        assert name in text
    assert text.count("Docking meeting agenda") == len(plan.participants())
    assert "'=HYPERLINK" in text  # shown, neutralised, like every export


def test_ics_entries_per_participant(tmp_path, plan):
    path = write_ics(plan, tmp_path / "all.ics", CLOCK, metadata=META)
    cal = Calendar.from_ical(path.read_bytes())
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 2 * len(plan.meetings)
    first = plan.meetings.iloc[0]
    starts = {(str(e.get("categories").cats[0]), e.decoded("dtstart").strftime("%H:%M")) for e in events}
    assert (first.left_id, CLOCK.starts(int(first.slot)).strftime("%H:%M")) in starts
    assert all(not str(e.get("summary")).startswith(FORMULA_START) for e in events)
    files = write_ics_per_participant(plan, tmp_path / "cals", CLOCK, metadata=META)
    assert len(files) == len(plan.participants())
    mine = Calendar.from_ical((tmp_path / "cals" / "C002.ics").read_bytes())
    assert len(list(mine.walk("VEVENT"))) == int(
        (plan.meetings[["left_id", "right_id"]] == "C002").sum().sum()
    )


def test_the_reason_travels_into_every_calendar_entry(tmp_path, plan, suggestions):
    """Both sides' entries say why the pair meets, in Chinese and English, with the data version."""
    path = write_ics(plan, tmp_path / "why.ics", CLOCK, metadata=META, reasons=suggestions)
    events = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
    reasons = {(a, b): (zh, en) for a, b, zh, en in suggestions[["left_id", "right_id", "reason_zh", "reason_en"]]
               .itertuples(index=False)}
    for e in events:
        text = str(e.get("description"))
        me = str(e.get("categories").cats[0])
        pair = next(p for p in reasons if me in p and p[0] in text and p[1] in text)
        zh, en = reasons[pair]
        assert f"对接理由: {neutralise_cell(zh)}" in text and f"Why: {neutralise_cell(en)}" in text
        assert "data-2026-05" in text
    write_ics_per_participant(plan, tmp_path / "per", CLOCK, metadata=META, reasons=suggestions)
    one = str(Calendar.from_ical((tmp_path / "per" / "C002.ics").read_bytes()).walk("VEVENT")[0].get("description"))
    assert "对接理由: 市场渠道" in one and "Why: channel" in one


def test_run_metadata_reads_weights_from_suggestions(suggestions):
    meta = run_metadata(suggestions, run_id="r1", data_version=None)
    assert meta == {"weights": {"supply": 0.4}, "run_id": "r1"}


def test_workbook_for_people_speaks_their_language(tmp_path):
    """``lang`` labels sheets and headers for people; without it they stay machine-readable ids."""
    import openpyxl

    from matcher.outputs.export import header_label, write_shortlist

    frame = pd.DataFrame({"left_id": ["C001"], "right_id": ["M001"], "score": [0.5], "reason_zh": ["理由"],
                          "custom": ["x"]})
    zh = write_shortlist(frame, tmp_path / "zh.xlsx", metadata={"run_id": "r1"}, lang="zh")
    book = openpyxl.load_workbook(zh)
    assert book.sheetnames == ["候选清单", "运行信息"]
    assert [c.value for c in book["候选清单"][1]] == ["甲方编号", "乙方编号", "得分", "理由（中文）", "custom",
                                                    "理由（英文）"]
    plain = openpyxl.load_workbook(write_shortlist(frame, tmp_path / "ids.xlsx", metadata={}))
    assert plain.sheetnames == ["shortlist", "run"] and plain["shortlist"]["A1"].value == "left_id"
    assert header_label("table 3", "en") == "Table 3" and header_label("table 3", None) == "table 3"


def test_the_why_travels_into_every_schedule_file(tmp_path, plan, suggestions):
    """Reasons (Chinese and English) in the workbook's shortlist, schedule and agendas sheets and in
    the CSV; the PDF agendas print the event, the venue and each meeting's topic, and no score."""
    import openpyxl

    meta = {**META, "event_name": "2026 纺织产业转移对接会", "venue": "柯桥国际会展中心"}
    write_schedule(plan, tmp_path / "s.xlsx", clock=CLOCK, metadata=meta, shortlist=suggestions)
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    for sheet in ("shortlist", "schedule", "agendas"):
        rows = list(book[sheet].values)
        header = list(rows[0])
        assert {"reason_zh", "reason_en"} <= set(header), sheet
        zh = [r[header.index("reason_zh")] for r in rows[1:]]
        assert zh and all(z for z in zh), (sheet, zh)
    write_schedule(plan, tmp_path / "s.csv", clock=CLOCK, shortlist=suggestions)
    csv = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig")
    assert csv["reason_en"].notna().all() and csv["reason_zh"].notna().all()
    write_schedule(plan, tmp_path / "s.pdf", clock=CLOCK, metadata=meta, shortlist=suggestions)
    text = pdf_text(tmp_path / "s.pdf")
    assert "2026 纺织产业转移对接会" in text and "柯桥国际会展中心" in text and "2026-05-20" in text
    assert "市场渠道" in text and "channel" in text and "Topic" in text
    assert "Score" not in text and "0.850" not in text


def test_engine_explains_stored_pairs_in_either_orientation():
    from matcher import DockingEngine, load_dataset

    engine = DockingEngine(load_dataset())
    pairs = pd.DataFrame({"kind": ["east_west", "east_west", "cluster_market", "nonsense"],
                          "left_id": ["C123", "C025", "C025", "C001"], "right_id": ["C025", "C001", "M001", "C002"]})
    out = engine.explain_pairs(pairs)
    assert "counterpart-aid provinces" in out.at[0, "reason_en"] and "对口援疆" in out.at[0, "reason_zh"]
    assert out[["reason_zh", "reason_en"]].iloc[1:].isna().all().all()  # not a pair of the kind; home market; no kind


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reader_takes_a_file_written_for_people(tmp_path, suggestions, plan, lang):
    """A shortlist or schedule a planner downloaded in Chinese or English (headers, sheet names and
    codes in words) reads back as the machine-named file does: same pairs, scores, kinds, locks, run."""
    from matcher.commands.schedule import read_run_sheet
    from matcher.meetings.slots import read_locks
    from matcher.meetings.tables import read_shortlist
    from matcher.outputs.export import for_people, schedule_table, write_shortlist

    frame = suggestions.assign(left_region="east", right_region="west", status="accepted", locked=[True, False] * 2)
    meta = {**META, "weights": {"cluster_market.product": 0.4, "cluster_market.distance": 0.1}}
    machine = read_suggestions(write_shortlist(frame, tmp_path / "ids.xlsx", metadata=meta))
    for path in (write_shortlist(frame, tmp_path / f"{lang}.xlsx", metadata=meta, lang=lang),
                 write_csv(for_people(frame, lang), tmp_path / f"{lang}.csv")):
        back = read_suggestions(path)
        assert list(back.columns) == list(machine.columns), path.name
        pd.testing.assert_frame_equal(back, machine, check_dtype=False, obj=path.name)
        assert read_shortlist(path)["right_id"].tolist() == frame["right_id"].tolist()
    assert read_run_sheet(tmp_path / f"{lang}.xlsx") == read_run_sheet(tmp_path / "ids.xlsx")
    assert read_run_sheet(tmp_path / f"{lang}.xlsx")["weights"] == {"cluster_market.product": "0.4",
                                                                     "cluster_market.distance": "0.1"}
    # the schedule a planner downloaded, given back as the meetings to keep where they are
    table = schedule_table(plan, CLOCK, suggestions)
    write_csv(for_people(table, lang), tmp_path / "locks.csv")
    write_csv(table, tmp_path / "locks-ids.csv")
    assert read_locks(tmp_path / "locks.csv") == read_locks(tmp_path / "locks-ids.csv") != {}


def test_words_name_one_column_or_code_each():
    """Reading back needs every header and code word to mean one thing, in each language."""
    from matcher.outputs.words import HEADER_LABELS, SHEET_LABELS

    for labels in (HEADER_LABELS, SHEET_LABELS):
        for i in (0, 1):
            words = [w[i] for w in labels.values()]
            assert len(words) == len(set(words)), sorted(w for w in words if words.count(w) > 1)


@pytest.mark.memory_capped
def test_pdf_agendas_survive_very_long_names(tmp_path):
    """A 1,200-character name, reason, event and venue: each agenda still fits its page, the long
    texts end in an ellipsis (the planner's workbook keeps them whole)."""
    long_zh, long_en = "超长名称" * 300, "VeryLongWordWithoutSpaces" * 60
    frame = pd.DataFrame({"left_id": ["C001", "C002"], "right_id": ["M001", "M001"], "score": [0.9, 0.8],
                          "left_name_zh": [long_zh, "常熟"], "left_name_en": [long_en, "Changshu"],
                          "right_name_zh": ["中国轻纺城"] * 2, "right_name_en": ["China Textile City"] * 2,
                          "reason_zh": ["理由" * 600, "r"], "reason_en": ["why " * 600, "r"]})
    plan = schedule(select(frame, "capacity", cap=2), n_slots=2, n_tables=1)
    path = write_pdf(plan, tmp_path / "long.pdf", clock=CLOCK, reasons=frame,
                     metadata={"event_name": "E" * 2000, "venue": "场馆" * 600})
    text = pdf_text(path)
    assert text.count("Docking meeting agenda") == len(plan.participants())
    assert "超长名称超长名称" in text and "…" in text and "E" * 2000 not in text.replace("\n", "")


def test_a_pair_is_explained_under_the_weights_it_was_shortlisted_with():
    """A pair ticked under the "supply" preset carries that preset's reason into the shortlist and every
    export, not the balanced one's: the labour and raw-material motives the planner saw stay in it."""
    from matcher import DockingEngine, load_dataset

    engine = DockingEngine(load_dataset())
    supply = engine.weights("east_west", preset="supply")
    pairs = pd.DataFrame({"kind": ["east_west"] * 3, "left_id": ["C027", "C027", "C025"],
                          "right_id": ["C124", "C124", "C123"], "run_id": ["r-supply", "r-gone", pd.NA]})
    out = engine.explain_pairs(pairs, run_weights={"r-supply": supply, "r-old": {"no_such_feature": 1.0}})
    balanced = engine.explain_pairs(pairs[["kind", "left_id", "right_id"]])
    under_supply = engine.explain_pairs(pairs[["kind", "left_id", "right_id"]], {"east_west": supply})
    assert out.at[0, "reason_zh"] == under_supply.at[0, "reason_zh"] != balanced.at[0, "reason_zh"]
    assert out.at[1, "reason_en"] == balanced.at[1, "reason_en"]  # an unknown run: the preset's reason
    assert out.at[2, "reason_en"] == balanced.at[2, "reason_en"]  # no run
    stale = engine.explain_pairs(pairs.assign(run_id="r-old"), run_weights={"r-old": {"no_such_feature": 1.0}})
    assert stale["reason_en"].tolist() == balanced["reason_en"].tolist()  # weights that no longer fit: the preset's


def test_a_learned_runs_pairs_are_explained_as_the_model_ranked_them_and_bad_run_weights_fall_back():
    """A run recorded while the learned model ranked keeps its coefficients and intercept (``baseline``):
    its pairs are explained with them (``LinearScorer``, the model's own scores and reasons). Run weights
    that cannot score (not numbers, not finite, unknown features) fall back to the preset's reason."""
    from matcher import DockingEngine, load_dataset
    from matcher.docking.explain import reasons
    from matcher.learning.learn import simulate_outcomes, train_from_outcomes

    engine = DockingEngine(load_dataset())
    model = train_from_outcomes(engine, "east_west", simulate_outcomes(engine, "east_west", n_pairs=120, seed=3)).scorer
    assert not model.fallback_ and "baseline" in model.weights()  # learned, not the preset kept
    pairs = pd.DataFrame({"kind": ["east_west"] * 2, "left_id": ["C027", "C025"], "right_id": ["C124", "C123"]})
    learned = engine.explain_pairs(pairs.assign(run_id="r-model"), run_weights={"r-model": model.weights()})
    scored = engine.score("east_west", scorer=model)
    for row in learned.itertuples():
        hit = scored[(scored["left_id"] == row.left_id) & (scored["right_id"] == row.right_id)]
        zh, en = reasons(hit, list(engine.weights("east_west")))
        assert (row.reason_zh, row.reason_en) == (zh[0], en[0])  # the reason the model's ranking showed
    balanced = engine.explain_pairs(pairs)
    assert learned["reason_en"].tolist() != balanced["reason_en"].tolist()
    for bad in ({"baseline": "x", "chain": 1.0}, {"baseline": float("inf"), "chain": 1.0},
                {"baseline": 0.1, "chain": float("nan")}, {"baseline": 0.1, "no_such_feature": 1.0},
                {"chain": float("inf")}):
        out = engine.explain_pairs(pairs.assign(run_id="r-bad"), run_weights={"r-bad": bad})
        assert out["reason_en"].tolist() == balanced["reason_en"].tolist(), bad


def test_a_pdf_agenda_puts_event_and_venue_on_lines_of_their_own_with_its_languages_colon(tmp_path, plan):
    meta = {**META, "event_name": "2026 东西部对接会", "venue": "柯桥国际会展中心"}
    zh = pdf_text(write_pdf(plan, tmp_path / "zh.pdf", clock=CLOCK, metadata=meta, lang="zh"))
    assert "活动：2026 东西部对接会\n地点：柯桥国际会展中心" in zh and "日期：2026-05-20" in zh
    assert "运行编号：run-42" in zh and "Run ID: run-42" not in zh  # the footer too
    en = pdf_text(write_pdf(plan, tmp_path / "en.pdf", clock=CLOCK, metadata=meta, lang="en"))
    assert "Event: 2026 东西部对接会\nVenue: 柯桥国际会展中心" in en and "Date: 2026-05-20" in en


def test_every_run_is_stamped_alike_and_a_calendar_stamps_the_hour_in_utc(tmp_path, plan):
    import re

    from matcher import load_dataset
    from matcher.docking.engine import new_run
    from matcher.outputs.metadata import now_stamp

    local = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
    assert local.fullmatch(now_stamp())
    assert local.fullmatch(new_run(load_dataset(), "east_west", {"product": 1.0})["created_at"])
    # a run made at 12:05 in Beijing is 04:05 UTC in every calendar, whatever the server's zone
    path = write_ics(plan, tmp_path / "all.ics", CLOCK, metadata={**META, "created_at": "2026-12-01T12:05:06+08:00"})
    stamps = {e.decoded("dtstamp") for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")}
    assert {s.strftime("%Y-%m-%d %H:%M:%S %Z") for s in stamps} == {"2026-12-01 04:05:06 UTC"}


def test_a_pdf_agenda_names_its_own_participant_whole(tmp_path):
    """A 120-character name (the importer's longest) heads its agenda whole; it was cut at 80."""
    name = "Zhejiang Shaoxing Keqiao Textile Printing Dyeing Weaving and Garment Industrial Cluster and Yangtze Delta Hub"
    name = (name + " " + "x" * 120)[:120]
    frame = pd.DataFrame({"left_id": ["C001"], "right_id": ["M001"], "score": [0.9],
                          "left_name_zh": ["柯桥"], "left_name_en": [name],
                          "right_name_zh": ["中国轻纺城"], "right_name_en": ["China Textile City"]})
    plan = schedule(select(frame, "capacity", cap=2), n_slots=1, n_tables=1)
    text = pdf_text(write_pdf(plan, tmp_path / "a.pdf", clock=CLOCK, lang="en")).replace("\n", " ")
    assert name[-30:] in text.replace("  ", " "), text[:600]
