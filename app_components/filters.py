"""Entity filters of the overview: region, province, chain stage, designation, type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app_components.i18n import (
    DESIGNATION_GROUPS,
    designation_label,
    entity_type_label,
    province_label,
    region_label,
    relabelled,
    stage_label,
    t,
)
from matcher.vocab import PROVINCES, REGIONS, STAGES


def designation_mask(entities: pd.DataFrame, group: str) -> np.ndarray:
    """Rows whose designations text names a title of ``group`` (see ``DESIGNATION_GROUPS``)."""
    cells = entities["designations"].fillna("").astype(str).str.lower()
    words = DESIGNATION_GROUPS[group][2]
    return np.logical_or.reduce([cells.str.contains(w, regex=False).to_numpy() for w in words])


def designations(entities: pd.DataFrame) -> list[str]:
    """The designation groups that occur in the data."""
    return [g for g in DESIGNATION_GROUPS if designation_mask(entities, g).any()]


def show(key: str, entities: pd.DataFrame) -> pd.DataFrame:
    """Filter widgets; returns the rows that pass. Session-state keys start with ``key``."""
    cols = st.columns(5)
    types = cols[0].multiselect(t("filter_type"), ["cluster", "market"], format_func=entity_type_label,
                                placeholder=t("choose"), key=relabelled(f"{key}.type"), persist_state="session")
    regions = cols[1].multiselect(t("filter_region"), list(REGIONS), format_func=region_label,
                                  placeholder=t("choose"), key=relabelled(f"{key}.region"), persist_state="session")
    present = [p for p in PROVINCES if p in set(entities["province"].dropna())]
    provinces = cols[2].multiselect(t("filter_province"), present, format_func=province_label,
                                    placeholder=t("choose"), key=relabelled(f"{key}.province"), persist_state="session")
    stages = cols[3].multiselect(t("filter_stage"), list(STAGES), format_func=stage_label,
                                 placeholder=t("choose"), key=relabelled(f"{key}.stage"), persist_state="session")
    titles = cols[4].multiselect(t("filter_designation"), designations(entities), format_func=designation_label,
                                 placeholder=t("choose"), key=relabelled(f"{key}.designation"), persist_state="session")
    keep = np.ones(len(entities), dtype=bool)
    if types:
        keep &= entities["entity_type"].isin(types).to_numpy()
    if regions:
        keep &= entities["region"].isin(regions).fillna(False).to_numpy(dtype=bool)
    if provinces:
        keep &= entities["province"].isin(provinces).fillna(False).to_numpy(dtype=bool)
    if stages:
        cells = (";" + entities["stages"].fillna("").astype(str) + ";")
        keep &= np.logical_or.reduce([cells.str.contains(f";{s};", regex=False).to_numpy() for s in stages])
    if titles:
        keep &= np.logical_or.reduce([designation_mask(entities, g) for g in titles])
    return entities[keep]


def coverage(entities: pd.DataFrame) -> pd.DataFrame:
    """Regions x stages: how many of the entities work in each stage (labels in the session's language)."""
    rows = {}
    cells = ";" + entities["stages"].fillna("").astype(str) + ";"
    for region in REGIONS:
        in_region = (entities["region"] == region).fillna(False).to_numpy(dtype=bool)
        rows[region_label(region)] = {
            stage_label(s): int((cells.str.contains(f";{s};", regex=False).to_numpy() & in_region).sum())
            for s in STAGES
        }
    return pd.DataFrame(rows).T
