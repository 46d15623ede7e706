"""Search structures for candidate rules that must not look at all N^2 pairs (registries of 10^6 firms).

- *Nearest chain-adjacent partners*: per stage one k-d tree of the entities that work in it and one
  of those that need it; an entity queries only the trees of its stages and needs and keeps the
  ``neighbours`` nearest of the merged answers (great-circle order, ties by position = id order).
- *Similar products, anywhere*: each distinct product text gets its most similar texts once (sparse
  TF-IDF products in chunks); an entity then looks, in each (stage role, similar text) group it asks
  for, at the ``2 x WINDOW`` members around its place in the group's spatial (Z-order) sequence, and
  keeps the best by similarity, then distance. Entities without a place take part (distance unknown).

So candidates never exceed N x (``neighbours`` + ``product_neighbours``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from matcher.docking.geo import EARTH_RADIUS_KM, haversine_km
from matcher.docking.ranking import rank_within
from matcher.exceptions import MatcherError

#: Threads for k-d tree queries (-1 = every core of the machine or Dask worker running the block).
QUERY_WORKERS = -1
#: Members taken on each side of an entity's place in a group's spatial (Z-order) sequence.
WINDOW = 2
#: Terms held by more distinct texts than this do not propose similar texts: their pairs would grow
#: with the square of the number of texts (texts sharing only such terms are rarely similar).
MAX_TERM_TEXTS = 1000


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere: chord order = great-circle order, and k-d trees are fast."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.c_[np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]


def stage_trees(stages: np.ndarray, need: np.ndarray, lat: np.ndarray, lon: np.ndarray, pool: np.ndarray, min_need: float) -> dict:
    """Per stage, a k-d tree of the pool members that work in it and one of those that need it.

    Trees keep their nodes' full split boxes (``compact_nodes=False``) and split at the box's middle
    (``balanced_tree=False``): firms sit in dense clusters, and a firm whose partners are far away
    then prunes a remote cluster's nodes at once; with boxes shrunk to the data a query spent up to
    ten times longer there (same answers).
    """
    pool = pool[~np.isnan(lat[pool]) & ~np.isnan(lon[pool])]
    xyz = _unit_vectors(lat[pool], lon[pool])
    trees = {"min_need": min_need}
    for s in range(stages.shape[1]):
        for role, mask in (("works", stages[pool, s] > 0), ("needs", need[pool, s] >= min_need)):
            members = pool[mask]
            tree = cKDTree(xyz[mask], compact_nodes=False, balanced_tree=False) if len(members) else None
            trees[role, s] = (members, tree)
    return trees


def candidate_pairs(stages: np.ndarray, need: np.ndarray, lat: np.ndarray, lon: np.ndarray, trees: dict, focal: np.ndarray, neighbours: int,
                    radius_km: float | None = None, workers: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each focal entity's ``neighbours`` nearest chain-adjacent partners (ties by position); the
    k-d tree queries run on ``workers`` threads (default ``QUERY_WORKERS``).

    Returns ``(focal, partner, km)`` sorted by focal, then distance, then partner (distance order is
    the order of chord lengths between unit vectors, i.e. great-circle order); at most
    ``neighbours`` rows per focal entity, whatever its number of stages.
    """
    min_need = trees["min_need"]
    workers = QUERY_WORKERS if workers is None else workers
    focal = focal[~np.isnan(lat[focal]) & ~np.isnan(lon[focal])]
    empty = np.zeros(0, dtype=np.int64)
    if len(focal) == 0:
        return empty, empty, np.zeros(0, dtype=np.float64)
    # query in spatial order (0.1 degree cells): neighbouring queries walk the same tree nodes,
    # which keeps large trees in cache; the final sort restores focal order
    cell = np.floor(lat[focal] * 10) * 4000 + np.floor(lon[focal] * 10)
    focal = focal[np.argsort(cell, kind="stable")]
    xyz = _unit_vectors(lat[focal], lon[focal])
    limit = np.inf if radius_km is None else 2 * np.sin(min(radius_km / EARTH_RADIUS_KM, np.pi) / 2)
    # one int64 key (focal, distance, partner): a single sort instead of a slow lexsort.
    # Chord lengths come from the same unit vectors in every tree (equal pairs, equal keys) and are
    # quantised to the bits left: about 1.5 m on Earth when a block's focal positions span a 1M
    # registry; partners of one firm less than a step apart count as equally near (ties by position).
    # The step depends on that span, so two such partners may be ordered by position in one split
    # and by distance in another.
    base = int(focal.min())  # focal is in spatial order: min, not first
    bits_f = max(1, int(focal.max() - base).bit_length())
    bits_p = max(1, int(len(lat)).bit_length())
    bits_d = 63 - bits_f - bits_p
    if bits_d < 12:
        raise MatcherError("block too large for this many enterprises: use a smaller block size")
    scale = float((1 << bits_d) - 1)

    def keys(f: np.ndarray, p: np.ndarray, d: np.ndarray) -> np.ndarray:
        keep = (f != p) & (d <= limit)
        f, p, d = f[keep], p[keep], d[keep]
        dq = (np.minimum(d / 2.0, 1.0) * scale).astype(np.int64)
        return ((f - base) << (bits_d + bits_p)) | (dq << bits_p) | p

    def cut(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted unique keys, at most ``neighbours`` a focal, and their focal positions."""
        key.sort()  # the key holds focal and partner too: sorted in place, unpacked only where kept
        if len(key) > 1:
            first = np.empty(len(key), dtype=bool)
            first[0] = True
            np.not_equal(key[1:], key[:-1], out=first[1:])  # duplicates (found via two stages) are adjacent
            key = key[first]
        f = (key >> (bits_d + bits_p)) + base
        keep = rank_within(f) < neighbours
        return key[keep], f[keep]

    k_full = neighbours + 2  # +1: the focal itself may be in the tree; +1 more to see a tie at the cut

    def ask(members: np.ndarray, tree: cKDTree, rows: np.ndarray, k: int) -> list[np.ndarray]:
        """The keys of the ``k`` nearest members of the focal ``rows`` (and of members tied at the cut)."""
        chord, idx = tree.query(xyz[rows], k=k, workers=workers)
        chord, idx = np.asarray(chord).reshape(len(rows), k), np.asarray(idx).reshape(len(rows), k)
        out = [keys(np.repeat(focal[rows], k), members[idx].ravel(), chord.ravel())]
        if k < len(members):
            # the last two answers equally far: more members may be at that distance, and the tree
            # picks among them arbitrarily; add the others at exactly that distance (every member it
            # did not return is at least that far), so the cut goes by id
            tied = np.flatnonzero(chord[:, -1] == chord[:, -2])
            if len(tied):
                balls = tree.query_ball_point(xyz[rows[tied]], chord[tied, -1], workers=workers)
                for row, ball in zip(tied, balls, strict=True):
                    extra = np.setdiff1d(np.asarray(ball, dtype=np.int64), idx[row])
                    out.append(keys(np.full(len(extra), focal[rows[row]]), members[extra],
                                    np.full(len(extra), chord[row, -1])))
        return out

    found = []
    for s in range(stages.shape[1]):
        # partners that work in a stage the focal needs, and partners that need a focal's stage
        for asks, role in ((need[focal, s] >= min_need, "works"), (stages[focal, s] > 0, "needs")):
            members, tree = trees[role, s]
            if tree is not None and asks.any():
                found += ask(members, tree, np.flatnonzero(asks), min(k_full, len(members)))
    if not found:
        return empty, empty, np.zeros(0, dtype=np.float64)
    key, f = cut(np.concatenate(found))
    p = key & ((1 << bits_p) - 1)
    return f, p, haversine_km(lat[f], lon[f], lat[p], lon[p])


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
    keep = rank_within(a) < m
    a, b, value = a[keep], b[keep], value[keep]
    return np.searchsorted(a, np.arange(n + 1)), b, value


def product_index(stages: np.ndarray, need: np.ndarray, text_id: np.ndarray, texts: sparse.csr_matrix,
                  lat: np.ndarray, lon: np.ndarray, pool: np.ndarray, tie: np.ndarray,
                  similar: int, min_similarity: float, min_need: float) -> ProductIndex:
    """The ``ProductIndex`` of the ``pool`` entities (positions; ``tie``: their order among equals)."""
    n_texts = texts.shape[0]
    n_groups = 2 * stages.shape[1] * n_texts
    z_bits = min(24, (62 - max(1, int(n_groups).bit_length())) // 2)
    if z_bits < 4:
        raise MatcherError("too many distinct product texts for the product index")
    z = z_order(lat, lon, z_bits).astype(np.int64)
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


def product_candidates(stages: np.ndarray, need: np.ndarray, text_id: np.ndarray, lat: np.ndarray,
                       lon: np.ndarray, index: ProductIndex, focal: np.ndarray, k: int,
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
    km = haversine_km(lat[f], lon[f], lat[p], lon[p])
    if radius_km is not None:
        near = km <= radius_km
        f, p, cos, km = f[near], p[near], cos[near], km[near]
    order = np.lexsort((tie[p], np.nan_to_num(km, nan=np.inf), -cos, f))
    f, p, km = f[order], p[order], km[order]
    first = np.ones(len(f), dtype=bool)
    # the same partner through two groups: same cosine and distance, so the copies are adjacent
    first[1:] = (f[1:] != f[:-1]) | (p[1:] != p[:-1])
    f, p, km = f[first], p[first], km[first]
    keep = rank_within(f) < k
    return f[keep], p[keep], km[keep]


def z_order(lat: np.ndarray, lon: np.ndarray, bits: int = 16) -> np.ndarray:
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
