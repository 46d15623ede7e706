"""Exports for docking meetings: Excel workbook, CSV for Excel, PDF agendas, ICS calendars.

Every writer goes through :mod:`matcher.outputs.cells` (:func:`neutralise_cell`): a text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading single quote, so a spreadsheet never runs
it as a formula (CSV/formula injection). XLSX cells are written as strings, never formulas
(XlsxWriter with ``strings_to_formulas`` off and ``write_string``). CSV carries a UTF-8 BOM so
Excel opens Chinese correctly. The PDF embeds a TrueType CJK font (WenQuanYi Zen Hei when
installed) or falls back to reportlab's built-in ``STSong-Light``.

Every workbook carries a ``run`` sheet with the weights, data version, run id and time that
produced it (the ``metadata`` argument; :func:`run_metadata` builds one).

Examples
--------
>>> neutralise_cell('=HYPERLINK("http://x","y")')
'\\'=HYPERLINK("http://x","y")'
>>> neutralise_cell("常熟"), neutralise_cell(-1.5)
('常熟', -1.5)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from matcher.exceptions import MatcherError
from matcher.meetings.slots import SlotClock
from matcher.meetings.timetable import Schedule
from matcher.outputs.cells import FORMULA_START, cell_text, neutralise_cell, neutralise_frame

#: TrueType CJK fonts reportlab can embed, searched in order (env MATCHER_CJK_FONT first).
#: CFF-based OpenType fonts (Noto Sans CJK .otf/.ttc) cannot be embedded by reportlab.
CJK_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)
FALLBACK_CID_FONT = "STSong-Light"

#: Column headers of exported tables in Chinese and English, for workbooks written for people
#: (``lang="zh"``/``"en"``); without ``lang`` the headers stay the machine-readable column ids.
HEADER_LABELS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "Rank"), "kind": ("对接类型", "Kind"), "score": ("得分", "Score"),
    "slot": ("时段", "Slot"), "start": ("开始", "Start"), "end": ("结束", "End"), "time": ("时间", "Time"),
    "table": ("桌号", "Table"), "locked": ("锁定", "Locked"),
    "left_id": ("甲方编号", "Left ID"), "right_id": ("乙方编号", "Right ID"),
    "left_name_zh": ("甲方（中文）", "Left (Chinese)"), "left_name_en": ("甲方（英文）", "Left (English)"),
    "right_name_zh": ("乙方（中文）", "Right (Chinese)"), "right_name_en": ("乙方（英文）", "Right (English)"),
    "left_region": ("甲方区域", "Left region"), "right_region": ("乙方区域", "Right region"),
    "reason_zh": ("理由（中文）", "Reason (Chinese)"), "reason_en": ("理由（英文）", "Reason (English)"),
    "item_id": ("清单条目", "Item"), "item_locked": ("条目锁定", "Item locked"),
    "participant_id": ("参会方编号", "Participant ID"),
    "participant_name_zh": ("参会方（中文）", "Participant (Chinese)"),
    "participant_name_en": ("参会方（英文）", "Participant (English)"),
    "partner_id": ("对方编号", "Partner ID"), "partner_name_zh": ("对方（中文）", "Partner (Chinese)"),
    "partner_name_en": ("对方（英文）", "Partner (English)"),
    "name_zh": ("中文名", "Chinese name"), "name_en": ("英文名", "English name"), "side": ("一方", "Side"),
    "requested": ("申请会谈", "Requested"), "scheduled": ("已安排", "Scheduled"),
    "first_slot": ("首个时段", "First slot"), "last_slot": ("末个时段", "Last slot"),
    "idle_slots": ("空档时段", "Idle slots"), "available_slots": ("可用时段", "Available slots"),
    "reason": ("原因", "Reason"), "key": ("项目", "Item"), "value": ("值", "Value"),
}
SHEET_LABELS: dict[str, tuple[str, str]] = {
    "shortlist": ("候选清单", "Shortlist"), "schedule": ("日程", "Schedule"), "grid": ("时段×桌号", "Slot x table"),
    "agendas": ("个人日程", "Agendas"), "participants": ("参会方", "Participants"),
    "unscheduled": ("未安排", "Unscheduled"), "run": ("运行信息", "Run"), "candidates": ("候选规则", "Candidates"),
}


def header_label(column: str, lang: str | None) -> str:
    """The header of ``column`` for people reading ``lang`` ("zh"/"en"); the id itself without ``lang``."""
    if lang not in ("zh", "en"):
        return str(column)
    i = 0 if lang == "zh" else 1
    column = str(column)
    if column in HEADER_LABELS:
        return HEADER_LABELS[column][i]
    if column.startswith("table ") and column[6:].isdigit():  # slot x table grid
        return f"{HEADER_LABELS['table'][i]} {column[6:]}"
    return column


# --------------------------------------------------------------------------------------------
# Run metadata
# --------------------------------------------------------------------------------------------
def run_metadata(suggestions: pd.DataFrame | None = None, **fields: Any) -> dict[str, Any]:
    """Metadata for the ``run`` sheet: ``weights`` read from the ``w_<feature>`` columns of the
    suggestions (when one value per column), plus the given fields (``data_version``,
    ``run_id``, ``created_at``, ``method``, ...)."""
    meta: dict[str, Any] = {}
    if suggestions is not None:
        weights = {}
        for col in suggestions.columns:
            if str(col).startswith("w_"):
                values = pd.to_numeric(suggestions[col], errors="coerce").dropna().unique()
                if len(values) == 1:
                    weights[str(col)[2:]] = float(values[0])
        if weights:
            meta["weights"] = weights
    meta.update({k: v for k, v in fields.items() if v is not None})
    return meta


def _metadata_rows(metadata: Mapping[str, Any] | None) -> pd.DataFrame:
    rows = []
    for key, value in (metadata or {}).items():
        if isinstance(value, Mapping):
            for sub, v in value.items():
                rows.append((f"{key}.{sub}", v))
        elif isinstance(value, (list, tuple)):
            rows.append((key, json.dumps(list(value), ensure_ascii=False, default=str)))
        else:
            rows.append((key, value))
    return pd.DataFrame(rows, columns=["key", "value"])


def _created(metadata: Mapping[str, Any] | None) -> dt.datetime:
    """The run time from metadata; a fixed date otherwise, so identical input gives identical files."""
    value = (metadata or {}).get("created_at")
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            pass
    return dt.datetime(2000, 1, 1)


# --------------------------------------------------------------------------------------------
# Tables for export
# --------------------------------------------------------------------------------------------
def schedule_table(plan: Schedule, clock: SlotClock | None = None) -> pd.DataFrame:
    """One row per meeting: slot, (start, end,) table, ids, names, score."""
    frame = plan.meetings.copy()
    if clock is not None:
        frame.insert(1, "start", [clock.starts(int(s)).strftime("%Y-%m-%d %H:%M") for s in frame["slot"]])
        frame.insert(2, "end", [clock.ends(int(s)).strftime("%H:%M") for s in frame["slot"]])
    return frame


def _with_times(frame: pd.DataFrame, clock: SlotClock | None) -> pd.DataFrame:
    if clock is None or "slot" not in frame.columns:
        return frame
    frame = frame.copy()
    frame.insert(list(frame.columns).index("slot") + 1, "time", [clock.label(int(s)) for s in frame["slot"]])
    return frame


def grid_table(plan: Schedule, clock: SlotClock | None = None) -> pd.DataFrame:
    """Slot x table grid with the slot (and time) as the first columns."""
    grid = plan.grid().reset_index()
    return _with_times(grid, clock)


# --------------------------------------------------------------------------------------------
# CSV and JSON
# --------------------------------------------------------------------------------------------
def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """CSV for Excel: UTF-8 with BOM, text cells neutralised, missing values empty."""
    path = Path(path)
    # CRLF, as Excel writes; it also makes the csv module quote any cell holding a bare CR.
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def write_json(frame: pd.DataFrame, path: str | Path, metadata: Mapping[str, Any] | None = None) -> Path:
    """JSON ``{"run": metadata, "shortlist": [records]}``; text cells neutralised like every export."""
    path = Path(path)
    records = json.loads(neutralise_frame(frame).to_json(orient="records", force_ascii=False))
    payload = {"run": dict(metadata or {}), "shortlist": records}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------
def _cell_kind(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return "blank"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "blank" if isinstance(value, (float, np.floating)) and not math.isfinite(value) else "number"
    try:
        if pd.isna(value):
            return "blank"
    except (TypeError, ValueError):
        pass
    return "string"


def _write_sheet(book: Any, name: str, frame: pd.DataFrame, header_fmt: Any, lang: str | None = None) -> None:
    sheet_name = SHEET_LABELS[name][0 if lang == "zh" else 1] if lang in ("zh", "en") and name in SHEET_LABELS else name
    sheet = book.add_worksheet(sheet_name[:31])
    safe = neutralise_frame(frame.rename(columns=lambda c: header_label(c, lang)))
    for j, col in enumerate(safe.columns):
        sheet.write_string(0, j, str(col), header_fmt)
        texts = [len(str(col))] + [len(str(v)) for v in safe[col].head(200) if _cell_kind(v) != "blank"]
        sheet.set_column(j, j, min(60, max(8, max(texts) + 2)))
    for i, row in enumerate(safe.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            kind = _cell_kind(value)
            if kind == "blank":
                continue
            if kind == "bool":
                sheet.write_boolean(i, j, bool(value))
            elif kind == "number":
                sheet.write_number(i, j, float(value))
            else:
                sheet.write_string(i, j, str(neutralise_cell(str(value))))
    sheet.freeze_panes(1, 0)


def write_xlsx(
    path: str | Path,
    *,
    shortlist: pd.DataFrame | None = None,
    plan: Schedule | None = None,
    clock: SlotClock | None = None,
    metadata: Mapping[str, Any] | None = None,
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
    lang: str | None = None,
) -> Path:
    """Write the meeting workbook.

    Sheets: ``shortlist`` (with ``reason_zh`` and ``reason_en``), ``schedule`` (one row per
    meeting), ``grid`` (slot x table), ``agendas`` (per participant), ``participants``,
    ``unscheduled`` (when any), any ``extra_sheets``, and ``run`` (the metadata).

    Parameters
    ----------
    path : str or Path
    shortlist : pandas.DataFrame, optional
        The shortlist (defaults to the schedule's requested meetings).
    plan : Schedule, optional
    clock : SlotClock, optional
        Adds wall-clock times next to slot numbers.
    metadata : mapping, optional
        ``weights`` (mapping), ``data_version``, ``run_id``, ``created_at`` and anything else.
    lang : {"zh", "en"}, optional
        Sheet names and column headers for people reading this language (``HEADER_LABELS``);
        without it they are the column ids that ``shortlist``/``schedule`` read back.
    """
    import xlsxwriter

    path = Path(path)
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": False,
    }
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"title": "Docking meeting / 对接洽谈", "created": _created(metadata)})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    if shortlist is None and plan is not None:
        shortlist = plan.requested
    if shortlist is not None:
        frame = shortlist.copy()
        for col in ("reason_zh", "reason_en"):
            if col not in frame.columns:
                frame[col] = pd.NA
        _write_sheet(book, "shortlist", frame, header, lang)
    if plan is not None:
        _write_sheet(book, "schedule", schedule_table(plan, clock), header, lang)
        _write_sheet(book, "grid", grid_table(plan, clock), header, lang)
        _write_sheet(book, "agendas", _with_times(plan.agendas(), clock), header, lang)
        _write_sheet(book, "participants", plan.participants(), header, lang)
        if len(plan.unscheduled):
            _write_sheet(book, "unscheduled", plan.unscheduled, header, lang)
    for name, frame in (extra_sheets or {}).items():
        _write_sheet(book, name[:31], frame, header, lang)
    _write_sheet(book, "run", _metadata_rows(metadata), header, lang)
    book.close()
    return path


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------
_FONT_CACHE: dict[str, str] = {}


def cjk_font() -> str:
    """Register and return a reportlab font name that renders Chinese.

    Tries ``$MATCHER_CJK_FONT`` and :data:`CJK_FONT_PATHS` (TrueType, TTC with subfont 0), then
    falls back to the built-in CID font ``STSong-Light`` (not embedded; readers substitute it).
    """
    if "name" in _FONT_CACHE:
        return _FONT_CACHE["name"]
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    candidates = [os.environ.get("MATCHER_CJK_FONT", "")] + list(CJK_FONT_PATHS)
    for path in candidates:
        if not path or not Path(path).is_file():
            continue
        try:
            kwargs = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
            pdfmetrics.registerFont(TTFont("MatcherCJK", path, **kwargs))
        except Exception:  # noqa: BLE001 - a broken or CFF font: try the next one
            continue
        _FONT_CACHE["name"] = "MatcherCJK"
        _FONT_CACHE["path"] = path
        return "MatcherCJK"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    _FONT_CACHE["name"] = FALLBACK_CID_FONT
    _FONT_CACHE["path"] = ""
    return FALLBACK_CID_FONT


def _text(value: Any) -> str:
    """Safe text for a PDF paragraph: neutralised, XML-escaped, empty for missing values."""
    return escape(cell_text(value))


def write_pdf(
    plan: Schedule,
    path: str | Path,
    *,
    clock: SlotClock | None = None,
    metadata: Mapping[str, Any] | None = None,
    title_zh: str = "对接洽谈会议日程",
    title_en: str = "Docking meeting agenda",
) -> Path:
    """One PDF with a bilingual agenda page per participant (Chinese font embedded)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()
    path = Path(path)
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    head = ParagraphStyle("head", parent=base, fontSize=15, leading=20)
    sub = ParagraphStyle("sub", parent=base, fontSize=11, leading=15)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=colors.grey)
    meta = dict(metadata or {})
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        invariant=1,
        title=f"{title_zh} / {title_en}",
        author="matcher",
        creator="matcher",
    )
    agendas = plan.agendas()
    story: list[Any] = []
    people = plan.participants()
    for n, person in enumerate(people.itertuples(index=False)):
        mine = agendas[agendas["participant_id"] == person.participant_id]
        if n:
            story.append(PageBreak())
        story.append(Paragraph(f"{_text(title_zh)}<br/>{_text(title_en)}", head))
        story.append(Spacer(1, 3 * mm))
        story.append(
            Paragraph(
                f"{_text(person.name_zh)}　{_text(person.name_en)}　({_text(person.participant_id)})", sub
            )
        )
        when = f"日期 Date: {clock.date.isoformat()}" if clock else ""
        story.append(Paragraph(f"{when}　会谈 Meetings: {len(mine)}", base))
        story.append(Spacer(1, 4 * mm))
        rows = [
            [
                Paragraph(x, base)
                for x in (
                    "时段<br/>Slot",
                    "时间<br/>Time",
                    "桌号<br/>Table",
                    "对接方<br/>Partner",
                    "得分<br/>Score",
                )
            ]
        ]
        for m in mine.itertuples(index=False):
            partner = "<br/>".join(x for x in (_text(m.partner_name_zh), _text(m.partner_name_en)) if x)
            partner = f"{partner}<br/>({_text(m.partner_id)})" if partner else _text(m.partner_id)
            score = "" if pd.isna(m.score) else f"{float(m.score):.3f}"
            rows.append(
                [
                    Paragraph(str(m.slot), base),
                    Paragraph(clock.label(int(m.slot)) if clock else "", base),
                    Paragraph(str(m.table), base),
                    Paragraph(partner, base),
                    Paragraph(score, base),
                ]
            )
        if len(rows) == 1:
            rows.append(
                [
                    Paragraph("", base),
                    Paragraph("", base),
                    Paragraph("", base),
                    Paragraph("没有安排会谈 / no meetings scheduled", base),
                    Paragraph("", base),
                ]
            )
        table = Table(rows, colWidths=[16 * mm, 28 * mm, 16 * mm, 100 * mm, 18 * mm], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
        story.append(Spacer(1, 6 * mm))
        footer = "　".join(f"{k}: {_text(meta[k])}" for k in ("run_id", "data_version") if k in meta)
        if footer:
            story.append(Paragraph(footer, small))
    if not story:
        story.append(Paragraph(f"{_text(title_zh)} / {_text(title_en)}: 没有会谈 / no meetings", head))
    doc.build(story)
    return path


# --------------------------------------------------------------------------------------------
# ICS
# --------------------------------------------------------------------------------------------
def _calendar_events(
    plan: Schedule,
    clock: SlotClock,
    participant: str | None,
    metadata: Mapping[str, Any] | None,
    tz: str | None,
) -> Any:
    from icalendar import Calendar, Event

    zone = None
    if tz:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz)
    cal = Calendar()
    cal.add("prodid", "-//matcher//docking meetings//ZH-EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "对接洽谈 Docking meetings" + (f" {participant}" if participant else ""))
    stamp = _created(metadata).replace(tzinfo=dt.UTC)
    run = str((metadata or {}).get("run_id", "matcher"))
    agendas = plan.agendas()
    if participant is not None:
        agendas = agendas[agendas["participant_id"] == participant]
    for m in agendas.itertuples(index=False):
        partner = " / ".join(
            x for x in (cell_text(m.partner_name_zh), cell_text(m.partner_name_en)) if x
        ) or cell_text(m.partner_id)
        me = " / ".join(x for x in (cell_text(m.participant_name_zh), cell_text(m.participant_name_en)) if x)
        event = Event()
        event.add("uid", f"{run}-{m.participant_id}-{m.partner_id}-{m.slot}@matcher")
        event.add("dtstamp", stamp)
        start, end = clock.starts(int(m.slot)), clock.ends(int(m.slot))
        event.add("dtstart", start.replace(tzinfo=zone) if zone else start)
        event.add("dtend", end.replace(tzinfo=zone) if zone else end)
        event.add("summary", neutralise_cell(f"对接洽谈 Docking: {partner}"))
        event.add("location", f"桌 Table {m.table}")
        event.add(
            "description",
            neutralise_cell(
                f"{me} ({m.participant_id}) ↔ {partner} ({m.partner_id}); 时段 slot {m.slot}, "
                f"桌 table {m.table}"
            ),
        )
        event.add("categories", [neutralise_cell(str(m.participant_id))])
        cal.add_component(event)
    if zone is not None:
        cal.add_missing_timezones()
    return cal


def write_ics(
    plan: Schedule,
    path: str | Path,
    clock: SlotClock,
    *,
    participant: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tz: str | None = "Asia/Shanghai",
) -> Path:
    """An iCalendar file with one entry per participant per meeting (two per meeting; each
    participant's entries carry its id as category), or only ``participant``'s entries."""
    if clock is None:
        raise MatcherError(
            "a calendar needs the meeting date: give --date YYYY-MM-DD (and --start, --minutes)"
        )
    path = Path(path)
    path.write_bytes(_calendar_events(plan, clock, participant, metadata, tz).to_ical())
    return path


def write_ics_per_participant(
    plan: Schedule,
    directory: str | Path,
    clock: SlotClock,
    *,
    metadata: Mapping[str, Any] | None = None,
    tz: str | None = "Asia/Shanghai",
) -> list[Path]:
    """One ``<participant_id>.ics`` per participant in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for pid in sorted(set(plan.meetings["left_id"]) | set(plan.meetings["right_id"])):
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in pid)
        out.append(
            write_ics(plan, directory / f"{safe}.ics", clock, participant=pid, metadata=metadata, tz=tz)
        )
    return out


def write_schedule(
    plan: Schedule,
    path: str | Path,
    *,
    clock: SlotClock | None = None,
    metadata: Mapping[str, Any] | None = None,
    shortlist: pd.DataFrame | None = None,
    tz: str | None = "Asia/Shanghai",
) -> Path:
    """Write a schedule in the format its extension names: .xlsx, .csv, .pdf or .ics."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(path, shortlist=shortlist, plan=plan, clock=clock, metadata=metadata)
    if suffix == ".csv":
        return write_csv(schedule_table(plan, clock), path)
    if suffix == ".pdf":
        return write_pdf(plan, path, clock=clock, metadata=metadata)
    if suffix == ".ics":
        return write_ics(plan, path, clock, metadata=metadata, tz=tz)
    raise MatcherError(f"unknown output type {suffix!r} for {path.name}; use .xlsx, .csv, .pdf or .ics")


def write_shortlist(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    metadata: Mapping[str, Any] | None = None,
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
    lang: str | None = None,
) -> Path:
    """Write a shortlist as .csv (UTF-8 BOM), .xlsx (with a ``run`` sheet), .json or .parquet.

    ``lang`` ("zh"/"en") labels an XLSX's sheets and headers for people (see ``write_xlsx``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_csv(frame, path)
    if suffix == ".xlsx":
        return write_xlsx(path, shortlist=frame, metadata=metadata, extra_sheets=extra_sheets, lang=lang)
    if suffix == ".json":
        return write_json(frame, path, metadata)
    if suffix == ".parquet":
        neutralise_frame(frame).to_parquet(path, index=False, compression="zstd")
        return path
    raise MatcherError(f"unknown output type {suffix!r} for {path.name}; use .csv, .xlsx, .json or .parquet")


__all__: Iterable[str] = (
    "FORMULA_START",
    "neutralise_cell",
    "neutralise_frame",
    "run_metadata",
    "write_csv",
    "write_json",
    "write_xlsx",
    "write_pdf",
    "write_ics",
    "write_ics_per_participant",
    "write_schedule",
    "write_shortlist",
    "schedule_table",
    "grid_table",
    "cjk_font",
    "header_label",
)
