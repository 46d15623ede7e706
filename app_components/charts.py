"""Plotly figures: the contribution waterfall, the chain-position graph, coverage and conversion."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import plotly.graph_objects as go

from app_components.i18n import feature_label, fmt_number, fmt_score, stage_label, t
from matcher.docking.chain import stage_strength
from matcher.ingest.dataset import BUNDLED_DATA
from matcher.vocab import STAGES

#: Where each stage sits in the drawing: (column along the chain, row). The making stages flow left
#: to right (fibre, yarn, fabric, finishing, end products), placed so that the arrows the chain's
#: strong links draw run straight without passing over another stage (dyeing & finishing sits
#: above the fabric-to-product arrows, next to apparel); the stages that serve the chain sit in a
#: row beneath (machinery, accessories) or at its end (trading).
STAGE_XY: dict[str, tuple[float, float]] = {
    "fiber": (0, 1.0), "spinning": (1, 1.0), "weaving": (2, 1.1), "knitting": (2, 0.0),
    "dyeing_finishing": (3, 2.1), "apparel": (4, 1.9), "home_textile": (4, 1.0), "industrial_textile": (4, 0.1),
    "trading": (5, 1.0), "machinery": (1, -0.75), "accessories": (3, -0.75),
}
#: Stages that serve the chain rather than pass goods along it: a stage the chain's links do not tie
#: to the cluster's stages is drawn tied to its nearest making stage, not to one of these.
SERVICE_STAGES = ("accessories", "machinery", "trading")
FONT = "Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif"


def waterfall(row: pd.Series, features: list[str]) -> go.Figure:
    """How each weighed feature's contribution (weight x value) adds up to the pair's score; a feature the
    weights leave at 0 is not part of the score and gets no bar."""
    features = [f for f in features if float(row.get(f"w_{f}", 1.0)) > 0]
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


def chain_position(position: dict, gaps: list[str], min_strength: float = 0.2,
                   chain_links: pd.DataFrame | None = None) -> go.Figure:
    """The chain's stages, the cluster's own filled blue and its gaps ringed red, with a supply
    arrow between the cluster and each stage that supplies it or that it supplies at
    ``min_strength`` or more, thicker the stronger the input-output link; a legend above the plot
    says which is which, and hovering a stage or an arrow says what it is.

    The drawing is laid out for the narrowest width it is shown at (a column of about 600 px on a
    1366 px laptop screen; :data:`REF_WIDTH`): arrows run straight unless that takes them over
    another stage or leaves a stage no room for its label, and each label goes next to its circle
    (below first) where it is clear of every arrow, circle and other label. Wider, labels keep
    their places and only get more room. ``chain_links`` are the data set's input-output links
    (``Dataset.chain_links``; the bundled ones when not given).
    """
    own = [s for s in position["stages"] if s in STAGE_XY]
    gap = {s for s in gaps if s in STAGE_XY}
    io = _chain_io(pd.read_csv(BUNDLED_DATA / "chain_links.csv") if chain_links is None else chain_links)
    links = _chain_links(own, position, min_strength, io)
    spots = {stage: _label_spots(stage, stage in own) for stage in STAGE_XY}
    free = {stage: dict(usable) for stage, (_, usable) in spots.items()}  # label places no arrow crosses
    arrows: dict[tuple[str, str], list[Segments]] = {}
    # short arrows first, the strongest first among equals: they are the straightest, and the long
    # ones that pass other stages are the ones to bend around them and their labels
    for pair in sorted(links, key=lambda p: (round(math.dist(_px(p[0]), _px(p[1])) / 40), -links[p], p)):
        arrows[pair] = arrow = _route(*pair, _width(links[pair]), free)
        free = {stage: {n: spot for n, spot in places.items() if not _hits(spot[0], arrow)}
                for stage, places in free.items()}
    traces, heads = _chain_legend(), []
    for pair in sorted(links, key=lambda p: (links[p], p)):  # and drawn last: on top
        lines, head = _link(*pair, links[pair], arrows[pair])
        traces += lines
        heads.append(head)
    traces.append(go.Scatter(
        x=[STAGE_XY[s][0] for s in STAGE_XY], y=[STAGE_XY[s][1] for s in STAGE_XY], mode="markers",
        text=[stage_label(s) for s in STAGE_XY], customdata=list(STAGE_XY), hoverinfo="text",
        hovertext=[f"<b>{stage_label(s)}</b><br>{'<br>'.join(_stage_status(s, own, gap))}" for s in STAGE_XY],
        marker={"size": NODE_SIZE, "color": [OWN_COLOUR if s in own else "#ffffff" for s in STAGE_XY],
                "line": {"color": [GAP_COLOUR if s in gap else OWN_COLOUR if s in own else OTHER_COLOUR
                                   for s in STAGE_XY],
                         "width": [RING if s in gap or s in own else RING - 1 for s in STAGE_XY]}},
        showlegend=False,
    ))
    labels = _stage_labels(own, gap, spots, [a for v in arrows.values() for a in v])
    fig = go.Figure(data=traces)  # all at once: adding annotations one by one copies the layout each time
    fig.update_layout(
        annotations=heads + labels, height=CHAIN_HEIGHT, margin=CHAIN_MARGIN, font={"family": FONT},
        xaxis={"visible": False, "range": list(CHAIN_X), "fixedrange": True},
        yaxis={"visible": False, "range": list(CHAIN_Y), "fixedrange": True},
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hovermode="closest", showlegend=True,
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                "font": {"size": LABEL_FONT}, "itemclick": False, "itemdoubleclick": False,
                "itemsizing": "constant", "bgcolor": "rgba(0,0,0,0)"},
    )
    return fig


OWN_COLOUR, GAP_COLOUR, OTHER_COLOUR, LINK_COLOUR = "#1f77b4", "#d62728", "#9a9a9a", "#8c8c8c"
#: The chain drawing's frame. Arrow bends and label places are worked out in pixels at REF_WIDTH;
#: the height is fixed, so only the width varies, and a wider chart only spreads things apart.
CHAIN_HEIGHT, REF_WIDTH = 400, 560
CHAIN_MARGIN = {"l": 10, "r": 10, "t": 56, "b": 8}  # the top margin holds the legend, two rows at most
CHAIN_X, CHAIN_Y = (-0.6, 5.6), (-1.3, 2.8)
NODE_SIZE, RING = 26, 3  # circle diameter and ring width, px
LABEL_FONT, LABEL_GAP, LABEL_PAD = 12, 5, 2  # label font size, its gap to the circle, its box's padding, px
LABEL_MARGIN = 4  # px of white kept between a label's box and any arrow or circle
NODE_CLEARANCE = 24  # px an arrow keeps from the centre of a stage it does not end at
STANDOFF = NODE_SIZE / 2 + RING / 2 + 1  # px from a circle's centre to the tip of an arrow into it
#: Curves tried in turn for an arrow, straight first: the control point's sideways offset over the
#: arrow's length (positive to the left of its direction).
BENDS = (0.0, 0.12, -0.12, 0.22, -0.22, 0.35, -0.35, 0.5, -0.5)
_SX = (REF_WIDTH - CHAIN_MARGIN["l"] - CHAIN_MARGIN["r"]) / (CHAIN_X[1] - CHAIN_X[0])
_SY = (CHAIN_HEIGHT - CHAIN_MARGIN["t"] - CHAIN_MARGIN["b"]) / (CHAIN_Y[1] - CHAIN_Y[0])
_PLOT = ((CHAIN_X[1] - CHAIN_X[0]) * _SX, (CHAIN_Y[1] - CHAIN_Y[0]) * _SY)

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in px at REF_WIDTH, y up
Segments = tuple[list[Point], float]  # a polyline in px and how far its ink reaches either side of it


def _stage_status(stage: str, own: list[str], gap: set[str]) -> list[str]:
    status = ([t("chain_own")] if stage in own else []) + ([t("chain_gap")] if stage in gap else [])
    return status or [t("chain_other")]


def _chain_legend() -> list[go.Scatter]:
    """Legend entries (traces without points) for the three kinds of circle and for the arrows."""
    return [go.Scatter(x=[None], y=[None], mode="markers", name=t(key), hoverinfo="skip",
                       marker={"size": 14, "color": fill, "line": {"color": ring, "width": width}})
            for key, fill, ring, width in (("chain_own", OWN_COLOUR, OWN_COLOUR, RING),
                                           ("chain_gap", "#ffffff", GAP_COLOUR, RING),
                                           ("chain_other", "#ffffff", OTHER_COLOUR, RING - 1))] + [
        go.Scatter(x=[None], y=[None], mode="lines", name=t("chain_link"), hoverinfo="skip",
                   line={"color": LINK_COLOUR, "width": 3})]


def _chain_links(own: list[str], position: dict, min_strength: float,
                 io: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """(source, target) -> strength of the arrow between each strong upstream or downstream stage
    and the cluster: one arrow per such stage, into (or out of) the cluster's stage it links to
    most strongly, the nearest along the chain among equals.

    ``position`` gives a stage's strongest link to any of the cluster's stages, not to which one;
    the input-output links ``io`` of the chain tell. A stage they do not link to the cluster's stages at ``min_strength`` is tied
    to the cluster's nearest making stage along the chain.
    """
    making = [s for s in own if s not in SERVICE_STAGES] or own
    links: dict[tuple[str, str], float] = {}
    for side, upstream in (("upstream", True), ("downstream", False)):
        for stage, weight in position[side].items():
            if weight < min_strength or stage not in STAGE_XY:  # weak links only clutter the drawing
                continue
            column = STAGE_XY[stage][0]
            strength = {m: io.get((stage, m) if upstream else (m, stage), 0.0) for m in own if m != stage}
            best = max(strength.values(), default=0.0)
            if best >= min_strength:
                ties = [m for m in strength if strength[m] == best]
                nearest = min(abs(STAGE_XY[m][0] - column) for m in ties)
                chosen = {m: best for m in ties if abs(STAGE_XY[m][0] - column) == nearest}
            else:
                chosen = dict.fromkeys(_nearest(stage, making, upstream), float(weight))
            for mine, value in chosen.items():
                pair = (stage, mine) if upstream else (mine, stage)
                links[pair] = max(value, links.get(pair, 0.0))
    return links


def _chain_io(chain_links: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(supplier stage, buyer stage) -> input-output strength (0..1) of the chain links."""
    strength = stage_strength(chain_links)
    names = list(STAGES)
    return {(names[i], names[j]): float(strength[i, j]) for i, j in zip(*strength.nonzero(), strict=True)}


def _nearest(stage: str, candidates: list[str], after: bool) -> list[str]:
    """The candidates nearest ``stage`` along the chain, after it (or before) if any are; ties kept."""
    column = STAGE_XY[stage][0]
    others = [s for s in candidates if s != stage]
    pool = [s for s in others if (STAGE_XY[s][0] - column) * (1 if after else -1) > 0] or others
    if not pool:
        return []
    best = min(abs(STAGE_XY[s][0] - column) for s in pool)
    return [s for s in pool if abs(STAGE_XY[s][0] - column) == best]


def _px(stage: str) -> Point:
    x, y = STAGE_XY[stage]
    return (x - CHAIN_X[0]) * _SX, (y - CHAIN_Y[0]) * _SY


def _data(point: Point) -> Point:
    return CHAIN_X[0] + point[0] / _SX, CHAIN_Y[0] + point[1] / _SY


def _width(strength: float) -> float:
    return 1 + 3 * min(max(float(strength), 0.0), 1.0)


def _route(source: str, target: str, width: float, free: dict[str, dict]) -> list[Segments]:
    """The arrow from source to target: its line and its head (see :func:`_arrow`), straight if
    that keeps clear of the other circles and leaves every stage that still has a free place for
    its label (``free``: stage -> places no arrow crosses yet) one, else the least curve that
    does (failing that, the least curve that does best)."""
    others = [_px(s) for s in STAGE_XY if s not in (source, target)]
    best: list[Segments] = []
    best_score: tuple = (math.inf,)
    for bend in BENDS:
        arrow = _arrow(_px(source), _px(target), bend, width)
        clearance = min((_path_distance(p, arrow[0][0]) for p in others), default=math.inf)
        crowded = sum(bool(places) and all(_hits(box, arrow) for box, _ in places.values())
                      for places in free.values())
        score = (clearance < NODE_CLEARANCE, crowded)
        if score == (False, 0):
            return arrow
        if score < best_score:
            best, best_score = arrow, score
    return best


def _arrow(start: Point, end: Point, bend: float, width: float) -> list[Segments]:
    """An arrow's ink in px: the line, a quadratic curve (straight if ``bend`` is 0) from centre
    to centre, and the head, a straight piece from a point of the line well outside the target's
    circle to the circle's edge, whose arrowhead reaches about twice the line's width either side."""
    (x0, y0), (x2, y2) = start, end
    cx, cy = (x0 + x2) / 2 - bend * (y2 - y0), (y0 + y2) / 2 + bend * (x2 - x0)  # offset along the normal
    line = [((1 - u) ** 2 * x0 + 2 * u * (1 - u) * cx + u * u * x2,
             (1 - u) ** 2 * y0 + 2 * u * (1 - u) * cy + u * u * y2) for u in (i / 16 for i in range(17))]
    tail = next((p for p in reversed(line) if math.dist(p, end) > STANDOFF + 12), line[0])
    k = STANDOFF / math.dist(tail, end)
    tip = (x2 + (tail[0] - x2) * k, y2 + (tail[1] - y2) * k)
    return [(line, width / 2), ([tail, tip], 2 * width)]



def _link(source: str, target: str, strength: float, arrow: list[Segments]) -> tuple[list[go.Scatter], dict]:
    """The arrow's line and the points along it that tell the link on hover (traces), and its head
    (an annotation)."""
    (line, _), ([tail, _tip], _) = arrow
    points = [_data(p) for p in line]
    hover = t("chain_link_hover", source=stage_label(source), target=stage_label(target),
              value=fmt_number(strength, 2))
    # hovering tells the link along the arrow (invisible markers), but not over the circles, where
    # it tells the stage
    along = [q for p, q in zip(line, points, strict=True)
             if min(math.dist(p, line[0]), math.dist(p, line[-1])) > STANDOFF + 4]
    line = go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines", showlegend=False,
                      line={"color": LINK_COLOUR, "width": _width(strength)}, hoverinfo="skip")
    hovers = go.Scatter(x=[p[0] for p in along], y=[p[1] for p in along], mode="markers", showlegend=False,
                        marker={"size": 10, "color": "rgba(0,0,0,0)"}, hoverinfo="text", hovertext=hover)
    (x1, y1), (ax, ay) = STAGE_XY[target], _data(tail)
    return [line, hovers], {"x": x1, "y": y1, "ax": ax, "ay": ay, "xref": "x", "yref": "y", "axref": "x", "ayref": "y",
                  "text": "", "showarrow": True, "arrowhead": 2, "arrowsize": 1, "arrowwidth": _width(strength),
                  "arrowcolor": LINK_COLOUR, "standoff": STANDOFF, "hovertext": hover}


def _label_spots(stage: str, bold: bool) -> tuple[str, dict[tuple[int, int, int], tuple[Box, dict]]]:
    """A stage's label text and the places it may go: next to its circle below, above, right, left
    or at a corner, then the same a little farther out, each as (box in px, the annotation's anchors
    and shifts), leaving out those off the plot or over another circle (unless all are)."""
    text = _wrap(stage_label(stage))
    w, h = _text_size(text, bold)
    cx, cy = _px(stage)
    spots = {}
    for far in (0, 1):
        for dx, dy in ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1)):
            reach = (NODE_SIZE / 2 + RING / 2 + LABEL_GAP + 12 * far) * (0.75 if dx and dy else 1.0)
            x0 = cx + dx * reach - (w / 2 if dx == 0 else w if dx < 0 else 0)
            y0 = cy + dy * reach - (h / 2 if dy == 0 else h if dy < 0 else 0)
            anchors = {"xanchor": ("right", "center", "left")[dx + 1], "xshift": dx * reach,
                       "yanchor": ("top", "middle", "bottom")[dy + 1], "yshift": dy * reach}
            spots[(dx, dy, far)] = ((x0, y0, x0 + w, y0 + h), anchors)
    circles = [_px(s) for s in STAGE_XY if s != stage]
    usable = {name: (box, anchors) for name, (box, anchors) in spots.items()
              if box[0] >= 0 and box[1] >= 0 and box[2] <= _PLOT[0] and box[3] <= _PLOT[1]
              and not any(_near_circle(box, c) for c in circles)}
    return text, usable or spots


def _stage_labels(own: list[str], gap: set[str], spots: dict, drawn: list[Segments]) -> list[dict]:
    """A label annotation per stage at the first of its places clear of the arrows and of the labels
    already placed (else the least crowded); the stages with the fewest places clear of arrows are
    placed first, then the cluster's own, its gaps and the rest."""
    placed: list[Box] = []
    out = []
    hit = {stage: {n: _hits(box, drawn) for n, (box, _) in usable.items()} for stage, (_, usable) in spots.items()}
    rank = {s: (sum(not h for h in hit[s].values()), s not in own, s not in gap, i) for i, s in enumerate(STAGE_XY)}
    for stage in sorted(STAGE_XY, key=rank.get):
        text, usable = spots[stage]
        names = list(usable)
        cost = {n: 3 * hit[stage][n] + 2 * sum(_overlap(usable[n][0], b) for b in placed) for n in names}
        box, anchors = usable[min(names, key=lambda n: (cost[n], names.index(n)))]
        placed.append(box)
        bold = stage in own
        x, y = STAGE_XY[stage]
        out.append({"x": x, "y": y, "xref": "x", "yref": "y", "showarrow": False, "name": f"label:{stage}",
                    "text": f"<b>{text}</b>" if bold else text, "borderpad": LABEL_PAD,
                    "font": {"size": LABEL_FONT,
                             "color": GAP_COLOUR if stage in gap else "#1a1a1a" if bold else "#555555"},
                    "bgcolor": "rgba(255,255,255,0.85)", **anchors})
    return out


def _wrap(label: str, width: int = 14) -> str:
    """A long label on two lines, broken at the space nearest its middle."""
    if len(label) <= width or " " not in label:
        return label
    cut = min((i for i, c in enumerate(label) if c == " "), key=lambda i: abs(i - len(label) / 2))
    return label[:cut] + "<br>" + label[cut + 1:]


def _text_size(text: str, bold: bool) -> tuple[float, float]:
    """A generous estimate of a label box's size in px: Chinese characters are a square em, Latin
    letters about half of one (narrow and wide ones told apart), a tenth more for other fonts."""
    em = LABEL_FONT * (1.06 if bold else 1.0)
    width = max(sum(em if ord(c) > 0x2E80 else 1.1 * em * _LATIN_EM.get(c, 0.68 if c.isupper() else 0.56)
                    for c in line) for line in text.split("<br>"))
    lines = text.count("<br>") + 1
    return width + 2 * LABEL_PAD + 2, lines * 1.3 * LABEL_FONT + 2 * LABEL_PAD + 2


_LATIN_EM = {c: w for chars, w in (("iljtf.,;:'!|", 0.3), (" r", 0.38), ("&mw", 0.82)) for c in chars}


def _hits(box: Box, drawn: list[Segments]) -> bool:
    """Whether any arrow's ink comes within LABEL_MARGIN px of the box."""
    for points, reach in drawn:
        m = LABEL_MARGIN + reach
        grown = (box[0] - m, box[1] - m, box[2] + m, box[3] + m)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if max(xs) < grown[0] or min(xs) > grown[2] or max(ys) < grown[1] or min(ys) > grown[3]:
            continue  # nowhere near
        if any(_segment_hits_box(a, b, grown) for a, b in itertools.pairwise(points)):
            return True
    return False


def _near_circle(box: Box, centre: Point, margin: float = 2) -> bool:
    """Whether the box comes within ``margin`` px of the ring of a circle centred at ``centre``."""
    nearest = (min(max(box[0], centre[0]), box[2]), min(max(box[1], centre[1]), box[3]))
    return math.dist(nearest, centre) < NODE_SIZE / 2 + RING + margin


def _overlap(a: Box, b: Box, margin: float = 2) -> bool:
    return a[0] - margin < b[2] and b[0] - margin < a[2] and a[1] - margin < b[3] and b[1] - margin < a[3]


def _segment_hits_box(a: Point, b: Point, box: Box) -> bool:
    """Whether segment a-b meets the box (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            lo = max(lo, r)
        else:
            hi = min(hi, r)
        if lo > hi:
            return False
    return True


def _path_distance(point: Point, path: list[Point]) -> float:
    return min(_segment_distance(point, a, b) for a, b in itertools.pairwise(path))


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = dx * dx + dy * dy
    u = 0.0 if length == 0 else min(1.0, max(0.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length))
    return math.hypot(p[0] - a[0] - u * dx, p[1] - a[1] - u * dy)


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
