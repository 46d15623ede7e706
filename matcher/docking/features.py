"""Pair features: vectorised numbers in 0..1 that say why two entities should dock.

Every feature function takes the prepared entities and two integer arrays (row positions of the
left and right entity of each pair) and returns a float array, NaN where an attribute is unknown.
NaN contributes nothing to a score and is named as unknown in the explanation.

Directional features come as ``lr`` (left towards right) and ``rl`` values; the pair's feature is
their fusion, and both directions stay visible in the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from matcher.docking.chain import MAKING_STAGES, input_needs, stage_matrix, stage_strength
from matcher.vocab import FLAGS, MARKET_ROLES, STAGES

EARTH_RADIUS_KM = 6371.0088
MAKING_MASK = np.array([s in MAKING_STAGES for s in STAGES], dtype=np.float32)
ROLE_SELLER_STAGES = {
    "raw_materials": ("fiber", "spinning"),
    "fabrics": ("weaving", "knitting", "dyeing_finishing"),
    "finished_goods": ("knitting", "apparel", "home_textile", "industrial_textile", "accessories"),
}

ENTITY_COLUMNS = [
    "id", "entity_type", "name_zh", "name_en", "province", "city", "region", "lat", "lon", "stages", "buys",
    "roles", "products", "designations", "capacity", "cluster_id", *FLAGS,
]


@dataclass
class Entities:
    """Clusters, markets and (optionally) enterprises stacked, with their arrays precomputed.

    Attributes
    ----------
    table : DataFrame
        One row per entity, columns ``ENTITY_COLUMNS``; row position is the entity's index.
    stages, buys, need : ndarray (n, n_stages)
        Stages worked in (one-hot), stages declared bought (one-hot), input needs (0..1).
    strength : ndarray (n_stages, n_stages)
        IO supply strength between stages, max 1.
    text : scipy.sparse.csr_matrix
        L2-normalised TF-IDF rows of products and designations (words and character n-grams).
    """

    table: pd.DataFrame
    stages: np.ndarray
    buys: np.ndarray
    need: np.ndarray
    strength: np.ndarray
    text: sparse.csr_matrix
    lat: np.ndarray
    lon: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)

    def positions(self, ids) -> np.ndarray:
        return np.fromiter((self.index[i] for i in ids), dtype=np.int64, count=len(ids))


def stack_entities(dataset, include_enterprises: bool = False) -> pd.DataFrame:
    """Clusters, markets (and enterprises) in one table with an ``entity_type`` column."""
    parts = [("cluster", dataset.clusters), ("market", dataset.markets)]
    if include_enterprises:
        parts.append(("enterprise", dataset.enterprises))
    frames = []
    for entity_type, table in parts:
        frame = pd.DataFrame(index=range(len(table)))
        for col in ENTITY_COLUMNS:
            if col == "entity_type":
                frame[col] = entity_type
            elif col in table.columns:
                frame[col] = table[col].to_numpy()
            else:
                frame[col] = pd.NA
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def text_features(texts: pd.Series) -> sparse.csr_matrix:
    """TF-IDF of words (English) and character 1-3-grams (Chinese and English), L2-normalised.

    Character n-grams make Chinese work without a segmenter; words keep English precise.
    """
    texts = texts.fillna("").astype(str).str.lower()
    if not texts.str.strip().any():
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                            token_pattern=r"(?u)\b[a-z][a-z\-]+\b", dtype=np.float32)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=1, sublinear_tf=True,
                            dtype=np.float32)
    blocks = []
    for vectorizer in (words, chars):
        try:
            blocks.append(vectorizer.fit_transform(texts))
        except ValueError:  # empty vocabulary (e.g. no English words at all)
            continue
    return normalize(sparse.hstack(blocks).tocsr()).astype(np.float32)


def _flag_array(series: pd.Series) -> np.ndarray:
    """Nullable booleans as floats: 1 yes, 0 no, NaN unknown."""
    values = pd.array(series, dtype="boolean")
    out = np.full(len(values), np.nan, dtype=np.float32)
    known = ~values.isna()
    out[np.asarray(known)] = np.asarray(values[known], dtype=np.float32)
    return out


def prepare(dataset, include_enterprises: bool = False) -> Entities:
    """Precompute the arrays every feature needs (done once per dataset version)."""
    table = stack_entities(dataset, include_enterprises)
    strength = stage_strength(dataset.chain_links)
    stages = stage_matrix(table["stages"])
    buys = stage_matrix(table["buys"])
    text = text_features(table["products"].fillna("") + " " + table["designations"].fillna(""))
    return Entities(
        table=table,
        stages=stages,
        buys=buys,
        need=input_needs(stages, buys, strength),
        strength=strength,
        text=text,
        lat=pd.to_numeric(table["lat"], errors="coerce").to_numpy(dtype=np.float64),
        lon=pd.to_numeric(table["lon"], errors="coerce").to_numpy(dtype=np.float64),
        flags={f: _flag_array(table[f]) for f in FLAGS},
        index={i: n for n, i in enumerate(table["id"])},
    )


# --- chain complementarity -------------------------------------------------------------

def supply(E: Entities, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How much of the right entity's input needs the left entity's output covers.

    coverage = sum over stages s of works_in(left, s) x need(right, s) / sum of need(right, .):
    1 when the left side makes every input the right side needs, 0 when it makes none.
    Returns ``(coverage, from_stage, to_stage)``: the left entity's strongest supplying stage and
    the right entity's stage it feeds (indices into STAGES, -1 when coverage is 0).
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


# --- products, distance, capacity ------------------------------------------------------

def product_similarity(E: Entities, li: np.ndarray, ri: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Cosine similarity of TF-IDF product texts; NaN when either text is empty.

    Raw cosines of short texts are small (two denim clusters score ~0.3), so features use
    ``saturate(cosine, PRODUCT_SATURATION)`` to put them on the same 0..1 footing as the others.
    """
    out = np.empty(len(li), dtype=np.float32)
    for start in range(0, len(li), chunk):
        a = E.text[li[start:start + chunk]]
        b = E.text[ri[start:start + chunk]]
        out[start:start + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    empty = np.asarray(E.text.getnnz(axis=1) == 0)
    out[empty[li] | empty[ri]] = np.nan
    return out


PRODUCT_SATURATION = 0.4


def saturate(values: np.ndarray, at: float = PRODUCT_SATURATION) -> np.ndarray:
    """min(1, value / at); NaN stays NaN."""
    return np.minimum(np.asarray(values, dtype=np.float32) / np.float32(at), np.float32(1.0))


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km (vectorised); NaN where a coordinate is unknown."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def distance_km(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    return haversine_km(E.lat[li], E.lon[li], E.lat[ri], E.lon[ri]).astype(np.float32)


def distance_decay(km: np.ndarray, scale_km: float) -> np.ndarray:
    """exp(-d / scale): 1 next door, 0.37 at one scale length; NaN stays NaN."""
    return np.exp(-np.asarray(km, dtype=np.float32) / np.float32(scale_km))


def capacity_fit(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """min/max of the two capacities where both are known, else NaN."""
    cap = pd.to_numeric(E.table["capacity"], errors="coerce").to_numpy(dtype=np.float64)
    a, b = cap[li], cap[ri]
    hi = np.fmax(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = np.where(hi > 0, np.fmin(a, b) / hi, np.nan)
    return fit.astype(np.float32)


# --- policy ----------------------------------------------------------------------------

POLICY_LEVEL = {"area": 1.0, "province": 0.6}


def policy_pairing(E: Entities, policies: pd.DataFrame, li: np.ndarray, ri: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Provincial pairing policy between the two sides (either orientation).

    1.0 when the pairing names the receiving entity's own area (e.g. Zhejiang <-> Aksu), 0.6 when
    it pairs the provinces only, 0 otherwise. Returns ``(value, policy_name)``.
    """
    n = len(li)
    value = np.zeros(n, dtype=np.float32)
    name = np.full(n, "", dtype=object)
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


def flag(E: Entities, name: str, rows: np.ndarray) -> np.ndarray:
    return E.flags[name][rows]


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


# --- markets ---------------------------------------------------------------------------

def market_channel(E: Entities, cluster: np.ndarray, market: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of the cluster's making stages whose goods the market trades; best stage index."""
    made = E.stages[cluster] * MAKING_MASK
    traded = made * E.buys[market]
    total = made.sum(axis=1)
    value = np.divide(traded.sum(axis=1), total, out=np.zeros(len(cluster), np.float32), where=total > 0)
    best = np.where(value > 0, traded.argmax(axis=1), -1)
    return value, best


def market_roles(E: Entities, market: np.ndarray) -> np.ndarray:
    """The market's roles as text (for explanations)."""
    return E.table["roles"].fillna("").astype(str).to_numpy()[market]


STAGE_NAMES = list(STAGES)
ROLE_NAMES = list(MARKET_ROLES)
