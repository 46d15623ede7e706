"""Shortlist selection: filters, the four methods against oracles, explanations, validity."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment, linprog
from strategies import pair_tables

from matcher.cli import main
from matcher.exceptions import MatcherError, ValidationError
from matcher.meetings.select import select
from matcher.meetings.tables import read_suggestions

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bipartite_suggestions(max_side: int = 5, max_pairs: int = 12):
    """Small two-sided suggestion tables; scores on a coarse grid so ties happen."""
    return pair_tables("L", "R", max_side=max_side, max_pairs=max_pairs)


def pair_set(selection) -> set[tuple[str, str]]:
    return set(zip(selection.pairs["left_id"], selection.pairs["right_id"], strict=False))


def scipy_optimum(frame: pd.DataFrame) -> float:
    """Oracle: best one-to-one total from scipy on the dense matrix (missing pair = 0)."""
    lefts, rights = sorted(set(frame.left_id)), sorted(set(frame.right_id))
    w = np.zeros((len(lefts), len(rights)))
    for a, b, s in zip(frame.left_id, frame.right_id, frame.score, strict=False):
        w[lefts.index(a), rights.index(b)] = max(s, 0)
    r, c = linear_sum_assignment(w, maximize=True)
    return float(w[r, c].sum())


@SETTINGS
@given(bipartite_suggestions())
def test_hungarian_total_equals_scipy_and_networkx_optimum(frame):
    sel = select(frame, "hungarian")
    assert sel.check_validity()
    assert sel.total_score == pytest.approx(scipy_optimum(frame))
    graph = nx.Graph()
    for a, b, s in zip(frame.left_id, frame.right_id, frame.score, strict=False):
        graph.add_edge(a, b, weight=s)
    best = sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph))
    assert sel.total_score == pytest.approx(best)


def independent_blocking(frame: pd.DataFrame, matched: dict[str, str]) -> list[tuple[str, str]]:
    """Blocking pairs computed from scratch: score descending, ties by smaller id."""

    def key_l(a, b):
        return (-frame_score[(a, b)], b)

    def key_r(a, b):
        return (-frame_score[(a, b)], a)

    frame_score = {(a, b): s for a, b, s in zip(frame.left_id, frame.right_id, frame.score, strict=False)}
    left_of = {b: a for a, b in matched.items()}
    out = []
    for a, b in frame_score:
        if matched.get(a) == b:
            continue
        a_wants = a not in matched or key_l(a, b) < key_l(a, matched[a])
        b_wants = b not in left_of or key_r(a, b) < key_r(left_of[b], b)
        if a_wants and b_wants:
            out.append((a, b))
    return out


@SETTINGS
@given(bipartite_suggestions(), st.sampled_from(["left", "right"]))
def test_stable_matching_has_no_blocking_pairs(frame, proposer):
    sel = select(frame, "stable", proposer=proposer)
    matched = dict(pair_set(sel))
    assert len(matched) == len(sel.pairs)  # one-to-one on the left
    assert len(set(matched.values())) == len(matched)  # and on the right
    assert independent_blocking(frame, matched) == []
    assert sel.blocking_pairs.empty
    assert sel.check_validity()


def brute_force_capacity(frame: pd.DataFrame, capacity: dict[str, int]) -> float:
    edges = [(a, b, s) for a, b, s in zip(frame.left_id, frame.right_id, frame.score, strict=False)]
    best = 0.0
    for r in range(len(edges) + 1):
        for subset in itertools.combinations(edges, r):
            load: dict[str, int] = {}
            for a, b, _ in subset:
                load[a] = load.get(a, 0) + 1
                load[b] = load.get(b, 0) + 1
            if all(n <= capacity.get(e, 1) for e, n in load.items()):
                best = max(best, sum(s for _, _, s in subset))
    return best


def lp_capacity(frame: pd.DataFrame, capacity: dict[str, int]) -> float:
    """Oracle: the LP relaxation (integral for bipartite b-matching, totally unimodular)."""
    entities = sorted(set(frame.left_id) | set(frame.right_id))
    a_ub = np.zeros((len(entities), len(frame)))
    for j, (a, b) in enumerate(zip(frame.left_id, frame.right_id, strict=False)):
        a_ub[entities.index(a), j] = 1
        a_ub[entities.index(b), j] = 1
    res = linprog(
        -frame.score.to_numpy(),
        A_ub=a_ub,
        b_ub=[capacity.get(e, 1) for e in entities],
        bounds=(0, 1),
        method="highs",
    )
    return -res.fun


@SETTINGS
@given(bipartite_suggestions(max_side=4, max_pairs=9), st.data())
def test_capacity_total_equals_brute_force_and_lp(frame, data):
    entities = sorted(set(frame.left_id) | set(frame.right_id))
    capacity = {e: data.draw(st.integers(0, 3), label=e) for e in entities}
    sel = select(frame, "capacity", capacities=capacity)
    assert sel.check_validity()
    assert sel.total_score == pytest.approx(brute_force_capacity(frame, capacity))
    assert sel.total_score == pytest.approx(lp_capacity(frame, capacity))


@SETTINGS
@given(
    bipartite_suggestions(),
    st.integers(1, 3),
    st.integers(1, 3),
    st.sampled_from(["left", "right", "either", "both"]),
)
def test_top_k_respects_k_and_cap(frame, k, cap, side):
    sel = select(frame, "top_k", k=k, cap=cap, side=side)
    assert sel.check_validity()
    load = pd.concat([sel.pairs.left_id, sel.pairs.right_id]).value_counts()
    assert (load <= cap).all()
    if side == "left":
        assert (sel.pairs.left_id.value_counts() <= k).all()


def test_filters_forbidden_either_orientation_min_score_and_self_pairs():
    frame = pd.DataFrame(
        {
            "left_id": ["C1", "C1", "C2", "C3", "C3"],
            "right_id": ["M1", "M2", "M1", "C3", "M2"],
            "score": [0.9, 0.8, 0.7, 0.99, 0.1],
        }
    )
    forbid = pd.DataFrame({"left_id": ["M1"], "right_id": ["C1"], "reason": ["already partners"]})
    sel = select(frame, "top_k", forbidden=forbid, min_score=0.2)
    assert pair_set(sel) == {("C1", "M2"), ("C2", "M1")}
    reasons = dict(
        zip(
            zip(sel.not_selected.left_id, sel.not_selected.right_id, strict=False),
            sel.not_selected.reason,
            strict=False,
        )
    )
    assert reasons[("C1", "M1")] == "forbidden: already partners"
    assert reasons[("C3", "C3")] == "an entity cannot meet itself"
    assert reasons[("C3", "M2")].startswith("score 0.100 below minimum 0.2")
    c3 = sel.unmatched.set_index("entity_id").loc["C3", "reason"]
    assert "filtered out" in c3 and "below minimum" in c3


def test_infeasible_input_is_explained_not_raised():
    frame = pd.DataFrame({"left_id": ["C1", "C2"], "right_id": ["M1", "M1"], "score": [0.3, 0.2]})
    sel = select(frame, "hungarian", min_score=0.5)
    assert sel.status == "infeasible" and sel.pairs.empty
    assert "below minimum 0.5" in sel.explanation[0] and "best score 0.300" in sel.explanation[0]
    with pytest.raises(MatcherError, match="below minimum"):
        sel.raise_if_infeasible()
    zero = select(frame, "capacity", capacities={"M1": 0})
    assert zero.status == "infeasible" and "M1" in zero.explanation[0]


def test_stable_without_two_sides_is_explained():
    # A triangle (cluster–cluster docking) has no two sides, whichever way the rows are turned.
    frame = pd.DataFrame(
        {"left_id": ["C1", "C2", "C3"], "right_id": ["C2", "C3", "C1"], "score": [0.5, 0.4, 0.3]}
    )
    sel = select(frame, "stable")
    assert sel.status == "infeasible" and "C1, C2, C3" in sel.explanation[0]
    # Hungarian and capacity switch to general-graph solvers instead.
    assert select(frame, "hungarian").total_score == pytest.approx(0.5)
    assert select(frame, "capacity", cap=2).total_score == pytest.approx(1.2)


def test_check_validity_names_broken_constraints():
    frame = pd.DataFrame(
        {"left_id": ["C1", "C1", "C2"], "right_id": ["M1", "M2", "M1"], "score": [0.9, 0.8, 0.7]}
    )
    sel = select(frame, "hungarian", forbidden=[("C2", "M1")], min_score=0.75)
    sel.pairs = frame.copy()  # a planner pasted every pair back in
    with pytest.raises(ValidationError) as info:
        sel.check_validity()
    reasons = " | ".join(info.value.problems["reason"])
    assert "C1 has 2 meetings, breaking one-to-one" in reasons
    assert "pair is forbidden" in reasons
    assert "below minimum score 0.75" in reasons


def test_bad_arguments_and_bad_tables_are_clear_errors(tmp_path):
    frame = pd.DataFrame({"left_id": ["C1"], "right_id": ["M1"], "score": [0.5]})
    with pytest.raises(MatcherError, match="use method 'capacity'"):
        select(frame, "hungarian", cap=2)
    with pytest.raises(MatcherError, match="unknown selection method"):
        select(frame, "greedy")
    bad = pd.DataFrame({"left_id": ["C1", None], "right_id": ["M1", "M2"], "score": ["x", "0.2"]})
    with pytest.raises(ValidationError) as info:
        select(bad)
    assert set(info.value.problems["row"]) == {2, 3}
    with pytest.raises(ValidationError, match="lacks column"):
        select(frame, forbidden=pd.DataFrame({"a": ["C1"]}))


def test_read_suggestions_keeps_leading_zeros_and_decodes_gbk(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("left_id,right_id,left_name_zh,score\n00123,M001,常熟,0.5\n".encode("gbk"))
    frame = read_suggestions(path)
    assert frame.loc[0, "left_id"] == "00123" and frame.loc[0, "left_name_zh"] == "常熟"


def test_cli_shortlist_writes_every_format(tmp_path, capsys):
    src = tmp_path / "suggestions.csv"
    pd.DataFrame(
        {
            "left_id": ["007", "007", "C2"],
            "right_id": ["M1", "M2", "M1"],
            "score": [0.9, 0.8, 0.85],
            "reason_zh": ["互补", "互补", "渠道"],
            "reason_en": ["supply", "supply", "channel"],
            "w_supply": [0.4] * 3,
        }
    ).to_csv(src, index=False)
    forbid = tmp_path / "forbid.csv"
    forbid.write_text("left_id,right_id,reason\nM1,007,same owner\n", encoding="utf-8")
    for ext in ("csv", "xlsx", "json"):
        out = tmp_path / f"shortlist.{ext}"
        code = main(
            [
                "shortlist",
                "--suggestions",
                str(src),
                "--method",
                "hungarian",
                "--forbid",
                str(forbid),
                "--out",
                str(out),
            ]
        )
        assert code == 0
        back = read_suggestions(out)
        assert sorted(zip(back.left_id, back.right_id, strict=False)) == [("007", "M2"), ("C2", "M1")]
    run = pd.read_excel(tmp_path / "shortlist.xlsx", sheet_name="run", dtype=str)
    assert {"weights.supply", "run_id", "created_at", "method"} <= set(run["key"])
    assert (
        main(["shortlist", "--suggestions", str(src), "--min-score", "2", "--out", str(tmp_path / "x.csv")])
        == 2
    )
    assert "nothing could be shortlisted" in capsys.readouterr().err


def test_pair_listed_from_both_sides_is_one_pair_regression():
    """`suggest` lists each cluster's markets and each market's clusters: C–M and M–C rows."""
    frame = pd.DataFrame(
        {
            "left_id": ["C1", "M1", "C2", "M2"],
            "right_id": ["M1", "C1", "M1", "C2"],
            "left_name_zh": ["常熟", "轻纺城", "柯桥", "钱清"],
            "right_name_zh": ["轻纺城", "常熟", "轻纺城", "柯桥"],
            "score": [0.6, 0.7, 0.5, 0.4],
        }
    )
    sel = select(frame, "top_k")
    assert sorted(pair_set(sel)) == [("C1", "M1"), ("C2", "M1"), ("C2", "M2")]
    row = sel.pairs.set_index(["left_id", "right_id"]).loc[("C1", "M1")]
    assert (row.score, row.left_name_zh, row.right_name_zh) == (0.7, "常熟", "轻纺城")
    assert "1 row(s) repeated a pair" in sel.explanation[0]
    assert select(frame, "stable").status == "ok"  # two sides once the rows are turned
