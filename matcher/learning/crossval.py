"""Held-out features, leave-one-item-out weights and bootstrap intervals for the evaluation.

An *item* is one documented source (one page, one event) of ``known_dockings.csv``: its pairs are
not independent evidence, so they are held out together. Two things must not see a held-out item:

- the motives that read the same documented dockings, *docking experience* (each entity's) and
  *docking corridor* (between the two sides' provinces): ``HeldOut.X`` recomputes them without the
  held-out item and pair;
- fitted weights: for each item the kind's weights are fitted (``fit.fit_weights``) on the other
  items' pairs only, with the pull towards the prior chosen by an inner leave-one-item-out over
  those same training items (nested cross-validation), and the held-out item's queries are ranked
  with them (methods ``engine_cv``, from the preset, and ``engine_cv_uniform``, from equal weights).
  A training list's own item is left out of its experience and corridor too, or every documented
  pair would teach that they predict it.

Intervals resample items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.docking import evidence
from matcher.docking.kinds import get_kind
from matcher.learning.fit import L2_GRID, fit_weights, realistic_rank

if TYPE_CHECKING:
    from matcher.docking.engine import PairFeatures
    from matcher.docking.entities import Entities

#: Bootstrap resamples of the items (seeded by the evaluation's seed).
BOOTSTRAP = 2000


def group_of(pairs: pd.DataFrame) -> pd.Series:
    """Each known pair's hold-out group: its item, or the pair itself when it has none."""
    item = pairs["item"].fillna("").astype(str)
    return item.where(item != "", pairs["left_id"].astype(str) + "-" + pairs["right_id"].astype(str))


@dataclass
class HeldOut:
    """Feature tables with the motives that read documented dockings (``evidence.EVIDENCE_FEATURES``:
    docking experience and corridor) recomputed without some groups (cached)."""

    E: Entities
    pf: PairFeatures
    pairs: pd.DataFrame
    cache: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = [f for f in evidence.EVIDENCE_FEATURES if f in self.pf.X.columns]
        self.index = evidence.EvidenceIndex(self.E) if self.names else None
        group = group_of(self.pairs).to_numpy()
        ends = zip(self.pairs["left_id"], self.pairs["right_id"], strict=True)
        self.group_pairs: dict[str, list[tuple[int, int]]] = {}
        for g, (a, b) in zip(group, ends, strict=True):
            self.group_pairs.setdefault(g, []).append((self.E.index[a], self.E.index[b]))
        self.li, self.ri = self.pf.pairs["li"].to_numpy(), self.pf.pairs["ri"].to_numpy()

    def _evidence(self, key: frozenset) -> dict[str, np.ndarray]:
        """The evidence motives without the groups ``key`` (their items and their pairs), cached."""
        if ("evidence", key) not in self.cache:
            held = [pair for g in key for pair in self.group_pairs.get(g, [])]
            self.cache["evidence", key] = self.index.values(self.li, self.ri, self.names, exclude_items=key,
                                                            exclude_pairs=held)
        return self.cache["evidence", key]

    def X(self, groups: Iterable[str]) -> pd.DataFrame:
        key = frozenset(groups)
        if key not in self.cache:
            X = self.pf.X
            if self.names:
                X = X.copy()
                X.update(pd.DataFrame(self._evidence(key), index=X.index))
            self.cache[key] = X
        return self.cache[key]

    def _base(self, features: list[str]) -> np.ndarray:
        """The full-data feature matrix of ``features`` (float64, unknown as NaN), cached."""
        key = ("base", tuple(features))
        if key not in self.cache:
            self.cache[key] = self.pf.X[list(features)].to_numpy(dtype=np.float64, na_value=np.nan)
        return self.cache[key]

    def rows(self, groups: Iterable[str], features: list[str], rows: np.ndarray) -> np.ndarray:
        """``matrix(groups, features)[rows]``, computed for those rows only and not cached: what the
        nested cross-validation cuts its lists from (one held-out set per pair of groups and list
        group, so caching whole matrices would hold thousands of them)."""
        out = self._base(features)[rows]  # a copy: rows is an index array
        moved = [f for f in self.names if f in features]
        if moved:  # as DataFrame.update: a value unknown without the groups keeps the full-data one
            key = frozenset(groups)
            held = [pair for g in key for pair in self.group_pairs.get(g, [])]
            values = self.index.values(self.li[rows], self.ri[rows], self.names, exclude_items=key,
                                       exclude_pairs=held)
            for f in moved:
                j = list(features).index(f)
                v = values[f].astype(np.float64)
                out[:, j] = np.where(np.isnan(v), out[:, j], v)
        return out

    def matrix(self, groups: Iterable[str], features: list[str]) -> np.ndarray:
        """``X(groups)[features]`` as float64, unknown as NaN (cached: each held-out group's matrix
        is asked for by every method that ranks it)."""
        key = (frozenset(groups), tuple(features))
        if key not in self.cache:
            moved = any(f in features for f in self.names)
            self.cache[key] = self.rows(groups, features, np.arange(len(self.li))) if moved else self._base(features)
        return self.cache[key]


def build_lists(kind: str, E: Entities, pf: PairFeatures, pairs: pd.DataFrame) -> dict[str, list]:
    """Group -> lists ``(rows, true_row)``: for each known pair and each side that asks (both for
    two-sided kinds), the rows of its query's candidate pairs without the query's other known
    partners; pairs that are not candidates give no list (weights cannot move them)."""
    li, ri = pf.pairs["li"].to_numpy(), pf.pairs["ri"].to_numpy()
    two_sided = get_kind(kind).two_sided
    row_of = {(int(a), int(b)): n for n, (a, b) in enumerate(zip(li, ri, strict=True))}
    known = [(E.index[a], E.index[b]) for a, b in zip(pairs["left_id"], pairs["right_id"], strict=True)]
    partners: dict[int, set[int]] = {}
    for a, b in known:
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    out: dict[str, list] = {}
    for (a, b), group in zip(known, group_of(pairs), strict=True):
        true = row_of.get((a, b))
        if true is None:
            continue
        for u, v in ((a, b), (b, a)) if two_sided else ((a, b),):
            rows = np.flatnonzero((li == u) | (ri == u)) if two_sided else np.flatnonzero(li == u)
            other = np.where(li[rows] == u, ri[rows], li[rows])
            rows = rows[~np.isin(other, list(partners[u] - {v}))]
            out.setdefault(group, []).append((rows, int(np.flatnonzero(rows == true)[0])))
    return out


def blocks(held: HeldOut, lists: dict[str, list], groups: list[str], hidden: set[str],
           features: list[str], memo: dict | None = None) -> list:
    """Feature blocks of the lists of ``groups``, each seen without ``hidden`` and its own group; with
    ``memo`` (one dict per ``lists``), each group's blocks under one held-out set are cut once."""
    memo = {} if memo is None else memo
    out = []
    for g in groups:
        key = (g, frozenset(hidden | {g}))
        if key not in memo:
            mine = lists.get(g, [])
            X = held.rows(hidden | {g}, features, np.concatenate([rows for rows, _ in mine])) if mine else None
            cuts = np.cumsum([0] + [len(rows) for rows, _ in mine])
            memo[key] = [(X[a:b], t) for (_, t), a, b in zip(mine, cuts[:-1], cuts[1:], strict=True)]
        out += memo[key]
    return out


def list_ranks(lists: list, w: np.ndarray) -> np.ndarray:
    """The true row's realistic rank in each list under weights ``w`` (for a list with several true
    rows, a documented region's partners, the best-placed one's rank among the others)."""
    ranks = []
    for Xq, t in lists:
        s = np.nan_to_num(Xq, nan=0.0) @ w
        true = np.zeros(len(s), dtype=bool)
        true[t] = True
        ranks.append(realistic_rank(s[~true], s[true].max()))
    return np.asarray(ranks, dtype=np.float64)


def _mrr(lists: list, w: np.ndarray) -> float:
    ranks = list_ranks(lists, w)
    return float(np.mean(1.0 / ranks)) if len(ranks) else 0.0


#: Up to this many groups the inner cross-validation leaves one group out at a time; with more (a
#: planner's file of hundreds of dockings), it holds out ``INNER_FOLDS`` folds of groups, so the cost
#: grows with the square of the groups, not the cube. Past ``OUTER_LOO_MAX`` groups the outer
#: cross-validation holds out folds too (every figure still from weights that never saw its group).
INNER_LOO_MAX = 40
OUTER_LOO_MAX = 100
INNER_FOLDS = 10


def inner_folds(train: list[str], loo_max: int = INNER_LOO_MAX) -> list[list[str]]:
    """The held-out sets of a cross-validation over ``train`` (sorted groups): each group alone up to
    ``loo_max`` groups, else ``INNER_FOLDS`` folds of every ``INNER_FOLDS``-th group."""
    if len(train) <= loo_max:
        return [[j] for j in train]
    return [train[i::INNER_FOLDS] for i in range(INNER_FOLDS)]


def fold_weights(held: HeldOut, lists: dict[str, list], groups: list[str], prior: np.ndarray,
                 features: list[str], progress: Callable[[int, int], None] | None = None,
                 ) -> dict[str, tuple[np.ndarray, float, float]]:
    """Held-out group -> (weights fitted without it, the pull chosen by an inner cross-validation over
    the groups fitted on (``inner_folds``; ties go to the stronger pull, i.e. closer to the prior), and
    that inner cross-validation's MRR at the chosen pull, or NaN with fewer than two training groups).
    Each group is held out alone, or with its fold past ``OUTER_LOO_MAX`` groups.
    ``progress(done, total)`` is called after each outer fold."""
    out = {}
    # the inner fit without h and j, each hidden, is the inner fit without j and h: fitted once
    inner_fits: dict[tuple[frozenset, float], np.ndarray] = {}
    cut: dict = {}  # the lists' blocks under each held-out set, asked many times
    outer = inner_folds(groups, OUTER_LOO_MAX)
    for done, held_out in enumerate(outer, start=1):
        hidden = set(held_out)
        train = [g for g in groups if g not in hidden]
        best, best_l2 = -1.0, max(L2_GRID)
        if len(train) >= 2:
            for l2 in sorted(L2_GRID, reverse=True):
                scores = []
                for fold in inner_folds(train):
                    key = (frozenset((*held_out, *fold)), l2)
                    if key not in inner_fits:
                        inner = [g for g in train if g not in fold]
                        inner_fits[key] = fit_weights(blocks(held, lists, inner, hidden | set(fold), features, cut),
                                                      prior, l2)
                    w = inner_fits[key]
                    for j in fold:
                        test = blocks(held, lists, [j], hidden, features, cut)
                        if test:
                            scores.append(_mrr(test, w))
                score = float(np.mean(scores)) if scores else 0.0
                if score > best + 1e-12:
                    best, best_l2 = score, l2
        w = fit_weights(blocks(held, lists, train, hidden, features, cut), prior, best_l2)
        out.update({h: (w, best_l2, best if best >= 0 else np.nan) for h in held_out})
        if progress is not None:
            progress(done, len(outer))
    return out


def bootstrap(ranks: pd.DataFrame, k: int, methods: list[str], seed: int, n: int = BOOTSTRAP,
              ratio_of: str | tuple[str, ...] | None = None, baselines: tuple[str, ...] = ()) -> pd.DataFrame:
    """95% percentile intervals of hits@K and MRR per method, resampling items with replacement;
    with ``ratio_of`` (one method or several), also the interval of each one's MRR over the best
    baseline's (best on the full sample): ``attrs["ratios"]`` by method, ``attrs["ratio"]`` the first's."""
    items = sorted(ranks["item"].astype(str).unique())
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(items), size=(n, len(items)))
    per = {}
    for m in methods:
        mine = ranks[ranks["method"] == m]
        by_item = [mine[mine["item"].astype(str) == i]["rank"].to_numpy(dtype=np.float64) for i in items]
        hits = np.array([np.sum(r <= k) for r in by_item])
        rr = np.array([np.sum(1.0 / r) for r in by_item])
        count = np.array([len(r) for r in by_item])
        total = np.maximum(count[draws].sum(axis=1), 1)
        per[m] = (hits[draws].sum(axis=1) / total, rr[draws].sum(axis=1) / total, rr.sum() / max(count.sum(), 1))
    rows = []
    for m in methods:
        h, r, _ = per[m]
        rows.append({"method": m, "hits_lo": np.percentile(h, 2.5), "hits_hi": np.percentile(h, 97.5),
                     "mrr_lo": np.percentile(r, 2.5), "mrr_hi": np.percentile(r, 97.5)})
    out = pd.DataFrame(rows)
    wanted = [m for m in ((ratio_of,) if isinstance(ratio_of, str) else ratio_of or ()) if m in per]
    if wanted and baselines:
        best = max((b for b in baselines if b in per), key=lambda b: per[b][2])
        ratios = {}
        for m in wanted:
            ratio = per[m][1] / np.maximum(per[best][1], 1e-12)
            ratios[m] = (best, per[m][2] / max(per[best][2], 1e-12),
                         float(np.percentile(ratio, 2.5)), float(np.percentile(ratio, 97.5)))
        out.attrs["ratios"] = ratios
        out.attrs["ratio"] = ratios[wanted[0]]
    return out


__all__ = ["BOOTSTRAP", "HeldOut", "blocks", "bootstrap", "build_lists", "fold_weights", "group_of", "list_ranks"]
