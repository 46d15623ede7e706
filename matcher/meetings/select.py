"""Shortlists: choose which suggested docking pairs get a meeting.

The input is a suggestions DataFrame (one row per ``(left_id, right_id)`` pair with a ``score``;
see the working agreement), the output a :class:`Selection`. As in the ``matching`` library the
problem (:class:`SelectionProblem`: the filtered candidates and the constraints), the solver
(a function per method) and the result (:class:`Selection`, which can check itself) are kept apart.

Methods
-------
``top_k``
    Each entity keeps its ``k`` best pairs; with ``cap`` (or ``capacities``) pairs are then taken
    greedily by score while both entities are under their cap.
``hungarian``
    One meeting per entity, maximising the total score (``scipy.optimize.linear_sum_assignment``;
    ``networkx.max_weight_matching`` when some entity appears on both sides).
``stable``
    One meeting per entity by deferred acceptance: preferences come from the scores, ties are
    broken by id. Reports blocking pairs (there are none for a correct run).
``capacity``
    Each entity gets at most its capacity of meetings, maximising the total score (a min-cost
    flow with networkx; an integer programme with scipy when the two sides overlap).

Filters applied first, whatever the method: a pair of an entity with itself, forbidden pairs
(either orientation), pairs below ``min_score`` and, for methods other than ``top_k``, pairs
outside each entity's ``k`` best when ``k`` is given.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"left_id": ["C1", "C1", "C2"], "right_id": ["M1", "M2", "M1"],
...                   "score": [0.9, 0.8, 0.7]})
>>> sel = select(s, method="hungarian")
>>> sorted(zip(sel.pairs.left_id, sel.pairs.right_id))
[('C1', 'M2'), ('C2', 'M1')]
>>> round(sel.total_score, 2)
1.5
>>> sel.check_validity()
True
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.read import read_table
from matcher.outputs.cells import restore_cell

METHODS: tuple[str, ...] = ("top_k", "hungarian", "stable", "capacity")
SIDES: tuple[str, ...] = ("left", "right", "either", "both")
PAIR: list[str] = ["left_id", "right_id"]
#: Columns that hold numbers in a suggestions file (besides the f_/w_/c_ triples).
NUMERIC_COLUMNS: tuple[str, ...] = ("rank", "score")
#: Scores are scaled to integers for the network simplex, which is exact only on integers.
_FLOW_SCALE = 10**9
#: Beyond this many cells the dense Hungarian matrix would not fit in memory comfortably.
_MAX_DENSE_CELLS = 25_000_000


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------
def read_pairs_table(path: str | Path, *, what: str = "table", sheets: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV, XLSX, JSON or Parquet table with every column as text (ids keep leading zeros).

    Parameters
    ----------
    path : str or Path
        Any file :func:`matcher.ingest.read.read_table` reads: ``.csv`` (UTF-8, UTF-8 with BOM,
        GBK or GB18030), ``.xlsx``, ``.json`` (a list of records, ``{"suggestions": [...]}`` /
        ``{"shortlist": [...]}``, or a pandas ``split`` / ``columns`` layout) or ``.parquet``.
    what : str
        What the file holds, for error messages ("suggestions", "forbidden pairs", ...).
    sheets : iterable of str
        XLSX sheet names to try in order; the first sheet is used when none matches.

    Returns
    -------
    pandas.DataFrame
        Text columns with the cells as typed (our exports' neutralising quote undone); empty
        cells are missing values; rows numbered from 0.

    Raises
    ------
    ValidationError
        The file is missing or cannot be read; the message names ``what`` and the file.
    """
    frame = read_table(path, what=what, sheets=sheets, as_typed=True).reset_index(drop=True)
    for col in frame.columns:
        frame[col] = frame[col].map(restore_cell)
    return frame


def _problem(file: str, row: Any, column: str, value: Any, reason: str) -> dict[str, Any]:
    return {"file": file, "row": row, "column": column, "value": value, "reason": reason}


def prepare_suggestions(
    suggestions: pd.DataFrame, *, source: str = "suggestions", require_score: bool = True
) -> pd.DataFrame:
    """Check a suggestions frame and return a copy with text ids and numeric scores.

    Every problem is collected in one pass. Rows are numbered as in Excel (header = row 1).
    With ``require_score=False`` (a list of meetings to schedule) the score may be absent or empty.

    Raises
    ------
    ValidationError
        A required column (``left_id``, ``right_id``, ``score``) is missing, an id is empty or a
        score is not a number. ``problems`` lists each bad cell.
    """
    if not isinstance(suggestions, pd.DataFrame):
        raise MatcherError(f"{source}: expected a table (DataFrame), got {type(suggestions).__name__}")
    needed = ("left_id", "right_id", "score") if require_score else ("left_id", "right_id")
    missing = [c for c in needed if c not in suggestions.columns]
    if missing:
        raise ValidationError(
            f"{source} lacks column(s) {', '.join(missing)}; it has: "
            f"{', '.join(map(str, suggestions.columns))}",
            pd.DataFrame([_problem(source, 1, c, "", "required column missing") for c in missing]),
        )
    frame = suggestions.copy().reset_index(drop=True)
    if "score" not in frame.columns:
        frame["score"] = pd.NA
    problems = []
    for col in PAIR:
        for i in np.flatnonzero(frame[col].isna().to_numpy() | (frame[col].astype(str).str.strip() == "")):
            problems.append(_problem(source, int(i) + 2, col, "", "empty id"))
        frame[col] = frame[col].astype(str).str.strip()
    numeric = [c for c in frame.columns if c in NUMERIC_COLUMNS or str(c)[:2] in ("f_", "w_", "c_")]
    for col in numeric:
        raw = frame[col]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if col == "score" and require_score:
            bad = bad | raw.isna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(_problem(source, int(i) + 2, col, raw.iloc[i], "not a number"))
        whole = values.dropna()
        frame[col] = values.astype("Int64" if col == "rank" and (whole == whole.round()).all() else "Float64")
    if problems:
        table = pd.DataFrame(problems)
        raise ValidationError(f"{source} has {len(table)} bad cell(s); nothing was selected", table)
    return frame


def read_suggestions(path: str | Path) -> pd.DataFrame:
    """Read a suggestions (or shortlist) file written by ``suggest`` or ``shortlist``."""
    frame = read_pairs_table(path, what="suggestions", sheets=("shortlist", "suggestions"))
    return prepare_suggestions(frame, source=Path(path).name)


def table_source(source: pd.DataFrame | str | Path, what: str, sheet: str, default_name: str
                 ) -> tuple[pd.DataFrame, str]:
    """A side table given as a frame or a CSV/XLSX/JSON file: ``(frame, name for messages)``."""
    if isinstance(source, (str, Path)):
        return read_pairs_table(source, what=what, sheets=(sheet,)), Path(source).name
    return source, default_name


def read_forbidden(source: pd.DataFrame | str | Path | Iterable[tuple[str, str]] | None) -> pd.DataFrame:
    """Forbidden pairs as a frame ``left_id, right_id, reason``.

    Accepts a DataFrame, a CSV/XLSX/JSON path or an iterable of ``(left_id, right_id[, reason])``.
    A missing reason reads "excluded by planner".
    """
    cols = ["left_id", "right_id", "reason"]
    if source is None:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in cols})
    name = "forbidden pairs"
    if isinstance(source, (str, Path, pd.DataFrame)):
        frame, name = table_source(source, "forbidden pairs", "forbidden", name)
        frame = frame.copy()
    else:
        rows = [tuple(r) for r in source]
        frame = pd.DataFrame([(r[0], r[1], r[2] if len(r) > 2 else None) for r in rows], columns=cols)
    missing = [c for c in PAIR if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{name} lacks column(s) {', '.join(missing)}; expected left_id,right_id[,reason], "
            f"found: {', '.join(map(str, frame.columns))}",
            pd.DataFrame([_problem(name, 1, c, "", "required column missing") for c in missing]),
        )
    problems = []
    for col in PAIR:
        for i in np.flatnonzero(frame[col].isna().to_numpy()):
            problems.append(_problem(name, int(i) + 2, col, "", "empty id"))
    if problems:
        raise ValidationError(f"{name} has {len(problems)} empty id(s)", pd.DataFrame(problems))
    reason = frame["reason"] if "reason" in frame.columns else pd.Series(pd.NA, index=frame.index)
    out = pd.DataFrame(
        {
            "left_id": frame["left_id"].astype(str).str.strip(),
            "right_id": frame["right_id"].astype(str).str.strip(),
            "reason": reason.where(reason.notna(), "excluded by planner").astype(str),
        }
    )
    return out.reset_index(drop=True)


def read_capacities(source: Mapping[str, int] | pd.DataFrame | str | Path | None) -> dict[str, int]:
    """Per-entity meeting capacities from a mapping, a frame or a file with ``id, capacity``."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        items = list(source.items())
        name = "capacities"
    else:
        frame, name = table_source(source, "capacities", "capacities", "capacities")
        id_col = next((c for c in ("id", "entity_id", "participant_id") if c in frame.columns), None)
        if id_col is None or "capacity" not in frame.columns:
            raise ValidationError(
                f"{name} needs columns id,capacity; found: {', '.join(map(str, frame.columns))}",
                pd.DataFrame([_problem(name, 1, "id/capacity", "", "required column missing")]),
            )
        items = list(zip(frame[id_col], frame["capacity"], strict=False))
    out, problems = {}, []
    for row, (key, value) in enumerate(items, start=2):
        try:
            number = float(value)
            ok = number >= 0 and number == int(number)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(_problem(name, row, "capacity", value, "must be a whole number >= 0"))
            continue
        out[str(key).strip()] = int(number)
    if problems:
        raise ValidationError(f"{name} has {len(problems)} bad capacity value(s)", pd.DataFrame(problems))
    return out


# --------------------------------------------------------------------------------------------
# Problem
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SelectionProblem:
    """What to select from and under which constraints (no solving here).

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    suggestions : pandas.DataFrame
        All input pairs after cleaning (text ids, numeric score).
    candidates : pandas.DataFrame
        Pairs that passed every filter, sorted by score (descending), then ``left_id``, ``right_id``.
    removed : pandas.DataFrame
        ``left_id, right_id, score, reason`` for each pair a filter removed.
    forbidden : pandas.DataFrame
        ``left_id, right_id, reason`` as given.
    k, cap, min_score, side, proposer
        The arguments of :func:`select`.
    capacities : dict
        Explicit per-entity capacities (override ``cap``).
    """

    method: str
    suggestions: pd.DataFrame
    candidates: pd.DataFrame
    removed: pd.DataFrame
    forbidden: pd.DataFrame
    k: int | None = None
    cap: int | None = None
    min_score: float | None = None
    side: str = "left"
    proposer: str = "left"
    capacities: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def capacity_of(self, entity: str) -> int | None:
        """Most meetings ``entity`` may get (``None`` = no limit)."""
        if self.method in ("hungarian", "stable"):
            return min(1, self.capacities.get(entity, 1))
        if entity in self.capacities:
            return self.capacities[entity]
        if self.method == "capacity":
            return 1 if self.cap is None else self.cap
        return self.cap

    @property
    def two_sided(self) -> bool:
        """True when no entity appears both as a left and as a right id."""
        left = set(self.candidates["left_id"])
        return not (left & set(self.candidates["right_id"]))

    def forbidden_keys(self) -> set[tuple[str, str]]:
        """Forbidden pairs in both orientations."""
        keys = set(zip(self.forbidden["left_id"], self.forbidden["right_id"], strict=False))
        return keys | {(b, a) for a, b in keys}


def _sort_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(
        ["score", "left_id", "right_id"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)


def _rank_within(frame: pd.DataFrame, by: str, other: str) -> pd.Series:
    """1-based rank of each pair in its entity's list: score descending, ties by the other id."""
    order = frame.sort_values([by, "score", other], ascending=[True, False, True], kind="mergesort")
    ranks = order.groupby(by, sort=False).cumcount() + 1
    return ranks.reindex(frame.index)


def top_k_mask(frame: pd.DataFrame, k: int, side: str = "left") -> pd.Series:
    """Which pairs are among the ``k`` best of their entity.

    ``side`` says whose lists count: ``left`` (each left entity keeps its k best), ``right``,
    ``either`` (a pair in the k best of either entity) or ``both``.
    """
    left_rank = _rank_within(frame, "left_id", "right_id")
    right_rank = _rank_within(frame, "right_id", "left_id")
    if side == "left":
        return left_rank <= k
    if side == "right":
        return right_rank <= k
    if side == "either":
        return (left_rank <= k) | (right_rank <= k)
    return (left_rank <= k) & (right_rank <= k)


def orient_pairs(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Turn rows so that no id is on both sides, when the pairs allow it (a two-sided graph).

    Each connected group of entities keeps the orientation most of its rows already have; a
    turned row swaps every ``left_*`` column with its ``right_*`` twin. Returns the frame and the
    number of rows turned. Pairs with odd cycles (cluster–cluster docking) are left as they are.
    """
    if not (set(frame["left_id"]) & set(frame["right_id"])):
        return frame, 0
    adjacent: dict[str, list[str]] = defaultdict(list)
    for a, b in zip(frame["left_id"], frame["right_id"], strict=False):
        if a != b:
            adjacent[a].append(b)
            adjacent[b].append(a)
    colour: dict[str, int] = {}
    group: dict[str, str] = {}
    for root in sorted(adjacent):
        if root in colour:
            continue
        colour[root], group[root] = 0, root
        stack = [root]
        while stack:
            x = stack.pop()
            for y in adjacent[x]:
                if y not in colour:
                    colour[y], group[y] = 1 - colour[x], root
                    stack.append(y)
                elif colour[y] == colour[x]:
                    return frame, 0  # odd cycle: no two sides exist
    votes: dict[str, int] = defaultdict(int)
    for a, b in zip(frame["left_id"], frame["right_id"], strict=False):
        if a != b:
            votes[group[a]] += 1 if colour[a] == 0 else -1
    left_colour = {g: 0 if v >= 0 else 1 for g, v in votes.items()}
    turn = np.array(
        [
            a != b and colour[a] != left_colour[group[a]]
            for a, b in zip(frame["left_id"], frame["right_id"], strict=False)
        ],
        dtype=bool,
    )
    if not turn.any():
        return frame, 0
    frame = frame.copy()
    twins = [
        (c, "right_" + c[5:])
        for c in frame.columns
        if c.startswith("left_") and "right_" + c[5:] in frame.columns
    ]
    for left_col, right_col in twins:
        left_values = frame.loc[turn, left_col].copy()
        frame.loc[turn, left_col] = frame.loc[turn, right_col].to_numpy()
        frame.loc[turn, right_col] = left_values.to_numpy()
    return frame, int(turn.sum())


def build_problem(
    suggestions: pd.DataFrame,
    method: str = "top_k",
    *,
    k: int | None = None,
    cap: int | None = None,
    min_score: float | None = None,
    forbidden: pd.DataFrame | str | Path | Iterable | None = None,
    capacities: Mapping[str, int] | pd.DataFrame | str | Path | None = None,
    side: str = "left",
    proposer: str = "left",
) -> SelectionProblem:
    """Check the arguments, apply the filters and return the :class:`SelectionProblem`."""
    if method not in METHODS:
        raise MatcherError(f"unknown selection method {method!r}; choose one of {', '.join(METHODS)}")
    if side not in SIDES:
        raise MatcherError(f"unknown side {side!r} for top k; choose one of {', '.join(SIDES)}")
    if proposer not in ("left", "right"):
        raise MatcherError(f"proposer must be 'left' or 'right', not {proposer!r}")
    if k is not None and (int(k) != k or k < 1):
        raise MatcherError(f"k must be a whole number of at least 1, not {k!r}")
    if cap is not None and (int(cap) != cap or cap < 0):
        raise MatcherError(f"cap must be a whole number of at least 0, not {cap!r}")
    if min_score is not None and (not isinstance(min_score, (int, float)) or math.isnan(min_score)):
        raise MatcherError(f"min_score must be a number, not {min_score!r}")
    caps = read_capacities(capacities)
    if method in ("hungarian", "stable"):
        if cap is not None and cap > 1 or any(v > 1 for v in caps.values()):
            raise MatcherError(
                f"method {method!r} gives each entity at most one meeting; for more meetings per "
                "entity use method 'capacity' (or 'top_k' with a cap)"
            )
    frame = prepare_suggestions(suggestions)
    forbidden_frame = read_forbidden(forbidden)

    # `suggest` lists partners for both sides, so a pair may come as C–M and as M–C: put every
    # pair the same way round (clusters left, markets right) and keep its best-scoring row once.
    frame, flipped = orient_pairs(frame)
    frame = _sort_pairs(frame)
    n_rows = len(frame)
    frame = frame.drop_duplicates(PAIR, keep="first").reset_index(drop=True)
    notes = []
    if n_rows > len(frame):
        notes.append(
            f"{n_rows - len(frame)} row(s) repeated a pair (often the same pair listed from both "
            f"sides); each pair is considered once, with its best score"
        )

    reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    same = frame["left_id"] == frame["right_id"]
    reason[same] = "an entity cannot meet itself"
    forbid_reason: dict[tuple[str, str], str] = {}
    for a, b, why in forbidden_frame.itertuples(index=False):
        forbid_reason.setdefault((a, b), why)
        forbid_reason.setdefault((b, a), why)
    keys = list(zip(frame["left_id"], frame["right_id"], strict=False))
    forb = pd.Series([forbid_reason.get(key) for key in keys], index=frame.index, dtype="string")
    hit = reason.isna() & forb.notna()
    reason[hit] = "forbidden: " + forb[hit]
    if min_score is not None:
        low = reason.isna() & (frame["score"] < min_score)
        reason[low] = frame.loc[low, "score"].map(lambda s: f"score {s:.3f} below minimum {min_score:g}")
    if k is not None and method != "top_k":
        alive = reason.isna()
        mask = top_k_mask(frame[alive], int(k), side)
        out = mask.index[~mask.to_numpy()]
        reason[out] = f"not among the {int(k)} best of its {side} entity"
    removed = frame.loc[reason.notna(), PAIR + ["score"]].copy()
    removed["reason"] = reason[reason.notna()].astype(str)
    candidates = frame[reason.isna()].reset_index(drop=True)
    return SelectionProblem(
        method=method,
        suggestions=frame,
        candidates=candidates,
        removed=removed.reset_index(drop=True),
        forbidden=forbidden_frame,
        k=None if k is None else int(k),
        cap=None if cap is None else int(cap),
        min_score=min_score,
        side=side,
        proposer=proposer,
        capacities=caps,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
@dataclass
class Selection:
    """The chosen pairs and why the others were not chosen.

    Attributes
    ----------
    problem : SelectionProblem
    solver : str
        The algorithm that produced the result, in words.
    pairs : pandas.DataFrame
        Selected suggestion rows (all input columns) sorted by score, with ``selection_rank``.
    not_selected : pandas.DataFrame
        ``left_id, right_id, score, reason`` for every other input pair.
    unmatched : pandas.DataFrame
        ``entity_id, side, name, reason`` for entities that got no meeting.
    blocking_pairs : pandas.DataFrame
        ``left_id, right_id, score`` (stable method only; empty when the matching is stable).
    status : str
        ``"ok"`` or ``"infeasible"`` (nothing could be selected; see ``explanation``).
    explanation : list of str
        Plain sentences on what limited the result.
    """

    problem: SelectionProblem
    solver: str
    pairs: pd.DataFrame
    not_selected: pd.DataFrame
    unmatched: pd.DataFrame
    blocking_pairs: pd.DataFrame
    status: str = "ok"
    explanation: list[str] = field(default_factory=list)

    @property
    def total_score(self) -> float:
        """Sum of the scores of the selected pairs."""
        return float(self.pairs["score"].astype(float).sum()) if len(self.pairs) else 0.0

    @property
    def feasible(self) -> bool:
        return self.status == "ok"

    def raise_if_infeasible(self) -> None:
        """Raise :class:`~matcher.exceptions.InfeasibleError` with the explanation if infeasible."""
        from matcher.exceptions import InfeasibleError

        if not self.feasible:
            raise InfeasibleError("; ".join(self.explanation) or "nothing could be selected")

    def summary(self) -> str:
        """One paragraph for a planner: how many pairs, total score, what limited the result."""
        lines = [
            f"{len(self.pairs)} pair(s) selected by {self.solver}, total score {self.total_score:.3f}; "
            f"{len(self.problem.removed)} removed by filters, {len(self.unmatched)} entities without a meeting."
        ]
        lines += self.explanation
        return "\n".join(lines)

    def check_validity(self) -> bool:
        """Re-check every constraint on the selected pairs; return True or raise.

        Raises
        ------
        ValidationError
            One row in ``problems`` per broken constraint (one-to-one, capacity, forbidden pair,
            minimum score, top k, unknown pair, blocking pair), naming the entities.
        """
        p = self.problem
        pairs = self.pairs
        problems: list[dict[str, Any]] = []

        def broken(row: Any, column: str, value: Any, reason: str) -> None:
            problems.append(_problem("selection", row, column, value, reason))

        known = set(zip(p.suggestions["left_id"], p.suggestions["right_id"], strict=False))
        forbidden = p.forbidden_keys()
        seen: set[tuple[str, str]] = set()
        for i, (a, b, s) in enumerate(
            zip(pairs["left_id"], pairs["right_id"], pairs["score"], strict=False), start=2
        ):
            key = (a, b)
            if key not in known:
                broken(i, "left_id/right_id", f"{a}–{b}", "pair is not among the suggestions")
            if key in seen:
                broken(i, "left_id/right_id", f"{a}–{b}", "pair selected twice")
            seen.add(key)
            if a == b:
                broken(i, "left_id/right_id", a, "an entity cannot meet itself")
            if key in forbidden:
                broken(i, "left_id/right_id", f"{a}–{b}", "pair is forbidden")
            if p.min_score is not None and float(s) < p.min_score:
                broken(i, "score", float(s), f"below minimum score {p.min_score:g}")
        load: dict[str, int] = defaultdict(int)
        for a, b in seen:
            load[a] += 1
            load[b] += 1
        for entity, n in sorted(load.items()):
            limit = p.capacity_of(entity)
            if limit is not None and n > limit:
                what = "one-to-one" if p.method in ("hungarian", "stable") else f"capacity {limit}"
                broken("", "entity", entity, f"{entity} has {n} meetings, breaking {what}")
        if p.method == "top_k" and p.k is not None and len(pairs):
            mask = top_k_mask(p.candidates, p.k, p.side)
            allowed = set(
                zip(p.candidates.loc[mask, "left_id"], p.candidates.loc[mask, "right_id"], strict=False)
            )
            for a, b in sorted(seen - allowed):
                broken("", "left_id/right_id", f"{a}–{b}", f"not among the {p.k} best ({p.side})")
        if p.method == "stable":
            for a, b, _ in blocking_pairs(p, dict(seen)).itertuples(index=False):
                broken("", "left_id/right_id", f"{a}–{b}", "blocking pair: both prefer each other")
        if problems:
            table = pd.DataFrame(problems)
            head = "; ".join(table["reason"].head(3))
            raise ValidationError(f"the shortlist breaks {len(table)} constraint(s): {head}", table)
        return True


# --------------------------------------------------------------------------------------------
# Solvers: each takes the problem and returns the selected (left_id, right_id) pairs
# --------------------------------------------------------------------------------------------
def _solve_top_k(p: SelectionProblem) -> tuple[list[tuple[str, str]], str]:
    cand = p.candidates
    if p.k is not None:
        cand = cand[top_k_mask(cand, p.k, p.side).to_numpy()]
    chosen, load = [], defaultdict(int)
    for a, b in zip(cand["left_id"], cand["right_id"], strict=False):  # candidates are sorted by score
        ca, cb = p.capacity_of(a), p.capacity_of(b)
        if (ca is not None and load[a] >= ca) or (cb is not None and load[b] >= cb):
            continue
        chosen.append((a, b))
        load[a] += 1
        load[b] += 1
    k_text = f"top {p.k} per {p.side} entity" if p.k is not None else "all candidates"
    cap_text = ", greedy by score under the caps" if (p.cap is not None or p.capacities) else ""
    return chosen, k_text + cap_text


def _solve_hungarian(p: SelectionProblem) -> tuple[list[tuple[str, str]], str]:
    cand = p.candidates[(p.candidates["score"] > 0).to_numpy()]
    cand = cand[
        [
            p.capacity_of(a) != 0 and p.capacity_of(b) != 0
            for a, b in zip(cand["left_id"], cand["right_id"], strict=False)
        ]
    ]
    if cand.empty:
        return [], "Hungarian assignment (scipy)"
    if not p.two_sided:
        import networkx as nx

        graph = nx.Graph()
        for a, b, s in sorted(
            zip(cand["left_id"], cand["right_id"], cand["score"].astype(float), strict=False)
        ):
            graph.add_edge(a, b, weight=s)
        matching = nx.max_weight_matching(graph)
        index = set(zip(cand["left_id"], cand["right_id"], strict=False))
        chosen = [(a, b) if (a, b) in index else (b, a) for a, b in matching]
        return sorted(chosen), "maximum-weight matching (networkx; the two sides overlap)"
    from scipy.optimize import linear_sum_assignment

    lefts = sorted(set(cand["left_id"]))
    rights = sorted(set(cand["right_id"]))
    if len(lefts) * len(rights) > _MAX_DENSE_CELLS:
        raise MatcherError(
            f"{len(lefts)} x {len(rights)} entities are too many for the Hungarian method; "
            "use method 'capacity' (same optimum with capacity 1, sparse) or 'top_k'"
        )
    li = {x: i for i, x in enumerate(lefts)}
    ri = {x: i for i, x in enumerate(rights)}
    weight = np.zeros((len(lefts), len(rights)))
    allowed = np.zeros_like(weight, dtype=bool)
    rows = cand["left_id"].map(li).to_numpy()
    cols = cand["right_id"].map(ri).to_numpy()
    weight[rows, cols] = cand["score"].astype(float).to_numpy()
    allowed[rows, cols] = True
    # A missing pair weighs 0, so picking it is the same as leaving both entities unmatched.
    r, c = linear_sum_assignment(weight, maximize=True)
    chosen = [(lefts[i], rights[j]) for i, j in zip(r, c, strict=False) if allowed[i, j]]
    return chosen, "Hungarian assignment (scipy linear_sum_assignment)"


def _preferences(p: SelectionProblem) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """Proposers' ordered lists and receivers' ranks; score descending, ties by id."""
    cand = p.candidates
    cand = cand[
        [
            p.capacity_of(a) != 0 and p.capacity_of(b) != 0
            for a, b in zip(cand["left_id"], cand["right_id"], strict=False)
        ]
    ]
    me, other = ("left_id", "right_id") if p.proposer == "left" else ("right_id", "left_id")
    prop: dict[str, list[str]] = {}
    for a, group in cand.sort_values(
        [me, "score", other], ascending=[True, False, True], kind="mergesort"
    ).groupby(me, sort=True):
        prop[a] = list(group[other])
    rank: dict[str, dict[str, int]] = {}
    for b, group in cand.sort_values(
        [other, "score", me], ascending=[True, False, True], kind="mergesort"
    ).groupby(other, sort=True):
        rank[b] = {a: i for i, a in enumerate(group[me])}
    return prop, rank


def blocking_pairs(p: SelectionProblem, matched: Mapping[str, str]) -> pd.DataFrame:
    """Candidate pairs whose two entities both prefer each other to what they got.

    ``matched`` maps left id -> right id. Preferences are by score, ties by the smaller id (as
    in the solver); an unmatched entity prefers any acceptable partner to none.
    """
    cand = p.candidates
    cand = cand[
        [
            p.capacity_of(a) != 0 and p.capacity_of(b) != 0
            for a, b in zip(cand["left_id"], cand["right_id"], strict=False)
        ]
    ]
    left_rank: dict[str, dict[str, int]] = {}
    for a, group in cand.sort_values(
        ["left_id", "score", "right_id"], ascending=[True, False, True], kind="mergesort"
    ).groupby("left_id", sort=False):
        left_rank[a] = {b: i for i, b in enumerate(group["right_id"])}
    right_rank: dict[str, dict[str, int]] = {}
    for b, group in cand.sort_values(
        ["right_id", "score", "left_id"], ascending=[True, False, True], kind="mergesort"
    ).groupby("right_id", sort=False):
        right_rank[b] = {a: i for i, a in enumerate(group["left_id"])}
    left_of = {b: a for a, b in matched.items()}
    rows = []
    for a, b, s in zip(cand["left_id"], cand["right_id"], cand["score"].astype(float), strict=False):
        if matched.get(a) == b:
            continue
        cur_b, cur_a = matched.get(a), left_of.get(b)
        a_wants = cur_b is None or left_rank[a][b] < left_rank[a].get(cur_b, len(cand))
        b_wants = cur_a is None or right_rank[b][a] < right_rank[b].get(cur_a, len(cand))
        if a_wants and b_wants:
            rows.append((a, b, s))
    return pd.DataFrame(rows, columns=["left_id", "right_id", "score"])


def _solve_stable(p: SelectionProblem) -> tuple[list[tuple[str, str]], str]:
    prop, rank = _preferences(p)
    nxt = {a: 0 for a in prop}
    holder: dict[str, str] = {}  # receiver -> proposer it holds
    free = deque(sorted(prop))
    while free:
        a = free.popleft()
        if nxt[a] >= len(prop[a]):
            continue  # a has proposed to everyone acceptable
        b = prop[a][nxt[a]]
        nxt[a] += 1
        cur = holder.get(b)
        if cur is None:
            holder[b] = a
        elif rank[b][a] < rank[b][cur]:
            holder[b] = a
            free.append(cur)
        else:
            free.append(a)
    if p.proposer == "left":
        chosen = [(a, b) for b, a in holder.items()]
    else:
        chosen = [(b, a) for b, a in holder.items()]
    return sorted(chosen), f"deferred acceptance ({p.proposer} side proposes)"


def _solve_capacity(p: SelectionProblem) -> tuple[list[tuple[str, str]], str]:
    cand = p.candidates[(p.candidates["score"] > 0).to_numpy()]
    edges = [
        (a, b, s)
        for a, b, s in zip(cand["left_id"], cand["right_id"], cand["score"].astype(float), strict=False)
        if p.capacity_of(a) != 0 and p.capacity_of(b) != 0
    ]
    if not edges:
        return [], "min-cost flow (networkx)"
    if not p.two_sided:
        return _solve_capacity_milp(p, edges)
    import networkx as nx

    graph = nx.DiGraph()
    lefts = sorted({a for a, _, _ in edges})
    rights = sorted({b for _, b, _ in edges})
    degree: dict[str, int] = defaultdict(int)
    for a, b, _ in edges:
        degree[a] += 1
        degree[b] += 1
    # An entity can never use more capacity than it has pairs.
    cap_l = {a: min(p.capacity_of(a) or degree[a], degree[a]) for a in lefts}
    cap_r = {b: min(p.capacity_of(b) or degree[b], degree[b]) for b in rights}
    flow = min(sum(cap_l.values()), sum(cap_r.values()))
    graph.add_node("source", demand=-flow)
    graph.add_node("sink", demand=flow)
    graph.add_edge("source", "sink", capacity=flow, weight=0)  # unused capacity goes round
    for a in lefts:
        graph.add_edge("source", ("L", a), capacity=cap_l[a], weight=0)
    for b in rights:
        graph.add_edge(("R", b), "sink", capacity=cap_r[b], weight=0)
    for a, b, s in edges:
        graph.add_edge(("L", a), ("R", b), capacity=1, weight=-int(round(s * _FLOW_SCALE)))
    result = nx.network_simplex(graph)[1]
    chosen = [(a, b) for a, b, _ in edges if result[("L", a)].get(("R", b), 0) > 0]
    return sorted(chosen), "min-cost flow (networkx network simplex)"


def _solve_capacity_milp(p: SelectionProblem, edges: list[tuple[str, str, float]]) -> tuple[list, str]:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    entities = sorted({a for a, _, _ in edges} | {b for _, b, _ in edges})
    index = {e: i for i, e in enumerate(entities)}
    rows, cols = [], []
    for j, (a, b, _) in enumerate(edges):
        rows += [index[a], index[b]]
        cols += [j, j]
    matrix = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(entities), len(edges)))
    upper = np.array(
        [p.capacity_of(e) if p.capacity_of(e) is not None else len(edges) for e in entities], dtype=float
    )
    res = milp(
        c=-np.array([s for _, _, s in edges]),
        constraints=LinearConstraint(matrix.tocsr(), -np.inf, upper),
        integrality=np.ones(len(edges)),
        bounds=Bounds(0, 1),
    )
    if res.x is None:
        raise MatcherError(f"the capacity assignment solver failed: {res.message}")
    chosen = [(a, b) for (a, b, _), x in zip(edges, res.x, strict=False) if x > 0.5]
    return sorted(chosen), "integer programme (scipy HiGHS; the two sides overlap)"


_SOLVERS = {
    "top_k": _solve_top_k,
    "hungarian": _solve_hungarian,
    "stable": _solve_stable,
    "capacity": _solve_capacity,
}


# --------------------------------------------------------------------------------------------
# Facade
# --------------------------------------------------------------------------------------------
def select(
    suggestions: pd.DataFrame,
    method: str = "top_k",
    *,
    k: int | None = None,
    cap: int | None = None,
    min_score: float | None = None,
    forbidden: pd.DataFrame | str | Path | Iterable | None = None,
    capacities: Mapping[str, int] | pd.DataFrame | str | Path | None = None,
    side: str = "left",
    proposer: str = "left",
) -> Selection:
    """Choose the docking pairs that get a meeting.

    Parameters
    ----------
    suggestions : pandas.DataFrame
        Docking suggestions (at least ``left_id, right_id, score``; every other column is kept).
    method : {"top_k", "hungarian", "stable", "capacity"}
        See the module docstring.
    k : int, optional
        Keep only each entity's ``k`` best pairs (whose lists count: ``side``).
    cap : int, optional
        Most meetings per entity (``top_k`` and ``capacity``; default 1 for ``capacity``).
    min_score : float, optional
        Drop pairs scoring below this.
    forbidden : DataFrame, path or iterable, optional
        Pairs that must not meet (``left_id, right_id[, reason]``), in either orientation:
        already partners, same owner, excluded by a planner.
    capacities : mapping, DataFrame or path, optional
        Per-entity meeting capacities (``id, capacity``), overriding ``cap``.
    side : {"left", "right", "either", "both"}
        For ``k``: whose top-k lists decide.
    proposer : {"left", "right"}
        For ``stable``: which side proposes (that side gets its best stable matching).

    Returns
    -------
    Selection
        Use ``.pairs`` for the shortlist, ``.check_validity()`` to re-check it, ``.explanation``
        and ``.unmatched`` for what limited it.

    Raises
    ------
    MatcherError, ValidationError
        Bad arguments or a bad suggestions table. An input where nothing can be selected is not
        an error: the Selection has ``status == "infeasible"`` and says why.
    """
    problem = build_problem(
        suggestions,
        method,
        k=k,
        cap=cap,
        min_score=min_score,
        forbidden=forbidden,
        capacities=capacities,
        side=side,
        proposer=proposer,
    )
    explanation: list[str] = list(problem.notes)
    if method == "stable" and not problem.two_sided and len(problem.candidates):
        both = sorted(set(problem.candidates["left_id"]) & set(problem.candidates["right_id"]))
        explanation.append(
            "stable matching needs two separate sides, but these entities appear as both left and "
            f"right: {_list(both)}; use method 'hungarian' or 'capacity'"
        )
        return _result(problem, [], "deferred acceptance (not run)", explanation, infeasible=True)
    chosen, solver = _SOLVERS[method](problem)
    return _result(problem, chosen, solver, explanation, infeasible=False)


def _list(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _names(frame: pd.DataFrame) -> dict[str, str]:
    """Entity id -> display name (Chinese / English) from the suggestion name columns."""
    out: dict[str, str] = {}
    for side in ("left", "right"):
        zh, en = f"{side}_name_zh", f"{side}_name_en"
        for row in frame.itertuples(index=False):
            entity = getattr(row, f"{side}_id")
            if entity in out:
                continue
            parts = [getattr(row, c) for c in (zh, en) if c in frame.columns]
            parts = [str(x) for x in parts if not pd.isna(x) and str(x)]
            out[entity] = " / ".join(parts)
    return out


def _result(
    p: SelectionProblem, chosen: list[tuple[str, str]], solver: str, explanation: list[str], infeasible: bool
) -> Selection:
    chosen_set = set(chosen)
    frame = p.suggestions
    keys = list(zip(frame["left_id"], frame["right_id"], strict=False))
    is_chosen = np.array([key in chosen_set for key in keys], dtype=bool)
    pairs = _sort_pairs(frame[is_chosen])
    pairs.insert(0, "selection_rank", np.arange(1, len(pairs) + 1))

    partner: dict[str, list[str]] = defaultdict(list)
    for a, b in chosen:
        partner[a].append(b)
        partner[b].append(a)
    removed_reason = dict(
        zip(zip(p.removed["left_id"], p.removed["right_id"], strict=False), p.removed["reason"], strict=False)
    )
    rows = []
    for (a, b), s, sel in zip(keys, frame["score"], is_chosen, strict=False):
        if sel:
            continue
        reason = removed_reason.get((a, b)) or _why_not(p, a, b, partner)
        rows.append((a, b, s, reason))
    not_selected = pd.DataFrame(rows, columns=["left_id", "right_id", "score", "reason"])

    names = _names(frame)
    unmatched_rows = []
    for side_name, col in (("left", "left_id"), ("right", "right_id")):
        for entity in sorted(set(frame[col])):
            if partner.get(entity):
                continue
            unmatched_rows.append(
                (entity, side_name, names.get(entity, ""), _why_unmatched(p, entity, partner))
            )
    unmatched = pd.DataFrame(unmatched_rows, columns=["entity_id", "side", "name", "reason"])
    unmatched = unmatched.drop_duplicates("entity_id").reset_index(drop=True)

    blocking = (
        blocking_pairs(p, dict(chosen))
        if p.method == "stable" and not infeasible
        else pd.DataFrame(columns=["left_id", "right_id", "score"])
    )
    if p.method == "stable" and len(blocking):
        explanation.append(f"{len(blocking)} blocking pair(s): both entities prefer each other")
    if not chosen and not infeasible:
        infeasible = True
        explanation.append(_why_empty(p))
    elif len(p.removed):
        counts = p.removed["reason"].str.split(":").str[0].str.replace(r"score .* below", "below", regex=True)
        parts = [f"{n} {why}" for why, n in counts.value_counts().sort_index().items()]
        explanation.append(f"filters removed {len(p.removed)} pair(s): {', '.join(parts)}")
    return Selection(
        problem=p,
        solver=solver,
        pairs=pairs,
        not_selected=not_selected,
        unmatched=unmatched,
        blocking_pairs=blocking,
        status="infeasible" if infeasible else "ok",
        explanation=explanation,
    )


def _why_not(p: SelectionProblem, a: str, b: str, partner: Mapping[str, list[str]]) -> str:
    for entity in (a, b):
        limit = p.capacity_of(entity)
        have = partner.get(entity, [])
        if limit == 0:
            return f"{entity} has capacity 0"
        if limit is not None and len(have) >= limit:
            return f"{entity} is already paired with {_list(sorted(have), 3)} (limit {limit})"
    if p.method == "top_k" and p.k is not None:
        return f"not among the {p.k} best of its {p.side} entity"
    if p.method in ("hungarian", "capacity"):
        return "leaving this pair out gives a higher total score"
    return "not chosen"


def _why_unmatched(p: SelectionProblem, entity: str, partner: Mapping[str, list[str]]) -> str:
    if p.capacity_of(entity) == 0:
        return "capacity is 0"
    mine = p.suggestions[(p.suggestions["left_id"] == entity) | (p.suggestions["right_id"] == entity)]
    alive = p.candidates[(p.candidates["left_id"] == entity) | (p.candidates["right_id"] == entity)]
    if alive.empty:
        gone = p.removed[(p.removed["left_id"] == entity) | (p.removed["right_id"] == entity)]
        kinds = gone["reason"].str.split(":").str[0].str.replace(r"score .* below", "below", regex=True)
        parts = [f"{n} {why}" for why, n in kinds.value_counts().sort_index().items()]
        return f"all {len(mine)} candidate pair(s) were filtered out ({', '.join(parts)})"
    others = sorted(set(alive["left_id"]).union(alive["right_id"]) - {entity})
    if (alive["score"] <= 0).all() and p.method in ("hungarian", "capacity"):
        return "its remaining pairs score 0 or less and would not raise the total"
    return f"its {len(others)} remaining candidate(s) ({_list(others, 4)}) went to other pairs"


def _why_empty(p: SelectionProblem) -> str:
    if p.suggestions.empty:
        return "the suggestions table is empty"
    if p.candidates.empty:
        kinds = p.removed["reason"].str.split(":").str[0].str.replace(r"score .* below", "below", regex=True)
        parts = [f"{n} {why}" for why, n in kinds.value_counts().sort_index().items()]
        best = float(p.suggestions["score"].max())
        text = f"no pair passes the filters: {', '.join(parts)}"
        if p.min_score is not None:
            text += f" (best score {best:.3f}, minimum {p.min_score:g})"
        return text
    zero = sorted(
        e for e in set(p.candidates["left_id"]).union(p.candidates["right_id"]) if p.capacity_of(e) == 0
    )
    if zero:
        return f"no pair fits the capacities; entities with capacity 0: {_list(zero)}"
    return "no pair has a positive score, so none raises the total"
