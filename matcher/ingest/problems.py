"""The problems table every reader and validator reports: one row per bad cell or file, named by
file, row (as Excel numbers it), column and value, with the reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from matcher.exceptions import ValidationError

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
