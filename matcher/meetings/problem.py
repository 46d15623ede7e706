"""The selection problem: the candidate pairs that pass every filter and the constraints.

:func:`build_problem` checks the arguments of :func:`matcher.meetings.select.select`, cleans the
suggestions, puts every pair the same way round, applies the filters (self-pairs, forbidden
pairs, minimum score, each entity's k best) and returns a :class:`SelectionProblem`. Nothing is
solved here (:mod:`matcher.meetings.solvers` does that).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.docking.ranking import ranks_in_lists
from matcher.exceptions import MatcherError
from matcher.ingest.problems import capped_warnings
from matcher.meetings.ids import KnownIds
from matcher.meetings.tables import PAIR, capacity_table, prepare_suggestions, read_forbidden

METHODS: tuple[str, ...] = ("top_k", "hungarian", "stable", "capacity")
SIDES: tuple[str, ...] = ("left", "right", "either", "both")


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
    notes : tuple of str
        What the cleaning did (repeated pairs), for the summary.
    warnings : tuple of str
        Rows of the side tables that apply to nothing (a forbidden pair never suggested, a capacity
        for an id in no suggestion: often a mistyped id), each naming its file and row.
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
    warnings: tuple[str, ...] = ()

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


def sort_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Pairs by score (highest first), ties by ``left_id`` then ``right_id``."""
    return frame.sort_values(
        ["score", "left_id", "right_id"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)


def _rank_within(frame: pd.DataFrame, by: str, other: str) -> pd.Series:
    """1-based rank of each pair in its entity's list: the engine's rule (``docking.ranking``)."""
    return pd.Series(ranks_in_lists(frame[by], frame[other], frame["score"].to_numpy(dtype=np.float64)),
                     index=frame.index)


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
    frame = prepare_suggestions(suggestions).reset_index(drop=True)
    # an id of the side tables that only looks like a suggested one would silently not apply
    known = KnownIds.of({*frame["left_id"], *frame["right_id"]}, "the suggestions")
    cap_table = capacity_table(capacities, known=known)
    caps = dict(zip(cap_table["id"], cap_table["capacity"], strict=True))
    if method in ("hungarian", "stable"):
        if cap is not None and cap > 1 or any(v > 1 for v in caps.values()):
            raise MatcherError(
                f"method {method!r} gives each entity at most one meeting; for more meetings per "
                "entity use method 'capacity' (or 'top_k' with a cap)"
            )
    forbidden_frame = read_forbidden(forbidden, known=known)

    # `suggest` lists partners for both sides, so a pair may come as C–M and as M–C: put every
    # pair the same way round (clusters left, markets right) and keep its best-scoring row once.
    frame, flipped = orient_pairs(frame)
    frame = sort_pairs(frame)
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
    warnings = _unused_rows(forbidden_frame, cap_table, set(keys), known.ids)
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
        warnings=tuple(warnings),
    )


def _unused_rows(forbidden: pd.DataFrame, capacities: pd.DataFrame, pairs: set[tuple[str, str]],
                 ids: set[str]) -> list[str]:
    """Warnings for the rows of the side tables that apply to nothing: a forbidden pair that is no
    suggested pair (either way round) and a capacity for an id in no suggestion. Ids are compared as
    typed (``c001`` is not ``C001``), so a mistyped id would otherwise silently let a forbidden pair meet."""

    def absent(*values: str) -> str:
        missing = [v for v in dict.fromkeys(values) if v not in ids]
        if not missing:
            return "both ids are suggested, but never together"
        return (f"{' and '.join(map(repr, missing))} {'is' if len(missing) == 1 else 'are'} in no suggestion; "
                "ids are compared exactly as typed, capitals included")

    found: list[tuple[str, list[str]]] = []
    source = forbidden.attrs.get("source", "forbidden pairs")
    lines = [f"{source}, row {row}: the forbidden pair {a}–{b} is no suggested pair, so it forbids nothing "
             f"({absent(a, b)})"
             for row, a, b in zip(forbidden.index, forbidden["left_id"], forbidden["right_id"], strict=True)
             if (a, b) not in pairs and (b, a) not in pairs]
    found.append((source, lines))
    source = capacities.attrs.get("source", "capacities")
    found.append((source, [f"{source}, row {row}: the capacity for {key!r} applies to nothing ({absent(key)})"
                           for row, key in zip(capacities.index, capacities["id"], strict=True) if key not in ids]))
    return [line for source, lines in found for line in capped_warnings(lines, source)]

