"""Export files as bytes for ``st.download_button`` (written by ``matcher.outputs``), and the buttons.

Buttons use ``on_click="ignore"``: downloading does not rerun the page, so nothing on it is lost.
Column headers and codes of the tables the app builds, and the PDF agendas, follow the session's
language; calendars are bilingual by design. Scores are rounded as in every file for people
(``cells.round_scores``), and a planner who gave no name is "unnamed" in the run sheet.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import streamlit as st

from app_components.i18n import UNNAMED_PLANNER
from matcher.meetings.slots import SlotClock
from matcher.meetings.timetable import Schedule
from matcher.outputs import calendar, export, pdf
from matcher.outputs.cells import round_scores
from matcher.text import file_part

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "pdf": "application/pdf",
    "ics": "text/calendar",
}


def _bytes(suffix: str, write: Callable[[Path], object]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{suffix}"
        write(path)
        return path.read_bytes()


def _for_people(metadata: Mapping | None) -> dict:
    """The run sheet's items as a person reads them: the name recorded for a planner who gave none
    becomes empty, which the run sheet says as "未署名" / "unnamed" (``words.run_rows``)."""
    meta = dict(metadata or {})
    if meta.get("planner") == UNNAMED_PLANNER:
        meta["planner"] = ""
    return meta


def _rounded(plan: Schedule) -> Schedule:
    """``plan`` with its scores rounded as files for people show them (``cells.SCORE_DECIMALS``)."""
    return dataclasses.replace(plan, meetings=round_scores(plan.meetings), requested=round_scores(plan.requested),
                               unscheduled=round_scores(plan.unscheduled))


def shortlist_xlsx(frame: pd.DataFrame, metadata: dict, lang: str) -> bytes:
    """The shortlist as an Excel workbook in ``lang``, scores rounded, with its run sheet."""
    return _bytes("xlsx", lambda p: export.write_shortlist(round_scores(frame), p, metadata=_for_people(metadata),
                                                           lang=lang))


def shortlist_csv(frame: pd.DataFrame, lang: str) -> bytes:
    """The shortlist as CSV for Excel, headers and codes in ``lang`` and scores rounded (as the workbook's)."""
    return _bytes("csv", lambda p: export.write_csv(export.for_people(round_scores(frame), lang), p))


def schedule_files(plan: Schedule, clock: SlotClock | None, shortlist: pd.DataFrame, metadata: dict,
                   lang: str) -> dict[str, bytes]:
    """XLSX workbook, PDF agendas, ICS calendar (when a date is set) and CSV of one schedule.

    The workbook, the CSV and the PDF agendas are in ``lang`` (the workbook and CSV keep both names
    and both reasons in their own columns); the ICS calendar is bilingual.
    """
    plan, shortlist, metadata = _rounded(plan), round_scores(shortlist), _for_people(metadata)
    files = {
        "xlsx": _bytes("xlsx", lambda p: export.write_xlsx(p, shortlist=shortlist, plan=plan, clock=clock,
                                                           metadata=metadata, lang=lang)),
        "pdf": _bytes("pdf", lambda p: pdf.write_pdf(plan, p, clock=clock, metadata=metadata, reasons=shortlist,
                                                     lang=lang)),
        "csv": _bytes("csv", lambda p: export.write_csv(
            export.for_people(export.schedule_table(plan, clock, shortlist), lang), p)),
    }
    if clock is not None:
        files["ics"] = _bytes("ics", lambda p: calendar.write_ics(plan, p, clock, metadata=metadata,
                                                                           reasons=shortlist))
    return files


def file_name(stem: str, suffix: str) -> str:
    """A download's file name from a shortlist's (or event's) name (:func:`matcher.text.file_part`, at most
    60 characters; "download" when nothing is left), ``.suffix`` after it."""
    return f"{file_part(stem, 60) or 'download'}.{suffix}"


def button(label: str, data: bytes, file_name: str, key: str) -> None:
    suffix = file_name.rsplit(".", 1)[-1]
    st.download_button(label, data, file_name=file_name, mime=MIME.get(suffix), key=key, on_click="ignore",
                       icon=":material/download:")  # markdown-safe: every caller passes a t() label
