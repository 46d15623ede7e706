"""The bounds on every input, in one place: each admits the product's real jobs (a registry of a
million enterprises, a docking event of 500 participants over two days) and keeps any input, honest
or hostile, from exhausting a shared server. A value past a bound is refused with a message that
names it and the bound; nothing is cut silently.
"""

from __future__ import annotations

#: Bytes of one CSV text table (a registry of a million enterprises is a few hundred MB).
MAX_TABLE_BYTES = 2 << 30
#: Columns in the header of any table read (a registry has a few dozen; a sheet could claim 16,384).
MAX_COLUMNS = 512
#: Cells in one sheet of a workbook (a million rows of 45 columns).
MAX_XLSX_CELLS = 45_000_000
#: Unpacked bytes of one part of a workbook (a sheet's XML for a million rows is about 500 MB).
MAX_XLSX_PART_BYTES = 1 << 30
#: Unpacked bytes of the shared strings, which the reader holds in memory whole.
MAX_XLSX_SHARED_STRINGS_BYTES = 256 << 20
#: Unpacked bytes of a whole workbook.
MAX_XLSX_UNPACKED_BYTES = 2 << 30
#: How many times a part of over :data:`RATIO_CHECKED_BYTES` may grow when unpacked (spreadsheets
#: pack 5-20 times; a zip bomb, thousands).
MAX_XLSX_RATIO = 200
RATIO_CHECKED_BYTES = 16 << 20
#: Time slots of one docking event (two days of 5-minute slots is 192) and tables in its hall.
MAX_SLOTS = 500
MAX_TABLES = 2_000
#: A meeting slot's length in minutes.
MIN_SLOT_MINUTES, MAX_SLOT_MINUTES = 5, 480
#: Years an event may be held in.
MIN_YEAR, MAX_YEAR = 2000, 2100
#: Bytes of a settings JSON file: weights or a learned model (a model is a few KB).
MAX_SETTINGS_JSON_BYTES = 16 << 20
#: Bytes of a data JSON file: a store backup or a JSON table (a backup of a big store is a few hundred MB).
MAX_DATA_JSON_BYTES = 1 << 30
#: Characters of a free-text note kept with an outcome (a paragraph or two).
MAX_NOTE_CHARS = 2_000
#: Rows of a known-dockings file ``evaluate`` ranks (each side of each pair is a query ranked by every
#: method, and the engine is cross-validated over them).
MAX_KNOWN_PAIRS = 5_000
