"""Exports for docking meetings: Excel workbook, CSV for Excel, JSON and Parquet, and the
dispatch by file type (:func:`write_schedule`, :func:`write_shortlist`) to PDF agendas
(:mod:`matcher.outputs.pdf`) and ICS calendars (:mod:`matcher.outputs.calendar`).

Every writer goes through :mod:`matcher.outputs.cells`: a text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading single quote, so a spreadsheet never runs
it as a formula (CSV/formula injection). XLSX cells are written as strings, never formulas
(XlsxWriter with ``strings_to_formulas`` off and ``write_string``). CSV carries a UTF-8 BOM so
Excel opens Chinese correctly.

Every workbook carries a ``run`` sheet with the weights, data version, run id and time that
produced it (the ``metadata`` argument; :func:`matcher.outputs.metadata.run_metadata` builds one).

Examples
--------
>>> header_label("left_id", "zh"), header_label("table 3", "en"), header_label("left_id", None)
('甲方编号', 'Table 3', 'left_id')
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.exceptions import MatcherError
from matcher.meetings.slots import SlotClock
from matcher.meetings.timetable import Schedule
from matcher.outputs.atomic import replacing, write_text
from matcher.outputs.calendar import write_ics
from matcher.outputs.cells import (
    SCORE_FORMAT,
    is_score_column,
    neutralise_cell,
    neutralise_frame,
    round_scores,
)
from matcher.outputs.metadata import created_at
from matcher.outputs.pdf import write_pdf
from matcher.outputs.reasons import with_reasons
from matcher.outputs.words import SHEET_LABELS, header_label, run_rows, value_words


def for_people(frame: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    """``frame`` as a file for people reading ``lang`` shows it: headers and codes in words
    (``matcher.outputs.words``); unchanged without ``lang``."""
    if lang not in ("zh", "en"):
        return frame
    frame = frame.assign(**{str(c): [value_words(str(c), v, lang) for v in frame[c]] for c in frame.columns
                            if not is_score_column(str(c))})
    return frame.rename(columns=lambda c: header_label(c, lang))


# --------------------------------------------------------------------------------------------
# Tables for export
# --------------------------------------------------------------------------------------------
def schedule_table(plan: Schedule, clock: SlotClock | None = None, reasons: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per meeting: slot, (start, end,) table, ids, names, score, and why the pair meets
    (``reason_zh``, ``reason_en``, from ``reasons``: the shortlist with its reasons)."""
    frame = plan.meetings.copy()
    if clock is not None:
        frame.insert(1, "start", [clock.starts(int(s)).strftime("%Y-%m-%d %H:%M") for s in frame["slot"]])
        frame.insert(2, "end", [clock.ends(int(s)).strftime("%H:%M") for s in frame["slot"]])
    return with_reasons(frame, reasons)


def _with_times(frame: pd.DataFrame, clock: SlotClock | None) -> pd.DataFrame:
    if clock is None or "slot" not in frame.columns:
        return frame
    frame = frame.copy()
    frame.insert(list(frame.columns).index("slot") + 1, "time", [clock.label(int(s)) for s in frame["slot"]])
    return frame


def grid_table(plan: Schedule, clock: SlotClock | None = None, lang: str | None = None) -> pd.DataFrame:
    """Slot x table grid with the slot (and time) as the first columns; names in ``lang``."""
    grid = plan.grid("en" if lang == "en" else "zh").reset_index()
    return _with_times(grid, clock)


@contextmanager
def _xlsx_errors(path: str | Path) -> Iterator[None]:
    """XlsxWriter's ``FileCreateError`` (it wraps the ``OSError`` of creating the file) as the
    :class:`MatcherError` ``atomic.replacing`` gives for every other writer, naming ``path``."""
    from xlsxwriter.exceptions import FileCreateError

    try:
        yield
    except FileCreateError as err:
        cause = err.args[0] if err.args else err
        raise MatcherError(f"cannot write {path}: {getattr(cause, 'strerror', None) or cause}") from err


# --------------------------------------------------------------------------------------------
# CSV and JSON
# --------------------------------------------------------------------------------------------
def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """CSV for Excel: UTF-8 with BOM, text cells neutralised, missing values empty."""
    path = Path(path)
    # CRLF, as Excel writes; it also makes the csv module quote any cell holding a bare CR.
    with replacing(path) as tmp:
        round_scores(neutralise_frame(frame)).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def write_json(frame: pd.DataFrame, path: str | Path, metadata: Mapping[str, Any] | None = None) -> Path:
    """JSON ``{"run": metadata, "shortlist": [records]}``; text cells neutralised like every export."""
    path = Path(path)
    records = json.loads(neutralise_frame(frame).to_json(orient="records", force_ascii=False))
    payload = {"run": dict(metadata or {}), "shortlist": records}
    return write_text(path, json.dumps(payload, ensure_ascii=False, indent=1, default=str))


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
    scores = {j for j, c in enumerate(frame.columns) if is_score_column(str(c))}
    rounded = book.add_format({"num_format": SCORE_FORMAT})  # the exact value, shown as the CSV rounds it
    safe = neutralise_frame(for_people(frame, lang))
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
                sheet.write_number(i, j, float(value), rounded if j in scores else None)
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
    with _xlsx_errors(path), replacing(path) as tmp:
        _write_book(xlsxwriter.Workbook(str(tmp), options), shortlist, plan, clock, metadata, extra_sheets, lang)
    return path


def _write_book(book: Any, shortlist: pd.DataFrame | None, plan: Schedule | None, clock: SlotClock | None,
                metadata: Mapping[str, Any] | None, extra_sheets: Mapping[str, pd.DataFrame] | None,
                lang: str | None) -> None:
    """Fill and close ``book`` (the sheets of :func:`write_xlsx`)."""
    book.set_properties({"title": "Docking meeting / 对接洽谈", "created": created_at(metadata)})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    if shortlist is None and plan is not None:
        shortlist = plan.requested
    if shortlist is not None:
        frame = shortlist.copy()
        for col in ("reason_zh", "reason_en"):
            if col not in frame.columns and header_label(col, lang) not in frame.columns:
                frame[col] = pd.NA
        _write_sheet(book, "shortlist", frame, header, lang)
    if plan is not None:
        _write_sheet(book, "schedule", schedule_table(plan, clock, shortlist), header, lang)
        _write_sheet(book, "grid", grid_table(plan, clock, lang), header, lang)
        _write_sheet(book, "agendas", with_reasons(_with_times(plan.agendas(), clock), shortlist,
                                                   ("participant_id", "partner_id")), header, lang)
        _write_sheet(book, "participants", plan.participants(), header, lang)
        if len(plan.unscheduled):
            _write_sheet(book, "unscheduled", plan.unscheduled, header, lang)
    for name, frame in (extra_sheets or {}).items():
        _write_sheet(book, name[:31], frame, header, lang)
    _write_sheet(book, "run", run_rows(metadata, lang), header, lang)
    book.close()


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
        return write_csv(schedule_table(plan, clock, shortlist), path)
    if suffix == ".pdf":
        return write_pdf(plan, path, clock=clock, metadata=metadata, reasons=shortlist)
    if suffix == ".ics":
        return write_ics(plan, path, clock, metadata=metadata, tz=tz, reasons=shortlist)
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
        with replacing(path) as tmp:
            neutralise_frame(frame).to_parquet(tmp, index=False, compression="zstd")
        return path
    raise MatcherError(f"unknown output type {suffix!r} for {path.name}; use .csv, .xlsx, .json or .parquet")
