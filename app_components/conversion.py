"""Conversion of shortlisted pairs into meetings and deals, by docking kind and by weight preset.

A shortlisted pair's preset is the one stored with the run that proposed its first item (the item
keeps the run id, the run the preset the planner chose). An item or run with none on record (added
before the store kept them) counts as ``unknown``: nothing is worked out from weights or times.
"""

from __future__ import annotations

import pandas as pd

from matcher.store import UNKNOWN

VALUABLE = ("valuable_contact", "negotiation_started", "agreement_reached")


def pair_table(items: pd.DataFrame, runs: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per shortlisted pair: kind, preset, met, valuable, agreement (booleans).

    ``items`` and ``runs`` as the store lists them (``items.run_id``, ``runs.run_id``/``preset``).
    """
    if items.empty:
        return pd.DataFrame(columns=["left_id", "right_id", "kind", "preset", "met", "valuable", "agreement"])
    first = items.sort_values("id").drop_duplicates(["left_id", "right_id", "kind"])
    preset_of_run = dict(zip(runs["run_id"], runs["preset"], strict=True)) if len(runs) else {}
    recorded = [None if pd.isna(run) else preset_of_run.get(run) for run in first["run_id"]]
    out = first[["left_id", "right_id", "kind"]].reset_index(drop=True)
    out["preset"] = [preset if isinstance(preset, str) else UNKNOWN for preset in recorded]
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
