"""Conversion of shortlisted pairs into meetings and deals, by docking kind and by weight preset.

Each shortlisted pair is traced to the ranking run that put it there: the newest stored run of the
same kind recorded at or before the item (the app records a run just before adding items). The
run's weights name the preset (``custom`` when they match none).
"""

from __future__ import annotations

import pandas as pd

from matcher.docking.kinds import KINDS

VALUABLE = ("valuable_contact", "negotiation_started", "agreement_reached")


def preset_of(kind: str, weights: dict) -> str:
    if kind not in KINDS:
        return "custom"
    for name, base in KINDS[kind].presets.items():
        if all(abs(float(base.get(f, 0.0)) - float(weights.get(f, 0.0))) < 1e-9 for f in KINDS[kind].features):
            return name
    return "custom"


def pair_table(items: pd.DataFrame, runs: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per shortlisted pair: kind, preset, met, valuable, agreement (booleans)."""
    if items.empty:
        return pd.DataFrame(columns=["left_id", "right_id", "kind", "preset", "met", "valuable", "agreement"])
    first = items.sort_values("id").drop_duplicates(["left_id", "right_id", "kind"])
    presets_found = []
    for item in first.itertuples(index=False):
        mine = runs[(runs["kind"] == item.kind) & (runs["created_at"] <= item.created_at)] if len(runs) else runs
        presets_found.append(preset_of(item.kind, dict(mine["weights"].iloc[-1])) if len(mine) else "custom")
    out = first[["left_id", "right_id", "kind"]].reset_index(drop=True)
    out["preset"] = presets_found
    key = list(zip(out["left_id"], out["right_id"], out["kind"], strict=True))

    def reached(stage: str, values: tuple[str, ...]) -> list[bool]:
        if outcomes.empty:
            return [False] * len(out)
        hit = outcomes[(outcomes["stage"] == stage) & outcomes["value"].isin(values)]
        found = set(zip(hit["left_id"], hit["right_id"], hit["kind"], strict=True))
        return [k in found for k in key]

    out["met"] = reached("meeting", ("met",))
    out["valuable"] = reached("followup", VALUABLE)
    out["agreement"] = reached("followup", ("agreement_reached",))
    return out


def summary(pairs: pd.DataFrame, by: str) -> pd.DataFrame:
    """Counts and rates per ``by`` (``kind`` or ``preset``)."""
    if pairs.empty:
        return pd.DataFrame(columns=[by, "shortlisted", "met", "valuable", "agreement", "met_rate", "valuable_rate"])
    grouped = pairs.groupby(by, sort=True).agg(
        shortlisted=("left_id", "size"), met=("met", "sum"), valuable=("valuable", "sum"),
        agreement=("agreement", "sum"),
    ).reset_index()
    grouped["met_rate"] = grouped["met"] / grouped["shortlisted"]
    grouped["valuable_rate"] = grouped["valuable"] / grouped["shortlisted"]
    return grouped
