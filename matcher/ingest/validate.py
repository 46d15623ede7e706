"""Validate text tables against the column specs and convert them to the in-memory types.

:func:`check_table` turns the text cells that :mod:`matcher.ingest.read` read into typed columns and finds
every problem in one vectorised pass: cells are parsed here (numbers, flags, stages, provinces), then checked
with a pandera schema built from :mod:`matcher.columns` (required cells, coordinate ranges, non-negative
numbers) with ``lazy=True`` so that all failures are collected. Each problem is one row of a table with
columns ``file, row, column, value, reason``; ``row`` is the row number a user sees in Excel
(header = row 1, first data row = 2). :func:`validate_table` raises
:class:`~matcher.exceptions.ValidationError` when any problem exists, so nothing is loaded.

In-memory types (the shared data contract): id and text columns are ``string`` with missing
values as NA; stages, buys and roles are canonical ``;``-joined strings in chain order; flags
are ``boolean`` (NA = unknown); numbers ``Float64`` and counts ``Int64`` (NA = unknown, never
0); province is the English name; region is filled from the province.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from matcher import limits
from matcher.columns import SPECS, Column, TableSpec
from matcher.exceptions import ValidationError
from matcher.ingest.fast import contains, to_float
from matcher.ingest.ids import duplicate_id_reasons
from matcher.ingest.read import PROBLEM_COLUMNS, problems_frame, read_table
from matcher.text import CONTROL, LINE_BREAK, one_line
from matcher.vocab import (
    LIST_SEPARATOR,
    MARKET_ROLES,
    PROVINCE_BY_ZH,
    PROVINCES,
    REGIONS,
    STAGE_ORDER,
    STAGES,
)

#: pandas dtype of each column kind in memory.
DTYPES: dict[str, str] = {
    "id": "string",
    "text": "string",
    "province": "string",
    "region": "string",
    "stages": "string",
    "roles": "string",
    "lat": "Float64",
    "lon": "Float64",
    "number": "Float64",
    "count": "Int64",
    "flag": "boolean",
}

#: Value used when a cell of this (table, column) is empty, as the column spec says.
DEFAULTS: dict[tuple[str, str], str] = {("markets", "stages"): "trading"}

#: Accepted flag spellings (compared lower-cased). Empty means unknown.
FLAG_VALUES: dict[str, bool] = {
    "yes": True,
    "true": True,
    "1": True,
    "是": True,
    "no": False,
    "false": False,
    "0": False,
    "否": False,
}

#: Longest text a cell may hold: Excel's own limit, so every value exports to a workbook unchanged
#: (a longer cell would be cut silently there) and a pasted megabyte never reaches the engine.
MAX_CELL_CHARS = 32_767
TOO_LONG_CELL = f"longer than {MAX_CELL_CHARS:,} characters, the most a spreadsheet cell holds; shorten it"
#: Cell values quoted in problems are cut to this many characters (a 2 MB cell must not flood a terminal).
MAX_SHOWN_CHARS = 200

#: Separators accepted between list items (stages, buys, roles); output always uses ";".
LIST_SEPARATORS = re.compile(r"[;,|，；、]")

_REGION_WORDS: dict[str, str] = {
    **{key: key for key in REGIONS},
    **{zh: key for key, (zh, _) in REGIONS.items()},
    **{zh[0]: key for key, (zh, _) in REGIONS.items()},
}
# Chinese official names carry suffixes (浙江省, 广西壮族自治区); English ones sometimes "Province".
_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")


def _province_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for en, (zh, _) in PROVINCES.items():
        for form in (en, en.replace(" ", ""), f"{en} province", f"{en} sheng", zh):
            table[form.lower()] = en
    for zh, en in PROVINCE_BY_ZH.items():
        for suffix in _PROVINCE_SUFFIXES:
            table[zh + suffix] = en
    return table


PROVINCE_LOOKUP: dict[str, str] = _province_lookup()


def province_name(text: str) -> str | None:
    """The province (English) a name means, English or Chinese (``Zhejiang``, ``浙江省``), case and
    spaces ignored; None when it names none."""
    return PROVINCE_LOOKUP.get(" ".join(str(text).lower().split()))


def _vocab_lookup(vocab: dict[str, tuple[str, str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for key, (zh, en) in vocab.items():
        for form in (key, key.replace("_", " "), en, en.replace("&", "and"), zh):
            table[" ".join(form.lower().split())] = key
    return table


STAGE_LOOKUP: dict[str, str] = _vocab_lookup(STAGES)
ROLE_LOOKUP: dict[str, str] = _vocab_lookup(MARKET_ROLES)
ROLE_ORDER: dict[str, int] = {r: i for i, r in enumerate(MARKET_ROLES)}


def empty_table(spec: TableSpec) -> pd.DataFrame:
    """A table with no rows and the right columns and dtypes.

    Examples
    --------
    >>> from matcher.columns import MARKETS
    >>> empty_table(MARKETS)["lat"].dtype
    Float64Dtype()
    """
    return pd.DataFrame({c.name: pd.Series([], dtype=DTYPES[c.kind]) for c in spec.columns})


def schema(spec: TableSpec, columns: Iterable[str] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of a typed table: dtypes, required cells and value ranges.

    Parameters
    ----------
    spec : TableSpec
        The table's column spec.
    columns : iterable of str, optional
        Only these columns (the ones a file actually has); default all.
    """
    wanted = set(spec.names if columns is None else columns)
    fields = {}
    for col in spec.columns:
        if col.name not in wanted:
            continue
        checks = []
        if col.kind == "lat":
            checks.append(pa.Check.in_range(-90, 90, error="latitude must be between -90 and 90"))
        elif col.kind == "lon":
            checks.append(pa.Check.in_range(-180, 180, error="longitude must be between -180 and 180"))
        elif col.kind in ("number", "count"):
            checks.append(pa.Check.ge(0, error="must be 0 or more (leave the cell empty when unknown)"))
        fields[col.name] = pa.Column(DTYPES[col.kind], checks=checks, nullable=not col.required)
    return pa.DataFrameSchema(fields, name=spec.table, strict=False)


# --- cell parsers: each takes stripped text ("" = empty) and returns (values, bad mask, reasons) ---


def clip(value: object, limit: int = MAX_SHOWN_CHARS) -> object:
    """A long text cut for showing in a problem, saying how long it was; other values unchanged.

    Examples
    --------
    >>> clip("x" * 300, 10)
    'xxxxxxxxxx… (300 characters)'
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… ({len(value):,} characters)"
    return value


def _parse_text(text: pd.Series, col: Column):
    values = text.mask(text.eq("")).astype("string")
    too_long = text.str.len().gt(MAX_CELL_CHARS)
    if too_long.any():
        return values.mask(too_long), too_long, TOO_LONG_CELL
    return values, None, None


#: Characters that show as nothing (zero-width, joiners, bidirectional controls, soft hyphen, variation
#: selectors, fillers, byte-order mark) or are control characters: an id holding one looks like another id.
_INVISIBLE = (r"[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
              r"\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8]")


def _parse_id(text: pd.Series, col: Column):
    values, bad, reason = _parse_text(text, col)
    if bad is not None:
        return values, bad, reason
    hidden = contains(text, _INVISIBLE)
    if hidden.any():
        reason = "an id holds an invisible character (zero-width, direction mark or control); retype the id"
        return values.mask(hidden), hidden, reason
    return values, None, None


def _parse_numeric(text: pd.Series, col: Column):
    empty = text.eq("")
    values = to_float(text.mask(empty))
    bad = ~empty & ~np.isfinite(values)
    if bad.any():
        # Planners paste figures with thousands separators ("12,000"); accept those.
        retry = text[bad].str.replace(r"(?<=\d)[,，](?=\d{3}(?:\D|$))", "", regex=True)
        values.loc[bad] = pd.to_numeric(retry, errors="coerce").astype("float64")
        bad = ~empty & ~np.isfinite(values)
    values = values.mask(bad | empty)
    reason = "not a number (leave the cell empty when unknown)"
    if col.kind == "count":
        fractional = values.notna() & (values % 1 != 0)
        too_large = values.abs() > 1e15  # beyond exact integers; certainly a typing slip
        all_bad = bad | fractional | too_large
        # Reasons only for the bad cells: a constant Series over a million rows costs seconds.
        reasons = pd.Series(reason, index=text.index[all_bad.to_numpy()], dtype=object)
        reasons = reasons.mask((fractional & ~bad)[all_bad], "not a whole number")
        reasons = reasons.mask(too_large[all_bad], "too large for a count")
        return values.mask(fractional | too_large).astype("Int64"), all_bad, reasons
    return values.astype("Float64"), bad, reason


def _lookup(text: pd.Series, table: dict) -> tuple[pd.Series, pd.Series]:
    """Each cell looked up (case-insensitive) in ``table``; ``bad`` = non-empty and not found.

    Few distinct spellings even in a million rows: each is looked up once.
    """
    codes, uniques = pd.factorize(text, sort=False)
    if (codes < 0).any():  # a missing cell (not "") among them: the plain way
        values = text.map({v: table.get(v.lower()) for v in text.unique()})
    else:  # each spelling looked up once, then spread by code (pandas' map over a million rows is slow)
        small = pd.Series(uniques, dtype=text.dtype).map({v: table.get(v.lower()) for v in uniques})
        values = small.take(codes)
        values.index = text.index
    return values, text.ne("") & values.isna()


def _parse_flag(text: pd.Series, col: Column):
    values, bad = _lookup(text, FLAG_VALUES)
    reason = "not a yes/no flag; use yes, no, true, false, 1, 0, 是 or 否 (empty = unknown)"
    return values.astype("boolean"), bad, reason


def _parse_list_value(value: str, lookup: dict[str, str], order: dict[str, int]) -> tuple[str | None, str]:
    """One list cell -> (canonical ";"-joined items or None, comma-joined unknown items)."""
    items, unknown = set(), []
    for token in LIST_SEPARATORS.split(value):
        key = " ".join(token.lower().replace("-", " ").split())
        if not key:
            continue
        item = lookup.get(key) or lookup.get(key.replace("_", " "))
        if item is None:
            unknown.append(token.strip())
        else:
            items.add(item)
    if unknown or not items:
        return None, str(clip(", ".join(unknown), 60))
    return LIST_SEPARATOR.join(sorted(items, key=order.__getitem__)), ""


def _parse_list(text: pd.Series, col: Column):
    lookup, order, what = (
        (ROLE_LOOKUP, ROLE_ORDER, "role") if col.kind == "roles" else (STAGE_LOOKUP, STAGE_ORDER, "stage")
    )
    valid = ", ".join(order)
    # Distinct cell values are few even in a million rows: parse each once, then map.
    parsed = {v: _parse_list_value(v, lookup, order) for v in text.unique() if v != ""}
    values = text.map({v: p[0] for v, p in parsed.items()})
    bad = text.ne("") & values.isna()
    reasons = text[bad].map(
        {
            v: f"unknown {what} '{p[1]}'; valid {what}s: {valid}" if p[1] else f"no {what} given"
            for v, p in parsed.items()
            if p[0] is None
        }
    )
    return values.astype("string"), bad, reasons


def _parse_province(text: pd.Series, col: Column):
    values, bad = _lookup(text, PROVINCE_LOOKUP)
    reason = "unknown province; use the English or Chinese name of a mainland province, e.g. Zhejiang"
    return values.astype("string"), bad, reason


def _parse_region(text: pd.Series, col: Column):
    values, bad = _lookup(text, _REGION_WORDS)
    reason = (
        "unknown region; valid regions: east, central, west (or leave empty to derive it from the province)"
    )
    return values.astype("string"), bad, reason


_PARSERS = {
    "id": _parse_id,
    "text": _parse_text,
    "lat": _parse_numeric,
    "lon": _parse_numeric,
    "number": _parse_numeric,
    "count": _parse_numeric,
    "flag": _parse_flag,
    "stages": _parse_list,
    "roles": _parse_list,
    "province": _parse_province,
    "region": _parse_region,
}


def parse_cells(text: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Parse stripped text cells of one column kind (see ``matcher.columns.Column``).

    Returns
    -------
    values : pandas.Series
        The cells in memory type; empty and unparseable cells are NA.
    bad : pandas.Series of bool
        True where a non-empty cell could not be parsed.

    Examples
    --------
    >>> values, bad = parse_cells(pd.Series(["纺纱，fiber", "knit"]), "stages")
    >>> values.tolist(), bad.tolist()
    (['fiber;spinning', <NA>], [False, True])
    """
    text = text.fillna("").astype(str).str.strip()
    values, bad, _ = _PARSERS[kind](text, Column("_", kind))
    return values, (bad if bad is not None else pd.Series(False, index=text.index))


def _cell_problems(file: str, column: str, mask: pd.Series, values: pd.Series, reasons) -> pd.DataFrame:
    rows = mask.index[mask.to_numpy(dtype=bool)]
    if not len(rows):
        return problems_frame()
    reason = reasons.reindex(rows) if isinstance(reasons, pd.Series) else reasons
    return pd.DataFrame(
        {
            "file": file,
            "row": np.asarray(rows, dtype="int64"),
            "column": column,
            "value": [clip(v) for v in values.reindex(rows).to_numpy(dtype=object)],
            "reason": np.asarray(reason, dtype=object) if not isinstance(reason, str) else reason,
        }
    )


def _header_problems(file: str, spec: TableSpec, present: list[str]) -> list[dict]:
    valid = ", ".join(spec.names)
    out = []
    missing = [c for c in spec.required if c not in present]
    for name in missing:
        out.append(
            {
                "file": file,
                "row": 1,
                "column": name,
                "value": "",
                "reason": f"required column '{name}' is missing (missing: {', '.join(missing)}); "
                f"valid columns: {valid}",
            }
        )
    if not spec.extra_allowed:
        for name in present:
            if name not in spec.names:
                out.append(
                    {
                        "file": file,
                        "row": 1,
                        "column": clip(name),
                        "value": clip(name),
                        "reason": f"unknown column '{clip(name)}'; valid columns: {valid}",
                    }
                )
    return out


def _duplicate_ids(file: str, key: str, ids: pd.Series) -> pd.DataFrame:
    reasons = duplicate_id_reasons(key, ids)
    return _cell_problems(file, key, ids.index.to_series().isin(reasons.index), ids, reasons)


def _schema_problems(file: str, spec: TableSpec, typed: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    try:
        schema(spec, [c for c in spec.names if c in raw.columns]).validate(typed, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna() & cases["column"].isin(spec.names)]
        if not len(cases):
            return problems_frame()
        columns = cases["column"].astype(str).to_numpy()
        rows = cases["index"].astype("int64").to_numpy()
        docs = {c.name: c.doc for c in spec.columns}
        reasons = np.where(
            cases["check"].astype(str).to_numpy() == "not_nullable",
            [f"required cell is empty ({docs[c]})" for c in columns],
            cases["check"].astype(str).to_numpy(),
        )
        values = [clip(raw[c].get(r, "")) for c, r in zip(columns, rows, strict=True)]
        return pd.DataFrame(
            {"file": file, "row": rows, "column": columns, "value": values, "reason": reasons}
        )
    return problems_frame()


def check_table(
    raw: pd.DataFrame,
    spec: TableSpec | str,
    file: str | Path = "<table>",
    *,
    cluster_ids: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert a text table to typed columns and find every problem in one pass.

    Parameters
    ----------
    raw : pandas.DataFrame
        Text cells with canonical column names, indexed by Excel row number in an index named
        ``row`` (as from :func:`matcher.ingest.read.read_table`); any other index is replaced by 2, 3, ...
        Missing cells may be ``""`` or NA.
    spec : TableSpec or str
        The table's column spec, or its name (``"clusters"``, ``"markets"``, ``"enterprises"``).
    file : str or path
        Name used in the problems table.
    cluster_ids : iterable of str, optional
        Known cluster ids; when given, an enterprise's non-empty ``cluster_id`` must be one.

    Returns
    -------
    typed : pandas.DataFrame
        The spec's columns (plus extra columns when allowed) in memory types, same index as ``raw``.
    problems : pandas.DataFrame
        ``file, row, column, value, reason``, sorted by row and column; empty when the table is valid.
    """
    spec = SPECS[spec] if isinstance(spec, str) else spec
    file = str(file)
    raw = raw.copy()
    if raw.index.name != "row":
        # Not from matcher.ingest.read: number the rows as Excel would show them if this table were saved.
        raw.index = pd.RangeIndex(2, 2 + len(raw), name="row")
    raw.columns = [str(c) for c in raw.columns]
    for name in raw.columns:
        raw[name] = raw[name].fillna("").astype(str).str.strip()
    present = list(raw.columns)
    found = [problems_frame(_header_problems(file, spec, present))]
    blank = pd.Series("", index=raw.index, dtype=str)

    typed = {}
    for col in spec.columns:
        text = raw[col.name] if col.name in raw.columns else blank
        values, bad, reasons = _PARSERS[col.kind](text, col)
        if (spec.table, col.name) in DEFAULTS:
            values = values.fillna(DEFAULTS[(spec.table, col.name)])
        typed[col.name] = values
        if bad is not None and bad.any():
            found.append(_cell_problems(file, col.name, bad, text, reasons))
    if spec.extra_allowed:
        for name in present:
            if name not in spec.names:
                typed[name] = _parse_text(raw[name], None)[0]
    typed = pd.DataFrame(typed, index=raw.index)

    # Region: derived from the province; a region that was typed must agree with it.
    if "province" in typed and "region" in typed:
        expected = (
            typed["province"].map({en: region for en, (_, region) in PROVINCES.items()}).astype("string")
        )
        given = typed["region"]
        clash = (expected.notna() & given.notna() & expected.ne(given)).fillna(False)
        if clash.any():
            reasons = (
                "region does not match province "
                + typed["province"][clash]
                + ", which is in the "
                + expected[clash]
            )
            found.append(_cell_problems(file, "region", clash, raw["region"], reasons))
        typed["region"] = expected.fillna(given)

    if "lat" in typed and "lon" in typed:  # every table holds places in China: a point elsewhere is a typo
        lat, lon = typed["lat"].astype("Float64"), typed["lon"].astype("Float64")
        (south, north), (west, east) = limits.CHINA_LAT, limits.CHINA_LON
        away = (lat.between(-90, 90) & lon.between(-180, 180)
                & ~(lat.between(south, north) & lon.between(west, east))).fillna(False).astype(bool)
        if away.any():
            found.append(_cell_problems(
                file, "lat", away, raw["lat"] + ", " + raw["lon"], f"lat, lon lies outside China (lat {south} to "
                f"{north}, lon {west} to {east}); check the coordinates (are lat and lon swapped?)"))

    if "name_zh" not in raw.columns and "name_en" not in raw.columns:
        found.append(
            problems_frame(
                [
                    {
                        "file": file,
                        "row": 1,
                        "column": "name_zh",
                        "value": "",
                        "reason": "the table needs a name_zh or a name_en column",
                    }
                ]
            )
        )
    elif "name_zh" in typed and "name_en" in typed:
        no_name = typed["name_zh"].isna() & typed["name_en"].isna()
        if no_name.any():
            found.append(
                _cell_problems(file, "name_zh", no_name, blank, "give name_zh or name_en (both are empty)")
            )
    for col in ("name_zh", "name_en"):  # a name is a heading, a table cell and a calendar title: one line
        if col in typed:
            broken = contains(typed[col].fillna(""), LINE_BREAK)  # Alt+Enter in a cell: a space in the name
            typed.loc[broken, col] = typed.loc[broken, col].map(one_line)
            for bad, why in ((contains(typed[col].fillna(""), CONTROL), "a name holds a control character (a "
                              "character that does not print); retype the name"),
                             (typed[col].str.len().gt(limits.MAX_NAME_CHARS).fillna(False).astype(bool),
                              f"a name of more than {limits.MAX_NAME_CHARS} characters; shorten it (descriptions "
                              "belong in products or designations)")):
                if bad.any():
                    found.append(_cell_problems(file, col, bad, raw[col], why))

    if spec.key in raw.columns:
        found.append(_duplicate_ids(file, spec.key, typed[spec.key]))

    if cluster_ids is not None and "cluster_id" in typed:
        known = pd.Index(list(cluster_ids))
        unknown = typed["cluster_id"].notna() & ~typed["cluster_id"].isin(known)
        if unknown.any():
            found.append(
                _cell_problems(
                    file,
                    "cluster_id",
                    unknown,
                    raw["cluster_id"],
                    "unknown cluster_id: no cluster in the clusters table has this id",
                )
            )

    found.append(_schema_problems(file, spec, typed, raw))
    problems = (
        pd.concat([f for f in found if len(f)], ignore_index=True) if any(len(f) for f in found) else None
    )
    if problems is None:
        return typed, problems_frame()
    # One problem per cell: the first found (cell parsing comes before the schema's checks).
    problems = problems.drop_duplicates(["row", "column"], keep="first")
    position = {name: i for i, name in enumerate([*spec.names, *present])}
    problems = problems.assign(_pos=problems["column"].map(position).fillna(len(position)))
    problems = problems.sort_values(["row", "_pos"], kind="stable").drop(columns="_pos")
    return typed, problems.reset_index(drop=True)[PROBLEM_COLUMNS]


def summarize(problems: pd.DataFrame, label: str) -> str:
    """One line saying how many problems there are and where the first one is."""
    rows = problems["row"].nunique()
    first = problems.iloc[0]
    where = f"row {first['row']}, column {first['column']}" if first["column"] else f"row {first['row']}"
    return (
        f"{label}: {len(problems)} problem(s) in {rows} row(s); nothing was loaded. "
        f"First: {where}: {first['reason']}"
    )


def validate_table(
    raw: pd.DataFrame,
    spec: TableSpec | str,
    file: str | Path = "<table>",
    *,
    cluster_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Like :func:`check_table`, but raise when anything is wrong and return the typed table.

    Raises
    ------
    ValidationError
        With ``problems`` listing every problem; nothing is returned.
    """
    typed, problems = check_table(raw, spec, file, cluster_ids=cluster_ids)
    if len(problems):
        raise ValidationError(summarize(problems, str(file)), problems)
    return typed.reset_index(drop=True)


def load_table(path: str | Path, table: str, *, cluster_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate one file as ``table`` (``"clusters"``, ``"markets"`` or ``"enterprises"``).

    Raises
    ------
    ValidationError
        The file cannot be read or breaks the schema; ``problems`` lists everything found.
    """
    spec = SPECS[table]
    raw = read_table(path, spec.aliases)
    return validate_table(raw, spec, path, cluster_ids=cluster_ids)
