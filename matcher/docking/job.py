"""One block of the pipeline: candidates -> features -> score -> top K -> explain -> output rows.

Every caller runs these two functions, whatever the backend (``matcher.docking.backends``):
``block_features`` (weight-independent, cached by the engine for interactive re-ranking) and
``rank_block`` (a scorer, the top-K rule, reasons and the output rows of the listed entities).
A block's rows depend only on its focal entities, so any split into blocks gives the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.docking import candidates as C
from matcher.docking import explain
from matcher.docking import features as F
from matcher.docking.kinds import get_kind
from matcher.docking.ranking import rank_within, top_k

if TYPE_CHECKING:
    import pyarrow as pa

    from matcher.docking.entities import Entities
    from matcher.docking.kinds import DockingKind
    from matcher.docking.scoring import Scorer

#: Leading columns of every suggestions table, in order; then f_/w_/c_ per feature, the kind's
#: details and, for kinds listed from both sides, ``side``.
SUGGESTION_COLUMNS = [
    "kind", "rank", "left_id", "right_id", "left_name_zh", "left_name_en", "right_name_zh", "right_name_en",
    "left_region", "right_region", "left_province", "right_province", "left_type", "right_type",
    "score", "reason_zh", "reason_en",
]
#: Detail columns that swap when a pair is seen from its right side.
SWAP = (("lr_chain", "rl_chain"), ("lr_from", "rl_from"), ("lr_to", "rl_to"))


#: The rendered reasons: text for people (CSV, Excel, JSON, the app); a Parquet file keeps only the
#: codes and numbers they are rendered from (:func:`matcher.docking.explain.render_reasons`).
REASON_COLUMNS = ("reason_zh", "reason_en")


def output_columns(kind: str | DockingKind, reasons: bool = True) -> list[str]:
    """A suggestions table's columns; without the reason texts when ``reasons`` is False (Parquet)."""
    kind = get_kind(kind)
    fwc = [f"{p}_{f}" for f in kind.features for p in ("f", "w", "c")]
    head = SUGGESTION_COLUMNS if reasons else [c for c in SUGGESTION_COLUMNS if c not in REASON_COLUMNS]
    return [*head, *fwc, *kind.details, *(["side"] if _has_side(kind) else [])]


def _has_side(kind: DockingKind) -> bool:
    """Kinds with a canonical orientation say which side of the pair the listing entity is."""
    return kind.pairing != "directed"


class Stages(dict):
    """Seconds spent per stage of the pipeline, added up over blocks: ``with stages("features"): ...``.
    A stage timed inside another counts for itself only (reasons inside rows). A block times
    candidates, features, scoring, top_k, rows and reasons; the engine adds prepare, writing and
    waiting_for_writer; ``suggest`` prints the split and the scale benchmark reports it."""

    def __init__(self) -> None:
        super().__init__()
        self._inner: list[float] = []  # per open stage, the seconds of the stages timed inside it

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            spent, inner = time.perf_counter() - started, self._inner.pop()
            self[name] = self.get(name, 0.0) + spent - inner
            if self._inner:
                self._inner[-1] += spent

    def add(self, other: dict[str, float]) -> None:
        for name, seconds in other.items():
            self[name] = self.get(name, 0.0) + seconds


@dataclass
class BlockFeatures:
    """A block's candidates and every feature and detail column of its canonical pairs."""

    candidates: C.CandidatePairs
    columns: dict[str, np.ndarray]
    X: pd.DataFrame


@dataclass(frozen=True)
class Job:
    """Settings of one run, sent with every block (small and picklable)."""

    kind: str
    top: int | None
    scorer: Scorer
    params: dict = field(default_factory=dict)
    min_score: float | None = None
    listed: np.ndarray | None = None
    reasons: bool = True  # render the reason texts (False for Parquet: codes and numbers only)


@dataclass
class BlockResult:
    """One block's output rows (an arrow table, cheap to ship from a worker) and its rule counts."""

    table: pa.Table
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)


def block_features(kind: str | DockingKind, E: Entities, focal: np.ndarray, params: dict, listed: np.ndarray | None = None,
                   stages: Stages | None = None) -> BlockFeatures:
    """Candidates of the focal entities and the features of those pairs only."""
    kind = get_kind(kind)
    stages = Stages() if stages is None else stages
    with stages("candidates"):
        cand = C.generate(kind, E, focal, params, listed)
    with stages("features"):
        columns = F.compute(E, cand, kind.features, params)
        frame = F.feature_frame(columns, kind.features)
    return BlockFeatures(cand, columns, frame)


def rank_block(kind: str | DockingKind, E: Entities, bf: BlockFeatures, scorer: Scorer, top: int | None, min_score: float | None = None,
               wanted: np.ndarray | None = None, stages: Stages | None = None, reasons: bool = True) -> pa.Table:
    """The listed rows of a block, ranked (score descending, partner id ascending) and explained.

    ``wanted`` (bool per entity) keeps only those entities' lists. Returns a pyarrow table with
    ``output_columns(kind, reasons)``, focal by focal, best first.
    """
    kind = get_kind(kind)
    stages = Stages() if stages is None else stages
    table = ranked_numbers(kind, E, bf, scorer, top, min_score, wanted, stages, reasons)
    with stages("rows"):
        return with_texts(kind, E, table)


def ranked_numbers(kind: str | DockingKind, E: Entities, bf: BlockFeatures, scorer: Scorer, top: int | None,
                   min_score: float | None = None, wanted: np.ndarray | None = None, stages: Stages | None = None,
                   reasons: bool = True, compact: bool = False) -> pa.Table:
    """The block's rows as positions, codes and numbers (``with_texts`` adds the names). ``compact``:
    in the fewest bytes (positions and ranks as 32-bit integers, a weight's column as one value), what
    a Dask worker sends back: a quarter of the bytes of the finished rows."""
    kind = get_kind(kind)
    stages = Stages() if stages is None else stages
    cand = bf.candidates
    with stages("scoring"):
        pair_score = np.asarray(scorer.predict(bf.X), dtype=np.float64)
    with stages("top_k"):
        pick = _pick(cand, pair_score, top, min_score, wanted)
    with stages("rows"):
        return _numbers(kind, bf, scorer, pick, stages, reasons, compact)


def _pick(cand: C.CandidatePairs, pair_score: np.ndarray, top: int | None, min_score: float | None,
          wanted: np.ndarray | None) -> np.ndarray:
    """Rows of the candidate table kept: each focal entity's best ``top`` (all when None)."""
    focal, partner = cand.focal, cand.partner
    rows = np.arange(len(focal))
    if wanted is not None:
        rows = rows[wanted[focal]]
    if min_score is not None:
        rows = rows[pair_score[cand.row_pair[rows]] >= min_score]
    if top is None:
        pick = rows[np.lexsort((partner[rows], -pair_score[cand.row_pair[rows]], focal[rows]))]
    else:
        pick = rows[top_k(focal[rows], partner[rows], pair_score[cand.row_pair[rows]], int(top))]
    return pick


#: Columns of a block in numbers (``ranked_numbers``) that ``with_texts`` replaces: the two entities'
#: row positions and which side of the pair the listing entity is.
FOCAL, PARTNER, RIGHT = "_focal", "_partner", "_right"
#: Stage names by code; a detail's code -1 (no stage) is the last, "".
_STAGE_NAMES = (*F.STAGE_NAMES, "")


def _numbers(kind: DockingKind, bf: BlockFeatures, scorer: Scorer, pick: np.ndarray, stages: Stages,
             texts: bool = True, compact: bool = False) -> pa.Table:
    import pyarrow as pa

    cand = bf.candidates
    pair = cand.row_pair[pick]
    right = cand.row_side[pick] == 1
    f, p = cand.focal[pick], cand.partner[pick]
    explained = scorer.explain(bf.X.iloc[pair].reset_index(drop=True))
    cols: dict[str, np.ndarray] = {c: explained[c].to_numpy() for c in explained.columns}
    for c in kind.details:
        cols[c] = np.asarray(bf.columns[c])[pair]
    for a, b in SWAP:
        if a in cols and b in cols:
            va, vb = cols[a], cols[b]
            cols[a], cols[b] = np.where(right, vb, va), np.where(right, va, vb)
    small = np.int32 if compact and (len(f) == 0 or max(int(f.max()), int(p.max())) < 2**31) else np.int64
    out = {FOCAL: pa.array(f.astype(small, copy=False)), PARTNER: pa.array(p.astype(small, copy=False)),
           "rank": pa.array((rank_within(f) + 1).astype(small, copy=False)), "score": pa.array(cols["score"], pa.float64())}
    if texts:
        with stages("reasons"):
            out["reason_zh"], out["reason_en"] = explain.reasons(cols, list(kind.features), arrow=True)
    for name in kind.features:
        for prefix in ("f", "w", "c"):
            values = np.asarray(cols[f"{prefix}_{name}"], dtype=np.float64)
            out[f"{prefix}_{name}"] = _compact(values) if compact else pa.array(values)
    for c in kind.details:
        values = cols[c]
        if c in explain.STAGE_COLUMNS:  # a code into _STAGE_NAMES, named by with_texts
            code = np.asarray(values, dtype=np.int64)
            out[c] = pa.array(np.where(code < 0, len(_STAGE_NAMES) - 1, code).astype(np.int8))
        else:
            out[c] = pa.array(values, pa.string() if values.dtype == object else None)
    for c in explained.columns:  # a learned scorer's intercept (f_/w_/c_baseline) after the details
        if c not in out and c != "score":
            out[c] = pa.array(np.asarray(cols[c], dtype=np.float64))
    if _has_side(kind):
        out[RIGHT] = pa.array(right)
    return pa.table(out)


def _compact(values: np.ndarray) -> pa.Array:
    """A float64 column in fewer bytes, the same values: one value throughout (a weight) as a
    dictionary of that value (a byte a row); values float32 holds exactly (features are float32) as
    float32; else as it is. ``with_texts`` gives float64 back."""
    import pyarrow as pa

    if len(values) > 1 and values[0] == values[-1] and np.all(values == values[0]):  # NaN never equal
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(values), np.int8)), pa.array(values[:1]))
    narrow = values.astype(np.float32)
    same = (narrow == values) | (np.isnan(values) & np.isnan(narrow))
    return pa.array(narrow) if same.all() else pa.array(values)


def with_texts(kind: str | DockingKind, E: Entities, numbers: pa.Table) -> pa.Table:
    """A block's rows in numbers (``ranked_numbers``) as output rows: ids, names, regions, provinces
    and types taken by position from ``E``, stage names for codes, in ``output_columns`` order."""
    import pyarrow as pa

    kind = get_kind(kind)
    # compact positions and ranks are 32-bit: widened (a cast to the same type costs nothing)
    left, partner = numbers[FOCAL].combine_chunks().cast(pa.int64()), numbers[PARTNER].combine_chunks().cast(pa.int64())
    text = E.arrow
    out = {
        "kind": pa.repeat(pa.scalar(kind.name, pa.string()), numbers.num_rows),
        "rank": numbers["rank"].cast(pa.int64()),
        "left_id": text["id"].take(left), "right_id": text["id"].take(partner),
        "left_name_zh": text["name_zh"].take(left), "left_name_en": text["name_en"].take(left),
        "right_name_zh": text["name_zh"].take(partner), "right_name_en": text["name_en"].take(partner),
        "left_region": text["region"].take(left), "right_region": text["region"].take(partner),
        "left_province": text["province"].take(left), "right_province": text["province"].take(partner),
        "left_type": text["entity_type"].take(left), "right_type": text["entity_type"].take(partner),
    }
    stage_names = pa.array(_STAGE_NAMES, pa.string())
    for c in numbers.column_names:
        if c in (FOCAL, PARTNER, RIGHT, "rank"):
            continue
        column = numbers[c]
        if c in explain.STAGE_COLUMNS:
            column = stage_names.take(column.combine_chunks())
        elif pa.types.is_dictionary(column.type):  # compact: a weight, one value throughout
            column = column.combine_chunks().dictionary_decode()
        elif pa.types.is_float32(column.type) and c[:2] in ("f_", "w_", "c_"):  # compact: float32 held exactly
            column = column.cast(pa.float64())
        out[c] = column
    if RIGHT in numbers.column_names:
        out["side"] = pa.array(["left", "right"], pa.string()).take(numbers[RIGHT].combine_chunks().cast(pa.int8()))
    return pa.table(out)


def run_block(E: Entities, focal: np.ndarray, job: Job, texts: bool = True) -> BlockResult:
    """The whole pipeline for one block of focal entities (what every backend runs). With ``texts``
    False the rows stay in numbers (``ranked_numbers``): a Dask worker's answer, finished by
    ``finish_block`` where the rows are written."""
    stages = Stages()
    bf = block_features(job.kind, E, np.asarray(focal, dtype=np.int64), job.params, job.listed, stages)
    table = ranked_numbers(job.kind, E, bf, job.scorer, job.top, job.min_score, stages=stages, reasons=job.reasons,
                           compact=not texts)
    result = BlockResult(table, bf.candidates.counts, dict(stages))
    return finish_block(E, job, result) if texts else result


def finish_block(E: Entities, job: Job, result: BlockResult) -> BlockResult:
    """A block in numbers with its texts (``with_texts``), the time counted as ``rows``."""
    started = time.perf_counter()
    table = with_texts(job.kind, E, result.table)
    seconds = dict(result.seconds)
    seconds["rows"] = seconds.get("rows", 0.0) + time.perf_counter() - started
    return BlockResult(table, result.counts, seconds)
