"""The chain graph: stages with IO strengths, entities' positions, chain gaps, graph export."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from matcher.docking.chain import build_chain_graph, chain_gaps, chain_position, export_graph, stage_strength
from matcher.exceptions import MatcherError
from matcher.vocab import STAGE_ORDER


@pytest.fixture(scope="module")
def G(bundled):
    return build_chain_graph(bundled)


def test_stage_nodes_carry_io_strengths(G, bundled):
    m = stage_strength(bundled.chain_links)
    assert m.max() == pytest.approx(1.0)
    edge = G.edges["stage:spinning", "stage:weaving"]
    assert edge["relation"] == "supplies"
    assert edge["weight"] == pytest.approx(m[STAGE_ORDER["spinning"], STAGE_ORDER["weaving"]])
    # apparel buys 0.32 of its inputs from cotton/chemical-fibre textiles in the 2020 IO table
    raw = bundled.chain_links.set_index(["supplier_stage", "buyer_stage"])["strength"]
    assert raw.loc[("weaving", "apparel")] == pytest.approx(0.3229, abs=1e-3)


def test_every_entity_is_linked_to_its_stages(G, bundled):
    assert G.number_of_nodes() == 11 + len(bundled.clusters) + len(bundled.markets)
    xintang = [v for v in G.successors("C056") if G.edges["C056", v]["relation"] == "works_in"]
    assert sorted(xintang) == ["stage:apparel", "stage:dyeing_finishing", "stage:spinning", "stage:weaving"]
    # markets buy from the stages whose goods they trade
    assert G.has_edge("stage:weaving", "M008") and G.edges["stage:weaving", "M008"]["relation"] == "buys_from"


def test_chain_position(G):
    keqiao = chain_position(G, "C025")
    assert keqiao["stages"] == ["fiber", "weaving", "dyeing_finishing", "trading"]
    assert "spinning" in keqiao["upstream"] and "apparel" in keqiao["downstream"]
    aksu = chain_position(G, "C123")
    zhili = chain_position(G, "C029")
    assert aksu["position"] < zhili["position"]  # spinning sits nearer the fibre end than kidswear
    with pytest.raises(MatcherError, match="C999"):
        chain_position(G, "C999")


def test_chain_gaps_name_missing_input_stages_and_partners(G):
    gaps = chain_gaps(G, "C025", partners=3)
    assert set(gaps["gap_stage"]) == {"spinning"}  # Keqiao weaves but does not spin
    assert (gaps["feeds"] == "weaving").all()
    assert gaps["partner_id"].tolist() and all(
        G.has_edge(p, "stage:spinning") for p in gaps["partner_id"]
    )
    ranked = chain_gaps(G, "C025", partners=3, partner_scores={"C123": 9.0})
    assert ranked["partner_id"].iloc[0] == "C123"  # partner scores order the partners


def test_graph_exports(G, tmp_path):
    graphml = export_graph(G, tmp_path / "chain.graphml")
    back = nx.read_graphml(graphml)
    assert back.number_of_nodes() == G.number_of_nodes() and back.number_of_edges() == G.number_of_edges()
    data = json.loads(export_graph(G, tmp_path / "chain.json").read_text(encoding="utf-8"))
    assert len(data["nodes"]) == G.number_of_nodes()
    assert any(n.get("name_zh") == "新塘" for n in data["nodes"])
    with pytest.raises(MatcherError, match="graphml"):
        export_graph(G, tmp_path / "chain.png")
