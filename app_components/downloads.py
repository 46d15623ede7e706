"""Export files as bytes for ``st.download_button`` (written by ``matcher.outputs``), and the buttons.

Buttons use ``on_click="ignore"``: downloading does not rerun the page, so nothing on it is lost.
Column headers of the tables the app builds follow the session's language; the PDF agendas and
calendars are bilingual by design.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from matcher.meetings.slots import SlotClock
from matcher.meetings.timetable import Schedule
from matcher.outputs import calendar, export, pdf

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


def shortlist_xlsx(frame: pd.DataFrame, metadata: dict, lang: str) -> bytes:
    return _bytes("xlsx", lambda p: export.write_shortlist(frame, p, metadata=metadata, lang=lang))


def shortlist_csv(frame: pd.DataFrame) -> bytes:
    return _bytes("csv", lambda p: export.write_csv(frame, p))


def schedule_files(plan: Schedule, clock: SlotClock | None, shortlist: pd.DataFrame, metadata: dict,
                   lang: str) -> dict[str, bytes]:
    """XLSX workbook, PDF agendas, ICS calendar (when a date is set) and CSV of one schedule.

    Sheet names and headers of the workbook and CSV are in ``lang``; PDF and ICS are bilingual.
    """
    files = {
        "xlsx": _bytes("xlsx", lambda p: export.write_xlsx(p, shortlist=shortlist, plan=plan, clock=clock,
                                                           metadata=metadata, lang=lang)),
        "pdf": _bytes("pdf", lambda p: pdf.write_pdf(plan, p, clock=clock, metadata=metadata, reasons=shortlist)),
        "csv": _bytes("csv", lambda p: export.write_csv(
            export.schedule_table(plan, clock, shortlist).rename(columns=lambda c: export.header_label(c, lang)), p)),
    }
    if clock is not None:
        files["ics"] = _bytes("ics", lambda p: calendar.write_ics(plan, p, clock, metadata=metadata))
    return files


def button(label: str, data: bytes, file_name: str, key: str) -> None:
    suffix = file_name.rsplit(".", 1)[-1]
    st.download_button(label, data, file_name=file_name, mime=MIME.get(suffix), key=key, on_click="ignore",
                       icon=":material/download:")
