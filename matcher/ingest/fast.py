"""Readers of a million-row registry at pyarrow's speed, each held to the reference reader it replaces.

pandas' CSV parser, ``pd.to_numeric`` and Python's regex were half the time of loading a registry.
Each function here reads the same cells with pyarrow (both cores, straight into arrow strings) and
gives exactly what the reference reader gives (``tests/test_fast_parsers.py`` compares them on hostile
text drawn by hypothesis); wherever pyarrow refuses the input, the reference reader takes over, so a
bad file is still named by row and column as before.
"""

from __future__ import annotations

import io
import re

import pandas as pd

from matcher import limits

#: Read CSV cells with pyarrow first; False reads with pandas only (the reference).
ARROW_CSV = True


def csv_source(text: str, utf8: bytes | None = None) -> io.BytesIO | io.StringIO:
    """The text as UTF-8 bytes for pandas' C parser, which reads bytes: handed text, pandas re-encodes
    it in small chunks in Python (half the time of loading a million-row registry)."""
    if utf8 is not None:
        return io.BytesIO(utf8)
    try:
        return io.BytesIO(text.encode("utf-8"))
    except UnicodeEncodeError:  # text that no encoding maps (lone surrogates): pandas reads it as text
        return io.StringIO(text)


def separator(header: str) -> str:
    """The header row's separator: a comma, else a tab, else a semicolon (what Excel writes as "CSV" in
    locales whose decimal mark is a comma)."""
    if "," in header:
        return ","
    return next((sep for sep in ("\t", ";") if sep in header), ",")


def arrow_cells(source: io.BytesIO, sep: str) -> pd.DataFrame | None:
    """Every cell of the CSV as text, as ``pandas.read_csv(header=None, dtype=str, na_filter=False,
    skip_blank_lines=False)`` reads it, parsed by pyarrow; None when pyarrow refuses the file
    (ragged rows, a blank line among several columns) or it ends inside a quote pyarrow would not
    call open: the caller then reads it with pandas, whose error names the row."""
    if not ARROW_CSV:
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = pd.StringDtype("pyarrow", na_value=float("nan"))
    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(limits.MAX_COLUMNS + 1)},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows == 0 or any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    if _ends_in_open_quote(source.getvalue(), sep.encode(), table.column(table.num_columns - 1)[-1].as_py()):
        return None  # pyarrow reads a quote never closed to the end of the file; pandas says it is open
    frame = table.to_pandas(types_mapper=lambda t: text if t == pa.string() else None)
    frame.columns = pd.RangeIndex(table.num_columns)
    return frame


def _ends_in_open_quote(data: bytes, sep: bytes, last_cell: str | None) -> bool:
    """Whether the file ends inside a quoted cell (its quote never closed). Such a cell runs to the
    end of the file, so it is the last cell read: the file then ends with its opening quote, at the
    start of a cell, and its text with every quote doubled."""
    tail = b'"' + (last_cell or "").replace('"', '""').encode("utf-8")
    if not data.endswith(tail):
        return False
    start = len(data) - len(tail)
    return start == 0 or data[start - 1:start] in (sep, b"\n", b"\r")


def to_float(text: pd.Series) -> pd.Series:
    """Numbers of text cells (missing stays NaN) as ``pd.to_numeric(errors="coerce")`` reads them:
    pyarrow's parser when it takes every cell (on what it takes it agrees with pandas), else pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        parsed = pc.cast(pa.array(text, pa.string()), pa.float64())
        return pd.Series(parsed.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    except (pa.ArrowException, TypeError, ValueError):
        return pd.to_numeric(text, errors="coerce").astype("float64")


def contains(text: pd.Series, pattern: str) -> pd.Series:
    """Cells (text, none missing) in which ``pattern`` is found, as ``text.str.contains(pattern)``:
    run by RE2 (``\\uXXXX`` written ``\\x{XXXX}``), by Python's regex for text pyarrow cannot hold."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.match_substring_regex(pa.array(text, pa.string()), _re2(pattern))
    except (pa.ArrowException, TypeError, ValueError):  # e.g. lone surrogates
        return text.str.contains(pattern, regex=True).fillna(False).astype(bool)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=text.index).fillna(False).astype(bool)


def _re2(pattern: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)
