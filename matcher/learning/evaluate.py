"""Measured match quality: rank known dockings with the engine and with baselines.

A *known docking* is a pair of bundled entities that really docked (``data/known_dockings.csv``,
or any CSV with columns ``left, right[, date]`` holding ids or names). For every known pair each
method ranks, for one side of the pair (the *query* entity), all entities that could be its
partner in this kind; the better the true partner's rank, the better the method.

Metrics (per query, then averaged):

- ``hits@K``: the true partner is in the top K;
- ``mrr``: mean of 1 / rank;
- ``ndcg@K``: 1 / log2(rank + 1) when rank <= K, else 0 (one relevant partner);
- ``auc_hard``: share of *hard negatives* the true partner outranks (ties count one half). Hard
  negatives are the query's other possible partners that share a chain stage or the region with
  the true partner, so a method cannot win by region or stage alone.

Ranks are *filtered*: the query's other known partners are left out of its list. Ties are broken
by id, as in the engine. Pairs the engine's candidate rules never generate rank after every
candidate (score minus infinity) and are counted in ``in_candidates``.

Methods: ``engine`` (the kind's weighted preset, or a given scorer), ``random`` (seeded),
``product`` (product-text similarity only), ``distance`` (nearest first), ``stage_adamic_adar``
(Adamic-Adar over the entity-stage bipartite graph), and over the known-docking graph itself
``docking_popularity`` (partners with more other known dockings first) and ``docking_path3``
(bipartite analogue of common neighbours: paths query - partner' - query' - candidate). The
docking-graph methods only see the other known pairs (leave one out), or with dates only the
pairs dated before the test pairs (temporal split).

Names in known-dockings files are resolved by :mod:`matcher.learning.names`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher import limits
from matcher.docking.kinds import get_kind
from matcher.exceptions import MatcherError
from matcher.ingest.validate import clip
from matcher.learning import crossval
from matcher.learning.baselines import (
    by_region,
    distance_matrix,
    docking_scores,
    engine_matrix,
    hard_auc,
    items_not_before,
    product_matrix,
    rank_of,
    regional_rows,
    stage_adamic_adar,
)
from matcher.learning.crossval import HeldOut, bootstrap, build_lists, fold_weights, group_of
from matcher.learning.names import EntityResolver, normalise_name, read_known_table

if TYPE_CHECKING:
    from matcher.docking.engine import DockingEngine, PairFeatures
    from matcher.docking.entities import Entities

#: The cross-validated engines, and what their fitted weights are pulled towards.
CROSS_VALIDATED = {"engine_cv": "pulled to the preset, whose weights were set by hand with the evaluation in view",
                   "engine_cv_uniform": "pulled to equal weights: no weight set by hand"}
#: Methods in the order they are printed.
METHODS = ("engine", "engine_cv", "engine_cv_uniform", "random", "product", "distance", "stage_adamic_adar", "docking_popularity",
           "docking_path3")
#: The simple baselines the engine is measured against.
BASELINES = ("random", "product", "distance", "stage_adamic_adar", "docking_popularity", "docking_path3")
METRIC_COLUMNS = ("queries", "in_candidates", "hits@K", "mrr", "ndcg@K", "auc_hard")
#: Repository's bundled known dockings.
KNOWN_DOCKINGS = Path(__file__).resolve().parents[2] / "data" / "known_dockings.csv"


# --- known pairs -----------------------------------------------------------------------------

@dataclass
class KnownPairs:
    """Resolved known pairs of one kind and every row that could not be used, with the reason; ``notes``:
    the ranked rows' names taken by a partial name (the report lists them)."""

    kind: str
    pairs: pd.DataFrame
    problems: pd.DataFrame
    other_kinds: int = 0
    notes: list[str] = field(default_factory=list)


#: The years a documented docking may carry (China's textile clusters, from the founding of the PRC to the
#: end of the slot clock's range): ``0001-01-01`` or ``9999-12-31`` is a typing slip, not a date to split on.
DOCKING_YEARS = (1949, limits.MAX_YEAR)
#: Excel's day numbers for 1949-01-01 and 2100-12-31: a date cell read as its number (``41900``) is that day.
_EXCEL_DAYS = (17899, 73415)


def parse_date(value: str) -> pd.Timestamp | None:
    """``2014``, ``2014-09`` or ``2014-09-26`` (also ``2014/9/26``, ``2014.09``, ``2014年9月26日`` and Excel's
    day number of a date cell, ``41900``) as a timestamp (start of the period); None if empty, not a date or
    outside :data:`DOCKING_YEARS`.

    >>> str(parse_date("41900").date()), parse_date("9999-12-31"), str(parse_date("2009年11月").date())
    ('2014-09-18', None, '2009-11-01')
    """
    text = str(value).strip()
    if not text or text.lower() in ("nan", "none", "?"):
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", text) and _EXCEL_DAYS[0] <= float(text) <= _EXCEL_DAYS[1]:
        return pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(float(text)))
    text = re.sub(r"\s+", "", text).replace("年", "-").replace("月", "-").replace("日", "").replace("号", "")
    text = re.sub(r"[/.]", "-", text).strip("-")
    if re.fullmatch(r"\d{4}", text):
        text += "-01-01"
    elif re.fullmatch(r"\d{4}-\d{1,2}", text):
        text += "-01"
    stamp = pd.to_datetime(text, errors="coerce")
    return None if pd.isna(stamp) or not DOCKING_YEARS[0] <= stamp.year <= DOCKING_YEARS[1] else stamp


#: Other headers a known-dockings file may give its two sides and its date (either side may hold either
#: role: pairs are oriented as the kind orients them).
KNOWN_ALIASES = {
    **dict.fromkeys(("a", "from", "sender", "甲方", "一方", "对接方a", "左"), "left"),
    **dict.fromkeys(("b", "to", "target", "partner", "receiver", "乙方", "对方", "对接方b", "右"), "right"),
    **dict.fromkeys(("year", "日期", "年份", "时间"), "date"),
    **dict.fromkeys(("类型", "对接类型"), "kind"),
}


def read_known(path: str | Path, kind: str, table: pd.DataFrame, data: str | None = None) -> KnownPairs:
    """Read a known-dockings CSV (``left, right[, date][, kind]``) and resolve it onto ``table``.

    Rows of another ``kind`` (when the file has a kind column) are skipped and counted. Every row
    that cannot be used is listed in ``problems`` (row as in Excel, side, value, reason). ``data`` names
    the data set ``table`` comes from in those reasons (None: the bundled data).
    """
    kind = get_kind(kind).name
    raw = read_known_table(path, KNOWN_ALIASES)
    if len(raw) > limits.MAX_KNOWN_PAIRS:
        raise MatcherError(f"{path}: {len(raw):,} rows, more than the {limits.MAX_KNOWN_PAIRS:,} known dockings "
                           "evaluate ranks in one run; split the file")
    missing = [c for c in ("left", "right") if c not in raw.columns]
    if missing:
        raise MatcherError(f"{path}: missing column(s) {', '.join(missing)}; a known-dockings file needs "
                           "columns left, right (or a, b; from, to; 甲方, 乙方) and optionally date, "
                           "kind, item, source")
    other, unknown = 0, []
    if "kind" in raw.columns:
        from matcher.docking.kinds import KINDS

        kinds = raw["kind"].str.strip().str.lower().str.replace(r"[\s\-–]+", "_", regex=True)
        bad = (kinds != "") & ~kinds.isin(list(KINDS))
        unknown = [{"file": str(path), "row": row, "column": "kind", "value": clip(raw.at[row, "kind"]),
                    "reason": "unknown kind; use one of " + ", ".join(KINDS)} for row in raw.index[bad]]
        other = int(((kinds != "") & (kinds != kind) & ~bad).sum())
        raw = raw[(kinds == "") | (kinds == kind)]
    known = resolve_known(raw, kind, table, file=str(path), other_kinds=other, data=data)
    if unknown:
        known.problems = pd.concat([pd.DataFrame(unknown), known.problems], ignore_index=True).sort_values(
            "row", kind="stable").reset_index(drop=True)
    return known


def resolve_known(raw: pd.DataFrame, kind: str, table: pd.DataFrame, file: str = "<pairs>",
                  other_kinds: int = 0, data: str | None = None) -> KnownPairs:
    """Resolve rows with ``left``/``right`` (and optional ``date``, ``item``) onto canonical pairs."""
    resolver = EntityResolver(table)
    docking = get_kind(kind)
    types = (docking.left.entity_type, docking.right.entity_type)
    problems, rows, partial = [], [], {}
    for row, record in raw.iterrows():
        got = {}
        for side in ("left", "right"):
            # either column may hold either role: orientation is fixed below
            res = resolver.resolve(record[side], tuple(sorted(set(types))))
            got[side] = res
            if res.id is None:
                reason = {"ambiguous": "ambiguous name; could be " + ", ".join(res.candidates),
                          "empty": "empty cell"}.get(res.how) or _unresolved(resolver, record[side], kind, types, data,
                                                                              res.candidates)
                problems.append({"file": file, "row": row, "column": side, "value": clip(record[side]),
                                 "reason": reason})
            elif res.how == "partial name":
                partial.setdefault(row, []).append(f"row {row}, {side}: {resolver.taken_as(res)}")
        if any(r.id is None for r in got.values()):
            continue
        a, b = got["left"].id, got["right"].id
        pair = docking.orient(a, b, table)
        if pair is None:
            problems.append({"file": file, "row": row, "column": "left,right", "value": f"{a} - {b}",
                             "reason": f"not a {kind} pair ({docking.describe})"})
            continue
        date = parse_date(record["date"]) if "date" in raw.columns else None
        if date is None and "date" in raw.columns and str(record["date"]).strip().lower() not in ("", "nan", "none", "?"):
            problems.append({"file": file, "row": row, "column": "date", "value": clip(record["date"]),
                             "reason": f"not a date (YYYY, YYYY-MM or YYYY-MM-DD, years {DOCKING_YEARS[0]} to "
                                       f"{DOCKING_YEARS[1]}); the pair is ranked but left out of the temporal split"})
        rows.append({"row": row, "left_id": pair[0], "right_id": pair[1], "date": date,
                     # a pair without an item (one page, one event) is its own: held out and resampled alone
                     "item": (str(record.get("item", "")).strip() if "item" in raw.columns else "")
                     or f"{pair[0]}-{pair[1]}",
                     "rule": str(record.get("rule", "")) if "rule" in raw.columns else "",
                     "origin": str(record.get("origin", "")) if "origin" in raw.columns else "",
                     "left_how": got["left"].how, "right_how": got["right"].how})
    pairs = pd.DataFrame(rows, columns=["row", "left_id", "right_id", "date", "item", "rule", "origin", "left_how",
                                        "right_how"])
    dup = pairs.duplicated(["left_id", "right_id"], keep="first")
    for record in pairs[dup].itertuples():
        problems.append({"file": file, "row": record.row, "column": "left,right",
                         "value": f"{record.left_id} - {record.right_id}", "reason": "repeats an earlier row"})
    pairs = pairs[~dup].reset_index(drop=True)
    problem_frame = pd.DataFrame(problems, columns=["file", "row", "column", "value", "reason"])
    # the rows ranked with a side taken by a partial name: said, as the planner may not have meant it
    notes = [line for row in pairs["row"] for line in partial.get(row, [])]
    return KnownPairs(kind, pairs, problem_frame, other_kinds, notes)


def _unresolved(resolver: EntityResolver, text: str, kind: str, types: tuple[str, str], data: str | None,
                partly: list[str] | None = None) -> str:
    """Why ``text`` names no entity a ``kind`` pair may hold: it names an entity of another type (a
    market in an east_west pair, which needs two clusters), or nothing in the data (``data``; None: bundled);
    ``partly``: entities whose name it holds but which it does not name (``Ningbo Airport``)."""
    wanted = f"two {types[0]}s" if types[0] == types[1] else f"a {types[0]} and a {types[1]}"
    other = resolver.resolve(text)
    if other.id is not None and other.how in ("id", "exact name", "normalised name"):
        found = resolver.entity_type(other.id)
        named = "" if other.id == str(text).strip() else f" ({other.id})"
        where = "the bundled data" if data is None else f"the data set {data}"
        return (f"{clip(str(text))!s}{named} is {'an' if found[0] in 'aeiou' else 'a'} {found} in {where}, but "
                f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} pair needs {wanted}")
    reason = ("no bundled entity has this id or name" if data is None
              else f"no entity in the data set {data} has this id or name")
    return reason + (f"; it holds the name of {', '.join(map(resolver.label, partly))}, but says too much else to "
                     "be taken as it: write the id or the full name" if partly else "")


@dataclass
class Evaluation:
    """Metrics per method (``metrics``), ranks per query (``ranks``) and what could not be used."""

    kind: str
    k: int
    metrics: pd.DataFrame
    ranks: pd.DataFrame
    temporal: pd.DataFrame | None = None
    temporal_note: str = ""
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    protocol: str = "all known pairs (docking-graph methods leave out the pair and its item)"
    intervals: pd.DataFrame | None = None
    by_rule: dict[str, pd.DataFrame] = field(default_factory=dict)
    folds: pd.DataFrame | None = None

    def ratio(self) -> tuple[str, float, float, float] | None:
        """(best baseline, engine_cv MRR / its MRR, 95% interval low, high), when cross-validated."""
        return None if self.intervals is None else self.intervals.attrs.get("ratio")

    def report(self) -> str:
        """The evaluation as plain text, as the CLI prints it."""
        fmt = {"float_format": lambda v: f"{v:.3f}", "index": False}
        lines = [f"kind {self.kind}: {len(self.ranks) // max(self.ranks['method'].nunique(), 1) if len(self.ranks) else 0}"
                 " queries (a query = one side of a known pair asking for partners)"]
        lines += self.notes
        if len(self.problems):
            lines.append(f"{len(self.problems)} problem(s); a row whose only problem is its date is still ranked, "
                         "the others are not used:")
            lines.append(self.problems.to_string(index=False))
        lines.append(f"\n{self.protocol}, K={self.k}:")
        table = self.metrics
        if self.intervals is not None:
            ci = self.intervals.set_index("method")
            table = table.assign(**{
                f"hits@{self.k} 95% CI": [f"{ci.at[m, 'hits_lo']:.2f}-{ci.at[m, 'hits_hi']:.2f}" for m in table["method"]],
                "mrr 95% CI": [f"{ci.at[m, 'mrr_lo']:.3f}-{ci.at[m, 'mrr_hi']:.3f}" for m in table["method"]]})
        lines.append(_rename_k(table, self.k).to_string(**fmt))
        if self.ratio():
            lines.append("")  # both cross-validated engines, so a preset tuned by hand cannot flatter the figure
            hits = self.metrics.set_index("method")["hits@K"]
            for method, (best, value, lo, hi) in self.intervals.attrs["ratios"].items():
                lines.append(f"{method} MRR / best baseline ({best}) MRR = {value:.2f} "
                             f"(95% interval {lo:.2f}-{hi:.2f}, resampling items); hits@{self.k} {hits[method]:.3f}"
                             f" ({CROSS_VALIDATED[method]})")
        for rule, frame in self.by_rule.items():
            lines.append(f"\n{rule} only:")
            lines.append(_rename_k(frame, self.k).to_string(**fmt))
        if self.folds is not None and len(self.folds):
            chosen = [c for c in get_kind(self.kind).chosen_params if c in self.folds.columns]
            also = "".join(f"; {c} chosen the same way, among {', '.join(f'{v:g}' for v in get_kind(self.kind).chosen_params[c])}"
                           for c in chosen)
            lines.append("\nweights fitted without each held-out item (engine_cv; l2 = the pull towards the preset, "
                         f"chosen by an inner leave-one-item-out{also}):")
            lines.append(self.folds.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        if self.temporal is not None:
            lines.append(f"\ntemporal split: {self.temporal_note}")
            lines.append(_rename_k(self.temporal, self.k).to_string(**fmt))
        elif self.temporal_note:
            lines.append(f"\ntemporal split: {self.temporal_note}")
        if len(self.ranks):
            wide = self.ranks.pivot_table(index=["query", "partner", "item"], columns="method", values="rank",
                                          aggfunc="first", sort=True)
            wide = wide[[m for m in METHODS if m in wide.columns]
                        + [m for m in wide.columns if m not in METHODS]].reset_index()
            lines.append("\nrank of the true partner per query (lower is better):")
            lines.append(wide.to_string(index=False))
        return "\n".join(lines)


def _split(ranks: pd.DataFrame, column: str, k: int, methods: list[str]) -> dict[str, pd.DataFrame]:
    """Metrics per value of ``column`` (``rule``: strict/relaxed; ``origin``: reference/search), when
    the ranks hold two or more values."""
    values = sorted(set(ranks[column]) - {""})
    return {v: summarise(ranks[ranks[column] == v], k, methods) for v in values} if len(values) > 1 else {}


def _rename_k(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    return frame.rename(columns={"hits@K": f"hits@{k}", "ndcg@K": f"ndcg@{k}"})


def summarise(ranks: pd.DataFrame, k: int, methods: list[str]) -> pd.DataFrame:
    """Average the per-query ranks into one row per method."""
    rows = []
    for method in methods:
        mine = ranks[ranks["method"] == method]
        r = mine["rank"].to_numpy(dtype=np.float64)
        rows.append({
            "method": method,
            "queries": len(mine),
            "in_candidates": int(mine["candidate"].sum()),
            "hits@K": float(np.mean(r <= k)) if len(r) else np.nan,
            "mrr": float(np.mean(1.0 / r)) if len(r) else np.nan,
            "ndcg@K": float(np.mean(np.where(r <= k, 1.0 / np.log2(r + 1), 0.0))) if len(r) else np.nan,
            "auc_hard": float(np.nanmean(mine["auc_hard"])) if mine["auc_hard"].notna().any() else np.nan,
        })
    return pd.DataFrame(rows, columns=["method", *METRIC_COLUMNS])


def _queries(kind: str, pairs: pd.DataFrame, sides: str) -> list[tuple[str, str, str]]:
    """(query, partner, item) for each pair and side asked for."""
    out = []
    for p in pairs.itertuples():
        if sides in ("left", "both"):
            out.append((p.left_id, p.right_id, p.item))
        if sides in ("right", "both") and get_kind(kind).two_sided:
            out.append((p.right_id, p.left_id, p.item))
    return out


def rank_queries(
    kind: str,
    E: Entities,
    mask: np.ndarray,
    matrices: dict[str, np.ndarray],
    graph_edges: Callable[[tuple[str, str]], tuple[list[tuple[int, int]], np.ndarray]] | None,
    queries: list[tuple[str, str, str]],
    known: set[tuple[str, str]],
    candidate: np.ndarray,
) -> pd.DataFrame:
    """Per query and method: rank of the true partner, hard-negative AUC and whether it is a candidate."""
    ids = E.table["id"].astype(str).to_numpy()
    region = E.table["region"].astype(object).to_numpy()
    n = len(ids)
    partners_of: dict[str, set[str]] = {}
    for a, b in known:
        partners_of.setdefault(a, set()).add(b)
        if get_kind(kind).two_sided:
            partners_of.setdefault(b, set()).add(a)
    rows = []
    for query, partner, item in queries:
        u, v = E.index[query], E.index[partner]
        others = [E.index[p] for p in partners_of.get(query, set()) if p != partner and p in E.index]
        allowed = mask[u].copy()
        allowed[others] = False
        allowed[v] = True
        cand = np.flatnonzero(allowed & (np.arange(n) != v))
        shares_stage = (E.stages[cand] * E.stages[v]).sum(axis=1) > 0
        same_region = region[cand] == region[v]
        hard = cand[shares_stage | same_region]
        method_mats = dict(matrices)
        if graph_edges is not None:
            edges, extra = graph_edges((query, partner))
            pop, path3 = docking_scores(edges, n, extra)
            method_mats["docking_popularity"] = pop
            method_mats["docking_path3"] = path3
        for method, S in method_mats.items():
            row = S[u]
            rows.append({"query": query, "partner": partner, "item": item, "method": method,
                         "rank": rank_of(row, ids, v, cand), "auc_hard": hard_auc(row, v, hard),
                         "candidate": bool(candidate[u, v]), "of": len(cand) + 1})
    return pd.DataFrame(rows, columns=["query", "partner", "item", "method", "rank", "auc_hard", "candidate", "of"])


def evaluate_pairs(
    engine: DockingEngine,
    known: KnownPairs,
    k: int = 10,
    seed: int = 0,
    sides: str = "both",
    scorers: dict | None = None,
) -> Evaluation:
    """Rank every known pair with the engine, extra ``scorers`` (name -> fitted scorer) and baselines.

    Parameters
    ----------
    engine : DockingEngine
    known : KnownPairs
        From :func:`read_known` or :func:`resolve_known`.
    k : int
        Cut-off of hits@K and NDCG@K.
    seed : int
        Seed of the random baseline.
    sides : {"both", "left", "right"}
        Which side of each pair asks for partners (``right`` only for two-sided kinds).
    scorers : dict, optional
        Further scorers to rank with (e.g. ``{"learned": load_model(path)}``).
    """
    kind = known.kind
    if k < 1:
        raise MatcherError("--k must be at least 1")
    if sides not in ("both", "left", "right"):
        raise MatcherError(f"sides must be both, left or right, not {sides!r}")
    E = engine.entities(kind)
    pf = engine.features(kind)
    n = len(E.table)
    mask = get_kind(kind).partner_mask(E.table)
    candidate = engine_matrix(pf, np.ones(len(pf.pairs)), n, kind) > 0
    matrices = {}
    rng = np.random.default_rng(seed)
    R = rng.random((n, n))
    matrices["random"] = (R + R.T) / 2 if get_kind(kind).two_sided else R
    matrices["product"] = product_matrix(E)
    matrices["distance"] = distance_matrix(E)
    matrices["stage_adamic_adar"] = stage_adamic_adar(E)

    pairs = known.pairs
    index_pairs = {(a, b): (E.index[a], E.index[b]) for a, b in zip(pairs["left_id"], pairs["right_id"], strict=True)}
    known_set = set(index_pairs)
    group = group_of(pairs)
    group_by_pair = dict(zip(zip(pairs["left_id"], pairs["right_id"], strict=True), group, strict=True))

    regional = regional_rows(E)

    def leave_one_out(pair: tuple[str, str]) -> tuple[list[tuple[int, int]], np.ndarray]:
        # pairs reported by the same item (one page, one event) are not independent: leave them all out
        g = group_by_pair.get(pair, group_by_pair.get(pair[::-1]))
        return [e for p, e in index_pairs.items() if group_by_pair[p] != g], by_region(regional, n, {g})

    notes = [f"{len(pairs)} known {kind} pair(s) resolved"]
    if known.notes:  # names the planner may not have meant: said with what they were taken as
        notes.append(f"{len(known.notes)} name(s) resolved by a partial name (ranked as taken; check them):")
        notes += [f"  {line}" for line in known.notes]
    if known.other_kinds:
        notes.append(f"{known.other_kinds} row(s) of other kinds skipped")
    # the engine (and any given scorer) ranks each group with its docking experience recomputed
    # without that group: the documented dockings must not vouch for themselves
    held = HeldOut(E, pf, pairs)
    scoring = {"engine": engine.scorer(kind), **(scorers or {})}
    parts = [rank_queries(kind, E, mask, matrices, leave_one_out, _queries(kind, pairs, sides), known_set, candidate)]
    for g in sorted(set(group)):
        X = held.X({g})
        mats = {name: engine_matrix(pf, np.asarray(s.predict(X), dtype=np.float64), n, kind) for name, s in scoring.items()}
        parts.append(rank_queries(kind, E, mask, mats, None, _queries(kind, pairs[group == g], sides), known_set,
                                  candidate))
    methods = [*scoring, *matrices, "docking_popularity", "docking_path3"]
    folds = None
    groups = sorted(set(group))
    if len(groups) >= 2:
        cv_ranks, folds = _cross_validated(engine, kind, E, pf, pairs, held, mask, known_set, candidate, sides)
        flat_ranks, _ = _cross_validated(engine, kind, E, pf, pairs, held, mask, known_set, candidate, sides,
                                         uniform=True)
        parts += [cv_ranks, flat_ranks]
        methods[len(scoring):len(scoring)] = ["engine_cv", "engine_cv_uniform"]
    ranks = pd.concat(parts, ignore_index=True)
    for column in ("rule", "origin"):  # each query's pair's mapping rule and where the pair was found
        label = dict(zip(zip(pairs["left_id"], pairs["right_id"], strict=True), pairs[column].fillna(""), strict=True))
        ranks[column] = [label.get((q, p), label.get((p, q), "")) for q, p in zip(ranks["query"], ranks["partner"],
                                                                                  strict=True)]
    metrics = summarise(ranks, k, methods)
    intervals = bootstrap(ranks, k, methods, seed, ratio_of=tuple(CROSS_VALIDATED) if folds is not None else None,
                          baselines=BASELINES)
    by_rule = {f"{r} rows": frame for r, frame in _split(ranks, "rule", k, methods).items()}
    by_rule |= {f"{o} items": frame for o, frame in _split(ranks, "origin", k, methods).items()}

    temporal, note = None, ""
    dated = pairs[pairs["date"].notna()] if len(pairs) else pairs
    if "date" in pairs.columns and len(dated) >= 2 and dated["date"].nunique() >= 2:
        cut = _temporal_cut(dated["date"])
        train = dated[dated["date"] < cut]
        test = dated[dated["date"] >= cut]
        train_edges = [index_pairs[(a, b)] for a, b in zip(train["left_id"], train["right_id"], strict=True)]
        # experience and popularity: earlier pairs and earlier dockings named by region only
        later = items_not_before(regional, cut)
        X = held.X(set(group_of(pairs[~pairs.index.isin(train.index)])) | later)
        regional_before = by_region(regional, n, later)
        mats = {**matrices, **{name: engine_matrix(pf, np.asarray(s.predict(X), dtype=np.float64), n, kind)
                               for name, s in scoring.items()}}
        t_ranks = rank_queries(kind, E, mask, mats, lambda pair: (train_edges, regional_before),
                               _queries(kind, test, sides), known_set, candidate)
        temporal = summarise(t_ranks, k, [m for m in methods if not m.startswith("engine_cv")])
        note = (f"{len(test)} pair(s) dated from {cut.date()} are tested; the docking graph and the docking "
                f"experience hold the {len(train)} earlier pair(s)")
        undated = len(pairs) - len(dated)
        if undated:
            note += f"; {undated} undated pair(s) are left out"
    elif len(pairs):
        note = "not possible: fewer than two distinct dates"
    return Evaluation(kind, k, metrics, ranks, temporal, note, known.problems, notes, intervals=intervals,
                      by_rule=by_rule, folds=folds)


def _settings(engine: DockingEngine, kind: str) -> list[dict]:
    """The combinations of the kind's ``chosen_params`` values, the preset's own first ([{}] without any)."""
    chosen = get_kind(kind).chosen_params
    if not chosen:
        return [{}]
    current = engine.params(kind)
    names = sorted(chosen)
    combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*(chosen[n] for n in names))]
    return sorted(combos, key=lambda c: any(c[n] != current.get(n) for n in names))  # stable: grid order after


def _cross_validated(engine: DockingEngine, kind: str, E: Entities, pf: PairFeatures, pairs: pd.DataFrame,
                     held: HeldOut, mask: np.ndarray, known_set: set, candidate: np.ndarray,
                     sides: str, uniform: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ranks of method ``engine_cv`` (each item ranked with weights fitted on the other items,
    starting from the preset) or ``engine_cv_uniform`` (starting from equal weights, so no hand-set
    weight plays a part) and the weights of each fold.

    A parameter set with the evaluation in view (the kind's ``chosen_params``) is chosen again inside
    each fold: the weights are fitted under each of its values, and the held-out item is ranked under the
    value whose inner cross-validation ranked the training items best (ties go to the preset's value)."""
    features = list(pf.features)
    prior = np.ones(len(features)) if uniform else np.array([engine.weights(kind)[f] for f in features],
                                                              dtype=np.float64)
    method = "engine_cv_uniform" if uniform else "engine_cv"
    group = group_of(pairs)
    groups = sorted(set(group))
    fitted = []
    for setting in _settings(engine, kind):
        pf_s = engine.features(kind, **setting) if setting else pf
        held_s = held if pf_s is pf else HeldOut(E, pf_s, pairs)
        label = method + "".join(f", {name} {value:g}" for name, value in setting.items())
        key = ("fold_weights", tuple(zip(pairs["left_id"], pairs["right_id"], group, strict=True)),
               prior.tobytes(), tuple(features),  # and the folds' layout, which decides the weights too
               (crossval.INNER_LOO_MAX, crossval.OUTER_LOO_MAX, crossval.INNER_FOLDS))
        if key not in pf_s.memo:  # kept with the engine's cached features, as long as they are
            def said(done: int, total: int, label: str = label) -> None:
                if done == 1 or done == total or done % max(1, total // 10) == 0:
                    engine.progress(f"{label}: fitted {done} / {total} held-out folds")

            pf_s.memo[key] = fold_weights(held_s, build_lists(kind, E, pf_s, pairs), groups, prior, features,
                                          progress=said)
        fitted.append((setting, pf_s, held_s, pf_s.memo[key]))
    parts, rows = [], []
    for g in groups:
        scores = [np.nan_to_num(folds[g][2], nan=-np.inf) for *_, folds in fitted]
        setting, pf_s, held_s, folds = fitted[int(np.argmax(scores))]  # the first of the best: the preset's on ties
        w, l2, _ = folds[g]
        X = held_s.matrix({g}, features)  # the fold's own held-out matrix, built once for the fit
        S = engine_matrix(pf_s, np.nan_to_num(X, nan=0.0) @ w, len(E.table), kind)
        mine = candidate if pf_s is pf else engine_matrix(pf_s, np.ones(len(pf_s.pairs)), len(E.table), kind) > 0
        parts.append(rank_queries(kind, E, mask, {method: S}, None, _queries(kind, pairs[group == g], sides),
                                  known_set, mine))
        rows.append({"held_out": g, "l2": l2, **setting, **dict(zip(features, w, strict=True))})
    return pd.concat(parts, ignore_index=True), pd.DataFrame(rows)


def _temporal_cut(dates: pd.Series) -> pd.Timestamp:
    """The earliest date such that about the later half of the pairs are on or after it."""
    ordered = dates.sort_values().reset_index(drop=True)
    cut = ordered.iloc[len(ordered) // 2]
    if cut == ordered.iloc[0]:  # everything on one date up to the middle: test the later dates
        later = ordered[ordered > cut]
        cut = later.iloc[0]
    return cut


def evaluate_known(engine: DockingEngine, path: str | Path, kind: str, k: int = 10, seed: int = 0, sides: str = "both",
                   scorers: dict | None = None) -> Evaluation:
    """Read, resolve and evaluate a known-dockings file in one call."""
    table = engine.entities(kind).table
    name = getattr(getattr(engine, "dataset", None), "name", "bundled")
    known = read_known(path, kind, table, data=None if name == "bundled" else name)
    if known.pairs.empty:
        detail = f" ({len(known.problems)} row(s) could not be used)" if len(known.problems) else ""
        ev = Evaluation(kind, k, summarise(pd.DataFrame(columns=["method", "rank", "auc_hard", "candidate"]), k,
                                           []), pd.DataFrame(columns=["query", "partner", "item", "method", "rank"]),
                        problems=known.problems, notes=[f"no known {kind} pairs to evaluate in {path}{detail}"])
        return ev
    return evaluate_pairs(engine, known, k=k, seed=seed, sides=sides, scorers=scorers)


__all__ = [
    "EntityResolver", "Evaluation", "KnownPairs", "METHODS", "evaluate_known", "evaluate_pairs", "hard_auc",
    "normalise_name", "rank_of", "read_known", "resolve_known",
]
