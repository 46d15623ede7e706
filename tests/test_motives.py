"""The transfer and market motives (issue 14): province facts, the right direction of the chain
motive, home markets, 0..1 scores, complete reasons, gap partners across regions, and an evaluation
that never measures on what it fitted."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from matcher.docking import evidence
from matcher.docking import features as F
from matcher.docking import geo as G
from matcher.docking.engine import DockingEngine
from matcher.docking.provinces import province_facts
from matcher.ingest.dataset import load_dataset
from matcher.learning import evaluate as ev
from matcher.learning.crossval import HeldOut, build_lists, fold_weights, group_of


@pytest.fixture(scope="module")
def data():
    return load_dataset()


@pytest.fixture(scope="module")
def engine(data):
    return DockingEngine(data)


def reason_of(engine, kind, a, b):
    listed = engine.suggest(kind, for_id=a, top=200)
    hit = listed[listed["right_id"] == b]
    assert len(hit) == 1, (a, b)
    return hit.iloc[0]


def pair_row(engine, kind, a, b):
    scored = engine.score(kind)
    hit = scored[((scored["left_id"] == a) & (scored["right_id"] == b)) | ((scored["left_id"] == b) & (scored["right_id"] == a))]
    assert len(hit) == 1, (a, b)
    return hit.iloc[0]


# --- province facts ---------------------------------------------------------------------------

def test_province_facts_have_a_source_for_every_value(data):
    P = data.provinces
    assert len(P) == 31
    for value, source in (("min_wage_monthly_cny", "min_wage_source"), ("avg_wage_urban_cny", "avg_wage_source"),
                          ("cotton_output_10k_t", "cotton_source")):
        known = P[value].notna()
        assert (P.loc[known, source].fillna("").str.startswith("http")).all(), value
    assert (P["neighbours_source"].str.startswith("http")).all()
    # the gap filled this session (Shandong's 2010 minimum wage) carries its page
    shandong = P.set_index("province_en").loc["Shandong"]
    assert shandong["min_wage_monthly_cny"] == 920 and "jnxjqwl.com" in shandong["min_wage_source"]


def test_neighbours_are_symmetric_and_frameworks_link_provinces(data):
    P = province_facts(data.provinces)
    assert (P.neighbours == P.neighbours.T).all()
    gd, gx, zj, xj = P.code(["Guangdong", "Guangxi", "Zhejiang", "Xinjiang"])
    assert P.shared(np.array([gd]), np.array([gx]))[0] == "pan_prd;pearl_xijiang"
    assert P.shared(np.array([zj]), np.array([xj]))[0] == ""
    # an empty cotton cell with a source means no or negligible output (0); no row means unknown
    assert P.cotton[gd] == 0.0 and np.isnan(P.cotton[P.code(["Atlantis"])[0]])


def test_labour_raw_material_and_framework_motives(engine):
    # Dalang (Guangdong, 1100 yuan) -> Pingnan (Guangxi, 820): a 25% lower minimum wage, neighbours
    row = pair_row(engine, "east_west", "C057", "C161")
    assert row["f_labour"] == pytest.approx(1.0) and row["f_framework"] == 1.0
    assert row["f_raw_material"] == 0.0  # Pingnan does not spin
    # Ningbo -> Aksu: Xinjiang's cotton base feeds a spinning receiver; wage gap 1100 -> 960
    row = pair_row(engine, "east_west", "C039", "C123")
    assert row["f_raw_material"] == pytest.approx(1.0)
    assert row["f_labour"] == pytest.approx((1100 - 960) / 1100 / 0.25, rel=1e-5)
    # Haining -> Quliang (Henan): Henan's minimum wage is not in the table, so labour is unknown
    row = pair_row(engine, "east_west", "C020", "C099")
    assert np.isnan(row["f_labour"]) and row["c_labour"] == 0.0


def test_unknown_province_facts_are_named_unknown(engine):
    top = engine.suggest("east_west", for_id="C020", top=200)
    quliang = top[top["right_id"] == "C099"].iloc[0]
    assert "unknown: " in quliang["reason_en"] and "labour-cost gradient" in quliang["reason_en"]
    assert "未知：" in quliang["reason_zh"] and "劳动力成本梯度" in quliang["reason_zh"]


# --- direction of the chain motive --------------------------------------------------------------

def test_chain_motive_names_the_real_flow(engine):
    """Fengxin's yarn feeds Keqiao's weaving; not Keqiao's weaving feeding Fengxin's (yarn) dyeing."""
    top = engine.suggest("east_west", for_id="C025", top=200)
    fengxin = top[top["right_id"] == "C082"].iloc[0]
    assert "spinning feeds weaving" in fengxin["reason_en"]
    assert "纺纱→织造" in fengxin["reason_zh"]
    assert "weaving feeds dyeing" not in fengxin["reason_en"]


# --- cluster-market: home markets and roles ------------------------------------------------------

def test_home_market_is_not_a_docking_suggestion(engine):
    pairs = engine.features("cluster_market").pairs
    have = set(zip(pairs["left_id"], pairs["right_id"], strict=False))
    for cluster, market in (("C025", "M001"), ("C025", "M002"), ("C020", "M011"), ("C056", "M022"), ("C038", "M012")):
        assert (cluster, market) not in have, (cluster, market)
    # the same prefecture city is not "home": Xiaoshan and Hangzhou's Sijiqing market, 12 km apart
    E = engine.entities("cluster_market")
    li, ri = E.positions(["C018"]), E.positions(["M012"])
    assert not F.home_market(E, li, ri, G.distance_km(E, li, ri))[0]
    report = engine.candidate_report("cluster_market").set_index("rule")
    assert report.loc["excluded: home_market", "pairs"] > 30


def test_a_market_with_no_trading_link_is_no_suggestion(engine, data):
    """Hangzhou's Sijiqing garment market and Haining China Leather City were 5th and 8th in Keqiao's
    list (fabric weaving and dyeing) on docking experience and nearness alone. A market that neither
    trades a cluster's goods nor supplies its inputs is no candidate; unknown trades are not "no link"."""
    from matcher.docking import candidates as C

    listed = engine.suggest("cluster_market", for_id="C025", top=10)
    assert not set(listed["right_id"]) & {"M011", "M012", "M013"}
    assert len(listed) == 10 and (listed["f_trade"] > 0).all()
    report = engine.candidate_report("cluster_market").set_index("rule")
    assert report.loc["excluded: no_trade_link", "pairs"] > 100
    E = engine.entities("cluster_market")
    li, ri = E.positions(["C025", "C025", "C025", "C020", "C078"]), E.positions(["M012", "M011", "M005", "M012", "M011"])
    km = G.distance_km(E, li, ri)
    # Keqiao and the garment and leather markets: no link; Keqiao and Shengze's silk-fabric market, Haining's
    # leather-garment town and Sijiqing (a channel for its garments), Tong'erbao and the leather market's branch
    assert C.no_trade_link(E, li, ri, km, {}).tolist() == [True, True, False, False, False]
    # a cluster whose chain stages are unknown (a planner's own file) keeps the markets near it
    clusters = data.clusters.copy()
    clusters.loc[clusters["id"] == "C025", ["stages", "buys", "products"]] = ""
    blind = DockingEngine(dataclasses.replace(data, clusters=clusters))
    E2 = blind.entities("cluster_market")
    a, b = E2.positions(["C025"]), E2.positions(["M012"])
    assert not C.no_trade_link(E2, a, b, G.distance_km(E2, a, b), {})[0]
    assert "M012" in set(blind.features("cluster_market").pairs.query("left_id == 'C025'")["right_id"])


def test_china_textile_city_is_a_fabric_market(data):
    m = data.markets.set_index("id").loc["M001"]
    assert "raw_materials" not in m["roles"] and "fabrics" in m["roles"]


def test_a_market_for_knitters_is_no_channel_for_a_cluster_that_does_not_knit(engine):
    """Datang Sock City (sock yarn and socks) was Keqiao's second market and Xintang's fourth, read as a
    yarn source for their weaving. A market trading knitted goods only trades with knitters: Keqiao's and
    Xintang's lists hold fabric and garment markets; a knitting cluster keeps Datang's full trade."""
    from matcher.docking.materials import knitted_only

    E = engine.entities("cluster_market")
    only = set(E.table["id"].to_numpy()[knitted_only(E)])
    assert {"M006", "M013", "M023"} <= only and not only & {"M001", "M020", "M027", "M028", "M029"}
    assert not (knitted_only(E) & (E.table["entity_type"] != "market").to_numpy()).any()  # markets only
    for cluster in ("C025", "C056"):  # Keqiao (weaving, dyeing), Xintang (denim)
        listed = engine.suggest("cluster_market", for_id=cluster, top=10)
        assert "M013" not in set(listed["right_id"]), cluster
    have = set(zip(engine.features("cluster_market").pairs["left_id"], engine.features("cluster_market").pairs["right_id"],
                   strict=True))
    assert ("C025", "M013") not in have  # no trading link: not even a candidate (no_trade_link)
    knitter = pair_row(engine, "cluster_market", "C032", "M013")
    assert knitter["f_trade"] >= 0.5  # Cangnan knits underwear: Datang trades with it
    assert set(engine.suggest("cluster_market", for_id="C025", top=5)["right_id"]) & {"M005", "M020", "M014", "M008"}


def test_a_market_for_other_apparel_lines_is_no_channel_for_a_clusters_garments(engine):
    """Humen's kidswear market was Xintang's 5th market and Zhili's kidswear city its 3rd, as channels for
    its jeans. A market that sells named apparel lines only (children's wear, women's wear, ...) is a
    channel for the garments of clusters of those lines (casual wear goes with men's and women's wear); its
    other trades stay whole, and a side that names no line, or lingerie beside women's wear, is never a
    mismatch. Garments of a line ("denim garments") and a quoted title ('China No.1 apparel street') are not
    garments in general, and a weaving town's "casual fabrics" name no line of garments."""
    from matcher.docking.materials import APPAREL_LINES, apparel_lines

    E = engine.entities("cluster_market")
    lines, general = apparel_lines(E)

    def named(i):
        return {n for k, n in enumerate(APPAREL_LINES) if lines[E.index[i]] >> k & 1}
    assert [named(i) for i in ("C056", "M019", "M007", "M016", "M012", "M022")] == [
        {"casual"}, {"childrenswear"}, {"childrenswear"}, {"womenswear"}, {"womenswear"}, {"casual"}]
    assert general[E.index["M021"]] and general[E.index["M003"]]  # Liuhua, Changshu: garments in general
    assert not general[E.index["M012"]] and not general[E.index["M022"]] and not general[E.index["M019"]]
    assert named("C050") == set()  # Shishi Hongshan weaves and dyes "casual fabrics": no garments
    xintang = set(engine.suggest("cluster_market", for_id="C056", top=10)["right_id"])
    assert not xintang & {"M019", "M035"} and {"M020", "M021"} <= xintang
    zhili = set(engine.suggest("cluster_market", for_id="C029", top=10)["right_id"])
    assert {"M019", "M035"} <= zhili and not zhili & {"M012", "M016", "M017", "M022"}

    def whole(cluster, market):
        return F.market_channel(E, np.array([E.index[cluster]]), np.array([E.index[market]]))[0][0]
    assert pair_row(engine, "cluster_market", "C056", "M019")["lr_channel"] == pytest.approx(0.25 * whole("C056", "M019"))
    assert pair_row(engine, "cluster_market", "C029", "M012")["lr_channel"] == pytest.approx(0.25 * whole("C029", "M012"))
    zhili_city = pair_row(engine, "cluster_market", "C056", "M007")  # Zhili's cloth is still Xintang's fabric channel
    assert zhili_city["lr_channel"] > 0.25 * whole("C056", "M007")
    # Zhili, Yudu: their own line; Gurao's lingerie, Haizhu: no line named; Xintang's jeans, Jiangyin's men's
    # wear: casual beside women's and men's wear
    for cluster, market in (("C029", "M019"), ("C029", "M035"), ("C086", "M016"), ("C064", "M016"), ("C069", "M019"),
                            ("C056", "M016"), ("C001", "M024")):
        assert pair_row(engine, "cluster_market", cluster, market)["lr_channel"] == pytest.approx(whole(cluster, market))
        assert whole(cluster, market) > 0, (cluster, market)


def test_an_input_the_home_market_trades_is_not_sought_far_away(engine):
    """Keqiao buys its yarn at Qianqing, its home market next door: Shenyang Wuai's yarn, 1,500 km away, was
    its second market. An input a cluster's home market already trades counts ``home_supplied`` (0.25) in
    another market's sourcing; a cluster with no home market keeps it whole, and the candidate rules are
    unchanged (the pair is still a candidate, scored lower)."""
    E = engine.entities("cluster_market")
    supplied = F.home_supply(E)
    keqiao, jingling = E.index["C025"], E.index["C027"]
    spinning = F.STAGE_NAMES.index("spinning")
    assert supplied[keqiao, spinning] > 0 and not supplied[jingling].any()  # Qianqing trades yarn; Jingling has no home market
    wuai = pair_row(engine, "cluster_market", "C025", "M029")
    whole = F.market_sourcing(E, np.array([keqiao]), np.array([E.index["M029"]]))[0][0]
    assert wuai["rl_sourcing"] == pytest.approx(0.25 * whole) and whole > 0
    assert pair_row(engine, "cluster_market", "C027", "M002")["rl_sourcing"] == pytest.approx(1.0)
    assert "M029" not in set(engine.suggest("cluster_market", for_id="C025", top=10)["right_id"])
    assert engine.params("cluster_market")["home_supplied"] == 0.25


# --- scores a planner can read -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["east_west", "cluster_market", "cluster_cluster"])
def test_scores_are_0_to_1_and_do_not_inflate_with_weight_scale(engine, kind):
    base = engine.suggest(kind, top=5)
    assert base["score"].between(0, 1).all()
    weights = engine.weights(kind)
    tripled = engine.suggest(kind, top=5, weights={f: 3 * w for f, w in weights.items()})
    np.testing.assert_allclose(tripled["score"].to_numpy(), base["score"].to_numpy(), rtol=1e-6)
    # raising one weight moves scores but keeps them in 0..1
    one = dict(weights, product=10 * weights["product"] + 1)
    assert engine.suggest(kind, top=50, weights=one)["score"].between(0, 1).all()


def test_reason_names_every_motive_above_the_minimum_strongest_first(engine):
    from matcher.docking.explain import MIN_CONTRIBUTION

    kind = "east_west"
    top = engine.suggest(kind, top=30)
    feats = engine.features(kind).features
    labels = {"policy": ("counterpart-aid", "east-west cooperation", "counterpart support", "pairing policy"),
              "transfer_park": ("transfer pilot park",), "raw_material": ("raw-material base",),
              "framework": ("both in the", "neighbouring provinces"), "labour": ("lower labour cost",)}
    for _, row in top.iterrows():
        for f, words in labels.items():
            if row[f"c_{f}"] >= MIN_CONTRIBUTION:
                assert any(w in row["reason_en"] for w in words), (f, row["reason_en"])
    first = top.iloc[0]
    strongest = max(feats, key=lambda f: (first[f"c_{f}"], f == "distance"))
    assert strongest != "distance"


# --- gaps ------------------------------------------------------------------------------------------

def test_chain_gap_partners_come_from_every_region_the_kinds_reach(engine, data):
    from matcher.docking.chain import build_chain_graph, chain_gaps

    G = build_chain_graph(data, include_enterprises=False)
    gaps = chain_gaps(G, "C025", partners=5, partner_scores=engine.partner_scores("C025"))
    spinning = gaps[gaps["gap_stage"] == "spinning"]
    assert set(spinning["partner_kind"]) == {"cluster_cluster", "east_west"}
    assert (spinning["partner_region"] != "east").any()


# --- evaluation: nothing measured on what was fitted -------------------------------------------------

def test_docking_experience_is_recomputed_without_the_held_out_item(engine):
    E, pf = engine.entities("east_west"), engine.features("east_west")
    known = ev.read_known(ev.KNOWN_DOCKINGS, "east_west", E.table)
    held = HeldOut(E, pf, known.pairs)
    row = pf.pairs.index[(pf.pairs["left_id"] == "C038") & (pf.pairs["right_id"] == "C123")][0]
    # Hangzhou has D03, S06 (a Hangzhou spinner in Shaya), S30 (Nanchong) and S34 (Xinxiang); Aksu has D03,
    # S07, S08, S19, S66 (a Tongxiang firm) and dockings named by region (Zhejiang firms: D10, D11; Nantong
    # and Guangzhou firms: S41; Jiaxing firms: S66 again, one item), which count for it too; both saturate at
    # EXPERIENCE_FULL (2) items
    hangzhou_items = {"D03", "S06", "S30", "S34"}
    aksu_items = {"D03", "D10", "D11", "S07", "S08", "S19", "S41", "S66"}
    assert pf.X.at[row, "experience"] == 1.0 and held.X({"D03"}).at[row, "experience"] == 1.0
    assert held.X(hangzhou_items).at[row, "experience"] == 0.5  # Aksu's six other items are left
    assert held.X(hangzhou_items | {"S07", "S08", "S19", "D10", "D11", "S66"}).at[row, "experience"] == 0.25
    assert held.X(aksu_items | {"S06", "S30"}).at[row, "experience"] == 0.25  # Hangzhou's S34 is left
    assert held.X(aksu_items | hangzhou_items).at[row, "experience"] == 0.0


def test_a_reason_says_when_the_two_have_already_docked_with_each_other(engine):
    """Each side's experience is a count; a pair that docked together (S07: Keqiao and Aksu) is named as
    such, with its items, in both languages; a pair of two experienced entities that never met is not."""
    met = reason_of(engine, "east_west", "C025", "C123")
    assert "this pair already docked: S07" in met["reason_en"] and "本对已有有据对接：S07" in met["reason_zh"]
    assert met["d_documented"] == "S07"
    apart = reason_of(engine, "east_west", "C039", "C161")  # Ningbo and Pingnan: each documented, never together
    assert apart["d_documented"] == "" and "already docked" not in apart["reason_en"]
    market = reason_of(engine, "cluster_market", "C123", "M001")
    assert "this pair already docked: S19" in market["reason_en"]
    # either order of the two ends
    E = engine.entities("east_west")
    assert list(evidence.pair_items(E, np.array([E.index["C029"], E.index["C093"]]),
                                    np.array([E.index["C094"], E.index["C029"]]))) == ["S01", "S01"]


def test_the_docking_corridor_counts_documented_dockings_between_the_two_provinces(engine):
    """Pairs link their sides' provinces, dockings named by region link the query's province with every
    province the region covers (named, or the provinces of the places named), each item once."""
    E = engine.entities("east_west")
    counts = evidence.corridor_counts(E)
    code = dict(zip(E.provinces.names, range(len(E.provinces.names)), strict=True))
    # Zhejiang - Xinjiang: D03's pairs with Aksu, D10 and D11 for Aksu, D13's Zhejiang firms in the XPCC
    # park, S06 (Hangzhou - Shaya), S07 (Keqiao - Aksu), S08 (Datang - Aksu), S19 (China Textile City - Aksu),
    # S42-S44 (Zhuji's and Zhejiang firms in Alar), S51 (Zhejiang firms in Urumqi), S66-S68 (Tongxiang's and
    # Jiaxing's firms in Aksu and Shaya)
    assert counts[code["Zhejiang"], code["Xinjiang"]] == 15 == counts[code["Xinjiang"], code["Zhejiang"]]
    assert counts[code["Jiangsu"], code["Anhui"]] == 2  # places: D25's Changshu, D26's Wuxi
    assert counts[code["Fujian"], code["Anhui"]] == 2  # D25's Shishi, S52's Fujian firms in Suzhou (Anhui)
    assert counts[code["Hebei"], code["Shaanxi"]] == 0
    dalang_pingnan = pair_row(engine, "east_west", "C057", "C161")  # Guangdong - Guangxi: D35 and S16
    assert dalang_pingnan["f_corridor"] == 1.0 and dalang_pingnan["d_corridor"] == 2
    assert pair_row(engine, "east_west", "C075", "C143")["f_corridor"] == 0  # Hebei - Chongqing: none
    # no preset weighs the corridor (it lowered the ranks of the dockings found by search, docs/evaluation.md):
    # the reason names it only when a planner's weights do
    assert "docking corridor" not in reason_of(engine, "east_west", "C057", "C161")["reason_en"]
    weights = {**engine.weights("east_west"), "corridor": 0.1}
    listed = engine.suggest("east_west", for_id="C057", top=200, weights=weights)
    reason = listed[listed["right_id"] == "C161"].iloc[0]
    assert "docking corridor (2 documented dockings between the two provinces)" in reason["reason_en"]
    assert "省际对接通道（两省之间已有 2\u00a0项有据对接）" in reason["reason_zh"]


def test_a_provinces_corridors_list_its_documented_dockings_with_their_pages(engine):
    """What the cluster profile shows behind the corridor motive: per other province, the items and pages."""
    E = engine.entities("east_west")
    data = load_dataset()
    corridors = evidence.province_corridors(E, "Zhejiang", evidence.item_sources(data.dockings, data.regional_dockings))
    top = corridors.set_index("province")
    assert list(corridors["province"][:2]) == ["Xinjiang", "Henan"]  # most documented first
    assert top.at["Xinjiang", "items"] == "D03;D10;D11;D13;S06;S07;S08;S19;S42;S43;S44;S51;S66;S67;S68"
    assert top.at["Xinjiang", "n"] == 15
    assert top.at["Anhui", "items"] == "S01;S09;S82" and top.at["Anhui", "n"] == 3  # Zhili's, Haining's and Xiaoshan's parks
    assert "http://tex-asia.com/news/201811/21/45535.html" in top.at["Xinjiang", "sources"]
    counts = evidence.corridor_counts(E)
    code = list(E.provinces.names).index
    assert all(counts[code("Zhejiang"), code(p)] == n for p, n in zip(corridors["province"], corridors["n"], strict=True))
    assert evidence.province_corridors(E, "Atlantis").empty


def test_the_docking_corridor_is_recomputed_without_the_held_out_item(engine):
    """The corridor reads the documented dockings as experience does: the evaluation holds the item out."""
    E, pf = engine.entities("east_west"), engine.features("east_west")
    known = ev.read_known(ev.KNOWN_DOCKINGS, "east_west", E.table)
    held = HeldOut(E, pf, known.pairs)
    row = pf.pairs.index[(pf.pairs["left_id"] == "C057") & (pf.pairs["right_id"] == "C161")][0]
    assert pf.X.at[row, "corridor"] == 1.0
    assert held.X({"D35"}).at[row, "corridor"] == 0.5  # the pair and the row named by region: one item
    assert held.X({"D35", "S16"}).at[row, "corridor"] == 0.0
    assert held.X({"D03"}).at[row, "corridor"] == 1.0
    aksu = pf.pairs.index[(pf.pairs["left_id"] == "C038") & (pf.pairs["right_id"] == "C123")][0]
    zhejiang_xinjiang = {"D03", "D10", "D11", "S06", "S07", "S08", "S19", "S42", "S43", "S44", "S51", "S66", "S67",
                         "S68"}
    assert held.X(zhejiang_xinjiang).at[aksu, "corridor"] == 0.5  # D13 is left
    assert held.X(zhejiang_xinjiang | {"D13"}).at[aksu, "corridor"] == 0.0


def test_the_evidence_index_gives_what_evidence_values_gives(engine):
    """The nested cross-validation reads held-out evidence through ``EvidenceIndex`` (fast); it must be
    ``evidence_values`` (the reference) for any held-out items and pairs, regional rows included."""
    E, pf = engine.entities("east_west"), engine.features("east_west")
    li, ri = pf.pairs["li"].to_numpy(), pf.pairs["ri"].to_numpy()
    index = evidence.EvidenceIndex(E)
    pair = (E.index["C038"], E.index["C123"])
    for items, pairs in (((), ()), (("D03",), (pair,)), (("S41", "D10", "S07"), ()), ((), (pair[::-1],)),
                         (("D35", "S16", "M04", "nope"), ())):
        fast = index.values(li, ri, evidence.EVIDENCE_FEATURES, exclude_items=items, exclude_pairs=pairs)
        slow = evidence.evidence_values(E, li, ri, evidence.EVIDENCE_FEATURES, exclude_items=items, exclude_pairs=pairs)
        for name in evidence.EVIDENCE_FEATURES:
            np.testing.assert_array_equal(fast[name], slow[name])
    everything = set(E.dockings["item"])
    assert not index.values(li, ri, ["experience"], exclude_items=everything)["experience"].any()


def test_fold_weights_never_see_the_held_out_group(engine):
    kind = "east_west"
    E, pf = engine.entities(kind), engine.features(kind)
    pairs = ev.read_known(ev.KNOWN_DOCKINGS, kind, E.table).pairs
    lists = build_lists(kind, E, pf, pairs)
    groups = sorted(set(group_of(pairs)))
    features = list(pf.features)
    prior = np.array([engine.weights(kind)[f] for f in features])
    held = HeldOut(E, pf, pairs)
    first = fold_weights(held, lists, groups, prior, features)
    # scramble the held-out group's lists: its own fold's weights must not move
    scrambled = dict(lists)
    scrambled["D03"] = [(rows[::-1], 0) for rows, _ in lists["D03"]]
    again = fold_weights(held, scrambled, groups, prior, features)
    np.testing.assert_allclose(again["D03"][0], first["D03"][0])
    assert set(first) == set(groups)


def test_evaluation_reports_cv_intervals_ratio_and_rules(engine):
    result = ev.evaluate_known(engine, ev.KNOWN_DOCKINGS, "east_west", k=10, seed=0)
    text = result.report()
    assert "engine_cv MRR / best baseline" in text and "95% CI" in text
    # the figure without any hand-set weight is printed too, with its hits@K
    assert "engine_cv_uniform MRR / best baseline" in text and "no weight set by hand" in text
    assert "strict rows only" in text and "relaxed rows only" in text
    for origin in ("reference", "search", "search2", "search3"):
        assert f"{origin} items only" in text
    best, ratio, lo, hi = result.ratio()
    assert best in ev.BASELINES and lo <= ratio <= hi
    m = result.metrics.set_index("method")
    for method in ("engine", "engine_cv", "engine_cv_uniform", *ev.BASELINES):
        assert m.at[method, "queries"] == 80


def test_tied_scores_get_the_expected_rank_not_the_id_order():
    ids = np.array(["A", "B", "C", "D"], dtype=object)
    flat = np.zeros(4)
    assert ev.rank_of(flat, ids, 3, np.array([0, 1, 2])) == pytest.approx(2.5)


def test_exports_show_rounded_scores(engine, tmp_path):
    """CSV for Excel holds scores to 4 decimals (memory and streamed writers alike); XLSX keeps the
    exact value and shows 4 decimals, as the CSV rounds it; Parquet keeps every digit."""
    import openpyxl

    for backend in ("memory", "blocks"):
        engine.suggest("east_west", 3, backend=backend, out=tmp_path / f"{backend}.csv")
        csv = pd.read_csv(tmp_path / f"{backend}.csv", encoding="utf-8-sig")
        assert (csv["score"] == csv["score"].round(4)).all() and (csv["c_chain"] == csv["c_chain"].round(4)).all()
    exact = engine.suggest("east_west", 3)
    assert (exact["score"] != exact["score"].round(4)).any()
    engine.suggest("east_west", 3, out=tmp_path / "s.parquet")
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"], exact["score"])
    engine.suggest("east_west", 3, out=tmp_path / "s.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("score") + 1)
    assert cell.number_format == "0.0000" and cell.value == pytest.approx(exact["score"].iloc[0], abs=0)


def test_materials_must_match_for_supply_motives(engine):
    """Cashmere yarn does not feed a denim mill: Qinghe's (cashmere) partners are cashmere clusters,
    and Qinghe's cashmere trade is not among Xintang's (denim) markets; cotton and man-made fibres are
    one family (Keqiao's chemical-fibre weaving and Aksu's cotton yarn stay complementary)."""
    qinghe = engine.suggest("east_west", for_id="C075", top=5)
    assert {"C134", "C138"} <= set(qinghe["right_id"])  # Lingwu and Ordos, cashmere in the west
    xintang = engine.suggest("cluster_market", for_id="C056", top=10)
    assert "M041" not in set(xintang["right_id"])
    row = pair_row(engine, "east_west", "C025", "C123")
    assert row["f_chain"] > 0.8
    leather = pair_row(engine, "cluster_market", "C056", "M011")
    assert leather["f_trade"] == pytest.approx(0.25 * 0.25, rel=1e-5)  # apparel: 1 of 4 making stages


def test_hostile_province_and_docking_files_are_named_by_file_row_and_column(tmp_path):
    """A data folder's own provinces.csv and known_dockings.csv are checked like every input:
    negative or text amounts, unknown or repeated provinces, empty ids; nothing is loaded."""
    import csv
    import shutil

    from matcher.exceptions import ValidationError
    from matcher.ingest.dataset import BUNDLED_DATA

    shutil.copy(BUNDLED_DATA / "clusters.csv", tmp_path / "clusters.csv")
    rows = list(csv.reader((BUNDLED_DATA / "provinces.csv").open(encoding="utf-8")))
    header = rows[0]
    rows[3][header.index("min_wage_monthly_cny")] = "-5"
    rows[4][header.index("cotton_output_10k_t")] = "lots"
    rows.append(rows[5])
    rows.append(["Atlantis"] + [""] * (len(header) - 1))
    with (tmp_path / "provinces.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (tmp_path / "known_dockings.csv").write_text("left,right,kind\nC001,,east_west\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_dataset(tmp_path)
    got = {(p.file.split("/")[-1], int(p.row), p.column) for p in caught.value.problems.itertuples()}
    assert got == {("provinces.csv", 4, "min_wage_monthly_cny"), ("provinces.csv", 5, "cotton_output_10k_t"),
                   ("provinces.csv", 33, "province_en"), ("provinces.csv", 34, "province_en"),
                   ("known_dockings.csv", 2, "right")}


def test_branch_market_networks_come_from_the_markets_names(engine):
    E = engine.entities("cluster_market")
    zh, en = F.branch_networks(E)
    assert zh[E.index["M011"]] == "佟二堡海宁皮革城;成都海宁皮革城"
    assert en[E.index["M011"]] == "Tong'erbao Haining Leather City;Chengdu Haining Leather City"
    assert zh[E.index["M001"]] == ""  # "轻纺城" alone is too short a name to mean a branch
    assert pair_row(engine, "cluster_market", "C099", "M011")["f_branch"] > 0  # Quliang, Henan: apparel
    assert pair_row(engine, "cluster_market", "C038", "M011")["f_branch"] == 0  # Hangzhou: same province


def test_a_market_trade_link_counts_once_the_stronger_way(engine):
    """A fabric market is where a weaving cluster sells and a garment cluster buys: the trade motive is
    the stronger of the two ways, not their sum, and the reason names both ways when both hold."""
    pf = engine.features("cluster_market")
    pairs = pf.pairs
    both = pairs[(pairs["lr_channel"] > 0) & (pairs["rl_sourcing"] > 0)]
    assert len(both) > 0
    assert (both["trade"] == np.maximum(both["lr_channel"], both["rl_sourcing"])).all()
    assert "channel" not in pf.features and "sourcing" not in pf.features
    row = pair_row(engine, "cluster_market", "C001", "M005")  # Jiangyin and the Shengze silk market
    assert row["f_trade"] == pytest.approx(max(row["lr_channel"], row["rl_sourcing"]))
    reason = reason_of(engine, "cluster_market", "C001", "M005")
    # it supplies more of Jiangyin's needs than it sells of Jiangyin's making: the supply is named first
    assert row["rl_sourcing"] > row["lr_channel"] > 0
    assert "market supplies its weaving inputs and fabrics market for its weaving products" in reason["reason_en"]
    assert "市场供应织造原料，面料市场销售其织造产品" in reason["reason_zh"]
    # Keqiao buys fabric at China Textile City, its home market: for it the Shengze market is first a channel
    keqiao = pair_row(engine, "cluster_market", "C025", "M005")
    assert keqiao["lr_channel"] > keqiao["rl_sourcing"] > 0
    assert "fabrics market for its weaving products and supplies its weaving inputs" in \
        reason_of(engine, "cluster_market", "C025", "M005")["reason_en"]


def test_a_market_that_trades_several_of_a_clusters_stages_is_named_for_the_most_finished(engine):
    """Xintang spins, weaves, dyes and sews denim; Guangzhou's Zhongda trades yarn and fabric: it is
    Xintang's fabrics market, not a raw-materials market for its yarn (the first stage traded)."""
    row = pair_row(engine, "cluster_market", "C056", "M020")
    assert F.STAGE_NAMES[int(row["d_channel_stage"])] == "weaving"
    reason = reason_of(engine, "cluster_market", "C056", "M020")
    assert "fabrics market for its weaving products" in reason["reason_en"]
    assert "面料市场销售其织造产品" in reason["reason_zh"]
    assert "raw materials market" not in reason["reason_en"]
    # a cluster making garments and accessories sells its garments in a market trading both
    both = np.zeros((1, len(F.STAGE_NAMES)), np.float32)
    both[0, [F.STAGE_NAMES.index("apparel"), F.STAGE_NAMES.index("accessories")]] = 1
    assert F.STAGE_NAMES[int((both * (1 + F.FINISHED)).argmax(axis=1)[0])] == "apparel"


def test_a_fabric_market_is_the_whole_main_source_of_a_garment_cluster(engine):
    """Sourcing is measured against the cluster's own strongest input: fabric is all a garment cluster
    buys in the main, so China Textile City supplies Xiashan (homewear, apparel only) in full, as a yarn
    market supplies a weaving town in full, though weaving -> apparel is a weaker IO link than
    spinning -> home textiles; an input a cluster partly makes itself still counts half."""
    xiashan = pair_row(engine, "cluster_market", "C066", "M001")
    assert xiashan["rl_sourcing"] == pytest.approx(1.0)
    assert xiashan["f_trade"] == pytest.approx(1.0)
    jingling = pair_row(engine, "cluster_market", "C027", "M002")  # a weaving town, Qianqing's yarn
    assert jingling["rl_sourcing"] == pytest.approx(1.0)
    own = pair_row(engine, "cluster_market", "C001", "M001")  # a weaving cluster: fabric it makes itself
    assert own["rl_sourcing"] == pytest.approx(0.5)
    sourcing = engine.features("cluster_market").pairs["rl_sourcing"]
    assert sourcing.between(0, 1).all()


def test_a_national_market_is_a_cross_region_channel_for_goods_it_trades(engine):
    """reach counts for a cluster in another province whose goods or inputs the market trades: not for
    its own province's clusters, and not for a market that trades nothing the cluster makes or needs."""
    same = pair_row(engine, "cluster_market", "C020", "M001")  # Haining and China Textile City: Zhejiang
    assert same["f_reach"] == 0
    far = pair_row(engine, "cluster_market", "C056", "M007")  # Xintang and Zhili's cotton-cloth market
    assert far["f_reach"] == pytest.approx(far["f_trade"]) and far["f_reach"] > 0
    leather = pair_row(engine, "cluster_market", "C056", "M011")  # denim and leather: materials differ
    assert leather["f_reach"] == pytest.approx(leather["f_trade"]) and leather["f_reach"] < 0.1


def test_a_markets_production_bases_are_the_nearby_clusters_it_sells_for(engine):
    """The "market plus production base" model: Wuhan's Hanzhengjie sells the garments of Hanchuan and
    Tianmen, 42 and 106 km away (S35, S36). The base motive is the cluster's channel in the market,
    decaying at ``base_scale_km``; a far cluster the market also sells for, or one it only supplies, gets
    (almost) none of it; and in the market's own list its production bases lead."""
    scale = engine.params("cluster_market")["base_scale_km"]
    for cluster in ("C109", "C110"):
        row = pair_row(engine, "cluster_market", cluster, "M033")
        assert row["lr_channel"] > 0 and row["d_km"] < 150
        assert row["f_base"] == pytest.approx(row["lr_channel"] * np.exp(-row["d_km"] / scale), rel=1e-5)
        assert row["f_base"] > 0.15
    scored = engine.score("cluster_market")
    far = scored[(scored["right_id"] == "M033") & (scored["d_km"] > 1000) & (scored["lr_channel"] > 0)]
    assert len(far) and (far["f_base"] < 0.001).all()
    assert (scored.loc[scored["lr_channel"] == 0, "f_base"] == 0).all()  # a market that only supplies it
    top = engine.suggest("cluster_market", for_id="M033", top=10)
    listed = set(top["left_id"]) | set(top["right_id"])
    assert {"C109", "C110"} <= listed
    assert "市场周边生产基地" in reason_of(engine, "cluster_market", "C109", "M033")["reason_zh"]


def test_branch_markets_go_to_trading_towns_in_full(engine):
    """Haining China Leather City's chain markets sit in wholesale towns: a cluster that trades gets the
    branch motive in full, one that does not gets half of it."""
    E = engine.entities("cluster_market")
    trading = E.stages[:, F.STAGE_NAMES.index("trading")] > 0
    quliang = pair_row(engine, "cluster_market", "C099", "M011")
    assert trading[E.index["C099"]] and quliang["f_branch"] == pytest.approx(quliang["lr_channel"])
    kaixian = pair_row(engine, "cluster_market", "C143", "M011")
    assert not trading[E.index["C143"]]
    assert kaixian["f_branch"] == pytest.approx(F.BRANCH_WITHOUT_TRADING * kaixian["lr_channel"])


def test_city_level_pairings_hold_for_that_city_and_area_only(engine):
    """Ningbo supports Wanzhou (Three Gorges counterpart support): Ningbo <-> Wanzhou is an area-level
    pairing; Haining (Zhejiang, not Ningbo) gets nothing from that row, and the reason names the policy."""
    ningbo = pair_row(engine, "east_west", "C039", "C145")
    assert ningbo["f_policy"] == pytest.approx(1.0)
    reason = reason_of(engine, "east_west", "C039", "C145")
    assert "Three Gorges counterpart support" in reason["reason_en"] and "对口支援三峡库区" in reason["reason_zh"]
    haining = pair_row(engine, "east_west", "C020", "C145")
    assert haining["f_policy"] == 0
    jiangsu_hubei = engine.score("east_west")  # Jiangsu supports Zigui: no other Hubei cluster gains
    E = engine.entities("east_west")
    province = dict(zip(E.table["id"], E.table["province"], strict=True))
    rows = jiangsu_hubei[[province[a] == "Jiangsu" and province[b] == "Hubei"
                              for a, b in zip(jiangsu_hubei["left_id"], jiangsu_hubei["right_id"], strict=True)]]
    assert len(rows) and (rows["f_policy"] == 0).all()
    E = engine.entities("east_west")
    policies = E.policies
    city_rows = policies[policies["area_a"].fillna("") != ""]
    assert len(city_rows) >= 20 and not city_rows["source"].str.startswith("general knowledge").any()


def test_a_cotton_base_is_raw_material_for_cotton_users_only(engine):
    """Xinjiang's cotton is a raw-material base for Keqiao's weaving, not for Qinghe's cashmere: a
    sender (or receiver) whose texts name materials without cotton gets no cotton motive; one that
    names no material keeps it (unknown is never a mismatch)."""
    assert pair_row(engine, "east_west", "C025", "C123")["f_raw_material"] == pytest.approx(1.0)
    assert pair_row(engine, "east_west", "C075", "C123")["f_raw_material"] == 0  # Qinghe: cashmere
    assert pair_row(engine, "east_west", "C075", "C129")["f_raw_material"] == 0
    E = engine.entities("east_west")
    assert F.uses_cotton(E, np.array([E.index["C129"]]))[0]  # Yining names no material
    assert not F.uses_cotton(E, np.array([E.index["C075"]]))[0]


def test_a_shared_specialty_material_is_a_transfer_motive(engine):
    """Qinghe's cashmere moves to the wool and cashmere bases of Ningxia and Inner Mongolia: both work
    the same specialty material, the reason says which; cotton alone is no specialty."""
    ordos = pair_row(engine, "east_west", "C075", "C138")
    assert ordos["f_specialty"] == 1
    reason = reason_of(engine, "east_west", "C075", "C138")
    assert "both work wool and cashmere" in reason["reason_en"] and "同为羊毛羊绒产区" in reason["reason_zh"]
    assert pair_row(engine, "east_west", "C025", "C123")["f_specialty"] == 0  # Keqiao and Aksu: cotton
    top = engine.suggest("east_west", for_id="C075", top=5)
    assert (top["f_specialty"] == 1).all()


def test_a_shared_apparel_line_is_a_transfer_motive(engine):
    """Zhili's children's wear moves to the kidswear towns of Anhui (Wangjiang, documented as S01), Xintang's
    jeans to Guang'an's denim park: both make the same apparel line (as CNTAC names its garment towns), the
    reason says which. Lines that differ, or a side that names none, are no shared specialty."""
    wangjiang = pair_row(engine, "east_west", "C029", "C093")
    assert wangjiang["f_specialty"] == 1 and wangjiang["d_specialty"] == "childrenswear"
    reason = reason_of(engine, "east_west", "C029", "C093")
    assert "both make children's wear" in reason["reason_en"] and "同为童装产区" in reason["reason_zh"]
    denim = reason_of(engine, "east_west", "C056", "C154")
    assert "both make casual wear and denim" in denim["reason_en"] and "同为休闲装（含牛仔）产区" in denim["reason_zh"]
    assert pair_row(engine, "east_west", "C029", "C154")["f_specialty"] == 0  # children's wear, denim
    assert pair_row(engine, "east_west", "C029", "C143")["f_specialty"] == 0  # Kaixian names no line
    assert pair_row(engine, "east_west", "C050", "C154")["f_specialty"] == 0  # Hongshan's "casual fabrics": no garments
    # a material and a line, both named
    from matcher.docking.explain import _phrase

    both = _phrase("specialty", {"d_specialty": "silk;womenswear"}, 1)
    assert both == "both work silk, both make women's wear", both


def test_a_pair_with_nothing_to_say_reads_no_strong_reason_and_a_distance_alone_is_said():
    """Rows with no phrase, no unknown and no distance read "no strong reason"; any one of them is
    said instead (the distance alone, or the unknown attribute)."""
    from matcher.docking.explain import reasons

    features = ["product", "distance"]
    columns = {"f_product": np.array([0.0, 0.0, np.nan]), "w_product": np.array([0.5, 0.5, 0.5]),
               "c_product": np.zeros(3), "f_distance": np.array([np.nan, 0.9, np.nan]),
               "w_distance": np.array([0.0, 0.5, 0.0]), "c_distance": np.array([0.0, 0.45, 0.0]),
               "d_km": np.array([np.nan, 12.4, np.nan])}
    zh, en = reasons(columns, features)
    assert list(en) == ["no strong reason", "12\u00a0km", "unknown: " + F.FEATURES["product"].label_en]
    assert list(zh) == ["无明显对接理由", "12\u00a0公里", "未知：" + F.FEATURES["product"].label_zh]


@pytest.mark.parametrize("kind", ["east_west", "cluster_market"])
def test_a_number_and_its_unit_are_never_split_across_lines(engine, kind):
    """The data grid wraps a cell only at plain spaces: "东部集群 259 公里" ended a line at 259 and put
    公里 alone on the next. A number is joined to its unit by a no-break space, in both languages, and
    the grid's line count (``tables.lines_needed``) breaks before the number instead."""
    import re

    from app_components.tables import lines_needed, text_px

    extra = {"corridor": 0.1, "labour": 0.1, "raw_material": 0.1} if kind == "east_west" else {}
    weights = {**engine.weights(kind), **extra}
    listed = engine.suggest(kind, top=20, weights=weights)
    zh, en = listed["reason_zh"].astype(str), listed["reason_en"].astype(str)
    assert zh.str.contains("\u00a0公里").all() and en.str.contains("\u00a0km").all()
    split = r"\d (?:公里|项|元/月|万吨)|\d (?:km|kt|yuan/month)\b"
    assert not zh.str.contains(split).any() and not en.str.contains(split).any()
    if kind == "east_west":
        assert zh.str.contains(re.escape("\u00a0元/月")).any() and zh.str.contains("\u00a0项").any()
    # the grid's line count agrees: a cell just too narrow for the text ends its first line before the
    # number, not between the number and its unit, and needs no third line for the unit
    text = "就近转移（承接地最近的东部集群 1,100\u00a0公里）"
    assert lines_needed(text, text_px("就近转移（承接地最近的东部集群 1,100") + 20) == 2


def test_nearby_transfer_is_nearness_among_the_receivers_senders_scale_free(engine):
    E = engine.entities("east_west")
    scored = engine.score("east_west")

    def values(receiver):
        mine = scored[scored["right_id"] == receiver]
        return mine.set_index("left_id")["f_nearby"], mine.set_index("left_id")["d_km"]

    near, km = values("C086")  # Yudu (Ganzhou), 200 km from the nearest eastern cluster
    east = E.table[(E.table["region"] == "east") & (E.table["entity_type"] == "cluster")]
    u = E.index["C086"]
    every = G.haversine_km(E.lat[u], E.lon[u], east["lat"].to_numpy(float), east["lon"].to_numpy(float))
    nearest = float(np.nanmin(every))
    for left in near.index:
        assert near[left] == pytest.approx(max(nearest, 100) / max(km[left], 100), rel=1e-4)
    # a far receiver does not lose to a near one: Aksu's senders are all 3,000-4,000 km away
    aksu, _ = values("C123")
    assert aksu.min() > 0.6 and near.min() < 0.3
    # no coordinates: unknown, not zero
    lost = E.lat.copy()
    E.lat[u] = np.nan
    try:
        pairs = F.pairs_of(E, E.positions(["C025"]), np.array([u]))
        assert np.isnan(F.compute(E, pairs, ["nearby"], {})["nearby"][0])
    finally:
        E.lat[:] = lost
    row = reason_of(engine, "east_west", "C086", near.idxmax())
    assert f"就近转移（承接地最近的东部集群 {nearest:,.0f}\u00a0公里）" in row["reason_zh"]
    assert f"nearby transfer (the receiver's nearest eastern cluster: {nearest:,.0f}\u00a0km)" in row["reason_en"]
