"""Assignment solvers: each takes a :class:`~matcher.meetings.problem.SelectionProblem` and returns
the selected ``(left_id, right_id)`` pairs and the algorithm in words.

``top_k`` is greedy by score under the caps; ``hungarian`` is ``scipy.optimize.linear_sum_assignment``
(``networkx.max_weight_matching`` when the sides overlap); ``stable`` is deferred acceptance;
``capacity`` is a min-cost flow with networkx (an integer programme with scipy when the sides
overlap). :func:`blocking_pairs` checks a stable matching.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from matcher.exceptions import MatcherError
from matcher.meetings.problem import SelectionProblem, top_k_mask

#: Scores are scaled to integers for the network simplex, which is exact only on integers.
_FLOW_SCALE = 10**9
#: Beyond this many cells the dense Hungarian matrix would not fit in memory comfortably.
_MAX_DENSE_CELLS = 25_000_000


def _open_pairs(p: SelectionProblem, cand: pd.DataFrame) -> pd.DataFrame:
    """Candidate pairs whose two entities both have capacity left (not 0)."""
    return cand[
        [
            p.capacity_of(a) != 0 and p.capacity_of(b) != 0
            for a, b in zip(cand["left_id"], cand["right_id"], strict=False)
        ]
    ]


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
    cand = _open_pairs(p, cand)
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
    cand = _open_pairs(p, p.candidates)
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
    cand = _open_pairs(p, p.candidates)
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


#: Method name -> solver.
SOLVERS: dict[str, Callable[[SelectionProblem], tuple[list[tuple[str, str]], str]]] = {
    "top_k": _solve_top_k,
    "hungarian": _solve_hungarian,
    "stable": _solve_stable,
    "capacity": _solve_capacity,
}
