"""The ranked pair list behind the explore page, built for speed when a slider moves.

The engine keeps every candidate pair's features; a weight change re-scores all of them
(``engine.score``: a matrix product) and only the shown top rows get names and reasons.
This module does not import streamlit: the benchmark and tests call it directly.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from matcher.docking.engine import DockingEngine
from matcher.docking.explain import reasons
from matcher.docking.job import SUGGESTION_COLUMNS
from matcher.docking.kinds import get_kind
from matcher.docking.ranking import order_pairs


def ranked_pairs(
    engine: DockingEngine,
    kind: str,
    weights: dict[str, float],
    *,
    for_id: str | None = None,
    left_regions: Iterable[str] | None = None,
    right_regions: Iterable[str] | None = None,
    min_score: float | None = None,
    top: int | None = 50,
    scorer=None,
    only: Iterable[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The best canonical pairs of ``kind`` under ``weights``, one row per pair, explained.

    Parameters
    ----------
    engine : DockingEngine
    kind : str
    weights : dict
        Weight per feature (missing features weigh 0).
    for_id : str, optional
        Keep the pairs this entity is part of (on either side).
    left_regions, right_regions : iterable of str, optional
        Keep pairs whose left (right) side is in one of these regions.
    min_score : float, optional
    top : int or None
        How many rows to return (None = all).
    scorer : fitted scorer, optional
        Rank with this scorer (e.g. a learned one) instead of ``weights``.
    only : iterable of (left_id, right_id), optional
        Keep these canonical pairs only (the planner's ticked pairs, whatever the filters).

    Returns
    -------
    pandas.DataFrame
        Columns of the engine's suggestions (``SUGGESTION_COLUMNS``, ``f_/w_/c_`` per feature and the
        kind's detail columns); ``rank`` is the position in this list. Ties are broken by ids.
    """
    scored = engine.score(kind, weights, scorer=scorer)
    table = engine.entities(kind).table
    li, ri = scored["li"].to_numpy(), scored["ri"].to_numpy()
    keep = np.ones(len(scored), dtype=bool)
    if get_kind(kind).pairing == "directed":
        # each firm's own candidates: a pair both firms proposed is listed once (its scores are equal)
        n = len(table)
        keep &= ~pd.Series(np.minimum(li, ri) * n + np.maximum(li, ri)).duplicated().to_numpy()
    if only is not None:
        wanted = set(only)
        keep &= np.fromiter(((a, b) in wanted for a, b in zip(scored["left_id"], scored["right_id"], strict=True)),
                            dtype=bool, count=len(scored))
    if for_id:
        keep &= (scored["left_id"].to_numpy() == for_id) | (scored["right_id"].to_numpy() == for_id)
    region = table["region"].astype(object).to_numpy()
    if left_regions:
        keep &= np.isin(region[li], list(left_regions))
    if right_regions:
        keep &= np.isin(region[ri], list(right_regions))
    if min_score is not None:
        keep &= scored["score"].to_numpy() >= min_score
    kept = scored[keep]
    chosen = kept.iloc[order_pairs(kept["score"].to_numpy(), kept["li"].to_numpy(), kept["ri"].to_numpy())]
    if top is not None:
        chosen = chosen.head(top)
    out = chosen.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["kind"] = get_kind(kind).name
    li, ri = out["li"].to_numpy(), out["ri"].to_numpy()
    for col, target in (("name_zh", "name_zh"), ("name_en", "name_en"), ("region", "region"),
                        ("province", "province"), ("entity_type", "type")):
        values = table[col].to_numpy()
        out[f"left_{target}"] = values[li]
        out[f"right_{target}"] = values[ri]
    features = list(get_kind(kind).features)
    zh, en = reasons(out, features) if len(out) else ([], [])
    out["reason_zh"], out["reason_en"] = zh, en
    fwc = [f"{p}_{f}" for f in features for p in ("f", "w", "c")]
    rest = [c for c in out.columns if c not in SUGGESTION_COLUMNS and c not in fwc and c not in ("li", "ri")]
    return out[SUGGESTION_COLUMNS + fwc + rest]


def direction_scores(row: pd.Series, kind: str) -> pd.DataFrame:
    """Each directional feature of a pair seen both ways, and the score each way.

    The engine stores a directional value ``lr_<f>`` (left supplies/serves right) and ``rl_<f>``
    (right to left) for features that have a direction; the pair's feature is the larger one.
    The score "from left to right" replaces each such feature by its ``lr_`` value.

    Returns
    -------
    pandas.DataFrame
        One row per directional feature plus a ``score`` row: ``feature, lr, rl``.
    """
    features = list(get_kind(kind).features)
    rows = []
    lr_score = rl_score = float(row["score"])
    for f in features:
        lr_col, rl_col = f"lr_{f}", f"rl_{f}"
        if lr_col not in row.index and rl_col not in row.index:
            continue
        lr = float(row[lr_col]) if lr_col in row.index and not pd.isna(row[lr_col]) else 0.0
        rl = float(row[rl_col]) if rl_col in row.index and not pd.isna(row[rl_col]) else 0.0
        weight = float(row.get(f"w_{f}", 0.0))
        lr_score += weight * lr - float(row.get(f"c_{f}", 0.0))
        rl_score += weight * rl - float(row.get(f"c_{f}", 0.0))
        rows.append({"feature": f, "lr": lr, "rl": rl})
    rows.append({"feature": "score", "lr": lr_score, "rl": rl_score})
    return pd.DataFrame(rows)
