"""The problems table every reader and validator reports: one row per bad cell or file, named by
file, row (as Excel numbers it), column and value, with the reason; and the readers' helpers that find
where in a file a problem sits (an unclosed quote, a NUL byte, a title above the header)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from matcher.exceptions import ValidationError
from matcher.ingest.fast import separator

PROBLEM_COLUMNS = ["file", "row", "column", "value", "reason"]


def problems_frame(rows: list[dict] | None = None) -> pd.DataFrame:
    """An empty (or given) problems table with the standard columns and dtypes."""
    frame = pd.DataFrame(rows or [], columns=PROBLEM_COLUMNS)
    frame["row"] = frame["row"].astype("int64")
    for col in ("file", "column", "value", "reason"):
        frame[col] = frame[col].astype(object)
    return frame


def file_error(
    file: str | Path, reason: str, *, row: int = 0, column: str = "", value: str = ""
) -> ValidationError:
    """A ``ValidationError`` for a whole-file problem, with a one-row problems table."""
    problems = problems_frame(
        [{"file": str(file), "row": row, "column": column, "value": value, "reason": reason}]
    )
    return ValidationError(f"{file}: {reason}", problems)


def title_above(file: str | Path, first: list[str], wide_rows_below: Callable[[], bool]) -> None:
    """Row 1 with one named cell above rows of several is a title over the table (a CSV or sheet saved
    from a report), not the header: say so, rather than report the rows as too wide or unnamed."""
    title = first[0].strip(' \t\r,;"') if first else ""
    if title and not any(c.strip(' \t\r,;"') for c in first[1:]) and wide_rows_below():
        raise file_error(file, f"row 1 holds one cell ('{title[:60]}'), like a title above the table; the first "
                         "row must be the column names: delete the rows above them", row=1)


def open_quote_cell(text: str, sep: str) -> tuple[int, str]:
    """Excel row and header name of the cell whose opening quote is never closed.

    The csv module reads such a cell to the end of the file, so the last record it returns is the
    broken one: its number is the row (blank lines count, as in Excel), its length the column.
    ``(0, "")`` when the text parses without that symptom.
    """
    import csv

    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    if len(records) < 2 or not records[-1]:
        return 0, ""
    header = [name.strip() for name in records[0]]
    position = len(records[-1])
    column = header[position - 1] if position <= len(header) else f"cell {position}"
    return len(records), column


def nul_cell(data: bytes) -> tuple[int, str]:
    """Row (counting LF, CRLF and CR line breaks, as Excel does) and header name of the first NUL."""
    at = data.index(b"\x00")
    before = data[:at]
    row = len(re.split(rb"\r\n|\r|\n", before))
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    first_line = re.split(rb"\r\n|\r|\n", data, maxsplit=1)[0].decode("utf-8", errors="replace")
    sep = separator(first_line)
    position = before[line_start:].count(sep.encode())
    header = first_line.lstrip("\ufeff").split(sep)
    column = header[position].strip() if row > 1 and position < len(header) else ""
    return row, column


#: Rows of a side file named one by one in warnings; past these, a count.
WARNED_ROWS = 20


def capped_warnings(lines: list[str], source: str, most: int = WARNED_ROWS) -> list[str]:
    """The first ``most`` warning lines about rows of ``source``, then how many more there are: a file of
    thousands of rows that apply to nothing prints a screenful, not thousands of lines."""
    if len(lines) <= most:
        return list(lines)
    return [*lines[:most], f"{source}: {len(lines) - most:,} more row(s) like these ({len(lines):,} in all)"]
