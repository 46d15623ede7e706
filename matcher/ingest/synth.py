"""Seeded synthetic enterprise registries placed in the real clusters.

Real enterprise registries of 10^5-10^6 firms are not public, so the engine's enterprise docking is
exercised on a generated one. :func:`write_synthetic_dataset` writes a complete data set folder:

- ``clusters.csv`` and ``markets.csv``: the bundled files copied byte for byte (the real facts stay
  real);
- ``enterprises.csv``: ``n`` generated enterprises, every row marked ``synthetic = true`` with
  provenance ``"synthetic, seed S, matcher synth vX"``.

How an enterprise is made (all draws come from one ``numpy.random.default_rng(seed)``, in a fixed
order, so the same seed gives byte-identical files):

1. **Cluster.** Each cluster gets a weight = number of its stages x 2 for "textile industry base
   cities" x a seeded lognormal factor; ``n`` is split over the clusters in proportion to the weights
   (largest remainder, ties by cluster order) and the enterprises are shuffled, so ids do not follow
   clusters. Location, province, city and region are the cluster's; lat/lon are the cluster's point
   moved by a seeded offset of about 3 km (clipped at 8 km).
2. **Stages.** One stage (80 %) or two (20 %), drawn without replacement from the cluster's own
   stages with weights: a base weight per stage (trading and machinery small) times a boost for
   the stages the cluster's ``products`` text names first (its specialty).
3. **Buys.** The upstream stages of its stages in ``chain_links.csv`` with strength >= 0.01,
   minus its own stages; empty (unknown) for a quarter of the enterprises.
4. **Products.** For each stage one item of a per-stage bilingual vocabulary (e.g.
   ``"denim fabric 牛仔布"``); items whose keywords occur in the cluster's products text are 8
   times as likely.
5. **Capacity** (tonnes of goods a year): lognormal around a median per main stage, empty for
   15 %. **Workers**: capacity / output per worker of the stage, with noise, empty for 20 %.

The shares, distribution parameters and per-stage vocabularies used above are data in
:mod:`matcher.ingest.synth_rules`; this module draws and writes.

Draws are made in blocks of :data:`BLOCK_ROWS` enterprises and each block is written as soon as
it is made, so memory stays bounded however large ``n`` is. numpy does not promise the same
random streams across its versions: byte-identity holds for one numpy version.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.columns import ENTERPRISES
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import BUNDLED_DATA, Dataset, load_dataset
from matcher.ingest.synth_rules import (
    BASE_CITY_FACTOR,
    CLUSTER_WEIGHT_SIGMA,
    JITTER_MAX_KM,
    JITTER_SD_KM,
    MIN_BUY_STRENGTH,
    P_BUYS_UNKNOWN,
    P_CAPACITY_UNKNOWN,
    P_SECOND_STAGE,
    P_WORKERS_UNKNOWN,
    PRODUCT_MATCH_BOOST,
    PRODUCTS,
    SPECIALTY_BOOST,
    STAGE_PROFILE,
    STAGE_WORDS,
)
from matcher.vocab import LIST_SEPARATOR, STAGE_ORDER, STAGES

#: Version of the generating rules; bump it whenever the same seed would give different rows.
SYNTH_VERSION = "1"

#: Enterprises drawn and written per block. A constant (not an option): the random stream is
#: consumed block by block, so changing it changes the output for a seed.
BLOCK_ROWS = 200_000

#: Files of a synthetic data set, in the order they are written.
OUTPUT_FILES = ("clusters.csv", "markets.csv", "enterprises.csv")

_STAGES = list(STAGES)  # chain order
_N_STAGES = len(_STAGES)
_NONE = _N_STAGES  # "no second stage" code


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`write_synthetic_dataset` wrote.

    Attributes
    ----------
    out : Path
        The data set folder.
    n_enterprises : int
        Enterprises written.
    seed : int
        The seed used.
    per_cluster : pandas.Series
        Enterprises per cluster id (every cluster, zeros included), in cluster order.
    seconds : float
        Wall time of the whole job.
    """

    out: Path
    n_enterprises: int
    seed: int
    per_cluster: pd.Series
    seconds: float


def provenance(seed: int) -> str:
    """The provenance text of every synthetic row.

    Examples
    --------
    >>> provenance(7)
    'synthetic, seed 7, matcher synth v1'
    """
    return f"synthetic, seed {seed}, matcher synth v{SYNTH_VERSION}"


def _short_name(name: str) -> str:
    """A cluster name without its parenthesised note: 'Keqiao (Shaoxing County)' -> 'Keqiao'."""
    short = re.sub(r"\s*[(（][^)）]*[)）]", "", name).strip()
    return short or name.strip()


def _stage_weights(clusters: pd.DataFrame) -> np.ndarray:
    """Weight of each (cluster, stage): base weight x specialty boost; 0 outside the cluster's stages.

    A stage's specialty score is the sum over the items of the cluster's products text (split at
    ``;`` and ``,``) that name it, of 1 / item position, scaled so the top stage gets ``SPECIALTY_BOOST``.
    """
    base = np.array([STAGE_PROFILE[s][0] for s in _STAGES])
    weights = np.zeros((len(clusters), _N_STAGES))
    words = {s: re.compile(STAGE_WORDS[s]) for s in _STAGES}
    for k, (stages, products) in enumerate(zip(clusters["stages"], clusters["products"], strict=True)):
        own = [STAGE_ORDER[s] for s in str(stages).split(LIST_SEPARATOR)]
        items = [] if pd.isna(products) else [i.lower() for i in re.split(r"[;,，；、]", str(products))]
        score = np.zeros(_N_STAGES)
        for pos, item in enumerate(items):
            for s in own:
                if words[_STAGES[s]].search(item):
                    score[s] += 1.0 / (pos + 1)
        if score.max() > 0:
            score = score / score.max()
        weights[k, own] = base[own] * (1.0 + SPECIALTY_BOOST * score[own])
    return weights


def _product_tables(clusters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative item probabilities per (cluster, stage), item offsets and the item texts."""
    width = max(len(items) for items in PRODUCTS.values())
    cumulative = np.ones((len(clusters), _N_STAGES, width))
    offsets = np.zeros(_N_STAGES, dtype=np.int64)
    texts: list[str] = []
    texts_lower = [("" if pd.isna(p) else str(p)).lower() for p in clusters["products"]]
    for s, stage in enumerate(_STAGES):
        items = PRODUCTS[stage]
        offsets[s] = len(texts)
        texts.extend(f"{en} {zh}" for en, zh, _ in items)
        patterns = [re.compile(kw) for _, _, kw in items]
        for k, text in enumerate(texts_lower):
            w = np.array([1.0 + PRODUCT_MATCH_BOOST * bool(p.search(text)) for p in patterns])
            cumulative[k, s, : len(items)] = np.cumsum(w) / w.sum()
            cumulative[k, s, len(items) - 1 :] = 1.0  # exact, so a draw below 1 always picks an item
    return cumulative, offsets, np.array(texts, dtype=object)


def _upstream(chain_links: pd.DataFrame) -> list[set[int]]:
    """For each stage, the stages that supply it with strength >= MIN_BUY_STRENGTH."""
    upstream: list[set[int]] = [set() for _ in _STAGES]
    strong = chain_links[chain_links["strength"].astype(float) >= MIN_BUY_STRENGTH]
    for supplier, buyer in zip(strong["supplier_stage"], strong["buyer_stage"], strict=True):
        upstream[STAGE_ORDER[str(buyer)]].add(STAGE_ORDER[str(supplier)])
    return upstream


def _combination_texts(upstream: list[set[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``stages`` and ``buys`` text of every (first, second) stage code, indexed first*(S+1)+second."""
    stages_text = np.empty(_N_STAGES * (_N_STAGES + 1), dtype=object)
    buys_text = np.empty_like(stages_text)
    for a in range(_N_STAGES):
        for b in range(_N_STAGES + 1):
            own = {a} if b == _NONE else {a, b}
            bought = set().union(*(upstream[s] for s in own)) - own
            code = a * (_N_STAGES + 1) + b
            stages_text[code] = LIST_SEPARATOR.join(_STAGES[s] for s in sorted(own))
            buys_text[code] = LIST_SEPARATOR.join(_STAGES[s] for s in sorted(bought))
    return stages_text, buys_text


def _cluster_weights(clusters: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Seeded weight of each cluster: its number of stages, x2 for base cities, x a lognormal factor.

    This is the first draw of the generator, so the split over clusters depends on the seed only.
    """
    n_stages = clusters["stages"].astype(str).str.count(LIST_SEPARATOR).to_numpy() + 1
    designations = clusters["designations"].astype("string").fillna("")
    base_city = designations.str.contains("base city|基地市", regex=True).to_numpy(dtype=bool)
    weight = n_stages * np.where(base_city, BASE_CITY_FACTOR, 1.0)
    return weight * rng.lognormal(0.0, CLUSTER_WEIGHT_SIGMA, len(clusters))


def allocate(n: int, weights: np.ndarray) -> np.ndarray:
    """Split ``n`` into whole counts proportional to ``weights`` (largest remainder, ties by order).

    Examples
    --------
    >>> allocate(10, np.array([1.0, 1.0, 1.0])).tolist()
    [4, 3, 3]
    """
    share = n * weights / weights.sum()
    counts = np.floor(share).astype(np.int64)
    left = n - int(counts.sum())
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:left]] += 1
    return counts


def csv_field(text: str) -> str:
    """One CSV cell as written (minimal quoting, like the csv module's default).

    Examples
    --------
    >>> csv_field("Jinxi (Fuzhou, JX)"), csv_field("spinning")
    ('"Jinxi (Fuzhou, JX)"', 'spinning')
    """
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


@lru_cache(maxsize=1)
def _fraction_texts() -> np.ndarray:
    """'00000' .. '99999': the five decimals of a coordinate, looked up instead of formatted."""
    return np.array([f"{i:05d}" for i in range(100_000)], dtype=object)


def _degrees_text(degrees: np.ndarray) -> np.ndarray:
    """Coordinates as text with five decimals (~1 m); '' where unknown.

    Formatting a million floats one by one is the slowest part of writing, so the value is
    rounded to 1e-5 degree units and assembled from looked-up integer and fraction parts.
    """
    known = np.isfinite(degrees)
    units = np.rint(np.where(known, degrees, 0.0) * 100_000).astype(np.int64)
    magnitude = np.abs(units)
    whole = np.array([str(i) for i in range(int(magnitude.max(initial=0)) // 100_000 + 1)], dtype=object)
    sign = np.where(units < 0, "-", "").astype(object)
    text = sign + whole[magnitude // 100_000] + "." + _fraction_texts()[magnitude % 100_000]
    text[~known] = ""
    return text


def _count_text(values: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    text = np.array(list(map(str, values.astype(np.int64).tolist())), dtype=object)
    text[unknown] = ""
    return text


def _quoted(values, fill: str = "") -> np.ndarray:
    """Per-cluster texts as CSV cells (missing -> ``fill``), as an object array for indexing."""
    return np.array([csv_field(fill if pd.isna(v) else str(v)) for v in values], dtype=object)


def header_line() -> str:
    """The first line of ``enterprises.csv``."""
    return ",".join(ENTERPRISES.names) + "\n"


def iter_enterprise_csv(
    n: int,
    seed: int,
    clusters: pd.DataFrame,
    chain_links: pd.DataFrame,
) -> Iterator[tuple[int, str]]:
    """Generate ``n`` synthetic enterprises block by block, as CSV text ready to write.

    Parameters
    ----------
    n : int
        Number of enterprises (>= 1).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same text.
    clusters : pandas.DataFrame
        Clusters as loaded by :func:`matcher.ingest.dataset.load_dataset` (canonical ``stages``, English
        province, ``region`` filled).
    chain_links : pandas.DataFrame
        ``supplier_stage, buyer_stage, strength``.

    Yields
    ------
    (int, str)
        Number of rows and their CSV lines (columns ``matcher.columns.ENTERPRISES.names``, no
        header, each line ending in a newline), at most :data:`BLOCK_ROWS` rows a block.
    """
    n, seed = _check_arguments(n, seed)
    rng = np.random.default_rng(seed)
    clusters = clusters.reset_index(drop=True)
    n_clusters = len(clusters)

    # 1. Enterprises per cluster and which cluster each enterprise is in (shuffled).
    counts = allocate(n, _cluster_weights(clusters, rng))
    cluster_of = rng.permutation(np.repeat(np.arange(n_clusters, dtype=np.int32), counts))
    # Serial number of each enterprise inside its cluster, in id order (1-based).
    order = np.argsort(cluster_of, kind="stable")
    starts = np.cumsum(counts) - counts
    serial = np.empty(n, dtype=np.int64)
    serial[order] = np.arange(n) - starts[cluster_of[order]] + 1
    del order

    # Lookup tables, built once; every text in them is already a CSV cell.
    with np.errstate(divide="ignore"):
        log_weight = np.log(_stage_weights(clusters))
    product_cum, product_offset, product_text = _product_tables(clusters)
    stages_text, buys_text = _combination_texts(_upstream(chain_links))
    names_zh = clusters["name_zh"].fillna(clusters["name_en"])
    names_en = clusters["name_en"].fillna(clusters["name_zh"])
    # Names are prefix + stage word + serial; a prefix with a comma or quote makes the cell quoted.
    prefix_zh = _quoted([_short_name(str(x)) for x in names_zh])
    prefix_en = _quoted([_short_name(str(x)) for x in names_en])
    close_zh = np.array(['"' if p.startswith('"') else "" for p in prefix_zh], dtype=object)
    close_en = np.array(['"' if p.startswith('"') else "" for p in prefix_en], dtype=object)
    prefix_zh = np.array([p[:-1] if c else p for p, c in zip(prefix_zh, close_zh, strict=True)], dtype=object)
    prefix_en = np.array([p[:-1] if c else p for p, c in zip(prefix_en, close_en, strict=True)], dtype=object)
    word_zh = np.array([STAGE_PROFILE[s][4] for s in _STAGES], dtype=object)
    word_en = np.array([" " + STAGE_PROFILE[s][5] + " " for s in _STAGES], dtype=object)
    serial_width = max(5, len(str(int(counts.max()))))
    serial_text = np.array([f"{i:0{serial_width}d}" for i in range(int(counts.max()) + 1)], dtype=object)
    id_width = max(7, len(str(n)))
    cap_median = np.log([STAGE_PROFILE[s][1] for s in _STAGES])
    cap_sigma = np.array([STAGE_PROFILE[s][2] for s in _STAGES])
    per_worker = np.array([STAGE_PROFILE[s][3] for s in _STAGES])
    lat0 = clusters["lat"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    lon0 = clusters["lon"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    cell_of = {name: _quoted(clusters[name]) for name in ("id", "province", "city", "region")}
    tail = ",true," + csv_field(provenance(seed))  # synthetic, provenance

    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        size = stop - start
        cl = cluster_of[start:stop]
        rows = np.arange(size)

        # 2. Stages: Gumbel top-2 = weighted draw without replacement from the cluster's stages.
        keys = log_weight[cl] + rng.gumbel(size=(size, _N_STAGES))
        first = keys.argmax(axis=1)
        keys[rows, first] = -np.inf
        second = keys.argmax(axis=1)
        has_second = (rng.random(size) < P_SECOND_STAGE) & np.isfinite(keys[rows, second])
        del keys
        second = np.where(has_second, second, _NONE)
        low, high = np.minimum(first, second), np.maximum(first, second)
        code = np.where(has_second, low * (_N_STAGES + 1) + high, first * (_N_STAGES + 1) + _NONE)

        # 3. Buys (some unknown).
        buys = buys_text[code]
        buys[rng.random(size) < P_BUYS_UNKNOWN] = ""

        # 4. Products: one item per stage, in chain order.
        u_first, u_second = rng.random(size), rng.random(size)
        item_first = (u_first[:, None] > product_cum[cl, first]).sum(axis=1)
        products = product_text[product_offset[first] + item_first]
        if has_second.any():
            sel = np.flatnonzero(has_second)
            item_second = (u_second[sel, None] > product_cum[cl[sel], second[sel]]).sum(axis=1)
            other = product_text[product_offset[second[sel]] + item_second]
            first_is_low = first[sel] < second[sel]
            products[sel] = np.where(first_is_low, products[sel] + "; " + other, other + "; " + products[sel])

        # 5. Location: the cluster's point moved a few km.
        offset_km = np.clip(rng.normal(0.0, JITTER_SD_KM, (size, 2)), -JITTER_MAX_KM, JITTER_MAX_KM)
        lat = lat0[cl] + offset_km[:, 0] / 111.0
        lon = lon0[cl] + offset_km[:, 1] / (111.0 * np.cos(np.radians(lat0[cl])))

        # 6. Capacity and workers by main stage (some unknown).
        capacity = np.maximum(
            1.0, np.round(np.exp(cap_median[first] + cap_sigma[first] * rng.standard_normal(size)))
        )
        capacity_unknown = rng.random(size) < P_CAPACITY_UNKNOWN
        workers = np.maximum(
            3.0, np.round(capacity / per_worker[first] * np.exp(0.35 * rng.standard_normal(size)))
        )
        workers_unknown = rng.random(size) < P_WORKERS_UNKNOWN

        number = serial_text[serial[start:stop]]
        columns = [
            [f"E{i:0{id_width}d}" for i in range(start + 1, stop + 1)],
            prefix_zh[cl] + word_zh[first] + number + close_zh[cl],
            prefix_en[cl] + word_en[first] + number + close_en[cl],
            cell_of["province"][cl],
            cell_of["city"][cl],
            cell_of["region"][cl],
            _degrees_text(lat),
            _degrees_text(lon),
            cell_of["id"][cl],
            stages_text[code],
            buys,
            products,
            _count_text(capacity, capacity_unknown),
            _count_text(workers, workers_unknown) + tail,
        ]
        columns = [c if isinstance(c, list) else c.tolist() for c in columns]
        yield size, "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"


def enterprise_counts(n: int, seed: int, clusters: pd.DataFrame) -> pd.Series:
    """Enterprises per cluster id that :func:`iter_enterprise_csv` makes for ``n`` and ``seed``."""
    n, seed = _check_arguments(n, seed)
    rng = np.random.default_rng(seed)
    counts = allocate(n, _cluster_weights(clusters, rng))
    return pd.Series(counts, index=pd.Index(clusters["id"].astype(str), name="cluster_id"))


def synthesize_enterprises(n: int, seed: int, dataset: Dataset | None = None) -> pd.DataFrame:
    """All ``n`` synthetic enterprises in one text table (for small ``n``; large runs use
    :func:`write_synthetic_dataset`, which writes block by block).

    Parameters
    ----------
    n, seed : int
        Number of enterprises and the seed.
    dataset : matcher.ingest.dataset.Dataset, optional
        Clusters and chain links to use (default: the bundled data).
    """
    if dataset is None:
        dataset = load_dataset()
    text = header_line() + "".join(
        block for _, block in iter_enterprise_csv(n, seed, dataset.clusters, dataset.chain_links)
    )
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _check_arguments(n: int, seed: int) -> tuple[int, int]:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise MatcherError(f"the number of enterprises must be a whole number of at least 1, not {n!r}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise MatcherError(f"the seed must be a whole number of 0 or more, not {seed!r}")
    return int(n), int(seed)


def _prepare_folder(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise MatcherError(f"{out} is a file, not a folder; give --out a folder to write the data set into")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise MatcherError(
            f"{out} already exists and is not empty; choose a new folder or add --force to replace "
            f"its {', '.join(OUTPUT_FILES)}"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MatcherError(f"cannot create the folder {out}: {err.strerror}") from err


def write_synthetic_dataset(
    out: str | Path,
    n: int,
    seed: int,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SynthSummary:
    """Write a data set folder with the bundled clusters and markets and ``n`` synthetic enterprises.

    Every file is first written under a temporary name in ``out`` and renamed only when all three
    are complete, so an interrupted run leaves no half-written ``*.csv``.

    Parameters
    ----------
    out : path-like
        Folder to write; created when missing. Must be empty unless ``force``.
    n : int
        Number of enterprises (>= 1).
    seed : int
        Seed (>= 0). The same seed gives byte-identical files.
    force : bool
        Replace the three files in a folder that is not empty (other files are left alone).
    progress : callable, optional
        Called as ``progress(written, n)`` after each block of enterprises.

    Returns
    -------
    SynthSummary

    Raises
    ------
    MatcherError
        Bad ``n`` or ``seed``, ``out`` is a file, not empty without ``force``, or cannot be written.
    """
    began = time.perf_counter()
    n, seed = _check_arguments(n, seed)
    out = Path(out)
    _prepare_folder(out, force)
    data = load_dataset()  # validated bundled clusters, markets and chain links
    temporary = {name: out / f".{name}.{os.getpid()}.tmp" for name in OUTPUT_FILES}
    try:
        for name in ("clusters.csv", "markets.csv"):
            shutil.copyfile(BUNDLED_DATA / name, temporary[name])
        written = 0
        with open(temporary["enterprises.csv"], "w", encoding="utf-8", newline="") as handle:
            handle.write(header_line())
            for rows, block in iter_enterprise_csv(n, seed, data.clusters, data.chain_links):
                handle.write(block)
                written += rows
                if progress is not None:
                    progress(written, n)
        for name in OUTPUT_FILES:
            os.replace(temporary[name], out / name)
    except OSError as err:
        raise MatcherError(f"cannot write the data set into {out}: {err.strerror or err}") from err
    finally:
        for path in temporary.values():
            path.unlink(missing_ok=True)
    return SynthSummary(
        out=out,
        n_enterprises=n,
        seed=seed,
        per_cluster=enterprise_counts(n, seed, data.clusters),
        seconds=time.perf_counter() - began,
    )
