"""Ranking: the one top-K rule of every list, score descending, then partner id ascending.

Entities sit in id order (``matcher.docking.entities``), so "partner id ascending" is "partner
position ascending". ``top_k`` selects partially (``np.argpartition``): only rows at or above each
group's k-th best score are ordered.

>>> import numpy as np
>>> top_k(np.array([0, 0, 0]), np.array([5, 3, 9]), np.array([0.2, 0.2, 0.9]), 2).tolist()
[2, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal values of a sorted array."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    lengths = np.diff(np.r_[start, len(groups)])
    return np.arange(len(groups)) - np.repeat(start, lengths)


def top_k(focal: np.ndarray, partner: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Indices of each focal entity's top ``k`` rows: score descending, then partner ascending.

    ``focal`` must be sorted. Partial selection (``np.partition``) finds each row's k-th best
    score; only rows at or above it are ordered.
    """
    if len(focal) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(focal) > 1 and not np.all((focal[1:] != focal[:-1]) | (partner[1:] > partner[:-1])):
        by_partner = np.lexsort((partner, focal))  # the engine's rows come in this order already
        return by_partner[top_k(focal[by_partner], partner[by_partner], score[by_partner], k)]
    # each focal entity's rows are one run in partner order: column c of run r is row starts[r] + c,
    # so column order is partner order
    rank = rank_within(focal)
    starts = np.flatnonzero(rank == 0)
    row = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(focal)]))
    width = int(rank.max()) + 1
    S = np.full((len(starts), width), -np.inf)
    S[row, rank] = score
    cols = None
    if width > k:
        kth = -np.partition(-S, k - 1, axis=1)[:, k - 1]
        inside = (S >= kth[:, None]) & (S > -np.inf)
        keep = int(inside.sum(axis=1).max())
        # stable compaction of the rows at or above the k-th score (booleans sort by radix)
        cols = np.argsort(~inside, axis=1, kind="stable")[:, :keep]
        S = np.where(np.take_along_axis(inside, cols, 1), np.take_along_axis(S, cols, 1), -np.inf)
    order = np.argsort(-S, axis=1, kind="stable")[:, :k]  # stable: equal scores stay in partner order
    best = np.take_along_axis(S, order, 1) > -np.inf
    at = order if cols is None else np.take_along_axis(cols, order, 1)
    return (starts[:, None] + at)[best]  # row-major: focal by focal, best first


def order_pairs(score: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Order of a list of pairs (not one entity's partners): score descending, then left, then right
    position ascending (the same tie rule as ``top_k``)."""
    return np.lexsort((right, left, -np.asarray(score, dtype=np.float64)))


def ranks_in_lists(owner: Sequence, partner: Sequence, score: np.ndarray) -> np.ndarray:
    """1-based rank of each row in its owner's list by the same rule (score descending, then partner
    id ascending), for rows given by ids (e.g. a suggestions table read back from a file).

    >>> ranks_in_lists(["a", "a", "b"], ["y", "x", "x"], np.array([0.5, 0.5, 0.1])).tolist()
    [2, 1, 1]
    """
    owner_code = pd.factorize(pd.Series(owner, dtype=object).astype(str), sort=True)[0]
    partner_code = pd.factorize(pd.Series(partner, dtype=object).astype(str), sort=True)[0]
    order = np.lexsort((partner_code, -np.asarray(score, dtype=np.float64), owner_code))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = rank_within(owner_code[order]) + 1
    return ranks
