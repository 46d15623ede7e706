"""Candidates (blocking): which pairs are worth scoring at all, and how many each rule proposed.

A kind's rules are small declarative objects (``matcher.docking.kinds``):

- ``PairRule(name, test)``: keeps the pairs of the kind's two sides for which ``test`` holds (chain
  adjacency, shared activity, a pairing policy, similar products, within a distance, ...). The
  candidates are the union of the rules; tests read the same building blocks as the features.
- a kind's ``excludes`` are ``PairRule``s too: pairs they hold for are never candidates (a cluster and
  its own home market), and the report counts them as ``excluded: <name>``.
- ``NearestRule`` and ``SimilarProductsRule``: search rules for registries, which never look at
  all N^2 pairs (``matcher.docking.search``); each focal entity gets at most ``neighbours`` +
  ``product_neighbours`` partners.

``generate`` returns the canonical candidate pairs of a block of focal entities (features are
computed for these only) and the rows of the block's lists: each row is a pair seen from its focal
entity's side. Every rule reports its pair count and the reduction ratio against all pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.docking import features as F
from matcher.docking import geo as G
from matcher.docking import search
from matcher.docking.materials import knit_mismatch
from matcher.docking.provinces import policy_pairing
from matcher.exceptions import MatcherError

if TYPE_CHECKING:
    from matcher.docking.entities import Entities
    from matcher.docking.kinds import DockingKind

PRODUCT_RULE_MIN = 0.05
#: Input need (0..1) from which a stage counts as needed for chain adjacency (search rules).
DEFAULT_MIN_NEED = 0.05


@dataclass
class CandidatePairs:
    """Canonical pairs (row positions in the kind's orientation) and the list rows they make.

    ``row_pair[i]`` is the pair of list row ``i`` and ``row_side[i]`` says which side of it the
    focal entity is (0: left, 1: right); ``focal``/``partner`` are the row's two positions.
    """

    left: np.ndarray
    right: np.ndarray
    km: np.ndarray
    row_pair: np.ndarray
    row_side: np.ndarray
    counts: dict[str, int]

    @property
    def focal(self) -> np.ndarray:
        return np.where(self.row_side == 0, self.left[self.row_pair], self.right[self.row_pair])

    @property
    def partner(self) -> np.ndarray:
        return np.where(self.row_side == 0, self.right[self.row_pair], self.left[self.row_pair])


# --- rules -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairRule:
    """Keep the pairs for which ``test(E, left, right, km, params)`` is true."""

    name: str
    test: Callable[..., np.ndarray]


def chain_adjacent(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    lr, _, _, rl, _, _ = F.chain_values(E, li, ri)
    return np.maximum(lr, rl) > 0


def shared_activity(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    return F.capacity_transfer(E, li, ri) > 0


def policy_paired(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    return policy_pairing(E, li, ri)[0] > 0


def similar_products(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    return np.nan_to_num(F.product_cosine(E, li, ri)) >= PRODUCT_RULE_MIN


def within_km(limit: float) -> Callable[..., np.ndarray]:
    def test(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
        return np.nan_to_num(np.asarray(km, dtype=np.float32), nan=np.inf) <= limit
    return test


def market_trades_cluster_stages(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    return F.market_channel(E, li, ri)[0] > 0


def market_supplies_inputs(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    return F.market_sourcing(E, li, ri)[0] > 0


def home_market(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    return F.home_market(E, li, ri, km)


def no_trade_link(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    """True where the market neither trades the cluster's goods nor supplies its inputs (or trades
    knitted goods only and the cluster does not knit), both sides' trades being known (a cluster with
    chain stages, a market with roles): nearness or similar words alone make no docking (Haining's
    leather market is no partner for Keqiao's fabric weavers). A pair with either side unknown stays a
    candidate."""
    known = (E.stages[li].sum(axis=1) > 0) & (E.buys[ri].sum(axis=1) > 0)
    none = (F.market_channel(E, li, ri)[0] <= 0) & (F.market_sourcing(E, li, ri)[0] <= 0)
    return known & (none | knit_mismatch(E, li, ri))


def teacher_has_what_learner_lacks(E: Entities, li: np.ndarray, ri: np.ndarray, km: np.ndarray, params: dict) -> np.ndarray:
    return F.peer_gain(E, li, ri)[0] > 0


@dataclass(frozen=True)
class NearestRule:
    """Each focal entity's ``neighbours`` nearest chain-adjacent partners (k-d trees per stage)."""

    name: str = "chain_adjacent_nearest"

    def label(self, params: dict) -> str:
        return f"{self.name}_{params['neighbours']}"

    def prepare(self, E: Entities, params: dict) -> None:
        key = (self.name, DEFAULT_MIN_NEED)
        if key not in E.indexes:
            E.indexes[key] = search.stage_trees(E.stages, E.need, E.lat, E.lon, np.arange(len(E)), DEFAULT_MIN_NEED)

    def pairs(self, E: Entities, focal: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.prepare(E, params)
        return search.candidate_pairs(E.stages, E.need, E.lat, E.lon, E.indexes[(self.name, DEFAULT_MIN_NEED)],
                                      focal, int(params["neighbours"]), params.get("radius_km"),
                                      params.get("query_workers"))


@dataclass(frozen=True)
class SimilarProductsRule:
    """Each focal entity's ``product_neighbours`` chain-adjacent partners with the most similar
    products, anywhere (not already proposed by an earlier rule)."""

    name: str = "similar_products"

    def label(self, params: dict) -> str:
        return f"{self.name}_{params['product_neighbours']} (not already nearest)"

    def prepare(self, E: Entities, params: dict) -> tuple:
        key = (self.name, int(params["similar_texts"]), float(params["min_text_similarity"]))
        if key not in E.indexes:
            pool = np.arange(len(E))
            E.indexes[key] = search.product_index(E.stages, E.need, E.text_id, E.texts, E.lat, E.lon, pool, pool,
                                                  key[1], key[2], DEFAULT_MIN_NEED)
        return key

    def pairs(self, E: Entities, focal: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = self.prepare(E, params)
        return search.product_candidates(E.stages, E.need, E.text_id, E.lat, E.lon, E.indexes[key], focal,
                                         int(params["product_neighbours"]), params.get("radius_km"))


def is_search(rule: object) -> bool:
    return not isinstance(rule, PairRule)


# --- generating a block's candidates -----------------------------------------------------------

def _directed(kind: DockingKind, E: Entities, focal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(canonical left, canonical right, side) of every pair a focal entity may list, focal sorted."""
    left_side, right_side = kind.left.members(E), kind.right.members(E)
    parts = []
    for side, own, other in ((0, left_side, right_side), (1, right_side, left_side)):
        if side == 1 and not kind.both_sides:
            break
        f = focal[np.isin(focal, own)]
        if len(f) == 0:
            continue
        ff, pp = np.repeat(f, len(other)), np.tile(other, len(f))
        keep = ff != pp
        ff, pp = ff[keep], pp[keep]
        if kind.pairing == "unordered":
            if side == 1:
                continue  # the same members: the pair's lower position is its left
            s = (ff > pp).astype(np.int8)
            parts.append((np.minimum(ff, pp), np.maximum(ff, pp), s, ff))
        elif side == 0:
            parts.append((ff, pp, np.zeros(len(ff), np.int8), ff))
        else:
            parts.append((pp, ff, np.ones(len(ff), np.int8), ff))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.int8), empty
    li, ri, side, f = (np.concatenate(x) for x in zip(*parts, strict=True))
    return li.astype(np.int64), ri.astype(np.int64), side, f.astype(np.int64)


def generate(kind: DockingKind, E: Entities, focal: np.ndarray, params: dict, listed: np.ndarray | None = None) -> CandidatePairs:
    """Candidate pairs of ``kind`` for the ``focal`` entities (row positions, sorted).

    ``listed`` (bool per entity, default: every entity) marks whose lists the whole run makes; a
    pair counts in the report of the block of its left entity when that one is listed, else of its
    right one, so blocks add up to the run's counts.
    """
    focal = np.asarray(focal, dtype=np.int64)
    if any(is_search(r) for r in kind.rules):
        return _searched(kind, E, focal, params)
    li, ri, side, f = _directed(kind, E, focal)
    # one canonical pair per (left, right): rules and features run on these only
    n = max(len(E), 1)
    key, row_pair = np.unique(li * n + ri, return_inverse=True)
    cl, cr = key // n, key % n
    km = G.distance_km(E, cl, cr)
    masks = {rule.name: np.asarray(rule.test(E, cl, cr, km, params), dtype=bool) for rule in kind.rules}
    union = np.logical_or.reduce(list(masks.values())) if masks else np.zeros(len(cl), bool)
    excluded = {f"excluded: {rule.name}": np.asarray(rule.test(E, cl, cr, km, params), dtype=bool) & union
                for rule in kind.excludes}
    for mask in excluded.values():
        union = union & ~mask
    masks.update(excluded)
    listed = np.ones(len(E), bool) if listed is None else listed
    in_block = np.zeros(len(E), bool)
    in_block[focal] = True
    owned = np.where(listed[cl], in_block[cl], in_block[cr])
    counts = {name: int((m & owned).sum()) for name, m in masks.items()}
    counts["candidates (union)"] = int((union & owned).sum())
    keep_pair = np.flatnonzero(union)
    new_index = np.full(len(cl), -1, dtype=np.int64)
    new_index[keep_pair] = np.arange(len(keep_pair))
    row_pair = row_pair.ravel()
    rows = new_index[row_pair] >= 0
    order = np.lexsort((np.where(side == 0, ri, li)[rows], f[rows]))
    return CandidatePairs(cl[keep_pair], cr[keep_pair], km[keep_pair], new_index[row_pair][rows][order],
                          side[rows][order], counts)


def _searched(kind: DockingKind, E: Entities, focal: np.ndarray, params: dict) -> CandidatePairs:
    """Directed candidates from search rules, each pair once, from the first rule that found it:
    (focal, partner), sorted by focal then partner."""
    found = [rule.pairs(E, focal, params) for rule in kind.rules]
    f = np.concatenate([x[0] for x in found]).astype(np.int64)
    p = np.concatenate([x[1] for x in found]).astype(np.int64)
    km = np.concatenate([x[2] for x in found])
    source = np.repeat(np.arange(len(found)), [len(x[0]) for x in found])
    n = max(len(E), 1)
    key, first = np.unique(f * n + p, return_index=True)  # first occurrence: the earlier rule
    per_rule = np.bincount(source[first], minlength=len(found))
    counts = {rule.label(params): int(c) for rule, c in zip(kind.rules, per_rule, strict=True)}
    counts["candidates (union)"] = len(key)
    f, p = key // n, key % n
    return CandidatePairs(f, p, km[first], np.arange(len(f)), np.zeros(len(f), np.int8), counts)


def report(kind: DockingKind, E: Entities, counts: dict[str, int]) -> pd.DataFrame:
    """One row per rule and their union: pairs, all pairs, reduction ratio, universe."""
    all_pairs = kind.all_pairs(E)
    frame = pd.DataFrame([{"rule": rule, "pairs": int(pairs)} for rule, pairs in counts.items()])
    frame["all_pairs"] = all_pairs
    frame["reduction_ratio"] = 1.0 - frame["pairs"] / max(all_pairs, 1)
    frame["universe"] = kind.universe
    return frame


def zero_counts(kind: DockingKind, params: dict) -> dict[str, int]:
    """Every rule's count (and the union's) at 0: the report of a run with no lists."""
    labels = [rule.label(params) if is_search(rule) else rule.name for rule in kind.rules]
    labels += [f"excluded: {rule.name}" for rule in kind.excludes]
    return {**dict.fromkeys(labels, 0), "candidates (union)": 0}


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value
    return total


def check_search_params(params: dict) -> None:
    """Planner-readable errors for search rules' parameters (whole counts, a positive finite radius)."""
    for name, least, what in (("neighbours", 1, "neighbours (candidates per enterprise) must be at least 1"),
                              ("product_neighbours", 0,
                               "product neighbours (candidates by similar products) must be 0 or more")):
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise MatcherError(f"{what}, as a whole number, not {value!r}")
    radius = params.get("radius_km")
    if radius is not None:
        try:
            ok = float(radius) > 0 and np.isfinite(float(radius))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise MatcherError(f"the radius must be a positive number of km, not {radius!r}")
        params["radius_km"] = float(radius)
