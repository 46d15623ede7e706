"""Ids in the entity tables: each used once, and none that only looks like another.

Ids are kept exactly as typed (``00123`` keeps its zeros); two ids that differ only in letter case or
in full-width or other compatibility forms (``c001``, ``Ｃ001`` and ``C001``, equal after Unicode NFKC and
case folding) are refused as well as exact repeats: they would be two entities a planner reads as one
(and Excel's lookups match them). The meetings' tables apply the same fold (:mod:`matcher.meetings.ids`).

>>> import pandas as pd
>>> duplicate_id_reasons("id", pd.Series(["C001", "\uff23001", "C2", "C2"], index=[2, 3, 4, 5])).to_dict()
... # doctest: +NORMALIZE_WHITESPACE
{3: "id 'Ｃ001' looks like 'C001' (row 2) but is a different id: it differs only in letter case or in full-width
 or other compatibility characters; retype it", 4: "id 'C2' is used more than once (rows 4, 5); ids must be unique", 5: "id 'C2' is used more than
 once (rows 4, 5); ids must be unique"}
"""

from __future__ import annotations

import unicodedata

import pandas as pd

#: How two ids that fold alike differ (the importer's and the meetings' words).
LOOKALIKE = "it differs only in letter case or in full-width or other compatibility characters"


def fold_id(text: str) -> str:
    """``text`` with full-width and other compatibility forms folded (Unicode NFKC) and letter case
    folded, to find ids that only look alike.

    >>> fold_id("\uff23\uff10\uff10\uff11"), fold_id("c001")
    ('c001', 'c001')
    """
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).casefold()


def duplicate_id_reasons(key: str, ids: pd.Series) -> pd.Series:
    """Why each id that repeats another, or only looks like an earlier one, is refused; indexed like
    ``ids`` (rows as in Excel), the refused rows only, in row order."""
    text = ids.dropna().astype(str)
    reasons: dict = {}
    first: dict[str, tuple] = {}  # folded id -> (row, id) of its first row
    for row, value in text.items():
        fold = fold_id(value)
        if fold not in first:
            first[fold] = (row, value)
        elif first[fold][1] != value:
            reasons[row] = (f"{key} '{value}' looks like '{first[fold][1]}' (row {first[fold][0]}) but is a different "
                            f"id: {LOOKALIKE}; retype it")
    dup = text[text.duplicated(keep=False)]
    if len(dup):
        rows_of = (pd.Series(dup.index, index=dup.to_numpy()).groupby(level=0)
                   .agg(lambda rows: ", ".join(str(r) for r in list(rows)[:6]) + (", ..." if len(rows) > 6 else "")))
        for row, value in dup.items():
            reasons[row] = f"{key} '{value}' is used more than once (rows {rows_of[value]}); ids must be unique"
    return pd.Series(reasons, dtype=object).sort_index()


__all__ = ["LOOKALIKE", "duplicate_id_reasons", "fold_id"]
