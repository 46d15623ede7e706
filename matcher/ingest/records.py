"""JSON records and Parquet tables as text cells, as :func:`matcher.ingest.read.read_table` gives every
format: numbers as their decimal text, nulls missing, rows numbered as in Excel (the first record is row 2).
A cell that is no single value (a list, an object, bytes that are not UTF-8, a lone surrogate escape) is
refused with its row and column, as a CSV cell is.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from matcher import limits
from matcher.exceptions import ValidationError
from matcher.ingest.problems import file_error, problems_frame
from matcher.jsonfile import JsonFileError, read_json_file

#: Keys under which a JSON file may hold its list of records (``{"shortlist": [...]}``).
JSON_RECORD_KEYS = ("suggestions", "shortlist", "pairs", "meetings", "data", "records")


#: Most cells a JSON or Parquet file's problems list before it stops (the file is refused either way).
_MAX_CELL_PROBLEMS = 20


def _one_value(value: object) -> tuple[object, str]:
    """A JSON or Parquet cell as text (numbers as their decimal text, UTF-8 bytes decoded; null stays
    missing), or the reason it is no value a table cell holds."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return pd.NA, ""
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return pd.NA, "the cell holds bytes that are not UTF-8 text"
    if isinstance(value, (dict, list, tuple, set)) or hasattr(value, "__array__"):
        return pd.NA, "the cell holds a list or an object, not one value"
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, "\ud800" in JSON: no character, and no file can hold it
        return pd.NA, "the cell holds an unpaired surrogate escape (\\ud800-\\udfff), which is no character"
    return text, ""


def _text_cells(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A frame of any types as text cells (nulls stay missing) numbered like Excel rows (the first record
    is row 2, under the header), and its header. A cell that is no value (a list, an object, bytes that
    are not UTF-8, a lone surrogate) is refused with its row and column; columns of numbers or of text
    Arrow has already checked are converted whole."""
    header = [str(c) for c in frame.columns]
    problems = []
    converted = {}
    for position, column in enumerate(frame.columns):
        if frame[column].dtype != object:
            continue
        values = []
        for row, value in enumerate(frame[column].tolist(), start=2):
            text, reason = _one_value(value)
            if reason and len(problems) < _MAX_CELL_PROBLEMS:
                problems.append({"file": str(path), "row": row, "column": header[position],
                                 "value": repr(value)[:200], "reason": reason})
            values.append(text)
        converted[position] = values
    if problems:
        raise ValidationError(f"{path}: {len(problems)}{'+' if len(problems) == _MAX_CELL_PROBLEMS else ''} cell(s) "
                              f"hold no value a table takes; first: row {problems[0]['row']}, column "
                              f"'{problems[0]['column']}': {problems[0]['reason']}", problems_frame(problems))
    if converted:
        frame = frame.copy()
        frame.columns = range(len(header))
        for position, values in converted.items():
            frame[position] = pd.Series(values, index=frame.index, dtype=object)
    cells = frame.astype("string").astype(object)
    cells.columns = range(len(header))
    cells.index = pd.RangeIndex(2, 2 + len(cells))
    return cells, header


def json_cells(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Records of a JSON file: a list of records, ``{"shortlist": [...]}`` (any key of
    :data:`JSON_RECORD_KEYS`) or a pandas ``split`` / ``columns`` layout."""
    try:
        data = read_json_file(path, "table", max_bytes=limits.MAX_DATA_JSON_BYTES)
    except JsonFileError as err:
        raise file_error(path, f"the file cannot be read as JSON: {err.reason}") from None
    split = isinstance(data, dict) and "columns" in data and "data" in data
    if isinstance(data, dict) and not split:
        for key in JSON_RECORD_KEYS:
            if key in data and isinstance(data[key], list):
                data = data[key]
                break
    try:
        # dtype=object: every value stays as the JSON had it (no 1 -> 1.0 next to a 0.5)
        if split:
            frame = pd.DataFrame(data["data"], columns=data["columns"], dtype=object)
        else:  # records, or the {"col": {"0": v}} layout
            frame = pd.DataFrame(data, dtype=object)
    except (ValueError, TypeError, KeyError, RecursionError) as err:
        raise file_error(path, f"the JSON does not hold a table of records ({err})") from None
    return _text_cells(frame, path)


def parquet_cells(path: Path) -> tuple[pd.DataFrame, list[str]]:
    try:
        frame = pd.read_parquet(path)
    except (ValueError, OSError) as err:
        raise file_error(path, f"the file cannot be read as Parquet ({err})") from None
    return _text_cells(frame, path)


__all__ = ["JSON_RECORD_KEYS", "json_cells", "parquet_cells"]
