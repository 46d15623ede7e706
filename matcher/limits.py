"""The bounds on every input, in one place: each admits the product's real jobs (a registry of a
million enterprises, a docking event of 500 participants over two days) and keeps any input, honest
or hostile, from exhausting a shared server. A value past a bound is refused with a message that
names it and the bound; nothing is cut silently.
"""

from __future__ import annotations

import operator

from matcher.exceptions import MatcherError

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
#: Size of a score in a suggestions or shortlist file (the engine's scores are 0 to 1; a planner's own
#: scale may be larger, but 1e300 would overflow the solvers' sums and the min-cost flow's integers).
MAX_SCORE_MAGNITUDE = 1e9
#: Enterprises ``synth`` generates: twice the million firms the benchmarks run (about 470 MB of CSV,
#: well within :data:`MAX_TABLE_BYTES`); a trillion ran out of memory after creating the folder.
MAX_SYNTH_ENTERPRISES = 2_000_000
#: Largest random seed: numpy's legacy generator and scikit-learn take seeds of 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1
#: Characters of an entity's name (the longest bundled one has 92): a name is a page heading, a cell of
#: every ranked table and a calendar title; a 300-character one made every row of a table 200 px tall.
MAX_NAME_CHARS = 120
#: Where every cluster, market and enterprise lies: mainland China and its islands (Zengmu Reef at 3.9° N,
#: Mohe at 53.6° N; Pamirs at 73.5° E, Fuyuan at 135.1° E), with a margin for approximate coordinates.
CHINA_LAT, CHINA_LON = (3.0, 54.0), (73.0, 136.0)
#: Largest weight of a feature in a weights file (the presets' weights are 0 to 1; 1e308 overflows).
MAX_WEIGHT = 1e6


def check_seed(seed: object, option: str = "--seed") -> int:
    """``seed`` as an int, or a :class:`MatcherError` when it is not a whole number of 0 to
    :data:`MAX_SEED` (the one check of every command's ``--seed``)."""
    try:
        value = None if isinstance(seed, bool) else operator.index(seed)
    except TypeError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise MatcherError(f"{option}: the seed must be a whole number of 0 or more, at most {MAX_SEED:,} "
                           f"(2**32 - 1), not {seed!r}")
    return value
