"""A workbook's package checked against the bounds (``matcher.limits``) before any of its XML is
parsed: an XLSX file is a zip of XML parts, and a few KB of it can claim gigabytes or billions of cells.
Also what a cell's value reads as, and the formulas a program wrote without a calculated value (read
as empty cells, they would change the data silently)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from matcher import limits
from matcher.ingest.problems import file_error


def check_xlsx_package(path: str | Path) -> None:
    """Refuse a workbook whose parts would unpack too large (``matcher.limits``: each part, the
    shared strings, the whole, the packing ratio) or whose sheets claim too many cells or columns
    (their ``dimension``), before any XML is parsed. Raises :class:`ValidationError`."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as book:
            parts = book.infolist()
            total = 0
            for part in parts:
                total += part.file_size
                limit = (limits.MAX_XLSX_SHARED_STRINGS_BYTES if part.filename.endswith("sharedStrings.xml")
                         else limits.MAX_XLSX_PART_BYTES)
                if part.file_size > limit:
                    raise file_error(path, f"its part {part.filename} unpacks to {part.file_size:,} bytes, more "
                                     f"than the {limit:,} a workbook may hold; save it as CSV")
                if part.file_size > limits.RATIO_CHECKED_BYTES and \
                        part.file_size > limits.MAX_XLSX_RATIO * max(part.compress_size, 1):
                    raise file_error(path, f"its part {part.filename} unpacks {part.file_size // max(part.compress_size, 1):,} "
                                     f"times larger than it is packed (at most {limits.MAX_XLSX_RATIO}); it is not "
                                     "an ordinary workbook")
            if total > limits.MAX_XLSX_UNPACKED_BYTES:
                raise file_error(path, f"it unpacks to {total:,} bytes, more than {limits.MAX_XLSX_UNPACKED_BYTES:,}; "
                                 "save it as CSV")
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                    with book.open(part) as sheet:
                        _check_dimension(path, sheet.read(4096).decode("utf-8", "replace"))
    except zipfile.BadZipFile:
        raise file_error(path, "the workbook cannot be opened (not a zip package); save it again as .xlsx") from None


_DIMENSION = re.compile(r'<(?:\w+:)?dimension\s+ref="[A-Z]*\d*:?([A-Z]+)(\d+)"')


def _check_dimension(path: Path, head: str) -> None:
    """A sheet's ``<dimension ref="A1:XFD1048576"/>`` against the cell and column bounds."""
    found = _DIMENSION.search(head)
    if not found:
        return
    letters, rows = found.group(1), int(found.group(2))
    columns = 0
    for ch in letters:
        columns = columns * 26 + (ord(ch) - 64)
    if columns > limits.MAX_COLUMNS:
        raise file_error(path, f"a sheet claims {columns:,} columns, more than {limits.MAX_COLUMNS}", row=1)
    if rows * columns > limits.MAX_XLSX_CELLS:
        raise file_error(path, f"a sheet claims {rows * columns:,} cells: more than {limits.MAX_XLSX_CELLS:,} cells; "
                         "split it or save it as CSV")


def cell_text(value: object) -> str:
    """An Excel cell's value as the text a user sees (integers without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and "_x" in value:
        # a control character is stored as an escape (_x000D_ for a carriage return); openpyxl's
        # read-only mode leaves it in, so a name written by our own export would come back changed
        from openpyxl.utils.escape import unescape

        return unescape(value)
    return str(value)


_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)
_VALUE = re.compile(rb"<v>[^<]|<is>")
_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)


def formulas_without_values(path: str | Path, part: str, at_most: int = 5) -> list[tuple[int, int, str]]:
    """``(row, column index, formula)`` of the first cells of the sheet ``part`` that hold a formula and
    no calculated value (``<f>`` without ``<v>``: Excel always saves the value; a program may not).
    The sheet is streamed in chunks; a sheet without ``<f`` costs one decompression."""
    found: list[tuple[int, int, str]] = []
    if not part:
        return found
    with zipfile.ZipFile(path) as book, book.open(part) as sheet:
        carry = b""
        while len(found) < at_most:
            chunk = sheet.read(4 << 20)
            text = carry + chunk
            end = 0
            for cell in _CELL.finditer(text) if b"<f" in text else ():
                end = cell.end()
                inner = cell.group(3) or b""
                formula = _FORMULA.search(inner)
                if formula and not _VALUE.search(inner):
                    column = 0
                    for ch in cell.group(1).decode():
                        column = column * 26 + (ord(ch) - 64)
                    found.append((int(cell.group(2)), column - 1, (formula.group(1) or b"").decode("utf-8", "replace")[:80]))
                    if len(found) >= at_most:
                        break
            if not chunk:
                break
            rest = text[end:]
            start = rest.rfind(b"<c ")
            carry = rest[start:] if start >= 0 else b""
    return found

