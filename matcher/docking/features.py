"""Pair features: vectorised numbers in 0..1 that say why two entities should dock.

Every feature is one ``Feature`` in ``FEATURES``: its Chinese and English label and one function
``compute(E, pairs, params) -> {column: array}`` over the candidate pairs (row positions ``pairs.left``
and ``pairs.right`` in the kind's canonical orientation, distances ``pairs.km``). The dict holds
the feature's value (NaN where an attribute is unknown: it contributes nothing and is named as
unknown) and the detail columns its explanation reads (``lr_``/``rl_`` directions, ``d_`` details).
A kind lists the features it uses (``matcher.docking.kinds``); adding a feature is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from matcher.docking.chain import MAKING_STAGES
from matcher.vocab import FLAGS, STAGES

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from matcher.docking.candidates import CandidatePairs
    from matcher.docking.entities import ChainProfiles, Entities

EARTH_RADIUS_KM = 6371.0088
MAKING_MASK = np.array([s in MAKING_STAGES for s in STAGES], dtype=np.float32)
STAGE_NAMES = list(STAGES)
PRODUCT_SATURATION = 0.4
POLICY_LEVEL = {"area": 1.0, "province": 0.6}


# --- building blocks ---------------------------------------------------------------------------

def supply(E: Entities | ChainProfiles, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How much of the right entity's input needs the left entity's output covers.

    coverage = sum over stages s of works_in(left, s) x need(right, s) / sum of need(right, .):
    1 when the left side makes every input the right side needs, 0 when it makes none.
    Returns ``(coverage, from_stage, to_stage)``: the left entity's strongest supplying stage and
    the right entity's stage it feeds (indices into STAGES, -1 when coverage is 0). ``E`` is any
    object with ``stages``, ``buys``, ``need`` and ``strength`` arrays.
    """
    rows = np.arange(len(li))
    need = E.need[ri]
    prod = E.stages[li] * need
    total = need.sum(axis=1)
    value = np.divide(prod.sum(axis=1), total, out=np.zeros(len(li), np.float32), where=total > 0)
    best_from = prod.argmax(axis=1)
    feeds = E.stages[ri] * E.strength[best_from]
    declared = E.buys[ri][rows, best_from] > 0
    best_to = np.where(declared & (feeds.max(axis=1) == 0), best_from, feeds.argmax(axis=1))
    none = value <= 0
    return value.astype(np.float32), np.where(none, -1, best_from), np.where(none, -1, best_to)


def chain_values(E: Entities, li: np.ndarray, ri: np.ndarray) -> tuple:
    """``supply`` both ways, computed once per distinct pair of chain profiles:
    ``(lr, lr_from, lr_to, rl, rl_from, rl_to)``."""
    pl, pr = E.profile[li].astype(np.int64), E.profile[ri].astype(np.int64)
    n = len(E.profiles.stages)
    keys, inverse = np.unique(pl * n + pr, return_inverse=True)
    a, b = keys // n, keys % n
    lr = supply(E.profiles, a, b)
    rl = supply(E.profiles, b, a)
    inverse = inverse.ravel()
    return tuple(v[inverse] for v in (*lr, *rl))


def rowwise_cosine(texts: sparse.csr_matrix, a: np.ndarray, b: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Cosine of rows ``a[i]`` and ``b[i]`` of L2-normalised rows (float32, chunked)."""
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), chunk):
        part = slice(start, start + chunk)
        out[part] = np.asarray(texts[a[part]].multiply(texts[b[part]]).sum(axis=1)).ravel()
    return out


def product_cosine(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Cosine of product texts, once per distinct pair of texts; NaN where a text is empty.

    Raw cosines of short texts are small (two denim clusters score ~0.3), so the ``product``
    feature is ``saturate(cosine)``, on the same 0..1 footing as the others.
    """
    tl, tr = E.text_id[li].astype(np.int64), E.text_id[ri].astype(np.int64)
    n_texts = E.texts.shape[0]
    keys, inverse = np.unique(tl * n_texts + tr, return_inverse=True)
    a_rows, b_rows = keys // n_texts, keys % n_texts
    cos = rowwise_cosine(E.texts, a_rows, b_rows)
    empty = E.texts.getnnz(axis=1) == 0
    cos[empty[a_rows] | empty[b_rows]] = np.nan
    return cos[inverse.ravel()]


def saturate(values: np.ndarray, at: float = PRODUCT_SATURATION) -> np.ndarray:
    """min(1, value / at); NaN stays NaN."""
    return np.minimum(np.asarray(values, dtype=np.float32) / np.float32(at), np.float32(1.0))


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km (vectorised); NaN where a coordinate is unknown."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def distance_km(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    return haversine_km(E.lat[li], E.lon[li], E.lat[ri], E.lon[ri])


def distance_decay(km: np.ndarray, scale_km: float) -> np.ndarray:
    """exp(-d / scale): 1 next door, 0.37 at one scale length; NaN stays NaN."""
    return np.exp(-np.asarray(km, dtype=np.float32) / np.float32(scale_km))


def capacity_transfer(E: Entities, source: np.ndarray, receiver: np.ndarray) -> np.ndarray:
    """Share of the source's making stages the receiver already works in (activity that can move)."""
    src = E.stages[source] * MAKING_MASK
    both = src * E.stages[receiver]
    total = src.sum(axis=1)
    return np.divide(both.sum(axis=1), total, out=np.zeros(len(source), np.float32), where=total > 0)


def shared_stages(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Jaccard overlap of making stages (how alike two entities' activities are)."""
    a = E.stages[li] * MAKING_MASK
    b = E.stages[ri] * MAKING_MASK
    inter = (a * b).sum(axis=1)
    union = np.maximum(a, b).sum(axis=1)
    return np.divide(inter, union, out=np.zeros(len(li), np.float32), where=union > 0)


def policy_pairing(E: Entities, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Provincial pairing policy between the two sides (either orientation).

    1.0 when the pairing names the receiving entity's own area (e.g. Zhejiang <-> Aksu), 0.6 when
    it pairs the provinces only, 0 otherwise. Returns ``(value, policy_name)``.
    """
    n = len(li)
    value = np.zeros(n, dtype=np.float32)
    name = np.full(n, "", dtype=object)
    policies = E.policies
    if policies is None or policies.empty:
        return value, name
    prov = E.table["province"].astype(str).to_numpy()
    place = (E.table["name_en"].fillna("").astype(str) + " " + E.table["city"].fillna("").astype(str)).to_numpy()
    for (a, b), group in policies.groupby(["province_a", "province_b"], sort=True):
        for giver, taker in ((li, ri), (ri, li)):
            hit = (prov[giver] == a) & (prov[taker] == b)
            if not hit.any():
                continue
            idx = np.flatnonzero(hit)
            level = np.full(len(idx), POLICY_LEVEL["province"], dtype=np.float32)
            for area in group["area_b"].fillna("").astype(str):
                if area:
                    in_area = np.char.find(place[taker[idx]].astype(str), area) >= 0
                    level = np.where(in_area, POLICY_LEVEL["area"], level)
            better = level > value[idx]
            value[idx[better]] = level[better]
            name[idx[better]] = group["policy"].iloc[0]
    return value, name


def peer_gain(E: Entities, learner: np.ndarray, teacher: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of the capability flags the teacher has (true) and the learner does not.

    Transfer-park experience counts only for learners in central and western regions.
    Returns ``(value, flags_text)`` with the flags named ``;``-joined.
    """
    names = list(FLAGS)
    has = np.stack([np.nan_to_num(E.flags[f][teacher], nan=0.0) for f in names], axis=1) > 0
    lacks = np.stack([np.nan_to_num(E.flags[f][learner], nan=0.0) for f in names], axis=1) <= 0
    # transfer-park experience is for receiving regions: an eastern cluster sends, it does not receive
    receiving = E.table["region"].astype(str).to_numpy()[learner] != "east"
    lacks[:, names.index("transfer_park")] &= receiving
    gain = has & lacks
    text = np.array([";".join(n for n, g in zip(names, row, strict=True) if g) for row in gain], dtype=object)
    return (gain.sum(axis=1) / len(names)).astype(np.float32), text


def market_channel(E: Entities, cluster: np.ndarray, market: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of the cluster's making stages whose goods the market trades; best stage index."""
    made = E.stages[cluster] * MAKING_MASK
    traded = made * E.buys[market]
    total = made.sum(axis=1)
    value = np.divide(traded.sum(axis=1), total, out=np.zeros(len(cluster), np.float32), where=total > 0)
    best = np.where(value > 0, traded.argmax(axis=1), -1)
    return value, best


def market_sourcing(E: Entities, cluster: np.ndarray, market: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The market as a source of the cluster's inputs: its traded stages against the cluster's needs."""
    prod = E.buys[market] * E.need[cluster]
    stage = prod.argmax(axis=1)
    value = prod[np.arange(len(cluster)), stage]
    return value, np.where(value > 0, stage, -1)


# --- the features --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Feature:
    """One feature: labels for people and the function that computes it (with its detail columns)."""

    name: str
    label_zh: str
    label_en: str
    compute: Callable[..., dict]

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


def _chain(E, pairs, params) -> dict:
    lr, lr_from, lr_to, rl, rl_from, rl_to = chain_values(E, pairs.left, pairs.right)
    return {"chain": np.maximum(lr, rl).astype(np.float32), "lr_chain": lr, "rl_chain": rl,
            "lr_from": lr_from, "lr_to": lr_to, "rl_from": rl_from, "rl_to": rl_to}


def _transfer(E, pairs, params) -> dict:
    both = (E.stages[pairs.left] * E.stages[pairs.right] * MAKING_MASK) > 0
    names = np.array(STAGE_NAMES, dtype=object)
    shared = np.array([";".join(names[row]) for row in both], dtype=object)
    return {"transfer": capacity_transfer(E, pairs.left, pairs.right), "d_shared": shared}


def _product(E, pairs, params) -> dict:
    return {"product": saturate(product_cosine(E, pairs.left, pairs.right))}


def _policy(E, pairs, params) -> dict:
    value, name = policy_pairing(E, pairs.left, pairs.right)
    return {"policy": value, "d_policy": name}


def _transfer_park(E, pairs, params) -> dict:
    return {"transfer_park": E.flags["transfer_park"][pairs.right]}


def _distance(E, pairs, params) -> dict:
    km = np.asarray(pairs.km, dtype=np.float32)
    return {"distance": distance_decay(km, params["distance_scale_km"]), "d_km": km}


def _channel(E, pairs, params) -> dict:
    value, stage = market_channel(E, pairs.left, pairs.right)
    roles = E.table["roles"].fillna("").astype(str).to_numpy()[pairs.right]
    return {"channel": value, "lr_channel": value, "d_channel_stage": stage, "d_roles": roles}


def _sourcing(E, pairs, params) -> dict:
    value, stage = market_sourcing(E, pairs.left, pairs.right)
    return {"sourcing": value, "rl_sourcing": value, "d_sourcing_stage": stage}


def _capacity(E, pairs, params) -> dict:
    a, b = E.capacity[pairs.left], E.capacity[pairs.right]
    hi = np.fmax(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = np.where(hi > 0, np.fmin(a, b) / hi, np.nan)
    return {"capacity": fit.astype(np.float32)}


def _same_cluster(E, pairs, params) -> dict:
    cl, cr = E.cluster[pairs.left], E.cluster[pairs.right]
    same = np.where((cl >= 0) & (cr >= 0), (cl == cr).astype(np.float32), np.float32(np.nan))
    return {"same_cluster": same.astype(np.float32)}


def _peer(E, pairs, params) -> dict:
    gain, text = peer_gain(E, pairs.left, pairs.right)
    return {"peer": gain, "d_peer_flags": text}


def _similar(E, pairs, params) -> dict:
    return {"similar": shared_stages(E, pairs.left, pairs.right)}


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("chain", "产业链互补", "chain complementarity", _chain),
    Feature("transfer", "产能转移", "capacity transfer", _transfer),
    Feature("product", "产品相近", "similar products", _product),
    Feature("policy", "省际结对政策", "provincial pairing policy", _policy),
    Feature("transfer_park", "转移试点园区", "transfer pilot park", _transfer_park),
    Feature("distance", "距离", "distance", _distance),
    Feature("channel", "市场销路", "market channel", _channel),
    Feature("sourcing", "市场供料", "market supplies inputs", _sourcing),
    Feature("capacity", "产能匹配", "capacity fit", _capacity),
    Feature("peer", "可借鉴的能力", "capabilities to learn", _peer),
    Feature("similar", "业务相近", "similar activities", _similar),
    Feature("same_cluster", "同一集群", "same cluster", _same_cluster),
)}


def compute(E: Entities, pairs: CandidatePairs | Pairs, names: Iterable[str], params: dict) -> dict[str, np.ndarray]:
    """Feature and detail columns of ``pairs`` for the features ``names`` (each computed once)."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        out.update(FEATURES[name].compute(E, pairs, params))
    return out


def feature_frame(columns: dict, names: Iterable[str]) -> pd.DataFrame:
    """The features ``names`` as a float32 frame: what a scorer reads."""
    return pd.DataFrame({n: np.asarray(columns[n], dtype=np.float32) for n in names})


@dataclass
class Pairs:
    """Pairs given by the caller (not by candidate rules): positions and their distance."""

    left: np.ndarray
    right: np.ndarray
    km: np.ndarray


def pairs_of(E: Entities, li: np.ndarray, ri: np.ndarray) -> Pairs:
    li, ri = np.asarray(li, dtype=np.int64), np.asarray(ri, dtype=np.int64)
    return Pairs(li, ri, distance_km(E, li, ri))
