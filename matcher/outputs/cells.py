"""Spreadsheet-safe cells: the one place that decides which text a spreadsheet would run.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
single quote, so a spreadsheet shows it instead of running it as a formula (CSV/formula
injection, OWASP). Numbers, booleans and missing values are never touched. Every writer of
:mod:`matcher.outputs` goes through here, for a pandas frame (:func:`neutralise_frame`), a
pyarrow table written block by block (:func:`neutralise_arrow_table`) or one value
(:func:`neutralise_cell`); :func:`restore_cell` undoes the quote when our own export is read back.

Examples
--------
>>> neutralise_cell('=HYPERLINK("http://x","y")')
'\\'=HYPERLINK("http://x","y")'
>>> neutralise_cell("常熟"), neutralise_cell(-1.5)
('常熟', -1.5)
>>> restore_cell(neutralise_cell("@SUM(A1)"))
'@SUM(A1)'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

#: First characters that make a spreadsheet treat text as a formula (OWASP CSV injection).
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Make a cell safe for spreadsheets: prefix ``'`` to text starting with a formula character.

    Numbers, booleans and missing values are returned unchanged; text is returned as text.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_cell` applied to every text cell and header."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.map(neutralise_cell).astype(object)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


_FORMULA_BYTES = np.frombuffer("".join(FORMULA_START).encode("ascii"), dtype=np.uint8)


def _may_start_a_formula(chunk: Any) -> bool:
    """True when a cell of a pyarrow string array may start with a formula character: a look at the
    first byte of each value in the array's own buffers, without copying them. Every formula
    character is one ASCII byte, and no byte of a multi-byte UTF-8 character is ASCII."""
    import pyarrow as pa

    if len(chunk) == 0:
        return False
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    _, offsets, data = chunk.buffers()
    if data is None:
        return False
    offsets = np.frombuffer(offsets, dtype=offset_type)[chunk.offset:chunk.offset + len(chunk) + 1]
    first = offsets[:-1][offsets[1:] > offsets[:-1]]  # the first byte of every non-empty value
    return bool(np.isin(np.frombuffer(data, dtype=np.uint8)[first], _FORMULA_BYTES).any())


def neutralise_arrow_table(table: Any, columns: Iterable[str] | None = None) -> Any:
    """A ``pyarrow.Table`` with :func:`neutralise_cell` applied to its text columns, vectorised.

    Parameters
    ----------
    table : pyarrow.Table
    columns : iterable of str, optional
        The columns to neutralise (each must exist); default: every column. Only ``string`` and
        ``large_string`` columns change; others, and nulls, are left as they are.

    Returns
    -------
    pyarrow.Table
        The same table when no cell needed a quote, else a table with the fixed columns replaced.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    starts = pa.array(list(FORMULA_START))
    for name in table.column_names if columns is None else columns:
        col = table.column(name)
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            continue
        if not any(_may_start_a_formula(chunk) for chunk in col.chunks):
            continue  # the common case, told from the first bytes alone
        hit = pc.is_in(pc.utf8_slice_codeunits(col, 0, 1), value_set=starts)
        if pc.any(hit).as_py():
            quote, join = pa.scalar("'", col.type), pa.scalar("", col.type)
            fixed = pc.if_else(hit, pc.binary_join_element_wise(quote, col, join), col)
            table = table.set_column(table.schema.get_field_index(name), name, fixed)
    return table


def restore_cell(value: Any) -> Any:
    """Undo :func:`neutralise_cell` on a value read back from our own export.

    A text starting with a single quote followed by a formula character gets the quote removed,
    so a shortlist written by ``shortlist`` and read by ``schedule`` keeps its names exactly.
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def cell_text(value: Any) -> str:
    """A cell as neutralised text for a PDF or a calendar entry; empty for a missing value."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(neutralise_cell(str(value)))


#: Decimals of scores and their parts in files people open (CSV for Excel, the app's workbooks:
#: ``app_components.downloads``); a command's XLSX keeps the exact value, shown to as many decimals
#: (``SCORE_FORMAT``); Parquet and JSON keep every digit.
SCORE_DECIMALS = 4
#: Excel's number format for a score cell: the CSV's decimals.
SCORE_FORMAT = "0." + "0" * SCORE_DECIMALS


def is_score_column(name: str) -> bool:
    """A score or one of its parts (``f_``/``w_``/``c_`` feature columns)."""
    return name == "score" or name.startswith(("f_", "w_", "c_"))


def round_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float score columns rounded to ``SCORE_DECIMALS``."""
    cols = [c for c in frame.columns if is_score_column(str(c)) and pd.api.types.is_float_dtype(frame[c])]
    return frame.assign(**{c: frame[c].round(SCORE_DECIMALS) for c in cols}) if cols else frame


def round_arrow_scores(table: pa.Table) -> pa.Table:
    """The same rounding for a pyarrow table (the streamed CSV writer); an unknown value (NaN) becomes
    an empty cell, as in every other export (pyarrow would write ``nan``, which no reader takes for
    a missing value)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            column = table.column(i)
            if is_score_column(field.name):
                column = pc.round(column, SCORE_DECIMALS)
            if pc.any(pc.is_nan(column)).as_py():
                column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
            table = table.set_column(i, field.name, column)
    return table
