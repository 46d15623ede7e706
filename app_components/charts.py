"""Plotly figures: the contribution waterfall, the chain-position graph, coverage and conversion."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app_components.i18n import feature_label, fmt_score, stage_label, t
from matcher.vocab import STAGES

#: Where each stage sits in the drawing: (column along the chain, row).
STAGE_XY: dict[str, tuple[float, float]] = {
    "fiber": (0, 1), "spinning": (1, 1), "weaving": (2, 1.6), "knitting": (2, 0.4),
    "dyeing_finishing": (3, 1), "apparel": (4, 2), "home_textile": (4, 1), "industrial_textile": (4, 0),
    "trading": (5, 1), "accessories": (3, -0.9), "machinery": (1, -0.9),
}
FONT = "Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif"


def waterfall(row: pd.Series, features: list[str]) -> go.Figure:
    """How each feature's contribution (weight x value) adds up to the pair's score."""
    labels = [feature_label(f) for f in features]
    values = [float(row.get(f"c_{f}", 0.0)) for f in features]
    fig = go.Figure(go.Waterfall(
        x=labels + [t("col_score")], y=values + [float(row["score"])],
        measure=["relative"] * len(values) + ["total"],
        text=[fmt_score(v) for v in values] + [fmt_score(row["score"])], textposition="outside",
        connector={"line": {"color": "#bbbbbb"}},
    ))
    fig.update_layout(title=t("waterfall_title"), height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      showlegend=False, font={"family": FONT}, yaxis={"title": t("col_contribution")})
    return fig


def chain_position(position: dict, gaps: list[str], min_strength: float = 0.2) -> go.Figure:
    """The chain's stages with the cluster's own stages filled, its gaps marked, and supply arrows
    into and out of its stages drawn thicker the stronger the input-output link."""
    own = set(position["stages"])
    fig = go.Figure()
    for stage, weight in position["upstream"].items():
        if weight < min_strength:  # weak links only clutter the drawing
            continue
        for target in own:
            _edge(fig, stage, target, weight)
    for stage, weight in position["downstream"].items():
        if weight < min_strength:
            continue
        for source in own:
            _edge(fig, source, stage, weight)
    xs, ys, text, colours, lines = [], [], [], [], []
    for stage in STAGES:
        x, y = STAGE_XY[stage]
        xs.append(x)
        ys.append(y)
        text.append(stage_label(stage))
        colours.append("#1f77b4" if stage in own else ("#ffffff"))
        lines.append("#d62728" if stage in gaps else "#1f77b4" if stage in own else "#999999")
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=text, textposition="top center", hoverinfo="text",
        marker={"size": 26, "color": colours, "line": {"color": lines, "width": 3}},
    ))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False,
                      font={"family": FONT}, xaxis={"visible": False, "range": [-0.5, 5.5]},
                      yaxis={"visible": False, "range": [-1.4, 2.5]}, plot_bgcolor="rgba(0,0,0,0)")
    return fig


def _edge(fig: go.Figure, source: str, target: str, weight: float) -> None:
    if source == target or source not in STAGE_XY or target not in STAGE_XY:
        return
    (x0, y0), (x1, y1) = STAGE_XY[source], STAGE_XY[target]
    fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                       showarrow=True, arrowhead=2, arrowsize=1, arrowwidth=0.5 + 3.5 * float(weight),
                       arrowcolor="rgba(120,120,120,0.6)", standoff=14, startstandoff=14)


def coverage(matrix: pd.DataFrame) -> go.Figure:
    """Heatmap: regions x stages, cell = number of clusters and markets."""
    fig = go.Figure(go.Heatmap(
        z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index), colorscale="Blues",
        text=matrix.to_numpy(), texttemplate="%{text}", showscale=False,
    ))
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font={"family": FONT})
    return fig


def conversion(frame: pd.DataFrame, by: str) -> go.Figure:
    """Grouped bars: shortlisted, met, valuable-or-better and agreement counts per group."""
    fig = go.Figure()
    for column, key in (("shortlisted", "col_shortlisted"), ("met", "col_met"),
                        ("valuable", "col_valuable"), ("agreement", "col_agreement")):
        fig.add_trace(go.Bar(name=t(key), x=frame[by], y=frame[column]))
    fig.update_layout(barmode="group", height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      font={"family": FONT}, legend={"orientation": "h"})
    return fig
