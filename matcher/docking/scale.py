"""Enterprise scale: each enterprise's top K docking partners for registries of 10^5-10^6 firms.

A national registry has up to a million firms, so nothing here looks at all N^2 pairs:

1. **Candidates** (bounded work), from two sources, optionally within ``radius_km``.
   Chain-adjacent: one side works in a stage the other needs (input need >= ``min_need``).

   - *Nearest*: the ``neighbours`` nearest chain-adjacent enterprises (great-circle distance, ties
     by id). Per stage there is one k-d tree of the enterprises that work in it and one of those
     that need it; an enterprise queries only the trees of its stages and needs and keeps the
     ``neighbours`` nearest of the merged answers, so the TOTAL per enterprise is bounded.
   - *Similar products*, anywhere: the ``product_neighbours`` chain-adjacent enterprises whose
     products are most similar. Each distinct product text gets its ``similar`` most similar texts
     once (sparse TF-IDF products in chunks, ``similar_texts``); an enterprise then looks, in each
     (stage role, similar text) group it asks for, at the ``2 x WINDOW`` members around its place
     in the group's spatial (Z-order) sequence, and keeps the best by similarity, then distance.
     Enterprises without a place take part (their distance is unknown).

   So candidates never exceed N x (``neighbours`` + ``product_neighbours``).
2. **Features and scores**, vectorised over row blocks of ``block_size`` enterprises: the same
   feature functions as the engine (``matcher.docking.features``); product similarity is computed once per
   distinct pair of product texts in the block (sparse TF-IDF rows multiplied in chunks).
3. **Top K** per enterprise by partial selection (``np.argpartition``) and the engine's stable
   order: score descending, then partner id ascending.
4. **Reasons and output** built per block: reasons from a small table of distinct reason
   templates (vectorised string building), CSV written block by block, so memory is bounded by
   the block size, not by N x K.

The same block job runs in process (``backend="local"``) or on a Dask distributed cluster
(``backend="dask"``, ``scheduler=ADDRESS`` or a ``distributed.Client``): the prepared arrays are
broadcast once to the workers and blocks come back in order, so both give identical rows.

Each enterprise's list is its top K among its own candidates; scores are symmetric (chain is the
stronger of the two directions), so a pair listed from both sides has the same score on both.

Examples
--------
Partial selection with the engine's tie-break (rows of one enterprise: best score, then lower id):

>>> import numpy as np
>>> top_k(np.array([0, 0, 0]), np.array([5, 3, 9]), np.array([0.2, 0.2, 0.9]), 2).tolist()
[2, 1]

The whole job: ``suggest_enterprises(load_dataset("DIR"), top=20, out="top20.csv")``, or with
``scheduler="tcp://HOST:8786"`` on a Dask cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

from matcher.docking import features as F
from matcher.docking.chain import input_needs, stage_matrix, stage_strength
from matcher.docking.explain import FEATURE_LABEL, MIN_CONTRIBUTION, STAGE_EN, STAGE_ZH
from matcher.exceptions import MatcherError

KIND = "enterprise"
FEATURES = ["chain", "product", "distance", "capacity", "same_cluster"]
#: Default total candidates per enterprise when the preset's params do not say.
DEFAULT_NEIGHBOURS = 50
#: Input need (0..1) from which a stage counts as needed for chain adjacency.
DEFAULT_MIN_NEED = 0.05
#: Threads for k-d tree queries (-1 = every core of the machine or Dask worker running the block).
QUERY_WORKERS = -1
DEFAULT_BLOCK_SIZE = 20_000
#: Candidates per enterprise from product similarity, on top of the ``neighbours`` nearest.
DEFAULT_PRODUCT_NEIGHBOURS = 10
#: Distinct product texts an enterprise looks in: its own and the most similar ones.
DEFAULT_SIMILAR_TEXTS = 5
#: Cosine (product TF-IDF) from which another text counts as similar.
DEFAULT_MIN_TEXT_SIMILARITY = 0.2
#: Members taken on each side of an enterprise's place in a group's spatial (Z-order) sequence.
WINDOW = 2
#: Terms held by more distinct texts than this do not propose similar texts: their pairs would grow
#: with the square of the number of texts (texts sharing only such terms are rarely similar).
MAX_TERM_TEXTS = 1000
#: Leading output columns (the engine's SUGGESTION_COLUMNS), then f_/w_/c_ triples, then details.
SUGGESTION_COLUMNS = [
    "kind", "rank", "left_id", "right_id", "left_name_zh", "left_name_en", "right_name_zh", "right_name_en",
    "left_region", "right_region", "left_province", "right_province", "left_type", "right_type",
    "score", "reason_zh", "reason_en",
]
DETAIL_COLUMNS = ["lr_chain", "rl_chain", "lr_from", "lr_to", "rl_from", "rl_to", "d_km"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _n_unordered(n: int) -> int:
    return n * (n - 1) // 2


# --- prepared arrays ---------------------------------------------------------------------

@dataclass
class EnterpriseArrays:
    """Everything the block job reads, as compact arrays in id order (row position = id rank).

    Picklable: broadcast once to every Dask worker. ``stages``/``buys``/``need``/``strength`` carry
    the names ``matcher.docking.features.supply`` expects, so chain values are the engine's own.
    """

    ids: np.ndarray
    stages: np.ndarray
    buys: np.ndarray
    need: np.ndarray
    strength: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    capacity: np.ndarray
    cluster: np.ndarray
    text_id: np.ndarray
    texts: sparse.csr_matrix
    names: dict[str, np.ndarray] = field(default_factory=dict)
    trees: dict | None = None
    products: ProductIndex | None = None
    profile: np.ndarray | None = None
    profiles: object = None
    text_columns: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def _factorized(column: pd.Series, build: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """Apply a per-cell builder to the distinct values only (registries repeat them a lot)."""
    codes, uniques = pd.factorize(column.fillna("").astype(str), sort=False)
    return build(pd.Series(uniques, dtype=object))[codes]


def _weighted_tfidf(docs: pd.Series, counts: np.ndarray, n_docs: int, **vectorizer) -> sparse.csr_matrix:
    """TF-IDF rows of distinct documents, with document frequencies counted over all ``n_docs``.

    Equals ``TfidfVectorizer(sublinear_tf=True, smooth_idf=True)`` fitted on the corpus with its
    duplicates, at the cost of the distinct documents only.
    """
    tf = CountVectorizer(dtype=np.float32, **vectorizer).fit_transform(docs).tocsr()
    present = tf.copy()
    present.data[:] = 1
    df = np.asarray(present.T @ counts.astype(np.float64)).ravel()
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    tf.data = np.log(tf.data) + 1.0
    return normalize(tf @ sparse.diags(idf.astype(np.float32))).astype(np.float32).tocsr()


def text_features_distinct(texts: pd.Series, n_focus: int) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Product TF-IDF as in ``features.text_features``, over distinct texts.

    ``texts`` is the whole corpus (enterprises first, then clusters and markets, which weigh in the
    document frequencies). Returns the text id of each of the first ``n_focus`` rows and the
    L2-normalised rows of those ids.
    """
    texts = texts.fillna("").astype(str).str.lower()
    # ids in string order: the same ids whatever the row order (the engine's path builds the same)
    codes, uniques = pd.factorize(texts, sort=True)
    counts = np.bincount(codes, minlength=len(uniques))
    uniques = pd.Series(uniques, dtype=object)
    if not uniques.str.strip().any():
        return codes[:n_focus].astype(np.int32), sparse.csr_matrix((len(uniques), 1), dtype=np.float32)
    blocks = []
    for options in (
        dict(analyzer="word", ngram_range=(1, 2), min_df=1, token_pattern=r"(?u)\b[a-z][a-z\-]+\b"),
        dict(analyzer="char_wb", ngram_range=(2, 3), min_df=1),
    ):
        try:
            blocks.append(_weighted_tfidf(uniques, counts, len(texts), **options))
        except ValueError:  # empty vocabulary (e.g. no English words at all)
            continue
    matrix = normalize(sparse.hstack(blocks).tocsr()).astype(np.float32).tocsr()
    return codes[:n_focus].astype(np.int32), matrix


def _neutral(values: np.ndarray) -> np.ndarray:
    """Text that would start a spreadsheet formula gets a leading ``'`` (as ``export.neutralise_cell``)."""
    out = np.asarray(values, dtype=object).copy()
    for n, v in enumerate(out):
        if isinstance(v, str) and v.startswith(FORMULA_START):
            out[n] = "'" + v
    return out


def prepare_enterprises(dataset, min_need: float = DEFAULT_MIN_NEED, similar: int = DEFAULT_SIMILAR_TEXTS,
                        min_similarity: float = DEFAULT_MIN_TEXT_SIMILARITY) -> EnterpriseArrays:
    """Arrays of a dataset's enterprises, sorted by id, the per-stage k-d trees and the product index.

    Raises
    ------
    MatcherError
        The dataset has no enterprises.
    """
    ent = dataset.enterprises
    if len(ent) == 0:
        raise MatcherError(
            "this dataset has no enterprises: load a dataset with enterprises.csv "
            "(for a synthetic one: python -m matcher synth --enterprises 10000 --seed 1 --out DIR)"
        )
    ids = ent["id"].astype(str).to_numpy(dtype=object)
    order = np.argsort(ids, kind="stable")  # position order = id order: ties broken by position
    ent = ent.iloc[order].reset_index(drop=True)
    ids = ids[order]
    strength = stage_strength(dataset.chain_links)
    stages = _factorized(ent["stages"], stage_matrix)
    buys = _factorized(ent["buys"], stage_matrix) if "buys" in ent else np.zeros_like(stages)
    # same corpus as features.prepare(include_enterprises=True): products + designations of all
    corpus = [ent["products"].fillna("") + " "]
    for table in (dataset.clusters, dataset.markets):
        prod = table["products"] if "products" in table else pd.Series("", index=table.index)
        desig = table["designations"] if "designations" in table else pd.Series("", index=table.index)
        corpus.append(prod.fillna("").astype(str) + " " + desig.fillna("").astype(str))
    text_id, texts = text_features_distinct(pd.concat(corpus, ignore_index=True), len(ent))
    cluster_codes, _ = pd.factorize(ent["cluster_id"].astype(object).where(ent["cluster_id"].notna(), None))
    arrays = EnterpriseArrays(
        ids=ids,
        stages=stages,
        buys=buys,
        need=input_needs(stages, buys, strength),
        strength=strength,
        lat=pd.to_numeric(ent["lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        lon=pd.to_numeric(ent["lon"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        capacity=pd.to_numeric(ent["capacity"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        cluster=cluster_codes.astype(np.int32),
        text_id=text_id,
        texts=texts,
        names={
            c: ent[c].astype(object).where(ent[c].notna(), None).to_numpy(dtype=object)
            for c in ("name_zh", "name_en", "region", "province")
        },
    )
    import pyarrow as pa

    arrays.text_columns = {"id": pa.array(ids, pa.string())} | {
        c: pa.array(v, pa.string()) for c, v in arrays.names.items()}
    arrays.profile, arrays.profiles = chain_profiles(arrays)
    pool = np.arange(len(arrays))
    arrays.trees = stage_trees(arrays.stages, arrays.need, arrays.lat, arrays.lon, pool, min_need)
    arrays.products = product_index(arrays.stages, arrays.need, arrays.text_id, arrays.texts, arrays.lat,
                                    arrays.lon, pool, pool, similar, min_similarity, min_need)
    return arrays


@dataclass
class ChainProfiles:
    """Distinct (stages, buys) rows: chain values depend on nothing else, so they are computed
    once per distinct pair of profiles (``features.supply`` reads these same attribute names)."""

    stages: np.ndarray
    buys: np.ndarray
    need: np.ndarray
    strength: np.ndarray


def chain_profiles(A) -> tuple[np.ndarray, ChainProfiles]:
    both = np.c_[A.stages, A.buys].astype(np.uint8)
    packed = both @ (1 << np.arange(both.shape[1], dtype=np.int64))
    _, first, code = np.unique(packed, return_index=True, return_inverse=True)
    return code.ravel().astype(np.int32), ChainProfiles(A.stages[first], A.buys[first], A.need[first], A.strength)


def chain_values(A, li: np.ndarray, ri: np.ndarray) -> tuple:
    """``features.supply`` both ways, computed per distinct pair of chain profiles."""
    pl, pr = A.profile[li].astype(np.int64), A.profile[ri].astype(np.int64)
    n = len(A.profiles.stages)
    keys, inverse = np.unique(pl * n + pr, return_inverse=True)
    a, b = keys // n, keys % n
    lr = F.supply(A.profiles, a, b)
    rl = F.supply(A.profiles, b, a)
    inverse = inverse.ravel()
    return tuple(v[inverse] for v in (*lr, *rl))


# --- candidates --------------------------------------------------------------------------

def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere: chord order = great-circle order, and k-d trees are fast."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.c_[np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]


def stage_trees(stages, need, lat, lon, pool: np.ndarray, min_need: float) -> dict:
    """Per stage, a k-d tree of the pool members that work in it and one of those that need it."""
    pool = pool[~np.isnan(lat[pool]) & ~np.isnan(lon[pool])]
    xyz = _unit_vectors(lat[pool], lon[pool])
    trees = {"min_need": min_need}
    for s in range(stages.shape[1]):
        for role, mask in (("works", stages[pool, s] > 0), ("needs", need[pool, s] >= min_need)):
            members = pool[mask]
            trees[role, s] = (members, cKDTree(xyz[mask]) if len(members) else None)
    return trees


def candidate_pairs(stages, need, lat, lon, trees: dict, focal: np.ndarray, neighbours: int,
                    radius_km: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each focal entity's ``neighbours`` nearest chain-adjacent partners (ties by position).

    Returns ``(focal, partner, km)`` sorted by focal, then distance, then partner (distance order is
    the order of chord lengths between unit vectors, i.e. great-circle order); at most
    ``neighbours`` rows per focal entity, whatever its number of stages.
    """
    min_need = trees["min_need"]
    focal = focal[~np.isnan(lat[focal]) & ~np.isnan(lon[focal])]
    # query in spatial order (0.1 degree cells): neighbouring queries walk the same tree nodes,
    # which keeps large trees in cache; the final sort restores focal order
    cell = np.floor(lat[focal] * 10) * 4000 + np.floor(lon[focal] * 10)
    focal = focal[np.argsort(cell, kind="stable")]
    xyz = _unit_vectors(lat[focal], lon[focal])
    found_f, found_p, found_d = [], [], []
    for s in range(stages.shape[1]):
        # partners that work in a stage the focal needs, and partners that need a focal's stage
        for asks, role in ((need[focal, s] >= min_need, "works"), (stages[focal, s] > 0, "needs")):
            members, tree = trees[role, s]
            if tree is None or not asks.any():
                continue
            k = min(neighbours + 1, len(members))  # +1: the focal itself may be in the tree
            chord, idx = tree.query(xyz[asks], k=k, workers=QUERY_WORKERS)
            idx = np.asarray(idx).reshape(int(asks.sum()), k)
            found_f.append(np.repeat(focal[asks], k))
            found_p.append(members[idx].ravel())
            found_d.append(np.asarray(chord).ravel())
    if not found_f:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    f, p, d = np.concatenate(found_f), np.concatenate(found_p), np.concatenate(found_d)
    keep = f != p
    f, p, d = f[keep], p[keep], d[keep]
    if radius_km is not None:
        # chord length of the radius on the unit sphere (same order as great-circle distance)
        near = d <= 2 * np.sin(min(radius_km / F.EARTH_RADIUS_KM, np.pi) / 2)
        f, p, d = f[near], p[near], d[near]
    # one int64 key (focal, distance, partner): a single argsort instead of a slow lexsort.
    # Chord lengths come from the same unit vectors in every tree (equal pairs, equal keys) and are
    # quantised to the bits left (about 5 cm on Earth for 1M enterprises in blocks of 20,000).
    base = int(focal.min()) if len(focal) else 0  # focal is in spatial order: min, not first
    bits_f = max(1, int(f.max() - base).bit_length()) if len(f) else 1
    bits_p = max(1, int(len(lat)).bit_length())
    bits_d = 63 - bits_f - bits_p
    if bits_d < 12:
        raise MatcherError("block too large for this many enterprises: use a smaller block size")
    dq = np.minimum(d / 2.0, 1.0) * ((1 << bits_d) - 1)
    key = ((f - base) << (bits_d + bits_p)) | (dq.astype(np.int64) << bits_p) | p
    order = np.argsort(key)
    f, p = f[order], p[order]
    first = np.ones(len(f), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (p[1:] != p[:-1])  # duplicates (found via two stages) are adjacent
    f, p = f[first], p[first]
    keep = _rank_within(f) < neighbours
    f, p = f[keep], p[keep]
    return f, p, F.haversine_km(lat[f], lon[f], lat[p], lon[p])


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal values of a sorted array."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    lengths = np.diff(np.r_[start, len(groups)])
    return np.arange(len(groups)) - np.repeat(start, lengths)


# --- candidates: similar products ---------------------------------------------------------

@dataclass
class ProductIndex:
    """Where to find enterprises with similar products, in bounded work.

    ``offsets``/``similar``/``similar_cos``: for each distinct text, its most similar texts (CSR rows:
    ``similar[offsets[t]:offsets[t + 1]]``, cosine descending, then text id). ``keys``/``members``:
    every (role, stage, text) group's members sorted by ``group << z_bits | z`` then tie order, so a
    group is one contiguous run and, within it, members are in spatial (Z-order) sequence. Role 0:
    works in the stage; role 1: needs the stage. ``z``: each entity's Z-order code.
    """

    offsets: np.ndarray
    similar: np.ndarray
    similar_cos: np.ndarray
    keys: np.ndarray
    members: np.ndarray
    z: np.ndarray
    z_bits: int
    n_texts: int
    min_need: float


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For runs ``[starts[i], starts[i] + counts[i])``: the run of each element and the element."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return owner, np.repeat(np.asarray(starts, dtype=np.int64), counts) + np.arange(int(counts.sum())) - first[owner]


def rowwise_cosine(texts: sparse.csr_matrix, a: np.ndarray, b: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Cosine of rows ``a[i]`` and ``b[i]`` of L2-normalised rows (float32, chunked)."""
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), chunk):
        part = slice(start, start + chunk)
        out[part] = np.asarray(texts[a[part]].multiply(texts[b[part]]).sum(axis=1)).ravel()
    return out


def similar_texts(texts: sparse.csr_matrix, eligible: np.ndarray, m: int, min_similarity: float,
                  max_term_texts: int = MAX_TERM_TEXTS, pairs_per_chunk: int = 4_000_000
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each text's ``m`` most similar eligible texts, its own first, by sparse products in chunks.

    Similarity is the cosine over the terms held by at most ``max_term_texts`` distinct texts (all
    terms while there are fewer texts than that): terms almost every text holds say little and would
    make the product quadratic in the number of texts; without them it is bounded by
    ``max_term_texts`` x the matrix's non-zeros. A chunk of rows is multiplied at a time (each
    value is the same as in the whole product). Other texts must reach ``min_similarity``; order:
    similarity descending, then text id. Returns CSR arrays ``(offsets, similar, similarity)``; a
    text's own entry has similarity 1.

    >>> from sklearn.preprocessing import normalize
    >>> t = normalize(sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32)))
    >>> offsets, similar, _ = similar_texts(t, np.array([True, True, True]), 5, 0.5)
    >>> [similar[offsets[i]:offsets[i + 1]].tolist() for i in range(3)]
    [[0, 1], [1, 0], [2]]
    """
    n = texts.shape[0]
    nonempty = texts.getnnz(axis=1) > 0
    rare = texts[:, np.flatnonzero(texts.getnnz(axis=0) <= max_term_texts)].tocsr()
    cols = np.flatnonzero(eligible & nonempty)
    rows = np.flatnonzero(nonempty)
    a_parts, b_parts, v_parts = [cols], [cols], [np.ones(len(cols), dtype=np.float32)]  # itself
    if len(cols) and rare.shape[1]:
        by_col = rare[cols].T.tocsc()
        step = max(1, pairs_per_chunk // max(1, len(cols)))
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            found = (rare[chunk] @ by_col).tocoo()
            a, b = chunk[found.row], cols[found.col]
            ok = (found.data >= min_similarity) & (a != b)
            a_parts.append(a[ok])
            b_parts.append(b[ok])
            v_parts.append(found.data[ok].astype(np.float32))
    a, b = np.concatenate(a_parts).astype(np.int64), np.concatenate(b_parts).astype(np.int64)
    value = np.concatenate(v_parts)
    order = np.lexsort((b, -value, a != b, a))  # per text: itself, then most similar, then id
    a, b, value = a[order], b[order], value[order]
    keep = _rank_within(a) < m
    a, b, value = a[keep], b[keep], value[keep]
    return np.searchsorted(a, np.arange(n + 1)), b, value


def product_index(stages, need, text_id, texts, lat, lon, pool: np.ndarray, tie: np.ndarray,
                  similar: int, min_similarity: float, min_need: float) -> ProductIndex:
    """The ``ProductIndex`` of the ``pool`` entities (positions; ``tie``: their order among equals)."""
    n_texts = texts.shape[0]
    n_groups = 2 * stages.shape[1] * n_texts
    z_bits = min(24, (62 - max(1, int(n_groups).bit_length())) // 2)
    if z_bits < 4:
        raise MatcherError("too many distinct product texts for the product index")
    z = _z_order(lat, lon, z_bits).astype(np.int64)
    with_text = np.asarray(texts.getnnz(axis=1) > 0)
    pool = pool[with_text[text_id[pool]]]
    eligible = np.zeros(n_texts, dtype=bool)
    eligible[text_id[pool]] = True
    offsets, sim, sim_cos = similar_texts(texts, eligible, similar, min_similarity)
    groups, members = [], []
    for role, has in enumerate((stages[pool] > 0, need[pool] >= min_need)):
        r, s = np.nonzero(has)
        members.append(pool[r])
        groups.append((role * stages.shape[1] + s) * n_texts + text_id[pool[r]])
    member = np.concatenate(members).astype(np.int64)
    key = (np.concatenate(groups).astype(np.int64) << (2 * z_bits)) | z[member]
    order = np.lexsort((tie[member], key))
    return ProductIndex(offsets, sim, sim_cos, key[order], member[order], z, z_bits, n_texts, min_need)


def product_candidates(stages, need, text_id, lat, lon, index: ProductIndex, focal: np.ndarray, k: int,
                       radius_km: float | None = None, tie: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each focal entity's ``k`` chain-adjacent partners with the most similar products.

    The partner pool: for each of the focal's similar texts (``index.similar``) and each stage it
    needs (partners working in it) or works in (partners needing it), the ``2 x WINDOW`` members of
    that group around the focal's place in the group's spatial sequence. From the pool: cosine
    descending, then distance (unknown last), then ``tie``. Work per entity is bounded by
    similar texts x (stages worked in + stages needed) x 2 x WINDOW, whatever the registry's size. Entities without a place
    take part too (their distance is unknown). Returns ``(focal, partner, km)`` sorted by focal.
    """
    empty = np.zeros(0, dtype=np.int64)
    if k < 1 or len(focal) == 0:
        return empty, empty, np.zeros(0, dtype=np.float64)
    tie = np.arange(len(lat)) if tie is None else tie
    t = text_id[focal]
    # focal x similar text
    row, at = _expand(index.offsets[t], index.offsets[t + 1] - index.offsets[t])
    sim, cos = index.similar[at], index.similar_cos[at]
    # x (role, stage) groups the focal asks for: role 0 (works in s) for the stages it needs,
    # role 1 (needs s) for the stages it works in
    asks = np.c_[need[focal] >= index.min_need, stages[focal] > 0]
    ask_row, ask_col = np.nonzero(asks)
    ask_start = np.searchsorted(ask_row, np.arange(len(focal) + 1))
    sub, j = _expand(ask_start[row], ask_start[row + 1] - ask_start[row])
    f = focal[row[sub]]
    group = ask_col[j].astype(np.int64) * index.n_texts + sim[sub]
    cos = cos[sub]
    shift = 2 * index.z_bits
    lo = np.searchsorted(index.keys, group << shift)
    hi = np.searchsorted(index.keys, (group + 1) << shift)
    pos = np.searchsorted(index.keys, (group << shift) | index.z[f])
    start = np.clip(pos - WINDOW, lo, np.maximum(lo, hi - 2 * WINDOW))
    end = np.minimum(start + 2 * WINDOW, hi)
    owner, at = _expand(start, end - start)
    f, p, cos = f[owner], index.members[at], cos[owner]
    keep = f != p
    f, p, cos = f[keep], p[keep], cos[keep]
    km = F.haversine_km(lat[f], lon[f], lat[p], lon[p])
    if radius_km is not None:
        near = km <= radius_km
        f, p, cos, km = f[near], p[near], cos[near], km[near]
    order = np.lexsort((tie[p], np.nan_to_num(km, nan=np.inf), -cos, f))
    f, p, km = f[order], p[order], km[order]
    first = np.ones(len(f), dtype=bool)
    # the same partner through two groups: same cosine and distance, so the copies are adjacent
    first[1:] = (f[1:] != f[:-1]) | (p[1:] != p[:-1])
    f, p, km = f[first], p[first], km[first]
    keep = _rank_within(f) < k
    return f[keep], p[keep], km[keep]


def union_candidates(near: tuple, similar: tuple, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Candidates of both sources, once each, sorted by focal then partner; and how many came only
    from product similarity."""
    f = np.concatenate([near[0], similar[0]]).astype(np.int64)
    p = np.concatenate([near[1], similar[1]]).astype(np.int64)
    km = np.concatenate([near[2], similar[2]])
    key, first = np.unique(f * n + p, return_index=True)
    return key // n, key % n, km[first], len(key) - len(near[0])


# --- features and scores -----------------------------------------------------------------

def product_cosine(text_id: np.ndarray, texts: sparse.csr_matrix, li: np.ndarray, ri: np.ndarray,
                   chunk: int = 200_000) -> np.ndarray:
    """Cosine of product texts, computed once per distinct pair of texts; NaN where one is empty."""
    tl, tr = text_id[li].astype(np.int64), text_id[ri].astype(np.int64)
    n_texts = texts.shape[0]
    keys, inverse = np.unique(tl * n_texts + tr, return_inverse=True)
    a_rows, b_rows = keys // n_texts, keys % n_texts
    cos = rowwise_cosine(texts, a_rows, b_rows, chunk)
    empty = texts.getnnz(axis=1) == 0
    cos[empty[a_rows] | empty[b_rows]] = np.nan
    return cos[inverse.ravel()]


def pair_features(A: EnterpriseArrays, li: np.ndarray, ri: np.ndarray, km: np.ndarray,
                  distance_scale_km: float) -> dict[str, np.ndarray]:
    """Feature and detail columns of enterprise pairs (float32 features, NaN = unknown)."""
    lr, lr_from, lr_to, rl, rl_from, rl_to = chain_values(A, li, ri)
    a, b = A.capacity[li], A.capacity[ri]
    hi = np.fmax(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        capacity = np.where(hi > 0, np.fmin(a, b) / hi, np.nan).astype(np.float32)
    cl, cr = A.cluster[li], A.cluster[ri]
    same = np.where((cl >= 0) & (cr >= 0), (cl == cr).astype(np.float32), np.float32(np.nan))
    km32 = np.asarray(km, dtype=np.float32)
    return {
        "chain": np.maximum(lr, rl).astype(np.float32),
        "product": F.saturate(product_cosine(A.text_id, A.texts, li, ri)),
        "distance": F.distance_decay(km32, distance_scale_km).astype(np.float32),
        "capacity": capacity,
        "same_cluster": same.astype(np.float32),
        "lr_chain": lr, "rl_chain": rl,
        "lr_from": lr_from, "lr_to": lr_to, "rl_from": rl_from, "rl_to": rl_to,
        "d_km": km32,
    }


def score_pairs(columns: dict, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values, contributions, score)`` exactly as ``WeightedScorer`` computes them."""
    values = np.stack([columns[f] for f in FEATURES], axis=1).astype(np.float64)
    contrib = np.nan_to_num(values, nan=0.0) * weights
    return values, contrib, contrib.sum(axis=1)


def top_k(focal: np.ndarray, partner: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Indices of each focal entity's top ``k`` rows: score descending, then partner ascending.

    ``focal`` must be sorted. Partial selection (``np.argpartition``) finds each row's k-th best
    score; only rows at or above it are ordered.
    """
    if len(focal) == 0:
        return np.zeros(0, dtype=np.int64)
    rank = _rank_within(focal)
    starts = np.flatnonzero(rank == 0)
    row = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(focal)]))
    width = int(rank.max()) + 1
    S = np.full((len(starts), width), -np.inf)
    S[row, rank] = score
    P = np.full((len(starts), width), np.iinfo(np.int64).max, dtype=np.int64)
    P[row, rank] = partner
    rows_at = np.full((len(starts), width), -1, dtype=np.int64)
    rows_at[row, rank] = np.arange(len(focal))
    if width > k:
        kth = -np.partition(-S, k - 1, axis=1)[:, k - 1]
        inside = (S >= kth[:, None]) & (S > -np.inf)
        keep = int(inside.sum(axis=1).max())
        # stable compaction of the rows at or above the k-th score (booleans sort by radix)
        cols = np.argsort(~inside, axis=1, kind="stable")[:, :keep]
        S = np.where(np.take_along_axis(inside, cols, 1), np.take_along_axis(S, cols, 1), -np.inf)
        P = np.take_along_axis(P, cols, 1)
        rows_at = np.take_along_axis(rows_at, cols, 1)
    by_partner = np.argsort(P, axis=1, kind="stable")
    order = np.take_along_axis(by_partner, np.argsort(-np.take_along_axis(S, by_partner, 1), axis=1,
                                                      kind="stable"), 1)[:, :k]
    S, rows_at = np.take_along_axis(S, order, 1), np.take_along_axis(rows_at, order, 1)
    return rows_at[S > -np.inf]  # row-major: focal by focal, best first


# --- reasons -----------------------------------------------------------------------------

def _chain_phrase(a: int, b: int, lang: int) -> str:
    stage = STAGE_ZH if lang == 0 else STAGE_EN
    if a >= 0 and b >= 0 and a != b:
        return f"{stage[a]}→{stage[b]}互补" if lang == 0 else f"{stage[a]} feeds {stage[b]}"
    if a >= 0:
        return f"{stage[a]}供需互补" if lang == 0 else f"{stage[a]} supply and demand"
    return FEATURE_LABEL["chain"][lang]


def _km_text(km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``explain._km`` for many values: formatted once per distinct rounded distance."""
    km = np.asarray(km, dtype=np.float64)
    known = ~np.isnan(km)
    rounded = np.zeros(len(km), dtype=np.int64)
    v = km[known]
    rounded[known] = np.where(v >= 100, np.round(v, -1), np.round(v)).astype(np.int64)
    uniq, inv = np.unique(rounded, return_inverse=True)
    zh = np.array([f"{u:,} 公里" for u in uniq], dtype=object)[inv.ravel()]
    en = np.array([f"{u:,} km" for u in uniq], dtype=object)[inv.ravel()]
    zh[~known] = ""
    en[~known] = ""
    return zh, en


def reasons_vectorised(values: np.ndarray, contrib: np.ndarray, weights: np.ndarray, columns: dict,
                       top: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The reasons of ``explain.reasons`` for the enterprise kind, built per distinct template.

    A reason depends on a few small codes (which features lead, the chain's stages, which are
    unknown) and the distance; templates are made once per distinct code, then joined with the
    distance text by array operations.
    """
    n = len(contrib)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
    use_lr = columns["lr_chain"] >= columns["rl_chain"]
    a = np.where(use_lr, columns["lr_from"], columns["rl_from"]).astype(np.int64)
    b = np.where(use_lr, columns["lr_to"], columns["rl_to"]).astype(np.int64)
    chain_code = (a + 1) * 16 + (b + 1)  # < 256
    tokens = np.zeros((n, top), dtype=np.int64)
    for slot in range(order.shape[1]):
        j = order[:, slot]
        ok = (contrib[np.arange(n), j] >= MIN_CONTRIBUTION) & (j != FEATURES.index("distance"))
        tokens[:, slot] = np.where(ok, np.where(j == 0, 1000 + chain_code, j + 1), 0)
    unknown = (np.isnan(values) & (weights > 0)).astype(np.int64) @ (1 << np.arange(len(FEATURES)))
    packed = ((tokens[:, 0] * 2048 + tokens[:, 1]) * 2048 + tokens[:, 2]) * 64 + unknown if top == 3 else None
    if packed is None:
        uniq, inv = np.unique(np.c_[tokens, unknown], axis=0, return_inverse=True)
    else:
        keys, first, inv = np.unique(packed, return_index=True, return_inverse=True)
        uniq = np.c_[tokens, unknown][first]
    inv = inv.ravel()
    pre = [np.empty(len(uniq), dtype=object), np.empty(len(uniq), dtype=object)]
    suf = [np.empty(len(uniq), dtype=object), np.empty(len(uniq), dtype=object)]
    for u, code in enumerate(uniq):
        for lang in (0, 1):
            phrases = []
            for t in code[:top]:
                if t >= 1000:
                    c = int(t) - 1000
                    phrases.append(_chain_phrase(c // 16 - 1, c % 16 - 1, lang))
                elif t > 0:
                    phrases.append(FEATURE_LABEL[FEATURES[int(t) - 1]][lang])
            names = [FEATURES[j] for j in range(len(FEATURES)) if int(code[top]) >> j & 1]
            pre[lang][u] = ("；" if lang == 0 else "; ").join(phrases)
            if names:
                suf[lang][u] = ("未知：" + "、".join(FEATURE_LABEL[x][0] for x in names) if lang == 0
                                else "unknown: " + ", ".join(FEATURE_LABEL[x][1] for x in names))
            else:
                suf[lang][u] = ""
    km_texts = _km_text(columns["d_km"])
    import pyarrow as pa
    import pyarrow.compute as pc

    out = []
    if (km_texts[0] == "").any():  # some distance unknown: the plain row-by-row join
        return _reasons_slow(pre, suf, inv, km_texts)
    for lang, sep in ((0, "；"), (1, "; ")):
        # every row has a distance: head + distance + tail, joined in arrow
        head = np.array([p + sep if p else "" for p in pre[lang]], dtype=object)
        tail = np.array([sep + q if q else "" for q in suf[lang]], dtype=object)
        km = km_texts[lang]
        text = pc.binary_join_element_wise(pc.take(pa.array(head, pa.string()), pa.array(inv)),
                                           pa.array(km, pa.string()),
                                           pc.take(pa.array(tail, pa.string()), pa.array(inv)), "")
        out.append(text)
    return out[0], out[1]


def _reasons_slow(pre, suf, inv, km_texts):
    import pyarrow as pa

    out = []
    for lang, sep, nothing in ((0, "；", "无明显对接理由"), (1, "; ", "no strong reason")):
        rows = []
        for u, km in zip(inv, km_texts[lang], strict=True):
            parts = [x for x in (pre[lang][u], km, suf[lang][u]) if x]
            rows.append(sep.join(parts) if parts else nothing)
        out.append(pa.array(rows, pa.string()))
    return out[0], out[1]


# --- the block job -----------------------------------------------------------------------

@dataclass(frozen=True)
class ScaleJob:
    """Settings of one run, sent with every block (small and picklable)."""

    top: int
    weights: tuple[float, ...]
    neighbours: int
    distance_scale_km: float
    radius_km: float | None = None
    min_score: float | None = None
    product_neighbours: int = DEFAULT_PRODUCT_NEIGHBOURS


def suggest_block(A: EnterpriseArrays, focal: np.ndarray, job: ScaleJob) -> BlockResult:
    """Ranked, explained top-K suggestions of the focal enterprises (positions), one block."""
    weights = np.asarray(job.weights, dtype=np.float64)
    li, ri, km, from_products = block_candidates(A, np.asarray(focal, dtype=np.int64), job.neighbours,
                                                 job.product_neighbours, job.radius_km)
    n_candidates = len(li)
    columns = pair_features(A, li, ri, km, job.distance_scale_km)
    values, contrib, score = score_pairs(columns, weights)
    if job.min_score is not None:
        ok = score >= job.min_score
        li, ri, score, values, contrib = li[ok], ri[ok], score[ok], values[ok], contrib[ok]
        columns = {k: v[ok] for k, v in columns.items()}
    pick = top_k(li, ri, score, job.top)
    li, ri, values, contrib, score = li[pick], ri[pick], values[pick], contrib[pick], score[pick]
    columns = {k: v[pick] for k, v in columns.items()}
    zh, en = reasons_vectorised(values, contrib, weights, columns)
    import pyarrow as pa

    left, right = pa.array(li), pa.array(ri)
    kind = pa.repeat(pa.scalar(KIND), len(li)) if hasattr(pa, "repeat") else pa.array([KIND] * len(li))
    out = {
        "kind": kind,
        "rank": pa.array(_rank_within(li) + 1),
        "left_id": A.text_columns["id"].take(left), "right_id": A.text_columns["id"].take(right),
        "left_name_zh": A.text_columns["name_zh"].take(left), "left_name_en": A.text_columns["name_en"].take(left),
        "right_name_zh": A.text_columns["name_zh"].take(right),
        "right_name_en": A.text_columns["name_en"].take(right),
        "left_region": A.text_columns["region"].take(left), "right_region": A.text_columns["region"].take(right),
        "left_province": A.text_columns["province"].take(left),
        "right_province": A.text_columns["province"].take(right),
        "left_type": kind, "right_type": kind,
        "score": pa.array(score), "reason_zh": zh, "reason_en": en,
    }
    for j, f in enumerate(FEATURES):
        out[f"f_{f}"] = pa.array(values[:, j])
        out[f"w_{f}"] = pa.array(np.full(len(li), weights[j]))
        out[f"c_{f}"] = pa.array(contrib[:, j])
    stage_names = pa.array([*F.STAGE_NAMES, ""])  # index -1 -> ""
    for c in DETAIL_COLUMNS:
        v = columns[c]
        if c.endswith(("_from", "_to")):
            out[c] = stage_names.take(pa.array(np.where(v < 0, len(F.STAGE_NAMES), v)))
        else:
            out[c] = pa.array(np.asarray(v))
    return BlockResult(pa.table(out), n_candidates, from_products)


def block_candidates(A: EnterpriseArrays, focal: np.ndarray, neighbours: int, product_neighbours: int,
                     radius_km: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Candidates of the focal enterprises from both sources: ``(focal, partner, km, only_product)``."""
    near = candidate_pairs(A.stages, A.need, A.lat, A.lon, A.trees, focal, neighbours, radius_km)
    similar = product_candidates(A.stages, A.need, A.text_id, A.lat, A.lon, A.products, focal,
                                 product_neighbours, radius_km)
    return union_candidates(near, similar, len(A))


@dataclass
class BlockResult:
    """One block's suggestions (an arrow table, cheap to ship from a worker), its candidate count
    and how many of those only product similarity proposed."""

    table: object
    candidates: int
    from_products: int = 0


def _z_order(lat: np.ndarray, lon: np.ndarray, bits: int = 16) -> np.ndarray:
    """Morton (Z-order) code of each point, ``bits`` per axis: nearby points get nearby codes;
    unknown places get the largest code (they sort last)."""
    known = ~np.isnan(lat) & ~np.isnan(lon)
    top = float((1 << bits) - 1)
    y = np.where(known, np.clip((np.nan_to_num(lat) + 90.0) / 180.0, 0, 1) * top, 0).astype(np.uint64)
    x = np.where(known, np.clip((np.nan_to_num(lon) + 180.0) / 360.0, 0, 1) * top, 0).astype(np.uint64)
    code = np.zeros(len(lat), dtype=np.uint64)
    for bit in range(bits):
        code |= ((x >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
        code |= ((y >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + 1)
    return np.where(known, code, np.uint64((1 << (2 * bits)) - 1) if bits < 32 else np.iinfo(np.uint64).max)


def _blocks(focal: np.ndarray, block_size: int, lat: np.ndarray | None = None,
            lon: np.ndarray | None = None) -> list[np.ndarray]:
    """Focal enterprises in blocks of ``block_size``, each block sorted by id.

    With coordinates, blocks are spatial tiles (Z-order): a block's k-d tree queries then touch a
    small part of each tree, which keeps large trees in cache (1M enterprises: 2.0 s a block instead
    of 2.9 s). The blocks depend only on the data, so every backend sees the same blocks.
    """
    if lat is not None and lon is not None and len(focal) > block_size:
        focal = focal[np.lexsort((focal, _z_order(lat[focal], lon[focal])))]
    return [np.sort(focal[s:s + block_size]) for s in range(0, len(focal), block_size)]


def _local_results(A, blocks, job) -> Iterator[BlockResult]:
    for block in blocks:
        yield suggest_block(A, block, job)


def _dask_client(scheduler):
    try:
        from distributed import Client, get_client
    except ImportError:  # pragma: no cover - distributed is pinned in requirements.txt
        raise MatcherError("the Dask backend needs the 'distributed' package") from None
    if scheduler is None:
        try:
            return get_client(), False
        except ValueError:
            raise MatcherError("backend 'dask' needs a scheduler: pass scheduler=ADDRESS "
                               "(e.g. tcp://127.0.0.1:8786) or start a distributed.Client first") from None
    if isinstance(scheduler, str):
        try:
            return Client(scheduler, timeout="10s"), True
        except OSError as err:
            raise MatcherError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
    return scheduler, False


def _dask_results(A, blocks, job, scheduler) -> Iterator[BlockResult]:
    """Blocks on a Dask cluster, yielded in block order, with a bounded number in flight."""
    client, own = _dask_client(scheduler)
    try:
        shared = client.scatter(A, broadcast=True, hash=False)
        window = 2 * max(1, len(client.scheduler_info().get("workers", {}))) + 1
        pending = []
        queue = iter(blocks)
        for block in queue:
            pending.append(client.submit(suggest_block, shared, block, job, pure=False))
            if len(pending) >= window:
                break
        while pending:
            future = pending.pop(0)
            result = future.result()
            future.release()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(client.submit(suggest_block, shared, nxt, job, pure=False))
            yield result
        del shared
    finally:
        if own:
            client.close()


# --- output ------------------------------------------------------------------------------

def _neutralise_block(table):
    """Text cells that would start a spreadsheet formula get a leading ``'`` (``export.neutralise_cell``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for c in ("left_id", "right_id", "left_name_zh", "left_name_en", "right_name_zh", "right_name_en"):
        col = table.column(c)
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            continue
        hit = pc.is_in(pc.utf8_slice_codeunits(col, 0, 1), value_set=pa.array(list(FORMULA_START)))
        if pc.any(hit).as_py():
            fixed = pc.if_else(hit, pc.binary_join_element_wise("'", col, ""), col)
            table = table.set_column(table.schema.get_field_index(c), c, fixed)
    return table


class BlockWriter:
    """Append suggestion blocks to one file, on a background thread, never leaving a half file.

    pyarrow formats and compresses without holding the GIL, so one block is written while the
    next is ranked. At most one block waits to be written (memory stays bounded); blocks are written
    in the order given, and an error in writing is raised by the next ``write`` or by ``close``.
    Rows go to ``FILE.partial``, renamed to ``FILE`` by a successful ``close``; ``abort`` (or a
    failed close) removes it. Text that would start a spreadsheet formula is neutralised in every
    format (``export.neutralise_cell``). Subclasses say how a block is written.
    """

    def __init__(self, path: str | Path, extra: dict | None = None):
        from concurrent.futures import ThreadPoolExecutor

        self.path = Path(path)
        self.extra = dict(extra or {})
        self.rows = 0
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._handle = self._partial.open("wb")
        self._writer = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="block-writer")
        self._pending = None

    def write(self, table) -> None:
        self._wait()
        self._pending = self._pool.submit(self._write, table)
        self.rows += table.num_rows

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _write(self, table) -> None:
        import pyarrow as pa

        for k, v in self.extra.items():
            table = table.append_column(k, pa.array([v] * table.num_rows))
        table = _neutralise_block(table)
        if self._writer is None:
            self._schema = table.schema
            self._writer = self._open(table.schema)
        self._writer.write_table(table.cast(self._schema))

    def _open(self, schema):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _empty(self) -> None:
        """Write a file with no rows (no block came)."""
        import pyarrow as pa

        columns = [*output_columns(), *self.extra]
        self._writer = self._open(pa.schema([(c, pa.string()) for c in columns]))
        self._writer.close()

    def close(self) -> None:
        try:
            self._wait()
            if self._writer is None:
                self._empty()
            else:
                self._writer.close()
            self._handle.close()
        except BaseException:
            self.abort()
            raise
        finally:
            self._pool.shutdown(wait=True)
        self._partial.replace(self.path)

    def abort(self) -> None:
        """Stop and remove the partial file (the target file, if any, is left as it was)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._handle.close()
        self._partial.unlink(missing_ok=True)


class CsvBlockWriter(BlockWriter):
    """CSV for Excel: UTF-8 with BOM, CRLF (pyarrow's CSV writer: formatting 20M rows with pandas
    would take longer than ranking them)."""

    def __init__(self, path: str | Path, extra: dict | None = None):
        super().__init__(path, extra)
        self._handle.write("\ufeff".encode())

    def _open(self, schema):
        import pyarrow.csv as pacsv

        return pacsv.CSVWriter(self._handle, schema, write_options=pacsv.WriteOptions(
            include_header=True, quoting_style="needed", eol="\r\n"))


class ParquetBlockWriter(BlockWriter):
    """Parquet (zstd): a registry's 20M rows in a fraction of the CSV's size, typed, for databases
    and analysis tools (Excel opens at most 1,048,576 rows)."""

    def _open(self, schema):
        import pyarrow.parquet as pq

        return pq.ParquetWriter(self._handle, schema, compression="zstd")


def block_writer(path: str | Path, extra: dict | None = None) -> BlockWriter:
    """The writer for ``path``'s type: ``.parquet``, else CSV."""
    return (ParquetBlockWriter if Path(path).suffix.lower() == ".parquet" else CsvBlockWriter)(path, extra)


def output_columns() -> list[str]:
    fwc = [f"{p}_{f}" for f in FEATURES for p in ("f", "w", "c")]
    return [*SUGGESTION_COLUMNS, *fwc, *DETAIL_COLUMNS]


# --- the public job ----------------------------------------------------------------------

def candidate_report(n: int, candidates: int, neighbours: int, from_products: int = 0,
                     product_neighbours: int = DEFAULT_PRODUCT_NEIGHBOURS) -> pd.DataFrame:
    """One row per candidate source and their union, in the engine's report shape."""
    all_pairs = n * (n - 1)
    rows = [(f"chain_adjacent_nearest_{neighbours}", candidates - from_products),
            (f"similar_products_{product_neighbours} (not already nearest)", from_products),
            ("candidates (union)", candidates)]
    return pd.DataFrame([
        {"rule": rule, "pairs": pairs, "all_pairs": all_pairs, "reduction_ratio": 1.0 - pairs / max(all_pairs, 1),
         "universe": "all ordered pairs of enterprises"} for rule, pairs in rows])


def suggest_enterprises(
    dataset,
    top: int = 20,
    *,
    backend: str = "local",
    scheduler=None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    weights: dict[str, float] | None = None,
    preset: str | None = None,
    for_id: str | Iterable[str] | None = None,
    min_score: float | None = None,
    neighbours: int | None = None,
    product_neighbours: int | None = None,
    radius_km: float | None = None,
    out: str | Path | None = None,
    extra_columns: dict | None = None,
    progress: Callable[[str], None] | None = None,
    arrays: EnterpriseArrays | None = None,
) -> pd.DataFrame | dict:
    """Each enterprise's top ``top`` docking partners, ranked and explained, at registry scale.

    Parameters
    ----------
    dataset : matcher.ingest.dataset.Dataset
        Data with enterprises.
    top : int
        Partners per enterprise.
    backend : {"local", "dask"}
        Run the blocks in this process or on a Dask distributed cluster. ``scheduler`` given
        implies ``"dask"``.
    scheduler : str or distributed.Client, optional
        Scheduler address (``tcp://host:8786``) or a client; with ``backend="dask"`` and no
        scheduler the current default client is used.
    block_size : int
        Focal enterprises per block: bounds memory (about 2 KB x ``neighbours`` per enterprise).
    weights, preset
        Feature weights over the preset's (as ``DockingEngine.suggest``).
    for_id : str or list of str, optional
        Only these enterprises' lists.
    min_score : float, optional
        Drop pairs scoring below this before ranking.
    neighbours : int, optional
        Nearest chain-adjacent candidates per enterprise (default: the preset's ``neighbours``, 50).
    product_neighbours : int, optional
        Further candidates per enterprise with the most similar products, anywhere (default: the
        preset's ``product_neighbours``, 10; 0 turns this source off).
    radius_km : float, optional
        Only partners within this distance.
    out : path, optional
        Write a CSV (UTF-8 with BOM) or, for a ``.parquet`` path, Parquet, block by block, and
        return a summary dict instead of the rows.
        Rows come block by block (blocks are spatial tiles), ordered by enterprise id then rank
        within a block; the order depends only on the data, so it is the same on every backend.
    extra_columns : dict, optional
        Constant columns appended to every written row (e.g. ``run_id``, ``data_version``).
    progress : callable, optional
        ``progress(message)`` for long jobs.
    arrays : EnterpriseArrays, optional
        Arrays already prepared from ``dataset`` (skips preparation).

    Returns
    -------
    DataFrame or dict
        Without ``out``: the suggestions (``output_columns()``), ordered by enterprise id then rank.
        With ``out``: ``{"path", "rows", "enterprises", "candidates", "report", "seconds"}``.
    """
    from matcher.docking.scoring import check_kind, kind_params, merge_weights

    check_kind(KIND)
    started = time.perf_counter()
    say = progress or (lambda message: None)
    if top is None or int(top) < 1:
        raise MatcherError("--top must be at least 1")
    if block_size < 1:
        raise MatcherError("block size must be at least 1")
    if scheduler is not None:
        backend = "dask"
    if backend not in ("local", "dask"):
        raise MatcherError(f"unknown backend {backend!r}; use 'local' or 'dask'")
    params = kind_params(KIND)
    base = merge_weights(KIND, weights, preset)
    neighbours = int(params.get("neighbours", DEFAULT_NEIGHBOURS) if neighbours is None else neighbours)
    if neighbours < 1:
        raise MatcherError("neighbours (candidates per enterprise) must be at least 1")
    if product_neighbours is None:
        product_neighbours = params.get("product_neighbours", DEFAULT_PRODUCT_NEIGHBOURS)
    if int(product_neighbours) < 0:
        raise MatcherError("product neighbours (candidates by similar products) must be 0 or more")
    if radius_km is not None and not radius_km > 0:
        raise MatcherError(f"the radius must be a positive number of km, not {radius_km}")
    job = ScaleJob(top=int(top), weights=tuple(float(base.get(f, 0.0)) for f in FEATURES), neighbours=neighbours,
                   distance_scale_km=float(params["distance_scale_km"]), radius_km=radius_km, min_score=min_score,
                   product_neighbours=int(product_neighbours))
    if arrays is None:
        say(f"preparing {len(dataset.enterprises):,} enterprises (stages, product texts, k-d trees)")
        arrays = prepare_enterprises(dataset, similar=int(params.get("similar_texts", DEFAULT_SIMILAR_TEXTS)),
                                     min_similarity=float(params.get("min_text_similarity",
                                                                     DEFAULT_MIN_TEXT_SIMILARITY)))
    focal = np.arange(len(arrays), dtype=np.int64)
    if for_id is not None:
        wanted = [for_id] if isinstance(for_id, str) else list(for_id)
        pos = np.searchsorted(arrays.ids, np.asarray(wanted, dtype=object))
        bad = [w for w, p in zip(wanted, pos, strict=True) if p >= len(arrays) or arrays.ids[p] != w]
        if bad:
            raise MatcherError(f"no enterprise has the id {', '.join(map(repr, bad))}")
        focal = np.unique(pos)
    blocks = _blocks(focal, int(block_size), arrays.lat, arrays.lon)
    results = _local_results(arrays, blocks, job) if backend == "local" else _dask_results(
        arrays, blocks, job, scheduler)
    writer = block_writer(out, extra_columns) if out is not None else None
    kept, rows, done, candidates, from_products = [], 0, 0, 0, 0
    try:
        for n, result in enumerate(results, start=1):
            done += len(blocks[n - 1])
            rows += result.table.num_rows
            candidates += result.candidates
            from_products += result.from_products
            if writer is not None:
                writer.write(result.table)
            else:
                kept.append(result.table)
            if n == len(blocks) or n % max(1, len(blocks) // 20) == 0:
                say(f"{backend}: {done:,} / {len(focal):,} enterprises ranked, {rows:,} suggestions")
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    report = candidate_report(len(arrays), candidates, neighbours, from_products, job.product_neighbours)
    if writer is None:
        import pyarrow as pa

        frame = pa.concat_tables(kept).to_pandas() if kept else pd.DataFrame(columns=output_columns())
        # blocks are spatial tiles: put the rows back in enterprise id order (ids are unique, so stable)
        frame = frame.sort_values(["left_id", "rank"], kind="stable", ignore_index=True)
        frame.attrs = {"candidates": candidates, "report": report}
        return frame
    return {
        "path": str(out), "rows": rows, "enterprises": len(focal), "candidates": candidates, "report": report,
        "seconds": time.perf_counter() - started,
    }


def count_candidates(A: EnterpriseArrays, neighbours: int, product_neighbours: int = DEFAULT_PRODUCT_NEIGHBOURS,
                     radius_km: float | None = None, focal: np.ndarray | None = None,
                     block_size: int = DEFAULT_BLOCK_SIZE) -> int:
    """Number of candidate pairs (at most len(focal) x (neighbours + product_neighbours))."""
    focal = np.arange(len(A)) if focal is None else focal
    total = 0
    for block in _blocks(focal, block_size):
        total += len(block_candidates(A, block, neighbours, product_neighbours, radius_km)[0])
    return total


# --- the engine's path (small data, the app) -------------------------------------------------

def enterprise_candidates(E: F.Entities, neighbours: int, product_neighbours: int = DEFAULT_PRODUCT_NEIGHBOURS,
                          similar: int = DEFAULT_SIMILAR_TEXTS,
                          min_similarity: float = DEFAULT_MIN_TEXT_SIMILARITY, min_need: float = DEFAULT_MIN_NEED
                          ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The same bounded candidates over prepared entities, as unordered pairs (li < ri).

    Every enterprise contributes at most ``neighbours`` nearest chain-adjacent enterprises and
    ``product_neighbours`` with similar products (the scale path's rules, with ties in id order), so
    there are at most N x (``neighbours`` + ``product_neighbours``) pairs.
    """
    ent = np.flatnonzero(E.table["entity_type"].to_numpy() == "enterprise")
    trees = stage_trees(E.stages, E.need, E.lat, E.lon, ent, min_need)
    near = candidate_pairs(E.stages, E.need, E.lat, E.lon, trees, ent, neighbours)
    # the scale path's text ids and TF-IDF rows (same corpus, so the same values); ties in id order
    corpus = E.table["products"].fillna("").astype(str) + " " + E.table["designations"].fillna("").astype(str)
    text_id, texts = text_features_distinct(corpus, len(E.table))
    tie = np.zeros(len(E.table), dtype=np.int64)
    tie[ent] = np.argsort(np.argsort(E.table["id"].astype(str).to_numpy()[ent], kind="stable"), kind="stable")
    index = product_index(E.stages, E.need, text_id, texts, E.lat, E.lon, ent, tie, similar, min_similarity,
                          min_need)
    by_product = product_candidates(E.stages, E.need, text_id, E.lat, E.lon, index, ent, product_neighbours,
                                    tie=tie)
    f, p, _, _ = union_candidates(near, by_product, len(E.table))
    lo, hi = np.minimum(f, p), np.maximum(f, p)
    pairs = np.unique(np.c_[lo, hi], axis=0) if len(lo) else np.zeros((0, 2), dtype=np.int64)
    n_ent = len(ent)
    report = pd.DataFrame([{
        "rule": f"chain_adjacent_nearest_{neighbours} + similar_products_{product_neighbours}",
        "pairs": len(pairs), "all_pairs": _n_unordered(n_ent), "universe": "all pairs of enterprises",
    }])
    report["reduction_ratio"] = 1.0 - report["pairs"] / max(_n_unordered(n_ent), 1)
    return pairs[:, 0], pairs[:, 1], report


def enterprise_feature_columns(E: F.Entities, li: np.ndarray, ri: np.ndarray, distance_scale_km: float) -> dict:
    """The enterprise kind's features (and detail columns) for given pairs of ``Entities`` rows."""
    from matcher.docking.kinds import _chain_columns

    km = F.distance_km(E, li, ri)
    cluster = E.table["cluster_id"].astype(object).to_numpy()
    same = np.array([(a == b) if isinstance(a, str) and isinstance(b, str) else np.nan
                     for a, b in zip(cluster[li], cluster[ri], strict=True)], dtype=np.float32)
    return {
        **_chain_columns(E, li, ri), "product": F.saturate(F.product_similarity(E, li, ri)),
        "distance": F.distance_decay(km, distance_scale_km),
        "capacity": F.capacity_fit(E, li, ri), "same_cluster": same, "d_km": km,
    }


def enterprise_pair_features(E: F.Entities, params: dict):
    """Candidate pairs and features of the ``enterprise`` kind (a ``kinds.PairFeatures``)."""
    from matcher.docking.kinds import _frame

    if not (E.table["entity_type"] == "enterprise").any():
        raise MatcherError(
            "this dataset has no enterprises: load a dataset with enterprises.csv "
            "(for a synthetic one: python -m matcher synth --enterprises 10000 --seed 1 --out DIR)"
        )
    li, ri, report = enterprise_candidates(
        E, int(params.get("neighbours", DEFAULT_NEIGHBOURS)),
        int(params.get("product_neighbours", DEFAULT_PRODUCT_NEIGHBOURS)),
        int(params.get("similar_texts", DEFAULT_SIMILAR_TEXTS)),
        float(params.get("min_text_similarity", DEFAULT_MIN_TEXT_SIMILARITY)))
    columns = enterprise_feature_columns(E, li, ri, params["distance_scale_km"])
    return _frame("enterprise", E, li, ri, columns, report)
