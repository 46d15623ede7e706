"""Docking kinds: for each, its candidate rules (blocking) and its features.

Each kind builds a ``PairFeatures``: canonical pairs (one row per unordered pair, or per ordered
pair for ``peer_learning``) with feature columns, directional ``lr_``/``rl_`` columns, detail
columns used by explanations (``d_``), and a report of how many pairs each candidate rule
produced. Orientation of canonical pairs:

- ``east_west``: left = eastern cluster, right = central/western cluster;
- ``cluster_market``: left = cluster, right = market;
- ``cluster_cluster`` and ``enterprise``: left id < right id;
- ``peer_learning``: left = the cluster that learns, right = the one that has what it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from matcher.docking import features as F
from matcher.docking.scoring import check_kind, kind_params

#: Features of each kind, in display order.
KIND_FEATURES: dict[str, list[str]] = {
    "east_west": ["chain", "transfer", "product", "policy", "transfer_park", "distance"],
    "cluster_market": ["channel", "sourcing", "product", "distance"],
    "cluster_cluster": ["chain", "product", "distance", "policy", "capacity"],
    "peer_learning": ["peer", "similar", "product", "distance"],
    "enterprise": ["chain", "product", "distance", "capacity", "same_cluster"],
}
#: Kinds whose lists are made for both sides of a pair (the others list for the left side only).
BOTH_SIDES = {"east_west", "cluster_market", "cluster_cluster", "enterprise"}
PRODUCT_RULE_MIN = 0.05


@dataclass
class PairFeatures:
    """Canonical candidate pairs of one kind with their features and the blocking report."""

    kind: str
    pairs: pd.DataFrame
    features: list[str]
    report: pd.DataFrame

    @property
    def X(self) -> pd.DataFrame:
        return self.pairs[self.features]

    @cached_property
    def matrix(self) -> np.ndarray:
        """Features as a float32 matrix with unknown (NaN) as 0: the fast path for re-scoring."""
        return np.nan_to_num(self.X.to_numpy(dtype=np.float32, na_value=np.nan), nan=0.0)


def build(kind: str, E: F.Entities, policies: pd.DataFrame, params: dict | None = None) -> PairFeatures:
    """Candidate pairs and features of ``kind`` over prepared entities."""
    check_kind(kind)
    params = {**kind_params(kind), **(params or {})}
    return _BUILDERS[kind](E, policies, params)


# --- candidate rules -------------------------------------------------------------------

def _rows(E: F.Entities, mask) -> np.ndarray:
    return np.flatnonzero(np.asarray(mask))


def _cross(left: np.ndarray, right: np.ndarray, unordered: bool = False) -> tuple[np.ndarray, np.ndarray]:
    li, ri = np.meshgrid(left, right, indexing="ij")
    li, ri = li.ravel(), ri.ravel()
    keep = li < ri if unordered else li != ri
    return li[keep], ri[keep]


def _report(rules: dict[str, np.ndarray], all_pairs: int, universe: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Union of rule masks and a report row per rule plus the union."""
    union = np.zeros_like(next(iter(rules.values())), dtype=bool)
    rows = []
    for name, mask in rules.items():
        union |= mask
        rows.append({"rule": name, "pairs": int(mask.sum())})
    rows.append({"rule": "candidates (union)", "pairs": int(union.sum())})
    report = pd.DataFrame(rows)
    report["all_pairs"] = all_pairs
    report["reduction_ratio"] = 1.0 - report["pairs"] / max(all_pairs, 1)
    report["universe"] = universe
    return union, report


def _n_unordered(n: int) -> int:
    return n * (n - 1) // 2


# --- kinds -----------------------------------------------------------------------------

def _chain_columns(E: F.Entities, li: np.ndarray, ri: np.ndarray) -> dict:
    lr, lr_from, lr_to = F.supply(E, li, ri)
    rl, rl_from, rl_to = F.supply(E, ri, li)
    return {
        "chain": np.maximum(lr, rl),
        "lr_chain": lr, "rl_chain": rl,
        "lr_from": lr_from, "lr_to": lr_to, "rl_from": rl_from, "rl_to": rl_to,
    }


def _shared_text(E: F.Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    both = (E.stages[li] * E.stages[ri] * F.MAKING_MASK) > 0
    names = np.array(F.STAGE_NAMES, dtype=object)
    return np.array([";".join(names[row]) for row in both], dtype=object)


def _frame(kind: str, E: F.Entities, li, ri, columns: dict, report: pd.DataFrame) -> PairFeatures:
    ids = E.table["id"].to_numpy()
    pairs = pd.DataFrame({"li": li, "ri": ri, "left_id": ids[li], "right_id": ids[ri], **columns})
    for name in KIND_FEATURES[kind]:
        pairs[name] = pairs[name].astype(np.float32)
    pairs = pairs.sort_values(["left_id", "right_id"], kind="stable").reset_index(drop=True)
    return PairFeatures(kind, pairs, list(KIND_FEATURES[kind]), report)


def _east_west(E: F.Entities, policies: pd.DataFrame, params: dict) -> PairFeatures:
    t = E.table
    clusters = t["entity_type"] == "cluster"
    east = _rows(E, clusters & (t["region"] == "east"))
    inland = _rows(E, clusters & t["region"].isin(["central", "west"]))
    li, ri = _cross(east, inland)
    chain = _chain_columns(E, li, ri)
    transfer = F.capacity_transfer(E, li, ri)
    product = F.product_similarity(E, li, ri)
    policy, policy_name = F.policy_pairing(E, policies, li, ri)
    union, report = _report(
        {
            "chain_adjacent": chain["chain"] > 0,
            "shared_activity": transfer > 0,
            "policy_pairing": policy > 0,
            "similar_products": np.nan_to_num(product) >= PRODUCT_RULE_MIN,
        },
        _n_unordered(int(clusters.sum())),
        "all pairs of clusters",
    )
    km = F.distance_km(E, li, ri)
    columns = {
        **chain,
        "transfer": transfer,
        "product": F.saturate(product),
        "policy": policy,
        "transfer_park": F.flag(E, "transfer_park", ri),
        "distance": F.distance_decay(km, params["distance_scale_km"]),
        "d_km": km, "d_policy": policy_name, "d_shared": _shared_text(E, li, ri),
    }
    columns = {k: np.asarray(v)[union] for k, v in columns.items()}
    return _frame("east_west", E, li[union], ri[union], columns, report)


def _cluster_market(E: F.Entities, policies: pd.DataFrame, params: dict) -> PairFeatures:
    t = E.table
    clusters = _rows(E, t["entity_type"] == "cluster")
    markets = _rows(E, t["entity_type"] == "market")
    li, ri = _cross(clusters, markets)
    channel, channel_stage = F.market_channel(E, li, ri)
    # the market as a source of the cluster's inputs: its traded stages against the cluster's needs
    sourcing_prod = E.buys[ri] * E.need[li]
    sourcing_stage = sourcing_prod.argmax(axis=1)
    sourcing = sourcing_prod[np.arange(len(li)), sourcing_stage]
    product = F.product_similarity(E, li, ri)
    km = F.distance_km(E, li, ri)
    union, report = _report(
        {
            "market_trades_cluster_stages": channel > 0,
            "market_supplies_inputs": sourcing > 0,
            "similar_products": np.nan_to_num(product) >= PRODUCT_RULE_MIN,
            "within_300_km": np.nan_to_num(km, nan=np.inf) <= 300,
        },
        len(clusters) * len(markets),
        "all cluster x market pairs",
    )
    columns = {
        "channel": channel, "sourcing": sourcing, "product": F.saturate(product),
        "distance": F.distance_decay(km, params["distance_scale_km"]),
        "lr_channel": channel, "rl_sourcing": sourcing,
        "d_channel_stage": np.where(channel > 0, channel_stage, -1),
        "d_sourcing_stage": np.where(sourcing > 0, sourcing_stage, -1),
        "d_roles": F.market_roles(E, ri), "d_km": km,
    }
    columns = {k: np.asarray(v)[union] for k, v in columns.items()}
    return _frame("cluster_market", E, li[union], ri[union], columns, report)


def _cluster_cluster(E: F.Entities, policies: pd.DataFrame, params: dict) -> PairFeatures:
    clusters = _rows(E, E.table["entity_type"] == "cluster")
    li, ri = _cross(clusters, clusters, unordered=True)
    chain = _chain_columns(E, li, ri)
    product = F.product_similarity(E, li, ri)
    km = F.distance_km(E, li, ri)
    policy, policy_name = F.policy_pairing(E, policies, li, ri)
    union, report = _report(
        {
            "chain_adjacent": chain["chain"] > 0,
            "similar_products": np.nan_to_num(product) >= PRODUCT_RULE_MIN,
            "within_150_km": np.nan_to_num(km, nan=np.inf) <= 150,
        },
        _n_unordered(len(clusters)),
        "all pairs of clusters",
    )
    columns = {
        **chain, "product": F.saturate(product), "distance": F.distance_decay(km, params["distance_scale_km"]),
        "policy": policy, "capacity": F.capacity_fit(E, li, ri),
        "d_km": km, "d_policy": policy_name,
    }
    columns = {k: np.asarray(v)[union] for k, v in columns.items()}
    return _frame("cluster_cluster", E, li[union], ri[union], columns, report)


def _peer_learning(E: F.Entities, policies: pd.DataFrame, params: dict) -> PairFeatures:
    clusters = _rows(E, E.table["entity_type"] == "cluster")
    li, ri = _cross(clusters, clusters)
    gain, gain_text = F.peer_gain(E, li, ri)
    km = F.distance_km(E, li, ri)
    union, report = _report(
        {"teacher_has_what_learner_lacks": gain > 0},
        len(clusters) * (len(clusters) - 1),
        "all ordered pairs of clusters",
    )
    columns = {
        "peer": gain, "similar": F.shared_stages(E, li, ri), "product": F.saturate(F.product_similarity(E, li, ri)),
        "distance": F.distance_decay(km, params["distance_scale_km"]),
        "d_peer_flags": gain_text, "d_km": km,
    }
    columns = {k: np.asarray(v)[union] for k, v in columns.items()}
    return _frame("peer_learning", E, li[union], ri[union], columns, report)


def _enterprise(E: F.Entities, policies: pd.DataFrame, params: dict) -> PairFeatures:
    from matcher.docking.scale import enterprise_pair_features  # enterprise scale lives in its own module

    return enterprise_pair_features(E, params)


_BUILDERS = {
    "east_west": _east_west,
    "cluster_market": _cluster_market,
    "cluster_cluster": _cluster_cluster,
    "peer_learning": _peer_learning,
    "enterprise": _enterprise,
}

#: Columns that swap when a canonical pair is seen from its right side.
SWAP = [("li", "ri"), ("left_id", "right_id"), ("lr_chain", "rl_chain"), ("lr_from", "rl_from"),
        ("lr_to", "rl_to")]


def focal_view(pairs: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Rows from each focal entity's point of view: ``left_id`` is the entity whose list it is.

    For kinds listed for both sides every canonical pair appears twice, once seen from each side,
    with the same score; ``side`` is ``"left"`` or ``"right"`` (which side of the canonical pair
    the focal entity was).
    """
    left = pairs.assign(side="left")
    if kind not in BOTH_SIDES:
        return left
    right = pairs.copy()
    for a, b in SWAP:
        if a in right.columns and b in right.columns:
            right[a], right[b] = pairs[b].to_numpy(), pairs[a].to_numpy()
    right["side"] = "right"
    return pd.concat([left, right], ignore_index=True)
