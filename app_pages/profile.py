"""Cluster profile: position in the chain, its gaps and who could fill them, top partners, history."""

import pandas as pd
import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import cache, context, finder, history, pairs, tables
from app_components.i18n import (
    fact_text,
    flag_label,
    fmt_number,
    kind_label,
    lang,
    name_of,
    plain,
    province_label,
    region_label,
    relabelled,
    stage_label,
    stages_label,
    t,
)
from matcher.docking import evidence
from matcher.docking.chain import chain_position
from matcher.docking.kinds import available
from matcher.docking.provinces import province_profile
from matcher.vocab import CLUSTER, FLAGS

data = context.data()
engine = context.engine(data)
st.title(t("page_profile"))
clusters = data.clusters.set_index("id")
options = finder.find("profile.find", list(clusters.index), data.clusters, data.version)
cluster_id = st.selectbox(
    t("pick_cluster"), options, key=relabelled("profile.cluster"), persist_state="session",
    format_func=cache.entity_labels(data).get,
)
me = clusters.loc[cluster_id]
st.header(plain(name_of(me["name_zh"], me["name_en"], cluster_id)))
st.caption(plain(f"{province_label(me['province'])} · {region_label(me['region'])} · {fact_text(me.get('city'))}"))

facts, position_col = st.columns([1, 2])
with facts:
    st.subheader(t("facts_title"))
    tables.facts(pd.DataFrame({
        t("col_feature"): [t("col_stages"), t("col_products"), t("col_designations")]
        + [flag_label(f) for f in FLAGS],
        t("col_value"): [stages_label(me["stages"]), fact_text(me.get("products")), fact_text(me.get("designations"))]
        + [t("unknown") if pd.isna(me[f]) else t("yes") if me[f] else t("no") for f in FLAGS],
    }))
    homes = engine.home_markets(cluster_id)
    if homes:
        markets = data.markets.set_index("id")
        st.caption(plain(t("home_markets", names=("、" if lang() == "zh" else "; ").join(
            name_of(markets.at[m, "name_zh"], markets.at[m, "name_en"], m) for m in homes))))
with position_col:
    st.subheader(t("position_title"))
    G = cache.chain_graph(data)
    position = chain_position(G, cluster_id)
    gaps = cache.gaps(engine, G, cluster_id)
    st.plotly_chart(cache.chain_figure(data, cluster_id, position, list(gaps["gap_stage"].unique())),
                    key="profile.chain")
    st.caption(t("position_caption") + " " + t("position_value", value=fmt_number(position["position"], 2)))

#: The corridor row links the pages of its strongest corridors; the rest are counted, not listed.
CORRIDOR_SOURCES_SHOWN = 6


def shown_sources(text: str) -> str:
    """A fact's web pages (the sources' notes are in English: the Chinese page gives their addresses),
    at most ``CORRIDOR_SOURCES_SHOWN`` of them, then how many more there are."""
    pages = list(dict.fromkeys(tables.web_addresses(text)))
    if lang() == "en" and len(pages) <= CORRIDOR_SOURCES_SHOWN:
        return text
    more = len(pages) - CORRIDOR_SOURCES_SHOWN
    return " ".join(pages[:CORRIDOR_SOURCES_SHOWN]) + (" " + t("more_sources", n=more) if more > 0 else "")


st.subheader(t("province_facts_title"))
st.caption(t("province_facts_caption"))
province = province_profile(data.provinces, me["province"])
corridors = evidence.province_corridors(engine.entities(), me["province"],
                                        evidence.item_sources(data.dockings, data.regional_dockings))
province = pd.concat([province, pd.DataFrame([{  # the docking corridor motive's facts: documented dockings
    "label_zh": t("corridors_fact"), "label_en": t("corridors_fact"), "year": "",
    "value_zh": "、".join(f"{province_label(p)} {n}" for p, n in zip(corridors["province"], corridors["n"], strict=True))
    or t("corridors_none"),
    "value_en": ", ".join(f"{p} {n}" for p, n in zip(corridors["province"], corridors["n"], strict=True))
    or t("corridors_none"),
    "source": " ".join(corridors["sources"])}])], ignore_index=True)
tables.facts(pd.DataFrame({
    t("col_fact"): province["label_zh" if lang() == "zh" else "label_en"],
    t("col_value"): province["value_zh" if lang() == "zh" else "value_en"].replace("", t("unknown")),
    t("col_year"): province["year"],
    t("col_source"): [shown_sources(x) for x in province["source"]],
}), links=[t("col_source")])

st.subheader(t("gaps_title"))
if gaps.empty:
    st.info(t("no_gaps"))
else:
    tables.show(pd.DataFrame({
        t("col_gap_stage"): [stage_label(s) for s in gaps["gap_stage"]],
        t("col_feeds"): [stage_label(s) for s in gaps["feeds"]],
        t("col_need"): gaps["need"].round(2).tolist(),
        t("col_partner"): [name_of(zh, en, i) for zh, en, i in
                           zip(gaps["partner_name_zh"], gaps["partner_name_en"], gaps["partner_id"], strict=False)],
        t("col_partner_region"): [region_label(r) if r else "" for r in gaps["partner_region"]],
        t("col_kind"): [kind_label(k, short=True) if k else "" for k in gaps["partner_kind"]],
    }), hide_index=True, key="profile.gaps")

st.subheader(t("partners_title"))
kinds = available(data, CLUSTER)
for tab, kind in zip(st.tabs([kind_label(k) for k in kinds]), kinds, strict=False):
    with tab:
        top = cache.top_partners(engine, cluster_id, kind)
        if top.empty:
            st.caption(t("not_in_kind"))
            continue
        view = pairs.table_view(top, short=False)
        tables.show(view[["rank", "right", "right_region", "score", "reason"]], hide_index=True,
                    key=f"profile.top.{kind}", wrap=["reason"], fixed={"rank": 60, "score": 80}, caps={"right": 200},
                    column_config={"score": st.column_config.NumberColumn(format="%.3f")},  # 0.680, not 0.68
                    labels={"rank": t("col_rank"), "right": t("col_top_partner"), "right_region": t("col_region"),
                            "score": t("col_score"), "reason": t("col_reason")})

st.subheader(t("history_title"))
everyone = cache.entities(data).set_index("id")
past = history.table(context.store(), cluster_id, name=lambda i: name_of(
    everyone.at[i, "name_zh"], everyone.at[i, "name_en"], i) if i in everyone.index else i)
if past.empty:
    st.caption(t("no_history"))
else:
    tables.show(past, hide_index=True, key="profile.history",  # its last text column, what was done, wraps
                wrap=[c for c in past.columns if not pd.api.types.is_numeric_dtype(past[c])][-1:])
