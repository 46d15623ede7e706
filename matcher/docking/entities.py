"""Entities: the clusters, markets or enterprises one docking kind pairs, as arrays every stage reads.

``prepare`` stacks the rows of the wanted entity types in id order (so a row's position orders ties
exactly as its id does), and precomputes what features and candidate rules need: one-hot stages and
declared purchases, input needs from the input-output strengths, product TF-IDF over *distinct*
texts (registries repeat them a lot), coordinates, capacities, flags and the cluster of each firm.
Built once per dataset and kind family, picklable (a Dask backend broadcasts it to its workers).

>>> from matcher.ingest.dataset import load_dataset
>>> E = prepare(load_dataset(), ("cluster", "market"))
>>> len(E) == len(E.table) and list(E.ids) == sorted(E.ids)
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

from matcher.docking.chain import input_needs, stage_matrix, stage_strength
from matcher.docking.provinces import ProvinceFacts, province_facts
from matcher.exceptions import MatcherError
from matcher.vocab import CLUSTER, ENTERPRISE, FLAGS, MARKET

if TYPE_CHECKING:
    from matcher.ingest.dataset import Dataset

ENTITY_COLUMNS = [
    "id", "entity_type", "name_zh", "name_en", "province", "city", "region", "lat", "lon", "stages", "buys",
    "roles", "products", "designations", "capacity", "cluster_id", *FLAGS,
]
#: Text columns carried into every suggestion row (as pyarrow arrays, taken by position).
OUTPUT_TEXT_COLUMNS = ("id", "name_zh", "name_en", "region", "province", "entity_type")


@dataclass
class ChainProfiles:
    """Distinct (stages, buys) rows: chain values depend on nothing else, so they are computed
    once per distinct pair of profiles (``features.supply`` reads these attribute names)."""

    stages: np.ndarray
    buys: np.ndarray
    need: np.ndarray
    strength: np.ndarray


@dataclass
class Entities:
    """Rows of one or more entity types in id order, with their arrays precomputed.

    Attributes
    ----------
    table : DataFrame
        One row per entity, columns ``ENTITY_COLUMNS``; row position is the entity's index.
    stages, buys, need : ndarray (n, n_stages)
        Stages worked in (one-hot), stages declared bought (one-hot), input needs (0..1).
    strength : ndarray (n_stages, n_stages)
        IO supply strength between stages, max 1.
    text_id, texts
        Each row's distinct product text and the L2-normalised TF-IDF rows of the distinct texts
        (words and character n-grams; document frequencies over every entity of the dataset).
    profile, profiles
        Each row's distinct chain profile and the profiles' own arrays.
    provinces, province
        The province facts behind the transfer motives and each row's province code into them.
    dockings : DataFrame
        Documented dockings between rows (``li``, ``ri`` positions and ``item``, the source page or
        event): the entities' docking experience.
    indexes : dict
        Search structures built by candidate rules (k-d trees, the similar-products index).
    """

    table: pd.DataFrame
    ids: np.ndarray
    stages: np.ndarray
    buys: np.ndarray
    need: np.ndarray
    strength: np.ndarray
    text_id: np.ndarray
    texts: sparse.csr_matrix
    lat: np.ndarray
    lon: np.ndarray
    capacity: np.ndarray
    cluster: np.ndarray
    profile: np.ndarray
    profiles: ChainProfiles
    policies: pd.DataFrame
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    provinces: ProvinceFacts | None = None
    province: np.ndarray | None = None
    dockings: pd.DataFrame | None = None
    indexes: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def index(self) -> dict[str, int]:
        """Id -> row position."""
        return {i: n for n, i in enumerate(self.ids)}

    def positions(self, ids: Iterable[str], what: str = "entity") -> np.ndarray:
        """Row positions of ``ids``; an unknown id is a planner-readable error."""
        wanted = [str(i) for i in ids]
        pos = np.searchsorted(self.ids, np.asarray(wanted, dtype=object)) if wanted else np.zeros(0, np.int64)
        bad = [w for w, p in zip(wanted, pos, strict=True) if p >= len(self) or self.ids[p] != w]
        if bad:
            raise MatcherError(f"no {what} has the id {', '.join(map(repr, bad))}")
        return pos.astype(np.int64)

    def of_type(self, entity_type: str) -> np.ndarray:
        return np.flatnonzero(self.table["entity_type"].to_numpy() == entity_type)

    @cached_property
    def arrow(self) -> dict:
        """``OUTPUT_TEXT_COLUMNS`` as pyarrow string arrays, for building output rows by position."""
        import pyarrow as pa

        def column(values: pd.Series) -> pa.Array:  # the table's own arrow buffers, no Python objects
            array = pa.array(values.astype("string"), from_pandas=True)
            array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
            return array.cast(pa.string())

        return {c: column(self.table[c]) for c in OUTPUT_TEXT_COLUMNS}

    def __getstate__(self) -> dict:
        """What a copy (e.g. on a Dask worker) carries: not the caches (``arrow``, ``index``), which
        are rebuilt where needed, and columns of text as Arrow strings (objects cross in a third of
        the time), given back as the same objects on arrival."""
        state = dict(self.__dict__)
        state.pop("arrow", None)
        state.pop("index", None)
        objects = [c for c in self.table.columns
                   if self.table[c].dtype == object and pd.api.types.infer_dtype(self.table[c], skipna=False) == "string"]
        if objects:
            state["table"] = self.table.astype(dict.fromkeys(objects, "string[pyarrow]"))
        state["_text_columns"] = objects
        return state

    def __setstate__(self, state: dict) -> None:
        objects = state.pop("_text_columns", [])
        if objects:
            table = state["table"]
            for c in objects:  # every value was text (no gaps): the same Python strings again
                table[c] = table[c].astype(object)
        self.__dict__.update(state)


def _factorized(column: pd.Series, build: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """Apply a per-cell builder to the distinct values only."""
    codes, uniques = pd.factorize(column.fillna("").astype(str), sort=False)
    return build(pd.Series(uniques, dtype=object))[codes]


def _flag_array(series: pd.Series) -> np.ndarray:
    """Nullable booleans as floats: 1 yes, 0 no, NaN unknown."""
    values = pd.array(series, dtype="boolean")
    out = np.full(len(values), np.nan, dtype=np.float32)
    known = ~values.isna()
    out[np.asarray(known)] = np.asarray(values[known], dtype=np.float32)
    return out


def _weighted_tfidf(docs: pd.Series, counts: np.ndarray, n_docs: int, **vectorizer) -> sparse.csr_matrix:
    """TF-IDF rows of distinct documents, with document frequencies counted over all ``n_docs``
    (``TfidfVectorizer(sublinear_tf=True, smooth_idf=True)`` on the corpus with its duplicates, at
    the cost of the distinct documents only)."""
    tf = CountVectorizer(dtype=np.float32, **vectorizer).fit_transform(docs).tocsr()
    present = tf.copy()
    present.data[:] = 1
    df = np.asarray(present.T @ counts.astype(np.float64)).ravel()
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    tf.data = np.log(tf.data) + 1.0
    return normalize(tf @ sparse.diags(idf.astype(np.float32))).astype(np.float32).tocsr()


def text_features(texts: pd.Series, n_focus: int) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Product TF-IDF of words (English) and character 2-3-grams (Chinese and English), over distinct texts.

    Character n-grams make Chinese work without a segmenter; words keep English precise.
    ``texts`` is the whole corpus (the rows first, then other entities, which weigh in the document
    frequencies). Returns each of the first ``n_focus`` rows' text id and the L2-normalised rows of
    the distinct texts, whose ids follow string order (the same ids whatever the row order).
    """
    texts = texts.fillna("").astype(str).str.lower()
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


def _chain_profiles(stages: np.ndarray, buys: np.ndarray, need: np.ndarray, strength: np.ndarray):
    both = np.c_[stages, buys].astype(np.uint8)
    packed = both @ (1 << np.arange(both.shape[1], dtype=np.int64))
    _, first, code = np.unique(packed, return_index=True, return_inverse=True)
    return code.ravel().astype(np.int32), ChainProfiles(stages[first], buys[first], need[first], strength)


def stack_entities(dataset: Dataset, types: Iterable[str]) -> pd.DataFrame:
    """Entities of ``types`` in one table (``ENTITY_COLUMNS``, with ``entity_type``), in id order."""
    table = dataset.entities(types, ENTITY_COLUMNS)
    table["entity_type"] = table["entity_type"].astype(object)
    table["id"] = table["id"].astype(str).astype(object)
    order = np.argsort(table["id"].to_numpy(dtype=object), kind="stable")
    return table.iloc[order].reset_index(drop=True)[ENTITY_COLUMNS]


def _corpus(table: pd.DataFrame) -> pd.Series:
    return table["products"].fillna("").astype(str) + " " + table["designations"].fillna("").astype(str)


def prepare(dataset: Dataset, types: Iterable[str]) -> Entities:
    """The ``Entities`` of ``types`` (e.g. ``("cluster", "market")`` or ``("enterprise",)``).

    Product document frequencies count the rows and, when they are other types, every cluster and
    market too (a registry's vocabulary is read against the bundled places).

    Raises
    ------
    MatcherError
        None of the wanted types has a row (e.g. a dataset without enterprises).
    """
    types = tuple(types)
    rows = {CLUSTER: len(dataset.clusters), MARKET: len(dataset.markets), ENTERPRISE: len(dataset.enterprises)}
    if not any(rows[t] for t in types):
        if ENTERPRISE in types:
            raise MatcherError(
                "this dataset has no enterprises: load a dataset with enterprises.csv "
                "(for a synthetic one: python -m matcher synth --enterprises 10000 --seed 1 --out DIR)")
        raise MatcherError(f"this dataset has no {' or '.join(types)} rows")
    table = stack_entities(dataset, types)
    strength = stage_strength(dataset.chain_links)
    stages = _factorized(table["stages"], stage_matrix)
    buys = _factorized(table["buys"], stage_matrix)
    need = input_needs(stages, buys, strength)
    others = [t for t in (CLUSTER, MARKET) if t not in types]
    corpus = pd.concat([_corpus(table), *(_corpus(stack_entities(dataset, [t])) for t in others)], ignore_index=True)
    text_id, texts = text_features(corpus, len(table))
    cluster = table["cluster_id"].astype(object)
    cluster_codes, _ = pd.factorize(cluster.where(cluster.notna(), None))
    profile, profiles = _chain_profiles(stages, buys, need, strength)
    return Entities(
        table=table,
        ids=table["id"].to_numpy(dtype=object),
        stages=stages,
        buys=buys,
        need=need,
        strength=strength,
        text_id=text_id,
        texts=texts,
        lat=pd.to_numeric(table["lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        lon=pd.to_numeric(table["lon"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        capacity=pd.to_numeric(table["capacity"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
        cluster=cluster_codes.astype(np.int32),
        profile=profile,
        profiles=profiles,
        policies=dataset.policies,
        flags={f: _flag_array(table[f]) for f in FLAGS},
        provinces=(facts := province_facts(dataset.provinces)),
        province=facts.code(table["province"].fillna("").astype(str)),
        dockings=_docking_rows(dataset.dockings, table["id"].to_numpy(dtype=object), dataset.regional_dockings,
                               table),
    )


def place_members(table: pd.DataFrame, name: str) -> np.ndarray:
    """Rows of ``table`` whose town or city a place name names: an English name as a whole word of the
    English name or city ("Wuxi" is Jiangyin (Wuxi), not Zhili (Wuxing)), a Chinese name as part of the
    Chinese name (石狮 is every Shishi cluster)."""
    if re.search(r"[\u3400-\u9fff]", name):
        return table["name_zh"].fillna("").astype(str).str.contains(name, regex=False).to_numpy(dtype=bool)
    place = table["name_en"].fillna("").astype(str) + " " + table["city"].fillna("").astype(str)
    return place.str.contains(rf"\b{re.escape(name)}\b", regex=True).to_numpy(dtype=bool)


def split_names(cell: object) -> list[str]:
    """The names of a ``;``-joined cell (full-width ``；`` too), stripped, without empty ones."""
    return [p.strip() for p in re.split(r"[;；]", "" if pd.isna(cell) else str(cell)) if p.strip()]


def region_provinces(table: pd.DataFrame, provinces: object, places: object) -> str:
    """The provinces (English, ``;``-joined, sorted) a documented docking's partner region covers: the
    provinces named (English or Chinese) and the provinces of the places named; names that are neither
    are left out (the regional evaluation reports them)."""
    from matcher.ingest.validate import province_name

    found = {province_name(p) for p in split_names(provinces)} - {None}
    for name in split_names(places):
        found |= set(table.loc[place_members(table, name), "province"].dropna().astype(str))
    return ";".join(sorted(found))


def _docking_rows(dockings: pd.DataFrame, ids: np.ndarray, regional: pd.DataFrame | None = None,
                  table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Documented dockings whose two ids are both rows here, as positions (``li``, ``ri``) and item, then
    the documented dockings whose partner is named only by region whose query is a row here (``li``,
    ``ri`` = -1: no partner row, the row's ``date``, NaT when it has none, and ``provinces``, the
    provinces its region covers, ``region_provinces``)."""
    index = pd.Index(ids)  # unique ids; a hash lookup of the few documented dockings, not a 1M-key dict

    def position(frame: pd.DataFrame, column: str) -> pd.Series:
        found = index.get_indexer(frame[column].astype(str).str.strip().to_numpy(dtype=object))
        return pd.Series(np.where(found >= 0, found, np.nan), index=frame.index)

    def items(frame: pd.DataFrame, prefix: str) -> pd.Series:
        item = frame["item"].fillna("").astype(str) if "item" in frame.columns else pd.Series("", index=frame.index)
        return item.where(item != "", prefix + frame.index.astype(str))  # no item: each row its own evidence

    parts = [pd.DataFrame({"li": np.zeros(0, np.int64), "ri": np.zeros(0, np.int64), "item": []})]
    if dockings is not None and not dockings.empty:
        left, right = position(dockings, "left"), position(dockings, "right")
        item = items(dockings, "row ")
        both = left.notna() & right.notna()
        parts.append(pd.DataFrame({"li": left[both].astype(np.int64).to_numpy(),
                                   "ri": right[both].astype(np.int64).to_numpy(), "item": item[both].to_numpy(dtype=object)}))
    if regional is not None and not regional.empty and "query" in regional.columns:
        query = position(regional, "query")
        item = items(regional, "regional row ")
        found = query.notna()
        dates = regional["date"] if "date" in regional.columns else pd.Series("", index=regional.index)
        dates = pd.to_datetime(dates.fillna("").astype(str).str.strip(), errors="coerce", format="mixed")
        cover = [region_provinces(table, record.get("partner_provinces"), record.get("partner_places"))
                 if table is not None else "" for _, record in regional[found].iterrows()]
        parts.append(pd.DataFrame({"li": query[found].astype(np.int64).to_numpy(), "ri": np.full(int(found.sum()), -1),
                                   "item": item[found].to_numpy(dtype=object), "date": dates[found].to_numpy(),
                                   "provinces": np.array(cover, dtype=object)}))
    return pd.concat(parts, ignore_index=True)
