"""Reading the meetings' input tables: suggestions and shortlists, forbidden pairs, capacities.

Files go through the package's one table reader (:func:`matcher.ingest.read.read_table`) with
their cells as typed (empty cells missing); here the quote our exports put before formula-like
text comes off again (:func:`matcher.outputs.cells.restore_cell`), so a shortlist
written by ``shortlist`` and read by ``schedule`` keeps its names exactly. Every bad cell is
collected into one :class:`~matcher.exceptions.ValidationError` with rows numbered as in Excel.
The importer's limits hold here too: no cell longer than a spreadsheet cell, no id with an
invisible character, and no two ids that differ only in full-width forms (:mod:`matcher.meetings.ids`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher import limits
from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.read import read_table
from matcher.ingest.validate import MAX_CELL_CHARS, clip
from matcher.meetings.ids import TOO_LONG_REASON, KnownIds, id_reasons, lookalikes
from matcher.outputs.cells import restore_cell
from matcher.outputs.words import HEADER_LABELS, machine_names, sheet_names

PAIR: list[str] = ["left_id", "right_id"]
#: Columns that hold numbers in a suggestions file (besides the f_/w_/c_ triples).
NUMERIC_COLUMNS: tuple[str, ...] = ("rank", "score")
#: Why a score too large in size is refused (:data:`matcher.limits.MAX_SCORE_MAGNITUDE`).
SCORE_TOO_LARGE = (f"a score must be between -{limits.MAX_SCORE_MAGNITUDE:,.0f} and {limits.MAX_SCORE_MAGNITUDE:,.0f} "
                   "(the engine's scores are 0 to 1)")


def read_pairs_table(path: str | Path, *, what: str = "table", sheets: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV, XLSX, JSON or Parquet table with every column as text (ids keep leading zeros).

    Parameters
    ----------
    path : str or Path
        Any file :func:`matcher.ingest.read.read_table` reads: ``.csv`` (UTF-8, UTF-8 with BOM,
        GBK or GB18030), ``.xlsx``, ``.json`` (a list of records, ``{"suggestions": [...]}`` /
        ``{"shortlist": [...]}``, or a pandas ``split`` / ``columns`` layout) or ``.parquet``.
    what : str
        What the file holds, for error messages ("suggestions", "forbidden pairs", ...).
    sheets : iterable of str
        XLSX sheet names to try in order; the first sheet is used when none matches.

    Returns
    -------
    pandas.DataFrame
        Text columns with the cells as typed (our exports' neutralising quote undone); empty
        cells are missing values; the index, named ``row``, is the row number in Excel (see
        :func:`excel_rows`). A file written for people (headers, sheet names and codes in
        Chinese or English words) reads as the same file with column ids and codes
        (:func:`matcher.outputs.words.machine_names`).

    Raises
    ------
    ValidationError
        The file is missing or cannot be read, or a cell is longer than a spreadsheet cell holds
        (the importer's limit: it would be cut when written to a workbook); the message names
        ``what`` and the file, ``problems`` each long cell.
    """
    frame = read_table(path, what=what, sheets=sheet_names(*sheets), as_typed=True)
    problems = []
    for col in frame.columns:
        frame[col] = frame[col].map(restore_cell)
        if pd.api.types.is_numeric_dtype(frame[col]):
            continue
        too_long = frame[col].str.len().gt(MAX_CELL_CHARS).to_numpy(dtype=bool)
        for row in frame.index[too_long]:
            problems.append(problem_row(Path(path).name, int(row), str(col), frame.at[row, col], TOO_LONG_REASON))
    if problems:
        raise ValidationError(f"{what} file {Path(path).name} has {len(problems)} cell(s) longer than "
                              f"{MAX_CELL_CHARS:,} characters; nothing was read", pd.DataFrame(problems))
    # "Left_ID", "SCORE ": a column id typed in another case, as the importer reads headers
    typed = [str(c) for c in frame.columns]
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns
                                  if str(c).strip().lower() in HEADER_LABELS and str(c) != str(c).strip().lower()})
    frame = machine_names(frame)
    # "LEFT_ID" beside "left_id", or "甲方编号" beside "left_id": two headers that read as one column
    read_as = [str(c) for c in frame.columns]
    twice = sorted({c for c in read_as if read_as.count(c) > 1})
    if twice:
        raise ValidationError(
            f"{what} file {Path(path).name}: "
            + "; ".join(f"the headers {', '.join(repr(t) for t, r in zip(typed, read_as, strict=True) if r == c)} "
                        f"{'both' if read_as.count(c) == 2 else 'all'} mean column '{c}'" for c in twice) + "; each column may appear once; nothing was read",
            pd.DataFrame([problem_row(Path(path).name, 1, c, c, "duplicate column") for c in twice]))
    return frame


def excel_rows(frame: pd.DataFrame) -> list[Any]:
    """The row number (as in Excel: header = row 1) of each position of ``frame``: its index when it
    was read from a file (:func:`read_pairs_table`), else 2, 3, ..."""
    if frame.index.name == "row":
        return [int(r) for r in frame.index]
    return list(range(2, len(frame) + 2))


def problem_row(file: str, row: Any, column: str, value: Any, reason: str) -> dict[str, Any]:
    """One row of a problems table (``file, row, column, value, reason``); a long value is cut for showing."""
    return {"file": file, "row": row, "column": column, "value": clip(value), "reason": reason}


def id_problems(
    frame: pd.DataFrame, columns: Iterable[str], source: str, *, known: KnownIds | None = None,
    rows: list[Any] | None = None,
) -> list[dict[str, Any]]:
    """Problems of the ids in ``columns`` (stripped text): an id the importer would refuse (too long,
    an invisible character), two ids that differ only in full-width forms, and, with ``known``,
    an id that is not known (:class:`~matcher.meetings.ids.KnownIds`) or only looks like a known one.

    ``rows`` numbers the positions for the messages (default :func:`excel_rows`).
    """
    columns = [c for c in columns if c in frame.columns]
    rows = excel_rows(frame) if rows is None else rows
    frame = frame[columns].reset_index(drop=True)  # positions from here on
    usable = frame.astype(object)
    problems = []
    for col in columns:
        for i, reason in id_reasons(frame[col]).items():
            problems.append(problem_row(source, rows[i], col, frame.at[i, col], reason))
            usable.at[i, col] = None  # reported once: left out of the checks below
    lookalike = lookalikes(usable, columns, rows)
    for row, col, value, reason in lookalike:
        problems.append(problem_row(source, row, col, value, reason))
    if known is not None:
        said = {(row, col) for row, col, _, _ in lookalike}
        for col in columns:
            for i, reason in known.reasons(usable[col]).items():
                if (rows[i], col) not in said:
                    problems.append(problem_row(source, rows[i], col, frame.at[i, col], reason))
    return problems


def require_columns(frame: pd.DataFrame, needed: Iterable[str], source: str, found: str) -> None:
    """A ``ValidationError`` naming every missing column (row 1, the header) and the columns found."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{source} lacks column(s) {', '.join(missing)}; {found}: {', '.join(map(str, frame.columns))}",
            pd.DataFrame([problem_row(source, 1, c, "", "required column missing") for c in missing]),
        )


def prepare_suggestions(
    suggestions: pd.DataFrame, *, source: str = "suggestions", require_score: bool = True,
    known: KnownIds | None = None,
) -> pd.DataFrame:
    """Check a suggestions frame and return a copy with text ids and numeric scores.

    Every problem is collected in one pass. Rows are numbered as in Excel (header = row 1; a
    frame read by :func:`read_pairs_table` keeps its file's row numbers as its index, and so
    does the copy returned; any other frame gets a fresh 0-based index). With
    ``require_score=False`` (a list of meetings to schedule) the score may be absent or empty.
    Ids are checked as :func:`id_problems` says, against ``known`` when given.

    Raises
    ------
    ValidationError
        A required column (``left_id``, ``right_id``, ``score``) is missing, an id is empty or one
        the importer would refuse (see :mod:`matcher.meetings.ids`), two ids differ only in
        full-width forms, an id is not ``known``, or a score is not a number or is larger in size
        than :data:`matcher.limits.MAX_SCORE_MAGNITUDE`. ``problems`` lists each bad cell.
    """
    if not isinstance(suggestions, pd.DataFrame):
        raise MatcherError(f"{source}: expected a table (DataFrame), got {type(suggestions).__name__}")
    require_columns(suggestions, ("left_id", "right_id", "score") if require_score else PAIR, source, "it has")
    rows = excel_rows(suggestions)
    frame = suggestions.copy()
    if frame.index.name != "row":
        frame = frame.reset_index(drop=True)
    if "score" not in frame.columns:
        frame["score"] = pd.NA
    problems = []
    for col in PAIR:
        for i in np.flatnonzero(frame[col].isna().to_numpy() | (frame[col].astype(str).str.strip() == "")):
            problems.append(problem_row(source, rows[i], col, "", "empty id"))
        frame[col] = frame[col].astype(str).str.strip().where(frame[col].notna())
    problems += id_problems(frame, PAIR, source, known=known, rows=rows)
    for col in PAIR:
        frame[col] = frame[col].astype(str)
    numeric = [c for c in frame.columns if c in NUMERIC_COLUMNS or str(c)[:2] in ("f_", "w_", "c_")]
    for col in numeric:
        raw = frame[col]
        values = pd.to_numeric(raw, errors="coerce")
        values = values.where(np.isfinite(values.astype("float64")))  # "inf" is not a score either
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if col == "score" and require_score:
            bad = bad | raw.isna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(problem_row(source, rows[i], col, raw.iloc[i], "not a number"))
        if col == "score":  # a finite 1e300 overflows the solvers' sums and the flow's integers
            huge = values.abs().gt(limits.MAX_SCORE_MAGNITUDE).fillna(False).to_numpy(dtype=bool)
            for i in np.flatnonzero(huge):
                problems.append(problem_row(source, rows[i], col, raw.iloc[i], SCORE_TOO_LARGE))
            values = values.where(~huge)
        whole = values.dropna()
        frame[col] = values.astype("Int64" if col == "rank" and (whole == whole.round()).all() else "Float64")
    if problems:
        table = pd.DataFrame(problems)
        raise ValidationError(f"{source} has {len(table)} bad cell(s); nothing was read", table)
    return frame


def read_suggestions(path: str | Path) -> pd.DataFrame:
    """Read a suggestions (or shortlist) file written by ``suggest`` or ``shortlist``; a Parquet file's
    reasons are rendered from its codes and numbers (:func:`with_reasons`)."""
    frame = with_reasons(read_pairs_table(path, what="suggestions", sheets=("shortlist", "suggestions")), path)
    return prepare_suggestions(frame, source=Path(path).name).reset_index(drop=True)


def read_shortlist(path: str | Path) -> pd.DataFrame:
    """Pairs to schedule from a suggestions/shortlist file; the score column is optional. The index
    holds the file's row numbers (for messages naming rows, see :func:`excel_rows`)."""
    frame = with_reasons(read_pairs_table(path, what="shortlist", sheets=("shortlist", "suggestions")), path)
    return prepare_suggestions(frame, source=Path(path).name, require_score="score" in frame.columns)


def with_reasons(frame: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """``frame`` (read from ``path``) with ``reason_zh`` and ``reason_en``: a Parquet file written by
    ``suggest`` keeps the codes and numbers a reason is made of, not its text, and the texts are
    rendered here from the file's typed columns (the same texts a CSV of the run holds). Other
    files are returned as read."""
    if Path(path).suffix.lower() != ".parquet" or "reason_zh" in frame.columns or "kind" not in frame.columns:
        return frame
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from matcher.docking.explain import render_reasons
    from matcher.docking.kinds import KINDS

    name = Path(path).name
    unknown = sorted(set(frame["kind"].dropna()) - set(KINDS))
    if unknown or frame["kind"].isna().any():
        raise ValidationError(f"suggestions file {name}: the kind column holds {', '.join(map(repr, unknown)) or 'empty cells'}; "
                              f"the reasons can only be rendered for the kinds {', '.join(KINDS)}")
    try:
        wanted = [c for c in pq.read_schema(path).names
                  if c == "kind" or c[:2] in ("f_", "w_", "c_") or any(c in KINDS[k].details for k in KINDS)]
        table = pq.read_table(path, columns=wanted)
        for i, field in enumerate(table.schema):  # details as written by our export (a name's quote comes off)
            if (field.name != "kind" and pa.types.is_string(field.type)
                    and pc.any(pc.starts_with(table.column(i), "'")).as_py()):
                table = table.set_column(i, field.name, pa.array(
                    [restore_cell(v) for v in table.column(i).to_pylist()], pa.string()))
        zh, en = render_reasons(table)
    except KeyError as err:
        raise ValidationError(f"suggestions file {name} has no reasons and lacks the column {err} they are "
                              "rendered from; write it again with python -m matcher suggest") from None
    if len(zh) != len(frame):
        raise ValidationError(f"suggestions file {name}: {len(zh):,} rows hold reasons for {len(frame):,} rows read")
    at = list(frame.columns).index("score") + 1 if "score" in frame.columns else len(frame.columns)
    frame = frame.copy()
    frame.insert(at, "reason_zh", pd.Series(zh, index=frame.index, dtype=object))
    frame.insert(at + 1, "reason_en", pd.Series(en, index=frame.index, dtype=object))
    return frame


def table_source(source: pd.DataFrame | str | Path, what: str, sheet: str, default_name: str
                 ) -> tuple[pd.DataFrame, str]:
    """A side table given as a frame or a CSV/XLSX/JSON file: ``(frame, name for messages)``."""
    if isinstance(source, (str, Path)):
        return read_pairs_table(source, what=what, sheets=(sheet,)), Path(source).name
    return source, default_name


def read_forbidden(source: pd.DataFrame | str | Path | Iterable[tuple[str, str]] | None, *,
                   known: KnownIds | None = None) -> pd.DataFrame:
    """Forbidden pairs as a frame ``left_id, right_id, reason``.

    Accepts a DataFrame, a CSV/XLSX/JSON path or an iterable of ``(left_id, right_id[, reason])``.
    A missing reason reads "excluded by planner". Ids are checked as :func:`id_problems` says
    (against ``known``, the suggestions' ids, when given). The index, named ``row``, holds each
    pair's row as in Excel and ``attrs["source"]`` the file's name, for messages.
    """
    cols = ["left_id", "right_id", "reason"]
    if source is None:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in cols})
    name = "forbidden pairs"
    if isinstance(source, (str, Path, pd.DataFrame)):
        frame, name = table_source(source, "forbidden pairs", "forbidden", name)
        frame = frame.copy()
    else:
        rows = [tuple(r) for r in source]
        frame = pd.DataFrame([(r[0], r[1], r[2] if len(r) > 2 else None) for r in rows], columns=cols)
    require_columns(frame, PAIR, name, "expected left_id,right_id[,reason], found")
    rows = excel_rows(frame)
    problems = []
    for col in PAIR:
        for i in np.flatnonzero(frame[col].isna().to_numpy()):
            problems.append(problem_row(name, rows[i], col, "", "empty id"))
    ids = frame[PAIR].apply(lambda c: c.astype(str).str.strip().where(c.notna()))
    problems += id_problems(ids, PAIR, name, rows=rows, known=known)
    if problems:
        raise ValidationError(f"{name} has {len(problems)} bad id(s)", pd.DataFrame(problems))
    reason = frame["reason"] if "reason" in frame.columns else pd.Series(pd.NA, index=frame.index)
    out = pd.DataFrame(
        {
            "left_id": frame["left_id"].astype(str).str.strip(),
            "right_id": frame["right_id"].astype(str).str.strip(),
            "reason": reason.where(reason.notna(), "excluded by planner").astype(str),
        }
    )
    out.index = pd.Index(rows, name="row")
    out.attrs["source"] = name
    return out


def read_capacities(source: Mapping[str, int] | pd.DataFrame | str | Path | None, *,
                    known: KnownIds | None = None) -> dict[str, int]:
    """Per-entity meeting capacities from a mapping, a frame or a file with ``id, capacity``; ids
    checked as :func:`id_problems` says (against ``known``, the suggestions' ids, when given), and an
    id given twice refused (which capacity was meant is not known)."""
    table = capacity_table(source, known=known)
    return dict(zip(table["id"], table["capacity"], strict=True))


def capacity_table(source: Mapping[str, int] | pd.DataFrame | str | Path | None, *,
                   known: KnownIds | None = None) -> pd.DataFrame:
    """:func:`read_capacities` as a frame ``id, capacity`` indexed by each row as in Excel (``row``),
    the file's name in ``attrs["source"]``, for messages naming the row."""
    if source is None:
        return pd.DataFrame({"id": pd.Series(dtype=str), "capacity": pd.Series(dtype=int)},
                            index=pd.Index([], name="row"))
    if isinstance(source, Mapping):
        items = list(source.items())
        name, id_col, rows = "capacities", "id", list(range(1, len(items) + 1))
    else:
        frame, name = table_source(source, "capacities", "capacities", "capacities")
        id_col = next((c for c in ("id", "entity_id", "participant_id") if c in frame.columns), None)
        if id_col is None or "capacity" not in frame.columns:
            raise ValidationError(
                f"{name} needs columns id,capacity; found: {', '.join(map(str, frame.columns))}",
                pd.DataFrame([problem_row(name, 1, "id/capacity", "", "required column missing")]),
            )
        items = list(zip(frame[id_col], frame["capacity"], strict=False))
        rows = excel_rows(frame)
    keys = pd.DataFrame({id_col: [None if k is None or pd.isna(k) else str(k).strip() for k, _ in items]})
    problems = [problem_row(name, row, id_col, "", "empty id")
                for row, key in zip(rows, keys[id_col], strict=True) if not key]
    problems += id_problems(keys, [id_col], name, rows=rows, known=known)
    out: dict[str, tuple[Any, int]] = {}  # id -> (row, capacity)
    first: dict[str, Any] = {}
    for row, (key, value) in zip(rows, items, strict=True):
        key = None if key is None or (not isinstance(key, str) and pd.isna(key)) else str(key).strip()
        if key and key in first:
            problems.append(problem_row(name, row, id_col, key, f"repeats the id of row {first[key]}: give each "
                                        "id one capacity"))
        elif key:
            first[key] = row
        try:
            number = float(value)
            ok = number >= 0 and number == int(number)
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            problems.append(problem_row(name, row, "capacity", value, "must be a whole number >= 0"))
            continue
        out.setdefault(str(key), (row, int(number)))
    if problems:
        raise ValidationError(f"{name} has {len(problems)} bad row(s)", pd.DataFrame(problems))
    table = pd.DataFrame({"id": list(out), "capacity": [c for _, c in out.values()]},
                         index=pd.Index([r for r, _ in out.values()], name="row"))
    table.attrs["source"] = name
    return table
