"""Why a pair meets, carried into every shortlist and schedule file.

The reasons come from the shortlist (``reason_zh``, ``reason_en``: the engine's explanation, see
``DockingEngine.explain_pairs``); schedules, agendas, the CSV and the PDF take them by pair, in
either orientation.

>>> import pandas as pd
>>> why = pd.DataFrame({"left_id": ["C1"], "right_id": ["C2"], "reason_zh": ["纺纱→织造互补"],
...                     "reason_en": ["spinning feeds weaving"]})
>>> with_reasons(pd.DataFrame({"left_id": ["C2"], "right_id": ["C1"]}), why)["reason_en"].tolist()
['spinning feeds weaving']
"""

from __future__ import annotations

from typing import Any

import pandas as pd

REASON_COLUMNS = ("reason_zh", "reason_en")


def with_reasons(frame: pd.DataFrame, reasons: pd.DataFrame | None, pair: tuple[str, str] = ("left_id", "right_id"),
                 ) -> pd.DataFrame:
    """``frame`` with ``reason_zh`` and ``reason_en`` taken from ``reasons`` (rows with ``left_id``,
    ``right_id`` and the reason columns) for the same pair in either orientation; empty where none."""
    out = frame.copy()
    lookup: dict[tuple[str, str], tuple[Any, Any]] = {}
    if reasons is not None and len(reasons) and all(c in reasons.columns for c in REASON_COLUMNS):
        for a, b, zh, en in reasons[["left_id", "right_id", *REASON_COLUMNS]].itertuples(index=False):
            lookup.setdefault((str(a), str(b)), (zh, en))
            lookup.setdefault((str(b), str(a)), (zh, en))
    found = [lookup.get((str(a), str(b)), (pd.NA, pd.NA)) for a, b in zip(out[pair[0]], out[pair[1]], strict=True)]
    for i, col in enumerate(REASON_COLUMNS):
        out[col] = pd.Series([f[i] for f in found], index=out.index, dtype="string")
    return out



__all__ = ["REASON_COLUMNS", "with_reasons"]
