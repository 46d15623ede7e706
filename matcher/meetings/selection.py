"""The result of a selection: :class:`Selection`, which says why the other pairs were not chosen
and re-checks every constraint itself (:meth:`Selection.check_validity`).

:func:`build_selection` turns a solver's chosen pairs into a ``Selection``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from matcher.exceptions import ValidationError
from matcher.meetings.problem import SelectionProblem, sort_pairs, top_k_mask
from matcher.meetings.solvers import blocking_pairs
from matcher.meetings.tables import problem_row


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
            problems.append(problem_row("selection", row, column, value, reason))

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



def list_text(items: list[str], n: int = 8) -> str:
    """The first ``n`` items joined by commas, and how many more there are."""
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


def build_selection(
    p: SelectionProblem, chosen: list[tuple[str, str]], solver: str, explanation: list[str], infeasible: bool
) -> Selection:
    """The :class:`Selection` of the ``chosen`` pairs, with the reasons for everything else."""
    chosen_set = set(chosen)
    frame = p.suggestions
    keys = list(zip(frame["left_id"], frame["right_id"], strict=False))
    is_chosen = np.array([key in chosen_set for key in keys], dtype=bool)
    pairs = sort_pairs(frame[is_chosen])
    if "selection_rank" in pairs.columns:  # a shortlist shortlisted again: its ranks are this selection's
        pairs = pairs.drop(columns="selection_rank")
        explanation.append("the input is a shortlist: its selection_rank column was replaced by this "
                           "selection's ranks")
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
            return f"{entity} is already paired with {list_text(sorted(have), 3)} (limit {limit})"
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
    return f"its {len(others)} remaining candidate(s) ({list_text(others, 4)}) went to other pairs"


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
        return f"no pair fits the capacities; entities with capacity 0: {list_text(zero)}"
    return "no pair has a positive score, so none raises the total"
