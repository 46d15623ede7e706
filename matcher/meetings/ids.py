"""Participant ids in the meetings' tables: the importer's id rules, and ids that only look alike.

Ids are kept exactly as typed, as the importer keeps them (:mod:`matcher.ingest.validate`); what
the importer refuses in an id (a cell longer than a spreadsheet holds, an invisible character)
is refused here by the importer's own check (:func:`matcher.ingest.validate.parse_cells`), so the
rule lives in one place. On top of that, two ids that differ only in full-width or other
compatibility forms (``C001`` and ``Ｃ001``, equal after Unicode NFKC) are refused: they would be
two participants that a planner reads as one, and be booked at two tables at once.

Examples
--------
>>> import pandas as pd
>>> id_reasons(pd.Series(["C001", "C001\\u200b"])).tolist()  # doctest: +ELLIPSIS
['an id holds an invisible character ...']
>>> frame = pd.DataFrame({"left_id": ["C001", "\\uff23001"], "right_id": ["M1", "M2"]})
>>> lookalikes(frame, ["left_id", "right_id"], [2, 3])  # doctest: +NORMALIZE_WHITESPACE
[(3, 'left_id', 'Ｃ001', "looks like 'C001' (left_id, row 2) but is a different id: it differs only in letter
  case or in full-width or other compatibility characters; retype it")]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from matcher.ingest.ids import LOOKALIKE, fold_id
from matcher.ingest.validate import MAX_CELL_CHARS, parse_cells

#: Why an id holding an invisible character is refused (the importer's words).
INVISIBLE_REASON = "an id holds an invisible character (zero-width, direction mark or control); retype the id"
#: Why a cell longer than a spreadsheet cell is refused (the importer's limit).
TOO_LONG_REASON = f"longer than {MAX_CELL_CHARS:,} characters, the most a spreadsheet cell holds; shorten it"


def id_reasons(ids: pd.Series) -> pd.Series:
    """Why each unusable id cannot be used, by the importer's rules; indexed like ``ids``, bad ones only.

    Each distinct id is checked once (a shortlist of millions of rows holds few ids).
    """
    text = ids.dropna().astype(str).str.strip()
    unique = pd.Series(text.unique(), dtype=object)
    if not len(unique):
        return pd.Series([], dtype=object)
    _, bad = parse_cells(unique, "id")
    bad_ids = unique[bad.to_numpy(dtype=bool)]
    why = {v: TOO_LONG_REASON if len(v) > MAX_CELL_CHARS else INVISIBLE_REASON for v in bad_ids}
    return text[text.isin(why.keys())].map(why).astype(object)


def lookalikes(frame: pd.DataFrame, columns: Sequence[str], rows: Sequence[Any]) -> list[tuple[Any, str, str, str]]:
    """Cells whose id differs from an earlier id of ``columns`` only in compatibility forms.

    Parameters
    ----------
    frame : pandas.DataFrame
        Stripped ids in ``columns`` (missing values ignored).
    columns : sequence of str
        The id columns, read in this order (the first spelling met is the one kept).
    rows : sequence
        The row number of each position of ``frame``, for the messages.

    Returns
    -------
    list of tuple
        ``(row, column, id, reason)`` for each cell holding a later spelling; only ids with a
        non-ASCII character are folded, so an ASCII table costs one pass over its distinct ids.
    """
    cells = [(col, frame[col].to_numpy(dtype=object)) for col in columns]
    seen: dict[str, tuple[Any, str]] = {}  # each spelling -> its first (row, column)
    for col, values in cells:
        for position, value in pd.Series(values).dropna().drop_duplicates().items():
            seen.setdefault(str(value), (rows[position], col))
    by_fold: dict[str, list[str]] = {}
    for value in seen:  # in order of first appearance
        by_fold.setdefault(fold_id(value), []).append(value)
    later = {v: spellings[0] for spellings in by_fold.values() for v in spellings[1:]}
    out = []
    for col, values in cells:
        for position in np.flatnonzero(pd.Series(values).isin(later.keys()).to_numpy()):
            value = values[position]
            first = later[value]
            row, where = seen[first]
            out.append((rows[position], col, value, f"looks like {first!r} ({where}, row {row}) but is a "
                        f"different id: {LOOKALIKE}; retype it"))
    return out


@dataclass
class KnownIds:
    """The ids another table's ids are checked against.

    Attributes
    ----------
    ids : set of str
        The known ids.
    where : str
        Where they come from, for messages ("the data folder data", "the shortlist s.csv").
    complete : bool
        True when an id outside ``ids`` is an error (a data set lists every participant); False
        when only ids that look like a known one but differ are (a shortlist: a lock may add a pair).
    """

    ids: set[str]
    where: str
    complete: bool = False
    _folded: dict[str, str] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, ids: Iterable[Any], where: str, *, complete: bool = False) -> KnownIds:
        return cls({str(x) for x in ids if isinstance(x, str) or not pd.isna(x)}, where, complete)

    def reason(self, value: str) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        if value in self.ids:
            return None
        if self._folded is None:
            self._folded = {}
            for known in sorted(self.ids):
                self._folded.setdefault(fold_id(known), known)
        twin = self._folded.get(fold_id(value))
        if twin is not None:
            return f"not in {self.where}, which has {twin!r}: {LOOKALIKE}; retype it"
        if self.complete:
            return f"not in {self.where}; check the id (a participant must be in the data to get a meeting)"
        return None

    def reasons(self, ids: pd.Series) -> pd.Series:
        """:meth:`reason` for each id of ``ids`` (each distinct id looked up once), bad ones only."""
        text = ids.dropna().astype(str)
        why = {v: self.reason(v) for v in text.unique()}
        why = {k: v for k, v in why.items() if v is not None}
        return text[text.isin(why.keys())].map(why).astype(object)
