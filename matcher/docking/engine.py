"""The docking engine: the one entry point that proposes and explains pairs of every kind.

>>> from matcher.ingest.dataset import load_dataset
>>> engine = DockingEngine(load_dataset())
>>> top = engine.suggest("east_west", top=3, for_id="C056")
>>> list(top["rank"])
[1, 2, 3]

Every caller (app, CLI, evaluation, learning, benchmarks) goes through ``suggest`` (lists per
entity), ``score`` (every candidate pair, explained) or ``features``. The pipeline stages live in
their own modules: ``kinds`` (registry) -> ``entities`` -> ``candidates`` -> ``features`` ->
``scoring`` -> ``ranking`` -> ``explain``, run block by block by ``job`` on a backend
(``backends``: ``memory``, ``blocks`` or ``dask``, identical results). In memory the candidates'
features are cached per kind, so re-ranking after a weight change only re-scores them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.digest import digest_json
from matcher.docking import backends as B
from matcher.docking import candidates as C
from matcher.docking.entities import Entities, prepare
from matcher.docking.job import BlockFeatures, Job, Stages, block_features, output_columns, rank_block
from matcher.docking.kinds import CLUSTER_MARKET, KINDS, DockingKind, available, get_kind
from matcher.docking.scoring import BASELINE, LinearScorer, WeightedScorer
from matcher.exceptions import MatcherError
from matcher.outputs.metadata import now_stamp
from matcher.vocab import CLUSTER, MARKET

if TYPE_CHECKING:
    from distributed import Client

    from matcher.docking.scoring import Scorer
    from matcher.ingest.dataset import Dataset

STREAMED_OUTPUTS = (".csv", ".parquet")
#: Outputs for machines (databases, analysis tools): the codes and numbers a reason is rendered from,
#: not its text (20M rows of text would cost a registry run a quarter of its time). Readers render
#: them: :func:`matcher.meetings.tables.read_suggestions`, so ``shortlist`` and ``schedule`` exports.
CODED_OUTPUTS = (".parquet",)


def reason_texts(out: str | Path | None) -> bool:
    """Whether an output of ``out`` carries the rendered reasons (False for Parquet)."""
    return out is None or Path(out).suffix.lower() not in CODED_OUTPUTS


def weights_hash(weights: dict[str, float]) -> str:
    return digest_json(weights)


@dataclass
class PairFeatures:
    """Every candidate pair of one kind (canonical orientation) with its features and details."""

    kind: str
    pairs: pd.DataFrame
    features: list[str]
    report: pd.DataFrame
    block: BlockFeatures
    #: Results derived from these features, kept with them (an evaluation's nested fold weights: a
    #: notebook that evaluates twice fits its cross-validation once).
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def X(self) -> pd.DataFrame:
        return self.block.X


@dataclass
class _Done:
    """A block already ranked (the memory backend's one block, for the streamed writer)."""

    table: object
    counts: dict
    seconds: dict = field(default_factory=dict)


class DockingEngine:
    """Propose and explain docking pairs of every kind for one dataset.

    Parameters
    ----------
    dataset : matcher.ingest.dataset.Dataset
        The loaded, validated data.
    progress : callable, optional
        ``progress(message)`` is called before each step that may take a while.
    """

    def __init__(self, dataset: Dataset, progress: Callable[[str], None] | None = None):
        self.dataset = dataset
        self.progress = progress or (lambda message: None)
        self._entities: dict[tuple[str, ...], Entities] = {}
        self._features: dict[tuple, PairFeatures] = {}

    # -- cached building blocks ----------------------------------------------------------
    def entities(self, kind: str | DockingKind | None = None) -> Entities:
        """The prepared entities a kind pairs (shared by kinds over the same entity types); without a
        kind, the clusters and markets."""
        types = get_kind(kind).entity_types if kind is not None else (CLUSTER, MARKET)
        if types not in self._entities:
            self.progress(f"preparing {' and '.join(types)} entities")
            self._entities[types] = prepare(self.dataset, types)
        return self._entities[types]

    def params(self, kind: str | DockingKind, **overrides) -> dict:
        """The kind's parameters (presets file) with the run's options that are given (and, for the
        evaluation, the values of its ``chosen_params``)."""
        kind = get_kind(kind)
        params = kind.params
        for name, value in overrides.items():
            if value is not None:
                if name not in kind.run_params and name not in kind.chosen_params:
                    raise MatcherError(f"--{name.replace('_', '-')} is not an option of the {kind.name} kind")
                params[name] = value
        C.check_search_params(params)
        return params

    def listed(self, kind: str | DockingKind) -> np.ndarray:
        """Row positions of the entities a kind makes lists for."""
        kind = get_kind(kind)
        E = self.entities(kind)
        members = kind.left.members(E)
        if kind.both_sides:
            members = np.union1d(members, kind.right.members(E))
        return members

    def features(self, kind: str | DockingKind, **params) -> PairFeatures:
        """Candidate pairs of ``kind`` with their features (cached; the in-memory backend)."""
        kind = get_kind(kind)
        params = self.params(kind, **params)
        key = (kind.name, tuple(sorted(params.items())))
        if key not in self._features:
            E = self.entities(kind)
            self.progress(f"building {kind.name} candidates and features")
            bf = block_features(kind, E, self.listed(kind), params)
            cand = bf.candidates
            pairs = pd.DataFrame({"li": cand.left, "ri": cand.right, "left_id": E.ids[cand.left],
                                  "right_id": E.ids[cand.right], **bf.columns})
            for name in kind.features:
                pairs[name] = pairs[name].astype(np.float32)
            self._features[key] = PairFeatures(kind.name, pairs, list(kind.features),
                                               C.report(kind, E, cand.counts), bf)
        return self._features[key]

    def candidate_report(self, kind: str | DockingKind) -> pd.DataFrame:
        """Pairs produced by each candidate rule and its reduction ratio against all pairs."""
        return self.features(kind).report.copy()

    # -- scoring -------------------------------------------------------------------------
    def weights(self, kind: str | DockingKind, weights: dict[str, float] | None = None, preset: str | None = None) -> dict:
        """The preset's weights with ``weights`` overriding some."""
        return get_kind(kind).weights(weights, preset)

    def scorer(self, kind: str | DockingKind, weights: dict | None = None,
               preset: str | None = None) -> WeightedScorer | LinearScorer:
        """The weighted scorer of ``weights`` over the preset; weights holding a ``baseline`` are a
        learned model's (``LearnedScorer.weights``, as a run ranked by it records them) and score as it
        ranked: coefficients as they are, plus the intercept."""
        kind = get_kind(kind)
        X = pd.DataFrame({f: pd.Series(dtype=np.float32) for f in kind.features})
        if weights and BASELINE in weights:  # the scorer checks the features and the numbers
            return LinearScorer({f: w for f, w in weights.items() if f != BASELINE}, weights[BASELINE]).fit(X)
        return WeightedScorer(self.weights(kind, weights, preset)).fit(X)

    def score(self, kind: str | DockingKind, weights: dict | None = None, preset: str | None = None,
              scorer: Scorer | None = None) -> pd.DataFrame:
        """All canonical candidate pairs with ``f_/w_/c_`` columns and ``score``."""
        pf = self.features(kind)
        scorer = scorer or self.scorer(kind, weights, preset)
        explained = scorer.explain(pf.X)
        detail = pf.pairs.drop(columns=pf.features)
        return pd.concat([detail, explained], axis=1)

    def explain_pairs(self, pairs: pd.DataFrame, weights: dict[str, dict] | None = None,
                      run_weights: Mapping[str, dict] | None = None) -> pd.DataFrame:
        """``pairs`` (columns ``kind, left_id, right_id``, either orientation) with ``reason_zh`` and
        ``reason_en``: why each pair docks, under ``weights[kind]`` (default: the kind's preset). Empty
        (NA) for a pair that is not a candidate of its kind or whose kind or entities this data set
        lacks. The reasons that travel into shortlist and schedule exports.

        With ``run_weights`` (run id -> the weights that run scored with, ``Store.runs``) and a ``run_id``
        column, each pair is explained under the weights it was scored and shortlisted with, so the
        reason a planner saw when ticking it is the reason the shortlist and every export carry; a pair
        of an unknown run, or whose run's weights no longer fit its kind, falls back to ``weights``."""
        out = pairs.copy()
        out["reason_zh"] = pd.Series(pd.NA, index=out.index, dtype="string")
        out["reason_en"] = pd.Series(pd.NA, index=out.index, dtype="string")
        if out.empty or "kind" not in out.columns:
            return out
        runs = out["run_id"].astype("string") if run_weights and "run_id" in out.columns else None
        for run, index in (out.groupby(runs.fillna(""), sort=True).groups.items() if runs is not None
                           else [("", out.index)]):
            chosen = run_weights.get(run) if run and run_weights else None
            part = out.loc[index]
            if chosen is not None:
                try:
                    self._explain(out, part, {**(weights or {}), **{k: chosen for k in part["kind"].astype(str)}})
                    continue
                except MatcherError:  # the run's weights no longer fit the kind: explained as if unknown
                    pass
            self._explain(out, part, weights)
        return out

    def _explain(self, out: pd.DataFrame, part: pd.DataFrame, weights: dict[str, dict] | None) -> None:
        from matcher.docking.explain import reasons

        usable = set(available(self.dataset))
        for name, index in part.groupby(part["kind"].astype(str), sort=True).groups.items():
            if name not in usable:
                continue
            kind = get_kind(name)
            pf = self.features(kind)
            if "pair_rows" not in pf.memo:  # the pair -> row index, built once per kind (each run asks again)
                pf.memo["pair_rows"] = {(a, b): i for i, (a, b) in
                                        enumerate(zip(pf.pairs["left_id"], pf.pairs["right_id"], strict=True))}
            where = pf.memo["pair_rows"]
            hits = [(j, where.get((out.at[j, "left_id"], out.at[j, "right_id"]),
                                  where.get((out.at[j, "right_id"], out.at[j, "left_id"])))) for j in index]
            hits = [(j, i) for j, i in hits if i is not None]
            if hits:
                rows = [i for _, i in hits]  # only these pairs are scored (a shortlist, not every candidate)
                explained = self.scorer(kind, (weights or {}).get(name)).explain(pf.X.iloc[rows])
                scored = pd.concat([pf.pairs.drop(columns=pf.features).iloc[rows].reset_index(drop=True),
                                    explained.reset_index(drop=True)], axis=1)
                zh, en = reasons(scored, list(kind.features))
                out.loc[[j for j, _ in hits], "reason_zh"] = zh
                out.loc[[j for j, _ in hits], "reason_en"] = en

    def home_markets(self, cluster_id: str) -> list[str]:
        """Ids of the cluster's own markets (same town or county): shown in its profile, never
        suggested as a docking (``features.home_market``)."""
        from matcher.docking.features import home_markets

        if not len(self.dataset.markets):
            return []
        E = self.entities(CLUSTER_MARKET)
        pos = self._positions(CLUSTER_MARKET, E, [cluster_id])[0]
        return [str(E.ids[m]) for m in home_markets(E)[pos]]

    def partner_scores(self, entity_id: str, entity_type: str = CLUSTER) -> dict[str, tuple[float, str]]:
        """Every partner of ``entity_id`` in any kind pairing two entities of ``entity_type`` (for a
        cluster: cluster_cluster along the chain, and east_west when one side is eastern), with its
        best 0..1 score and the kind that gives it: who can fill a chain gap, from whatever region
        the cluster's docking kinds reach (an eastern cluster's spinning gap from Xinjiang)."""
        best: dict[str, tuple[float, str]] = {}
        for kind in KINDS.values():
            if kind.left.entity_type != entity_type or kind.right.entity_type != entity_type:
                continue
            if not kind.two_sided or kind.name not in available(self.dataset, entity_type):
                continue
            scored = self.score(kind)
            mine = scored[(scored["left_id"] == entity_id) | (scored["right_id"] == entity_id)]
            other = mine["right_id"].where(mine["left_id"] == entity_id, mine["left_id"])
            for partner, score in zip(other, mine["score"], strict=True):
                if partner not in best or score > best[partner][0] or (score == best[partner][0]
                                                                      and kind.name < best[partner][1]):
                    best[partner] = (float(score), kind.name)
        return best

    # -- suggestions ---------------------------------------------------------------------
    def suggest(
        self,
        kind: str | DockingKind,
        top: int | None = 10,
        for_id: str | Iterable[str] | None = None,
        weights: dict | None = None,
        preset: str | None = None,
        scorer: Scorer | None = None,
        min_score: float | None = None,
        *,
        backend: str | None = None,
        scheduler: str | Client | None = None,
        block_size: int = B.DEFAULT_BLOCK_SIZE,
        out: str | Path | None = None,
        extra_columns: dict | None = None,
        metadata: dict | None = None,
        **params,
    ) -> pd.DataFrame | dict:
        """For each entity (or only ``for_id``), its ``top`` partners of ``kind``, ranked and explained.

        Parameters
        ----------
        kind : str or DockingKind
        top : int or None
            Partners per entity (None: all candidates).
        for_id : str or list of str, optional
            Only these entities' lists.
        weights, preset
            Feature weights over the preset's; or ``scorer``, any fitted scorer with the
            scikit-learn contract (``predict`` and ``explain``), weighted or learned.
        min_score : float, optional
            Drop pairs scoring below this before ranking.
        backend : {"memory", "blocks", "dask"}, optional
            Where the blocks run (default: the kind's; ``scheduler`` given implies ``"dask"``).
            Every backend gives the same rows.
        scheduler : str or distributed.Client, optional
        block_size : int
            Focal entities per block (``blocks``/``dask``): bounds memory.
        out : path, optional
            Write ``.csv`` (UTF-8 with BOM), ``.parquet``, ``.xlsx`` or ``.json`` and return a summary
            ``{"path", "rows", "entities", "candidates", "report", "seconds"}``. CSV and Parquet are
            streamed block by block on the ``blocks`` and ``dask`` backends.
        extra_columns : dict, optional
            Constant columns appended to every row (e.g. ``run_id``, ``data_version``).
        metadata : dict, optional
            The run record written into an XLSX or JSON file.
        **params
            The kind's run options (e.g. ``neighbours``, ``product_neighbours``, ``radius_km``).

        Returns
        -------
        DataFrame or dict
            Without ``out``: columns ``output_columns(kind)``, entity by entity (id order), best
            first; ties broken by partner id. With ``out``: the summary. ``attrs["report"]`` of the
            frame holds the candidate rules' counts.
        """
        started = time.perf_counter()
        kind = get_kind(kind)
        if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1):
            raise MatcherError(f"--top must be a whole number of at least 1, not {top!r}")
        if min_score is not None:
            try:
                min_score = float(min_score)
            except (TypeError, ValueError):
                raise MatcherError(f"the minimum score must be a number, not {min_score!r}") from None
            if np.isnan(min_score):
                raise MatcherError("the minimum score must be a number, not NaN")
        if scheduler is not None and backend not in (None, "dask"):
            raise MatcherError(f"a Dask scheduler runs the dask backend, not {backend!r}: leave out the backend "
                               "or choose dask")
        backend = "dask" if scheduler is not None else B.check_backend(backend or kind.default_backend)
        params = self.params(kind, **params)
        scorer = scorer or self.scorer(kind, weights, preset)
        stages = Stages()
        with stages("prepare"):
            E = self.entities(kind)
        focal = self.listed(kind)
        wanted = None
        if for_id is not None:
            if isinstance(for_id, str):
                ids = [for_id]
            elif isinstance(for_id, Iterable) and all(isinstance(i, str) for i in for_id):
                ids = list(for_id)
            else:
                raise MatcherError(f"ids are text (e.g. 'C056'), not {for_id!r}")
            chosen = self._positions(kind, E, ids)
            listable = np.zeros(len(E), bool)
            listable[focal] = True
            outside = [i for i, p in zip(ids, chosen, strict=True) if not listable[p]]
            if outside:
                raise MatcherError(f"{', '.join(map(repr, outside))} has no {kind.name} list "
                                   f"(its pairs are {kind.describe})")
            focal = np.unique(chosen)
            wanted = np.zeros(len(E), bool)
            wanted[focal] = True
        texts = reason_texts(out)
        if backend == "memory":
            tables, report = self._memory(kind, params, scorer, top, min_score, wanted, texts)
            if out is not None and Path(out).suffix.lower() in STREAMED_OUTPUTS:
                # the one writer of streamed files, whatever the backend: the same bytes
                return self._collect(kind, E, iter([_Done(t, {}) for t in tables]), [focal], out, extra_columns,
                                     metadata, started, backend, len(focal), {}, report=report, stages=stages)
            return self._finish(kind, tables, report, out, extra_columns, metadata, started, len(focal))
        listed = np.zeros(len(E), bool)
        listed[focal] = True
        job = Job(kind.name, None if top is None else int(top), scorer, params, min_score, listed, texts)
        with stages("prepare"):
            if backend == "blocks":  # on Dask, run_dask builds them while the entities travel
                B.prepare_searches(E, kind.search_rules, params)
            size = B.balanced_block_size(len(focal), int(block_size)) if backend == "blocks" else int(block_size)
            blocks = B.make_blocks(focal, size, E.lat, E.lon)
        self.progress(f"{backend}: ranking {len(focal):,} {kind.name} lists in {len(blocks):,} block(s)")
        results = B.run_local(E, blocks, job) if backend == "blocks" else B.run_dask(E, blocks, job, scheduler)
        return self._collect(kind, E, results, blocks, out, extra_columns, metadata, started, backend, len(focal),
                             C.zero_counts(kind, params), stages=stages)

    def _positions(self, kind: DockingKind, E: Entities, ids: list[str]) -> np.ndarray:
        """Row positions of ``ids``; an id of another entity type is named as such."""
        try:
            return E.positions(ids, "cluster, market or enterprise")
        except MatcherError:
            for i in ids:
                if i not in E.index:
                    try:
                        other = str(self.dataset.entity(i)["entity_type"])
                    except MatcherError:
                        raise MatcherError(f"no cluster, market or enterprise has the id {i!r}") from None
                    raise MatcherError(f"{i!r} is a {other}; the {kind.name} kind pairs {kind.describe}") from None
            raise

    def _memory(self, kind, params, scorer, top, min_score, wanted, texts=True):
        E = self.entities(kind)
        pf = self.features(kind, **{k: params[k] for k in kind.run_params if k in params})
        table = rank_block(kind, E, pf.block, scorer, top, min_score, wanted, reasons=texts)
        if wanted is None:
            return [table], pf.report
        # the report counts the pairs proposed for the lists made, as on every backend
        counts = C.generate(kind, E, np.flatnonzero(wanted), params, listed=wanted).counts
        return [table], C.report(kind, E, counts)

    def _collect(self, kind, E, results, blocks, out, extra_columns, metadata, started, backend, n_focal, counts,
                 report=None, stages=None):
        from matcher.outputs.writers import block_writer

        stages = Stages() if stages is None else stages
        streamed = out is not None and Path(out).suffix.lower() in STREAMED_OUTPUTS
        writer = block_writer(out, extra_columns, output_columns(kind, reason_texts(out))) if streamed else None
        kept, rows, done = [], 0, 0
        try:
            for n, result in enumerate(results, start=1):
                done += len(blocks[n - 1])
                rows += result.table.num_rows
                C.add_counts(counts, result.counts)
                stages.add(result.seconds)
                if writer is not None:
                    writer.write(result.table)
                else:
                    kept.append(result.table)
                if n == len(blocks) or n % max(1, len(blocks) // 20) == 0:
                    self.progress(f"{backend}: {done:,} / {n_focal:,} lists ranked, {rows:,} suggestions")
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        report = C.report(kind, E, counts) if report is None else report
        if writer is not None:
            writer.close()
            stages.add({"writing": writer.write_seconds, "waiting_for_writer": writer.wait_seconds})
            return {**self._summary(out, rows, n_focal, report, started), "stages": dict(stages)}
        return self._finish(kind, kept, report, out, extra_columns, metadata, started, n_focal, by_id=True)

    def _finish(self, kind, tables, report, out, extra_columns, metadata, started, n_focal, by_id=False):
        import pyarrow as pa

        columns = output_columns(kind)
        frame = pa.concat_tables(tables).to_pandas() if tables else pd.DataFrame(columns=columns)
        if by_id:  # blocks are spatial tiles: rows back in entity id order (ids are unique, so stable)
            frame = frame.sort_values(["left_id", "rank"], kind="stable", ignore_index=True)
        for name, value in (extra_columns or {}).items():
            frame[name] = value
        if out is None:
            frame.attrs = {"report": report}
            return frame
        from matcher.outputs.export import write_shortlist

        self.progress(f"writing {len(frame):,} suggestions")
        write_shortlist(frame, out, metadata=metadata, extra_sheets={"candidates": report})
        return self._summary(out, len(frame), n_focal, report, started)

    @staticmethod
    def _summary(out, rows, n_focal, report, started) -> dict:
        return {"path": str(out), "rows": rows, "entities": n_focal, "report": report,
                "candidates": int(report["pairs"].iloc[-1]), "seconds": time.perf_counter() - started}


def new_run(dataset: Dataset, kind: str | DockingKind, weights: dict, planner: str = "", preset: str | None = None) -> dict:
    """A run record, carried by every export and kept in the store: run id, data version, kind (or
    what the run made, e.g. a shortlist export), weights, preset and time."""
    return {
        "run_id": uuid.uuid4().hex[:12],
        "data_version": getattr(dataset, "version", ""),
        "data_name": getattr(dataset, "name", ""),
        "kind": kind.name if isinstance(kind, DockingKind) else str(kind),
        "preset": preset or "",
        "weights": dict(sorted(weights.items())),
        "weights_hash": weights_hash(weights),
        "created_at": now_stamp(),
        "planner": planner,
    }


__all__ = ["DockingEngine", "PairFeatures", "new_run", "output_columns", "weights_hash"]
