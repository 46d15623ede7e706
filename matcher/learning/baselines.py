"""The methods an evaluation ranks with, as dense score matrices over a kind's entities: the engine's
candidate scores and the baselines (product text, distance, Adamic-Adar over stages, popularity and
path-3 over the documented dockings), and the ranks and AUC they are read with.

>>> import numpy as np
>>> rank_of(np.array([0.9, 0.5, 0.5, 0.1]), np.array(["a", "b", "c", "d"]), 1, np.array([0, 2, 3]))
2.5
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from matcher.docking import geo as G
from matcher.docking.kinds import get_kind
from matcher.learning.fit import realistic_rank

if TYPE_CHECKING:
    from matcher.docking.engine import PairFeatures
    from matcher.docking.entities import Entities


def engine_matrix(pf: PairFeatures, scores: np.ndarray, n: int, kind: str) -> np.ndarray:
    """Dense score matrix from canonical candidate pairs; non-candidates are minus infinity."""
    S = np.full((n, n), -np.inf)
    li, ri = pf.pairs["li"].to_numpy(), pf.pairs["ri"].to_numpy()
    S[li, ri] = scores
    if get_kind(kind).two_sided:
        S[ri, li] = scores
    return S


def product_matrix(E: Entities) -> np.ndarray:
    """Cosine similarity of product texts; -1 where a text is empty (unknown ranks last)."""
    rows = E.texts[E.text_id]
    S = np.asarray((rows @ rows.T).todense(), dtype=np.float64)
    empty = np.asarray(rows.getnnz(axis=1) == 0)
    S[empty, :] = -1.0
    S[:, empty] = -1.0
    return S


def distance_matrix(E: Entities) -> np.ndarray:
    """Minus great-circle km (nearest first); minus infinity where a coordinate is unknown."""
    km = G.haversine_km(E.lat[:, None], E.lon[:, None], E.lat[None, :], E.lon[None, :])
    return np.where(np.isnan(km), -np.inf, -km)


def stage_adamic_adar(E: Entities) -> np.ndarray:
    """Adamic-Adar over the entity-stage bipartite graph: shared stages, rare ones weigh more."""
    degree = E.stages.sum(axis=0)
    weight = np.where(degree > 1, 1.0 / np.log(np.maximum(degree, 2)), 0.0)
    return (E.stages * weight) @ E.stages.T


def docking_scores(edges: list[tuple[int, int]], n: int,
                   extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Popularity (partner's degree, plus ``extra`` per entity: its documented dockings named by region)
    and path-3 counts over a docking graph given as index pairs."""
    extra = np.zeros(n) if extra is None else np.asarray(extra, dtype=np.float64)
    if not edges:
        return np.broadcast_to(extra, (n, n)).copy(), np.zeros((n, n))
    a = np.array(edges)
    A = sparse.coo_matrix((np.ones(len(a) * 2), (np.r_[a[:, 0], a[:, 1]], np.r_[a[:, 1], a[:, 0]])),
                          shape=(n, n)).tocsr()
    A.data[:] = 1.0
    degree = np.asarray(A.sum(axis=1)).ravel() + extra
    popularity = np.broadcast_to(degree, (n, n)).copy()
    path3 = np.asarray((A @ A @ A).todense(), dtype=np.float64)
    return popularity, path3


def rank_of(scores: np.ndarray, ids: np.ndarray, target: int, candidates: np.ndarray) -> float:
    """1-based rank of ``target`` among ``candidates`` by score descending; candidates tied with it
    count one half (the expected rank under a random tie-break, the "realistic rank" of PyKEEN), so
    a method that ties everything gets no credit from the id order the engine uses to break ties."""
    return realistic_rank(scores[candidates], scores[target])


def hard_auc(scores: np.ndarray, target: int, negatives: np.ndarray) -> float:
    if len(negatives) == 0:
        return float("nan")
    s, t = scores[negatives], scores[target]
    return float(((t > s).sum() + 0.5 * (t == s).sum()) / len(negatives))


def regional_rows(E: Entities) -> pd.DataFrame:
    """The documented dockings named by region among ``E.dockings`` (``ri`` = -1): ``li``, ``item`` and
    ``date`` (each row its own, from ``known_dockings_regional``; NaT when the row has none)."""
    rows = E.dockings if E.dockings is not None else pd.DataFrame(columns=["li", "ri", "item"])
    rows = rows[rows["ri"].to_numpy() < 0] if len(rows) else rows
    dates = rows["date"] if "date" in rows.columns else pd.Series(pd.NaT, index=rows.index)
    return pd.DataFrame({"li": rows["li"].to_numpy(dtype=np.int64), "item": rows["item"].to_numpy(dtype=object),
                         "date": pd.to_datetime(dates.to_numpy(), errors="coerce")})


def by_region(regional: pd.DataFrame, n: int, hidden: set[str]) -> np.ndarray:
    """Per entity (``n`` of them), its documented dockings named by region (``regional_rows``) without
    the items ``hidden``, counted by item as the engine's experience counts them: what the popularity
    baseline adds to a partner's degree."""
    mine = regional[~regional["item"].isin(hidden)].drop_duplicates(["li", "item"])
    return np.bincount(mine["li"].to_numpy(dtype=np.int64), minlength=n).astype(np.float64)


def items_not_before(regional: pd.DataFrame, cut: pd.Timestamp) -> set[str]:
    """Items of the dockings named by region (``regional_rows``) with a row dated on or after ``cut``, or
    undated: what a temporal split must not let vouch for the earlier pairs."""
    return set(regional.loc[~(regional["date"] < cut), "item"])


__all__ = ["by_region", "distance_matrix", "docking_scores", "engine_matrix", "hard_auc", "items_not_before", "product_matrix",
           "rank_of", "regional_rows", "stage_adamic_adar"]
