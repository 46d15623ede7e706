"""Shortlists: choose which suggested docking pairs get a meeting.

The input is a suggestions DataFrame (one row per ``(left_id, right_id)`` pair with a ``score``;
see the working agreement), the output a :class:`~matcher.meetings.selection.Selection`. As in the
``matching`` library the problem, the solver and the result are kept apart, one module each:

:mod:`matcher.meetings.tables`
    reading and checking the input tables (suggestions, forbidden pairs, capacities);
:mod:`matcher.meetings.problem`
    :class:`~matcher.meetings.problem.SelectionProblem`: the filtered candidates and the constraints;
:mod:`matcher.meetings.solvers`
    a solver per method;
:mod:`matcher.meetings.selection`
    the result, :class:`~matcher.meetings.selection.Selection`, which can check itself.

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

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from matcher.meetings.problem import build_problem
from matcher.meetings.selection import Selection, build_selection, list_text
from matcher.meetings.solvers import SOLVERS


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
            f"right: {list_text(both)}; use method 'hungarian' or 'capacity'"
        )
        return build_selection(problem, [], "deferred acceptance (not run)", explanation, infeasible=True)
    chosen, solver = SOLVERS[method](problem)
    return build_selection(problem, chosen, solver, explanation, infeasible=False)
