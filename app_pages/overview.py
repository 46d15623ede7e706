"""Overview: where the clusters and markets are, which stages each region covers, how many."""

import pandas as pd
import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import cache, charts, context, filters, maps, tables
from app_components.i18n import (
    entity_type_label,
    fact_text,
    name_of,
    province_label,
    region_label,
    stages_label,
    t,
)

data = context.data()
st.title(t("page_overview"))
st.caption(t("overview_intro"))
everyone = cache.entities(data)
everyone = everyone[everyone["entity_type"].isin(["cluster", "market"])]
shown = filters.show("overview.filters", everyone)

counts = st.columns(4)
counts[0].metric(t("count_clusters"), f"{(shown['entity_type'] == 'cluster').sum():,}")
counts[1].metric(t("count_markets"), f"{(shown['entity_type'] == 'market').sum():,}")
counts[2].metric(t("count_provinces"), f"{shown['province'].nunique():,}")
counts[3].metric(t("count_enterprises"), f"{len(data.enterprises):,}")
if shown.empty:
    st.info(t("none_match"))
    st.stop()

st.subheader(t("map_title"))
maps.show_entities("overview.map", shown)
st.subheader(t("coverage_title"))
st.plotly_chart(charts.coverage(filters.coverage(shown)), key="overview.coverage")
st.subheader(t("entities_title"))
tables.show(
    pd.DataFrame({
        t("col_id"): shown["id"].tolist(),
        t("col_name"): [name_of(zh, en, i) for zh, en, i in zip(shown["name_zh"], shown["name_en"], shown["id"], strict=False)],
        t("col_type"): [entity_type_label(e) for e in shown["entity_type"]],
        t("col_region"): [region_label(r) for r in shown["region"]],
        t("col_province"): [province_label(p) for p in shown["province"]],
        t("col_stages"): [stages_label(s) for s in shown["stages"]],
        t("col_designations"): [fact_text(d) for d in shown["designations"]],
    }),
    hide_index=True, key="overview.directory", wrap=[t("col_designations")],
    caps={t("col_name"): 170, t("col_stages"): 150},  # long names and stage lists wrap
)
