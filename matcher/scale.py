"""Enterprise scale: bounded candidate generation and features for the ``enterprise`` kind.

A national registry has 10^5-10^6 firms, so work per enterprise is bounded: candidates come from
chain adjacency and geography (N x neighbours pairs, never N^2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import BallTree

from matcher import features as F
from matcher.exceptions import MatcherError


def _n_unordered(n: int) -> int:
    return n * (n - 1) // 2


def enterprise_candidates(E: F.Entities, neighbours: int, min_strength: float = 0.1
                          ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Bounded candidates for enterprises: for each buyer, its ``neighbours`` nearest suppliers
    (great-circle distance) among enterprises whose stage feeds one of the buyer's stages.

    Work grows with N x neighbours, never N^2. Returns unordered pairs (li < ri) and the report.
    """
    t = E.table
    ent = t["entity_type"].to_numpy() == "enterprise"
    known = ent & ~np.isnan(E.lat) & ~np.isnan(E.lon)
    n_ent = int(ent.sum())
    found_l, found_r = [], []
    for s in range(len(F.STAGE_NAMES)):
        suppliers = np.flatnonzero(known & (E.stages[:, s] > 0))
        if len(suppliers) == 0:
            continue
        buyers = np.flatnonzero(known & (E.need[:, s] >= min_strength * 0.5))
        if len(buyers) == 0:
            continue
        tree = BallTree(np.radians(np.c_[E.lat[suppliers], E.lon[suppliers]]), metric="haversine")
        k = min(neighbours + 1, len(suppliers))
        _, idx = tree.query(np.radians(np.c_[E.lat[buyers], E.lon[buyers]]), k=k)
        partner = suppliers[idx]
        found_l.append(np.repeat(buyers, k))
        found_r.append(partner.ravel())
    if found_l:
        a, b = np.concatenate(found_l), np.concatenate(found_r)
    else:
        a = b = np.zeros(0, dtype=np.int64)
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = np.unique(np.c_[lo, hi], axis=0) if len(lo) else np.zeros((0, 2), dtype=np.int64)
    report = pd.DataFrame([{
        "rule": f"chain_adjacent_nearest_{neighbours}", "pairs": len(pairs),
        "all_pairs": _n_unordered(n_ent), "universe": "all pairs of enterprises",
    }])
    report["reduction_ratio"] = 1.0 - report["pairs"] / max(_n_unordered(n_ent), 1)
    return pairs[:, 0], pairs[:, 1], report


def enterprise_pair_features(E: F.Entities, params: dict):
    """Candidate pairs and features of the ``enterprise`` kind (a ``kinds.PairFeatures``)."""
    from matcher.kinds import _chain_columns, _frame

    if not (E.table["entity_type"] == "enterprise").any():
        raise MatcherError(
            "this dataset has no enterprises: load a dataset with enterprises.csv "
            "(for a synthetic one: python -m matcher synth --enterprises 10000 --seed 1 --out DIR)"
        )
    li, ri, report = enterprise_candidates(E, int(params.get("neighbours", 50)))
    chain = _chain_columns(E, li, ri)
    km = F.distance_km(E, li, ri)
    cluster = E.table["cluster_id"].astype(object).to_numpy()
    same = np.array([(a == b) if isinstance(a, str) and isinstance(b, str) else np.nan
                     for a, b in zip(cluster[li], cluster[ri], strict=True)], dtype=np.float32)
    columns = {
        **chain, "product": F.saturate(F.product_similarity(E, li, ri)),
        "distance": F.distance_decay(km, params["distance_scale_km"]),
        "capacity": F.capacity_fit(E, li, ri), "same_cluster": same, "d_km": km,
    }
    return _frame("enterprise", E, li, ri, columns, report)


