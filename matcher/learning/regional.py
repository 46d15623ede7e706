"""Documented dockings whose partner a page names only as a region: a province's or a city's firms.

Many pages say "Guangdong firms moved to Kashgar" or "a Wuxi firm moved to Langxi" and name no
bundled cluster on the other side, so they cannot be pairs of ``known_dockings.csv``.
``data/known_dockings_regional.csv`` keeps them, one row per query entity (the side the page names:
the receiving cluster, or the market) with columns ``query, partner_provinces, partner_places, kind,
date, item, evidence, source``. The partner region is the union of the provinces (English or Chinese
names, ``;``-joined) and the places (town or city names, ``;``-joined, matched as whole words in the
entity's English name and city: "Wuxi" is Jiangyin (Wuxi), not Zhili (Wuxing); a Chinese name as part of
the entity's Chinese name: 石狮 is every Shishi cluster).

Each row asks whether the query's list puts a partner from that region high. Per row and method:

- ``rank``: the realistic rank of the best-placed member of the region among the other possible
  partners (1 = a member is first; members tied with it count one half), so ``hits@K`` and ``mrr``
  read as for pairs;
- ``auc``: the share of (member, non-member) pairs a method orders right (ties one half): how well
  it ranks the whole region above the rest, not only its best member.

No weight is fitted on these rows (weights are fitted on the pairs of ``known_dockings.csv`` only;
``scripts/joint_fit.py`` fits on both, leave-one-item-out), and the engine's docking experience and the
docking-graph baselines leave out the row's own item. Random guessing is not at zero here: a large region
(Zhejiang has 25 of the 82 bundled eastern clusters) puts a member in a random top 10 often, so read the
figures against the ``random`` row.

>>> from matcher.docking.engine import DockingEngine
>>> from matcher.ingest.dataset import load_dataset
>>> result = evaluate_regional(DockingEngine(load_dataset()), REGIONAL_DOCKINGS, "east_west")
>>> int(result.metrics.set_index("method").at["engine", "queries"])
66
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.docking.entities import place_members, split_names
from matcher.docking.kinds import get_kind
from matcher.exceptions import MatcherError
from matcher.learning.baselines import (
    by_region,
    distance_matrix,
    docking_scores,
    engine_matrix,
    product_matrix,
    regional_rows,
    stage_adamic_adar,
)
from matcher.learning.crossval import HeldOut, bootstrap
from matcher.learning.fit import realistic_rank

if TYPE_CHECKING:
    from matcher.docking.engine import DockingEngine, PairFeatures
    from matcher.docking.entities import Entities

REGIONAL_DOCKINGS = Path(__file__).resolve().parents[2] / "data" / "known_dockings_regional.csv"
#: Methods in the order they are printed (the docking-graph baselines over the pairs of
#: ``known_dockings.csv`` without the row's item).
METHODS = ("engine", "random", "product", "distance", "stage_adamic_adar", "docking_popularity", "docking_path3")
BASELINES = METHODS[1:]
COLUMNS = ("query", "partner_provinces", "partner_places")


@dataclass
class RegionalEvaluation:
    """Metrics per method, ranks per row, and the rows that could not be used."""

    kind: str
    k: int
    metrics: pd.DataFrame
    ranks: pd.DataFrame
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    intervals: pd.DataFrame | None = None

    def ratio(self) -> tuple[str, float, float, float] | None:
        """(best baseline, engine MRR / its MRR, 95% interval low, high)."""
        return None if self.intervals is None else self.intervals.attrs.get("ratio")

    def report(self, file: str = "") -> str:
        """The evaluation as plain text, as ``evaluate`` prints it after the pairs."""
        where = f" ({file})" if file else ""
        lines = [f"\ndocumented dockings whose partner is named only as a province or city{where}: "
                 f"{len(self.ranks) // len(METHODS) if len(self.ranks) else 0} {self.kind} row(s); rank = "
                 "the best-placed partner from that region, auc = the region's partners above the others "
                 "(no weight is fitted on these rows):"]
        if len(self.problems):
            lines.append(f"{len(self.problems)} problem(s) (a row with a bad query or province, or no partner "
                         "in its region, is not used; a place naming no town is skipped):")
            lines.append(self.problems.to_string(index=False))
        if not len(self.ranks):
            return "\n".join(lines)
        table = self.metrics.rename(columns={"hits@K": f"hits@{self.k}"})
        if self.intervals is not None:
            ci = self.intervals.set_index("method")
            table = table.assign(**{"mrr 95% CI": [f"{ci.at[m, 'mrr_lo']:.3f}-{ci.at[m, 'mrr_hi']:.3f}"
                                                   for m in table["method"]]})
        lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if self.ratio():
            best, value, lo, hi = self.ratio()
            lines.append(f"engine MRR / best baseline ({best}) MRR = {value:.2f} (95% interval {lo:.2f}-{hi:.2f}, "
                         "resampling items)")
        origins = sorted(set(self.ranks.get("origin", pd.Series(dtype=object)).fillna("")) - {""})
        if len(origins) > 1:  # the reference's rows and the rows found by search (docs/evaluation.md)
            methods = list(self.metrics["method"])
            for origin in origins:
                part = _metrics(self.ranks[self.ranks["origin"] == origin], self.k, methods)
                lines.append(f"{origin} rows only:")
                lines.append(part.rename(columns={"hits@K": f"hits@{self.k}"}).to_string(
                    index=False, float_format=lambda v: f"{v:.3f}"))
        wide = self.ranks.pivot_table(index=["query", "region", "item"], columns="method", values="rank",
                                      aggfunc="first", sort=True)
        wide = wide[[m for m in METHODS if m in wide.columns] + [m for m in wide.columns if m not in METHODS]]
        wide = wide.reset_index()
        lines.append("rank of the best-placed partner from the region, per row:")
        lines.append(wide.to_string(index=False))
        return "\n".join(lines)


def read_regional(path: str | Path, kind: str, E: Entities) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``kind`` that can be used, with ``u`` (the query's position) and ``members``
    (boolean mask of the region's entities), and the problems (file, row as in Excel, column, value,
    reason) of the others."""
    from matcher.ingest.read import read_table
    from matcher.ingest.validate import province_name

    kind = get_kind(kind).name
    raw = read_table(path, common_aliases=False)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise MatcherError(f"{path}: missing column(s) {', '.join(missing)}; a regional dockings file needs "
                           f"columns {', '.join(COLUMNS)} and optionally kind, date, item, evidence, source")
    if "kind" in raw.columns:
        raw = raw[raw["kind"].str.strip().isin(["", kind])]
    table = E.table
    mask = get_kind(kind).partner_mask(table)
    province = table["province"].astype(str).to_numpy()
    rows, problems = [], []

    def problem(row: object, column: str, value: object, reason: str) -> None:
        problems.append({"file": str(path), "row": row, "column": column, "value": value, "reason": reason})

    for row, record in raw.iterrows():
        query = str(record["query"]).strip()
        if query not in E.index:
            problem(row, "query", query, "no bundled entity has this id")
            continue
        u = E.index[query]
        if not mask[u].any():
            problem(row, "query", query, f"not on a side of {kind} ({get_kind(kind).describe})")
            continue
        members = np.zeros(len(table), dtype=bool)
        named, places = split_names(record["partner_provinces"]), split_names(record["partner_places"])
        found = {p: province_name(p) for p in named}
        unknown = [p for p, en in found.items() if en is None]
        if unknown:
            problem(row, "partner_provinces", ";".join(unknown),
                    "not a province's name (English or Chinese, e.g. Zhejiang or 浙江省)")
            continue
        provinces = list(found.values())
        members |= np.isin(province, provinces)
        for name in places:
            hit = place_members(table, name)
            if not hit.any():
                problem(row, "partner_places", name, "names no bundled entity's town or city (skipped)")
            members |= hit
        members &= mask[u]
        if not members.any():
            problem(row, "partner_provinces,partner_places", ";".join(provinces + places),
                    "no possible partner of the query is in this region")
            continue
        if members.sum() == mask[u].sum():
            problem(row, "partner_provinces,partner_places", ";".join(provinces + places),
                    "every possible partner is in this region: nothing to rank")
            continue
        rows.append({"row": row, "query": query, "u": u, "members": members,
                     "region": ";".join(provinces + places), "item": str(record.get("item", "") or ""),
                     "origin": str(record.get("origin", "") or "")})
    frame = pd.DataFrame(rows, columns=["row", "query", "u", "members", "region", "item", "origin"])
    return frame, pd.DataFrame(problems, columns=["file", "row", "column", "value", "reason"])


def regional_lists(E: Entities, pf: PairFeatures, rows: pd.DataFrame) -> dict[str, list]:
    """Item -> lists ``(candidate rows, rows of the region's partners)`` of the query's candidate pairs,
    as :func:`matcher.learning.crossval.build_lists` gives for pairs (a region is found when any of its
    partners is first); rows whose region has no candidate pair give no list."""
    li, ri = pf.pairs["li"].to_numpy(), pf.pairs["ri"].to_numpy()
    out: dict[str, list] = {}
    for record in rows.itertuples():
        mine = np.flatnonzero((li == record.u) | (ri == record.u))
        partner = np.where(li[mine] == record.u, ri[mine], li[mine])
        true = np.flatnonzero(record.members[partner])
        if len(true):
            out.setdefault(record.item or f"{record.query}-{record.region}", []).append((mine, true))
    return out


def _auc(scores: np.ndarray, members: np.ndarray) -> float:
    pos, neg = scores[members], scores[~members]
    ranks = pd.Series(np.r_[pos, neg]).rank(method="average").to_numpy()[: len(pos)]
    return float((ranks.sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))  # Mann-Whitney U


def _metrics(ranks: pd.DataFrame, k: int, methods: list[str]) -> pd.DataFrame:
    """Queries, hits@K, MRR and auc per method, in ``methods``' order."""
    by_method = ranks.assign(hit=ranks["rank"] <= k, rr=1.0 / ranks["rank"]).groupby("method", sort=False)
    metrics = pd.DataFrame({"queries": by_method.size(), "hits@K": by_method["hit"].mean(),
                            "mrr": by_method["rr"].mean(), "auc": by_method["auc"].mean()})
    metrics = metrics.reindex(methods).rename_axis("method").reset_index()
    metrics["queries"] = metrics["queries"].fillna(0).astype(int)
    return metrics


def evaluate_regional(engine: DockingEngine, path: str | Path, kind: str, k: int = 10, seed: int = 0,
                      scorers: dict | None = None) -> RegionalEvaluation:
    """Rank the regional rows of ``kind`` with the engine (and extra ``scorers``) and the baselines."""
    from matcher.learning.evaluate import KNOWN_DOCKINGS, read_known

    if k < 1:
        raise MatcherError("--k must be at least 1")
    kind = get_kind(kind).name
    E = engine.entities(kind)
    pf = engine.features(kind)
    n = len(E.table)
    rows, problems = read_regional(path, kind, E)
    mask = get_kind(kind).partner_mask(E.table)
    known = read_known(KNOWN_DOCKINGS, kind, E.table).pairs if Path(KNOWN_DOCKINGS).is_file() else None
    pairs = known if known is not None else pd.DataFrame(columns=["left_id", "right_id", "item"])
    held = HeldOut(E, pf, pairs)
    rng = np.random.default_rng(seed)
    R = rng.random((n, n))
    fixed = {"random": (R + R.T) / 2 if get_kind(kind).two_sided else R, "product": product_matrix(E),
             "distance": distance_matrix(E), "stage_adamic_adar": stage_adamic_adar(E)}
    scoring = {"engine": engine.scorer(kind), **(scorers or {})}
    methods = [*scoring, *METHODS[1:]]
    regional = regional_rows(E)

    per_item: dict[str, dict[str, np.ndarray]] = {}

    def matrices(item: str) -> dict[str, np.ndarray]:
        """Every method's scores with the item left out: it vouches for nothing (no docking experience,
        no graph edges from it); computed once per item (an item's rows share them)."""
        if item not in per_item:
            X = held.X({item}) if item else pf.X
            mats = {name: engine_matrix(pf, np.asarray(s.predict(X), dtype=np.float64), n, kind)
                    for name, s in scoring.items()}
            edges = [(E.index[a], E.index[b]) for a, b, i in zip(pairs["left_id"], pairs["right_id"], pairs["item"],
                                                                 strict=True) if str(i) != item]
            popularity, path3 = docking_scores(edges, n, by_region(regional, n, {item}))
            per_item[item] = {**mats, **fixed, "docking_popularity": popularity, "docking_path3": path3}
        return per_item[item]

    out = []
    for record in rows.itertuples():
        mats = matrices(record.item)
        cand = np.flatnonzero(mask[record.u])
        members = record.members[cand]
        for method in methods:
            s = mats[method][record.u, cand]  # non-candidates of the engine: minus infinity, tied last
            best = s[members].max()
            out.append({"query": record.query, "region": record.region, "item": record.item, "method": method,
                        "rank": realistic_rank(s[~members], best), "auc": _auc(s, members),
                        "members": int(members.sum()), "of": len(cand), "origin": record.origin})
    ranks = pd.DataFrame(out, columns=["query", "region", "item", "method", "rank", "auc", "members", "of", "origin"])
    metrics = _metrics(ranks, k, methods)
    intervals = bootstrap(ranks, k, methods, seed, ratio_of="engine", baselines=BASELINES) if len(ranks) else None
    return RegionalEvaluation(kind, k, metrics, ranks, problems, intervals)


__all__ = ["BASELINES", "METHODS", "REGIONAL_DOCKINGS", "RegionalEvaluation", "evaluate_regional",
           "read_regional", "regional_lists"]
