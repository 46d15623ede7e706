"""Read table files as text, exactly as they were typed: the one table reader of the package.

This is the very edge of the pipeline: bytes come in, a table of text cells comes out, with the
row numbers a user sees in Excel (header = row 1). Nothing here interprets a cell;
:mod:`matcher.ingest.validate` (data folders) and :mod:`matcher.meetings.tables` (suggestions,
shortlists and the planners' side tables) do that. Every cell stays text so that ids such as
``00123`` keep their zeros.

:func:`read_table` takes CSV text (``.csv``, ``.txt``, ``.tsv``), Excel (``.xlsx``, ``.xlsm``; a
chosen sheet), JSON records (``.json``) and Parquet (``.parquet``). Chinese CSV files arrive as
UTF-8, UTF-8 with a BOM, GBK or GB18030, or as Excel's "Unicode text" (UTF-16 with a byte-order mark,
tab-separated). We try strict decodes in the order ``utf-8-sig`` then ``gb18030`` (GBK is a subset of
GB18030) then ``big5``. Files that cannot be read (missing, empty, binary, UTF-16 without its byte-order
mark, NUL bytes, an unterminated quote, duplicate headers, a text file named ``.xlsx``, broken JSON or
Parquet, a JSON file over ``limits.MAX_DATA_JSON_BYTES``) raise
:class:`~matcher.exceptions.ValidationError` naming the file, with a one-row problems table so
that callers can collect the problems of several files before reporting.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from matcher import limits
from matcher.exceptions import ValidationError
from matcher.ingest.fast import arrow_cells, csv_source, separator
from matcher.ingest.package import cell_text as _cell_text
from matcher.ingest.package import check_xlsx_package, formulas_without_values
from matcher.ingest.problems import (  # noqa: F401 - the readers' API
    PROBLEM_COLUMNS,
    file_error,
    nul_cell,
    open_quote_cell,
    problems_frame,
    title_above,
)
from matcher.ingest.records import json_cells, parquet_cells

#: Header aliases: a name found in files -> the canonical column name of ``matcher.columns``.
#: Keys are compared after stripping and lower-casing. Only obvious synonyms belong here.
COLUMN_ALIASES: dict[str, str] = {
    # identifiers and names
    "编号": "id",
    "name_cn": "name_zh",
    "name_chinese": "name_zh",
    "chinese_name": "name_zh",
    "中文名称": "name_zh",
    "中文名": "name_zh",
    "name_english": "name_en",
    "english_name": "name_en",
    "英文名称": "name_en",
    "英文名": "name_en",
    # place
    "省份": "province",
    "省": "province",
    "city_or_county": "city",
    "county": "city",
    "城市": "city",
    "地区": "region",
    "区域": "region",
    "latitude": "lat",
    "approx_lat": "lat",
    "纬度": "lat",
    "longitude": "lon",
    "approx_lon": "lon",
    "lng": "lon",
    "long": "lon",
    "经度": "lon",
    # chain position
    "chain_stage": "stages",
    "chain_stages": "stages",
    "stage": "stages",
    "产业链环节": "stages",
    "环节": "stages",
    "role": "roles",
    "market_roles": "roles",
    # descriptions
    "specialty": "products",
    "categories": "products",
    "product": "products",
    "主导产品": "products",
    "产品": "products",
    "title": "designations",
    "titles": "designations",
    "designation": "designations",
    "称号": "designations",
    "source_url": "provenance",
    "source": "provenance",
    "来源": "provenance",
    "cluster": "cluster_id",
    "workers": "n_workers",
}

# C0 control characters other than tab, LF, CR (and form feed, which some exports emit).
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_SHARE_BINARY = 0.01  # more than 1 % control characters: not a text table


def decode_text(data: bytes, file: str | Path = "<data>") -> tuple[str, str]:
    """Decode the bytes of a text table, returning ``(text, encoding)``.

    UTF-16 with a byte-order mark (Excel's "Unicode text") is read as such. Otherwise tries strict
    ``utf-8-sig``, then ``gb18030``, then ``big5``, each in full, and guesses no other code page. A decode into private-use or unassigned characters counts as failed (that is how a
    Big5 file slips through GB18030). A file none of them reads is refused with the row where UTF-8
    decoding fails.

    Raises
    ------
    ValidationError
        The file is empty, UTF-16 without a byte-order mark, contains NUL bytes or is binary.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text, encoding = _decode_utf16(data, file), "utf-16"
        if not text.strip(" \t\r\n\ufeff"):
            raise file_error(file, "the file is empty; it needs at least a header row")
        return _text_or_binary(text, file, encoding, nul="\x00" in text)
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise file_error(file, "the file is empty; it needs at least a header row")
    if b"\x00" in data:
        # UTF-16 without a BOM shows as every other byte NUL.
        if data.count(b"\x00") > len(data) // 4:
            raise file_error(
                file, "the file contains NUL bytes (it looks like UTF-16); save it as a UTF-8 or GBK CSV"
            )
        head = data[:200_000]
        controls = sum(head.count(bytes([b])) for b in (*range(0, 9), 11, *range(14, 32), 127))
        if controls > _CONTROL_SHARE_BINARY * len(head):
            raise file_error(file, "the file contains NUL bytes (it looks binary, not a CSV text table)")
        # A few NULs in a text table: say where the first one is, so it can be found and deleted.
        row, column = nul_cell(data)
        where = f"row {row}, column {column}" if column else f"row {row}"
        raise file_error(file, f"the file contains NUL bytes (first in {where}; it looks binary); save it as a "
                         "UTF-8 or GBK CSV", row=row, column=column)
    text = encoding = None
    for candidate in ("utf-8-sig", "gb18030", "big5"):
        try:
            decoded = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate == "utf-8-sig" or not _strange(decoded):
            text, encoding = decoded, candidate
            break
    if text is None:
        try:
            data.decode("utf-8")
            row = 1
        except UnicodeDecodeError as err:
            row = data.count(b"\n", 0, err.start) + 1
        raise file_error(file, f"the file is neither UTF-8 nor GB18030 (GBK) nor Big5: row {row} cannot be read as "
                         "any of them; save it as UTF-8 (CSV UTF-8 in Excel)", row=row)
    return _text_or_binary(text, file, encoding)


#: Control characters a text may hold before their share can call it binary.
_FEW_CONTROLS = 16


def _text_or_binary(text: str, file: str | Path, encoding: str, nul: bool = False) -> tuple[str, str]:
    """``(text, encoding)``, unless the decoded text holds a NUL or too many control characters."""
    controls = len(_CONTROL.findall(text[:200_000]))
    # a few stray controls in a small table (an ESC pasted into a name) are reported by cell, with row and column
    if nul or (controls > _CONTROL_SHARE_BINARY * min(len(text), 200_000) and controls > _FEW_CONTROLS):
        raise file_error(file, "the file looks binary, not a CSV text table")
    return text, encoding


def _decode_utf16(data: bytes, file: str | Path) -> str:
    """UTF-16 with its byte-order mark (Excel's "Unicode text"): the mark says the byte order."""
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError as err:
        row = data[: err.start].decode("utf-16", errors="replace").count("\n") + 1
        raise file_error(file, f"the file starts as UTF-16 but row {row} cannot be read as UTF-16", row=row) from None


#: How the encodings a text table may have are named to people.
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "gb18030": "GB18030 (GBK)", "big5": "Big5",
                  "utf-16": "UTF-16 (Excel Unicode text)"}


def text_encoding(path: str | Path) -> str:
    """The encoding a CSV file is read in, named for people (``ENCODING_NAMES``)."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
        return ENCODING_NAMES["utf-8-sig"]
    except UnicodeDecodeError:
        return ENCODING_NAMES[decode_text(data, path)[1]]


def _strange(text: str) -> bool:
    """True when ``text`` holds private-use or unassigned characters: a decode with the wrong code page."""
    import unicodedata

    return any(unicodedata.category(ch) in ("Co", "Cn") for ch in set(text))


def _check_header(header: list[str], header_raw: list[str], file: str | Path) -> None:
    """Reject empty headers over data and duplicate column names (after aliasing)."""
    problems = []
    seen: dict[str, int] = {}
    for position, (name, raw) in enumerate(zip(header, header_raw, strict=True), start=1):
        if not name:
            problems.append((position, "", f"column {position} has no header name but holds data"))
            continue
        if name in seen:
            first = seen[name]
            same = f"'{header_raw[first - 1].strip()}' and '{raw.strip()}' both mean '{name}'"
            problems.append(
                (
                    position,
                    name,
                    f"duplicate column '{name}' (columns {first} and {position}: {same}); "
                    "each column may appear once",
                )
            )
        else:
            seen[name] = position
    if problems:
        frame = problems_frame(
            [
                {"file": str(file), "row": 1, "column": name, "value": name, "reason": reason}
                for _, name, reason in problems
            ]
        )
        raise ValidationError(f"{file}: the header row has {len(problems)} problem(s)", frame)


def canonical_header(
    names: list[str], aliases: Mapping[str, str] | None = None, *, common_aliases: bool = True
) -> list[str]:
    """Strip, lower-case and resolve aliases of header names.

    Parameters
    ----------
    names : list of str
        Header cells as read.
    aliases : mapping, optional
        Extra aliases (e.g. ``TableSpec.aliases``) that take precedence over ``COLUMN_ALIASES``.
    common_aliases : bool
        Apply ``COLUMN_ALIASES`` (entity tables); False keeps names as they are (reference tables).

    Examples
    --------
    >>> canonical_header([" Approx_Lat ", "ID", "chain_stage"])
    ['lat', 'id', 'stages']
    """
    table = {
        **(COLUMN_ALIASES if common_aliases else {}),
        **{k.lower(): v for k, v in (aliases or {}).items()},
    }
    out = []
    for name in names:
        key = str(name).strip().lower()
        out.append(table.get(key, key))
    return out


def _finish(
    cells: pd.DataFrame,
    header_raw: list[str],
    file: str | Path,
    aliases,
    common_aliases,
    as_typed: bool = False,
) -> pd.DataFrame:
    """Shared tail of every format: header checks, stripping, row numbers.

    ``cells`` holds text and missing values (a JSON or Parquet null, an empty CSV or Excel cell
    read ``as_typed``); missing values become ``""`` unless ``as_typed``.
    """
    if len(header_raw) > limits.MAX_COLUMNS:  # JSON and Parquet; CSV and XLSX are refused before parsing
        raise file_error(file, f"the header has {len(header_raw):,} columns, more than {limits.MAX_COLUMNS}", row=1)
    text = cells.fillna("")
    # Excel often carries empty trailing columns; drop header-less columns that hold nothing.
    keep = []
    for position, name in enumerate(header_raw):
        empty_header = not str(name).strip()
        if empty_header and not text.iloc[:, position].str.strip().ne("").any():
            continue
        keep.append(position)
    cells, text = (cells if as_typed else text).iloc[:, keep], text.iloc[:, keep]
    header_raw = [str(header_raw[p]) for p in keep]
    if as_typed:
        header = [name.strip() for name in header_raw]
    else:
        header = canonical_header(header_raw, aliases, common_aliases=common_aliases)
    _check_header(header, header_raw, file)
    cells.columns = header
    if not as_typed:
        for col in cells.columns:
            cells[col] = cells[col].str.strip()
    # Blank lines are not records, but they keep their place in the row numbering.
    if len(cells.columns):
        cells = cells[text.ne("").any(axis=1).to_numpy()]
    cells.index.name = "row"
    return cells


def read_csv_text(
    text: str,
    file: str | Path = "<text>",
    aliases: Mapping[str, str] | None = None,
    *,
    common_aliases: bool = True,
    as_typed: bool = False,
    utf8: bytes | None = None,
) -> pd.DataFrame:
    """Parse CSV text into stripped text cells indexed by Excel row number (``as_typed``: see
    :func:`read_table`). ``utf8``: the text's own UTF-8 bytes when the caller has them (a file read
    as UTF-8), so they are not encoded again.

    Raises
    ------
    ValidationError
        Unterminated quote, a row with more cells than the header, duplicate headers.
    """
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]  # a bare CR ends a row too (Excel for Mac)
    if not text.strip():
        raise file_error(file, "the file is empty; it needs at least a header row")
    if not first_line.strip(" \t\r,;"):
        raise file_error(file, "the first row is empty; the first row must be the header", row=1)
    sep = separator(first_line)
    if first_line.count(sep) + 1 > limits.MAX_COLUMNS:  # before parsing: work stays linear in the columns
        raise file_error(file, f"the header has {first_line.count(sep) + 1:,} columns, more than "
                         f"{limits.MAX_COLUMNS}", row=1)
    source = csv_source(text, utf8)
    raw = arrow_cells(source, sep) if isinstance(source, io.BytesIO) else None
    try:
        if raw is None:  # pandas reads what pyarrow refused, and says exactly what is wrong
            source.seek(0)
            raw = pd.read_csv(source, encoding="utf-8", sep=sep, header=None, dtype=str, keep_default_na=False,
                              na_filter=False, skip_blank_lines=False, engine="c")
    except pd.errors.EmptyDataError:
        raise file_error(file, "the file is empty; it needs at least a header row") from None
    except pd.errors.ParserError as err:
        message = str(err)
        if "EOF inside string" in message or "EOF" in message:
            row, column = open_quote_cell(text, sep)
            where = f" (a quote opened in row {row}, column {column or '?'}, is never closed)" if row else ""
            raise file_error(
                file, f'unterminated quote{where}; every opening " needs a closing "', row=row, column=column
            ) from None
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
        if match:
            n_header, line, n_cells = (int(g) for g in match.groups())
            title_above(file, first_line.split(sep), lambda: n_cells > n_header)
            raise file_error(
                file,
                f"row {line} has {n_cells} cells but the header has {n_header}; "
                "quote cells that contain the separator",
                row=line,
            ) from None
        raise file_error(file, f"the file cannot be read as CSV ({message})") from None
    raw = raw.fillna("")
    if len(raw) and not raw.iloc[0].str.strip().ne("").any():
        raise file_error(file, "the first row is empty; the first row must be the header", row=1)
    header_raw = [str(v) for v in raw.iloc[0].tolist()]
    cells = raw.iloc[1:].copy()
    title_above(file, header_raw, lambda: bool((cells.apply(lambda c: c.str.strip()).ne("").sum(axis=1) > 1).any()))
    if as_typed:  # an empty cell is a missing value, like a JSON or Parquet null
        cells = cells.mask(cells.eq(""))
    # pandas counts records from 0; Excel counts rows from 1 and the header is row 1.
    cells.index = pd.RangeIndex(2, 2 + len(cells))
    return _finish(cells, header_raw, file, aliases, common_aliases, as_typed)


#: Largest number of cells read from one worksheet (1.1 million enterprises x 40 columns).
MAX_XLSX_CELLS = limits.MAX_XLSX_CELLS  # (here too, so a test can lower it for this reader)


def read_xlsx(
    path: str | Path,
    aliases: Mapping[str, str] | None = None,
    sheet: str | None = None,
    *,
    common_aliases: bool = True,
    sheets: Iterable[str] = (),
    as_typed: bool = False,
) -> pd.DataFrame:
    """Read one sheet of an ``.xlsx`` workbook as text cells.

    The sheet is ``sheet`` (which must exist), else the first of ``sheets`` the workbook has,
    else the first sheet. ``as_typed``: see :func:`read_table`.

    Raises
    ------
    ValidationError
        The file is not a real workbook, ``sheet`` is missing, or the sheet is empty or malformed.
    """
    from openpyxl import load_workbook

    path = Path(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04":
        kind = (
            "an old .xls workbook" if magic == b"\xd0\xcf\x11\xe0" else "not an Excel workbook (maybe a CSV?)"
        )
        raise file_error(path, f"the file is named .xlsx but is {kind}; save it as .xlsx or .csv")
    check_xlsx_package(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise file_error(path, f"the workbook cannot be opened ({err}); save it again as .xlsx") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise file_error(path, f"no sheet named '{sheet}'; sheets: {', '.join(book.sheetnames)}")
        if sheet is None:
            sheet = next((name for name in sheets if name in book.sheetnames), None)
        if sheet is None and not book.worksheets:
            raise file_error(path, "the workbook has no worksheet; save it again as .xlsx")
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        rows = _sheet_rows(path, worksheet)
        unset = formulas_without_values(path, getattr(worksheet, "_worksheet_path", ""))
        others = [name for name in book.sheetnames if name != worksheet.title]
    finally:
        book.close()
    if unset:  # read as empty, the cell would change the data silently
        (row, column, formula), header = unset[0], rows[0] if rows else []
        raise file_error(path, f"the cell holds a formula (={formula}) but no calculated value: the workbook was written by a "
                         "program; open and save it in Excel, or type the values", row=row,
                         column=header[column] if column < len(header) else "")
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    also = f" (only sheet '{worksheet.title}' is read; the workbook also has {', '.join(others)})" if others else ""
    if not rows:
        raise file_error(path, f"the sheet is empty; it needs at least a header row{also}")
    if not any(c.strip() for c in rows[0]):
        raise file_error(path, f"the first row is empty; the first row must be the header{also}", row=1)
    title_above(path, rows[0], lambda: any(sum(bool(c.strip()) for c in r) > 1 for r in rows[1:]))
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    cells = pd.DataFrame(rows[1:], columns=range(width), dtype=str, index=pd.RangeIndex(2, 1 + len(rows)))
    if not len(cells):
        cells = pd.DataFrame({i: pd.Series([], dtype=str) for i in range(width)}, index=pd.RangeIndex(2, 2))
    if as_typed:  # an empty cell is a missing value, like a JSON or Parquet null
        cells = cells.mask(cells.eq(""))
    return _finish(cells, rows[0], path, aliases, common_aliases, as_typed)


#: What openpyxl raises on a sheet it cannot read: broken or truncated XML (``SyntaxError`` is the base of
#: both ElementTree's and lxml's parse errors, an entity expansion stopped by expat included), a cell whose
#: value does not fit its type (``t="n"`` holding text, a date that is none), a zip part packed in a way
#: Python cannot unpack (deflate64, the encrypted flag) or cut short.
_UNREADABLE_SHEET = (SyntaxError, ValueError, TypeError, KeyError, IndexError, AttributeError, NotImplementedError,
                     RuntimeError, EOFError, OSError, zipfile.BadZipFile, zlib.error)


def _sheet_rows(path: Path, worksheet) -> list[list[str]]:
    """Every row of a read-only worksheet as text cells, however its ``<dimension>`` reads: a stale one (rows
    or columns past it) or a missing one would otherwise hide cells, so it is not trusted. Bounded as the
    rows are read: the cells the rows will take once padded to the widest (a few KB of zipped XML can
    claim a cell at XFD1048576) and the columns, not only the cells written."""
    worksheet.reset_dimensions()
    rows: list[list[str]] = []
    width = 0
    try:
        for row in worksheet.iter_rows(values_only=True):
            end = len(row)
            while end and row[end - 1] is None:  # a styled empty cell at the end holds nothing
                end -= 1
            if end > width:
                width = end
                if width > limits.MAX_COLUMNS:
                    raise file_error(path, f"row {len(rows) + 1} reaches column {width:,}, more than the "
                                     f"{limits.MAX_COLUMNS} a table may have", row=len(rows) + 1)
            if (len(rows) + 1) * max(width, 1) > MAX_XLSX_CELLS:
                raise file_error(path, f"the sheet has more than {MAX_XLSX_CELLS:,} cells (rows times its widest "
                                 "row); split it or save it as CSV", row=len(rows) + 1)
            rows.append([_cell_text(v) for v in row[:end]])
    except ValidationError:
        raise
    except _UNREADABLE_SHEET as err:
        raise file_error(path, f"the sheet cannot be read after row {len(rows)} ({type(err).__name__}: "
                         f"{str(err)[:200]}); open it in Excel and save it again as .xlsx",
                         row=len(rows) + 1) from None
    return rows


def read_table(
    path: str | Path,
    aliases: Mapping[str, str] | None = None,
    *,
    common_aliases: bool = True,
    sheets: Iterable[str] = (),
    what: str | None = None,
    as_typed: bool = False,
) -> pd.DataFrame:
    """Read a CSV, Excel, JSON or Parquet table as text cells.

    Parameters
    ----------
    path : path-like
        ``.xlsx``/``.xlsm``, ``.json`` (records; see :func:`matcher.ingest.records.json_cells`), ``.parquet``, or CSV
        text in any other file (``.csv``, ``.txt``, ``.tsv``; UTF-8, UTF-8 with BOM, GBK or
        GB18030; comma- or tab-separated).
    aliases : mapping, optional
        Extra header aliases for this table.
    common_aliases : bool
        Resolve ``COLUMN_ALIASES`` too (default); False for reference tables such as chain links.
    sheets : iterable of str
        Excel sheet names to try in order; the first sheet is read when none is present.
    what : str, optional
        What the file holds ("suggestions", "forbidden pairs", ...); error messages then read
        ``"<what> file <path>: <reason>"``.
    as_typed : bool
        Cells exactly as typed, not stripped (a leading tab is part of a name); empty CSV and
        Excel cells and JSON and Parquet nulls are missing values (a Parquet ``""`` stays
        text); headers only trimmed: not lower-cased, no aliases. For files our own commands
        wrote and read back (suggestions, shortlists) and the planners' side tables of
        :mod:`matcher.meetings`.

    Returns
    -------
    pandas.DataFrame
        One text column per header (stripped, lower-cased, aliases resolved unless
        ``as_typed``); empty cells are ``""`` unless ``as_typed``; the index, named ``row``, is
        the row number in Excel (first data row = 2). Rows with no text at all are left out.

    Raises
    ------
    ValidationError
        The file is missing or cannot be read; the message and ``problems`` name the file.
    """
    try:
        return _read_table(Path(path), aliases, common_aliases, tuple(sheets), as_typed)
    except ValidationError as err:
        if not what:
            raise
        raise ValidationError(f"{what} file {err}", err.problems) from None


def _read_table(
    path: Path, aliases: Mapping[str, str] | None, common_aliases: bool, sheets: tuple[str, ...], as_typed: bool
) -> pd.DataFrame:
    if not path.is_file():
        raise file_error(path, "file not found" if not path.exists() else "not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, aliases, common_aliases=common_aliases, sheets=sheets, as_typed=as_typed)
    if suffix == ".xls":
        raise file_error(path, "old .xls workbooks are not supported; save it as .xlsx or CSV")
    if suffix in (".json", ".parquet"):
        cells, header = json_cells(path) if suffix == ".json" else parquet_cells(path)
        if not header:
            raise file_error(path, "the file holds no columns")
        return _finish(cells, header, path, aliases, common_aliases, as_typed)
    if path.stat().st_size > limits.MAX_TABLE_BYTES:
        raise file_error(path, f"the file is larger than {limits.MAX_TABLE_BYTES >> 20:,} MB; split it")
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        raise file_error(path, "the file is an Excel workbook or zip archive; name it .xlsx")
    text, encoding = decode_text(data, path)
    utf8 = data[3:] if data[:3] == b"\xef\xbb\xbf" else data  # the file's own bytes: not encoded again
    return read_csv_text(text, path, aliases, common_aliases=common_aliases, as_typed=as_typed,
                         utf8=utf8 if encoding == "utf-8-sig" else None)
