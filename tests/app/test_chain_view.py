"""The chain view of the cluster profile reads for a planner: a legend names the cluster's own
stages, its gaps and the other stages in the planner's language; no stage label sits under an
arrow, and no arrow runs over a stage it does not start or end at, at the laptop column width
(about 600 px) or wider; a gap is drawn red and says so on hover.

The geometry is worked out here from the figure alone (annotation anchors and shifts, line
widths, arrow standoffs, axis ranges and margins), with a text-width estimate of its own."""

from __future__ import annotations

import math
import re
from functools import cache

import plotly.graph_objects as go
import pytest

from app_components import charts, i18n
from matcher.docking.chain import build_chain_graph, chain_gaps, chain_position
from matcher.ingest.dataset import load_dataset
from matcher.vocab import STAGES

#: The chart's width in the profile page's right-hand column on a 1366 x 768 laptop (about 600 px
#: less the column's padding), and on a 1920 x 1080 screen.
WIDTHS = (560, 1000)
MARGIN = 1.5  # px of white asked for between a label and any arrow's ink
CLUSTERS = ("C001", "C056", "C022", "C012", "C010", "C110")


@cache
def _data():
    return load_dataset()


@cache
def _graph():
    return build_chain_graph(_data())


@cache
def _inputs(cluster: str) -> tuple[dict, tuple[str, ...]]:
    G = _graph()
    return chain_position(G, cluster), tuple(chain_gaps(G, cluster)["gap_stage"].unique())


@cache
def _distinct_clusters() -> list[str]:
    """One cluster per distinct set of stages in the bundled data."""
    G, seen, out = _graph(), set(), []
    for cluster in _data().clusters["id"]:
        stages = tuple(chain_position(G, cluster)["stages"])
        if stages not in seen:
            seen.add(stages)
            out.append(cluster)
    return out


@pytest.fixture(params=["zh", "en"])
def language(request, monkeypatch) -> str:
    monkeypatch.setattr(i18n, "lang", lambda: request.param)
    return request.param


def figure(cluster: str) -> go.Figure:
    return _figure(cluster, i18n.lang())


@cache
def _figure(cluster: str, language: str) -> go.Figure:
    position, gaps = _inputs(cluster)
    return charts.chain_position(position, list(gaps))


# --- geometry, in px with y up, for a chart of a given width ---------------------------------------

def _frame(fig: go.Figure, width: float):
    layout = fig.layout
    margin = layout.margin
    w = width - (margin.l if margin.l is not None else 80) - (margin.r if margin.r is not None else 80)
    h = (layout.height or 450) - (margin.t if margin.t is not None else 100) - (margin.b if margin.b is not None else 80)
    (x0, x1), (y0, y1) = layout.xaxis.range, layout.yaxis.range
    return lambda x, y: ((x - x0) / (x1 - x0) * w, (y - y0) / (y1 - y0) * h)


def _plain(text: str) -> str:
    return re.sub(r"<(?!br)[^>]+>", "", text or "")


def _text_box(text: str, size: float, pad: float) -> tuple[float, float]:
    lines = _plain(text).split("<br>")
    width = max(sum(size if ord(c) > 0x2E80 else 0.6 * size for c in line) for line in lines)
    return width + 2 * pad, len(lines) * 1.25 * size + 2 * pad


def label_boxes(fig: go.Figure, width: float) -> dict[str, tuple[float, float, float, float]]:
    """Stage label -> its box: annotations without an arrow, or the text of a markers+text trace."""
    px = _frame(fig, width)
    names = {v: s for s, pair in STAGES.items() for v in pair}
    font = (fig.layout.font.size or 12) if fig.layout.font else 12
    boxes = {}
    for a in fig.layout.annotations:
        text = _plain(a.text).replace("<br>", " ")
        if a.showarrow is not False or text not in names:
            continue
        w, h = _text_box(a.text, (a.font.size if a.font and a.font.size else font), a.borderpad or 1)
        x, y = px(a.x, a.y)
        x += a.xshift or 0
        y += a.yshift or 0
        left = {"left": x, "right": x - w}.get(a.xanchor, x - w / 2)
        bottom = {"bottom": y, "top": y - h}.get(a.yanchor, y - h / 2)
        boxes[names[text]] = (left, bottom, left + w, bottom + h)
    for trace in fig.data:
        if "text" not in (trace.mode or "") or trace.text is None:
            continue
        for x, y, text in zip(trace.x, trace.y, trace.text, strict=False):
            if text not in names:
                continue
            w, h = _text_box(text, font, 1)
            cx, cy = px(x, y)
            r = (trace.marker.size or 6) / 2 + 2  # plotly puts "top center" text just above the marker
            boxes[names[text]] = (cx - w / 2, cy + r, cx + w / 2, cy + r + h)
    return boxes


def arrows(fig: go.Figure, width: float) -> list[tuple[list[tuple[float, float]], float]]:
    """Every arrow's ink as (polyline, half its thickness): line traces and arrow annotations, the
    latter from their tail to their tip less the standoffs, with the arrowhead's width."""
    px = _frame(fig, width)
    out = []
    for trace in fig.data:
        if trace.mode == "lines" and trace.x is not None and None not in trace.x:
            out.append(([px(x, y) for x, y in zip(trace.x, trace.y, strict=True)], (trace.line.width or 2) / 2))
    for a in fig.layout.annotations:
        if a.showarrow is False or a.ax is None:
            continue
        (x0, y0), (x1, y1) = px(a.ax, a.ay), px(a.x, a.y)
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        s0, s1 = a.startstandoff or 0, a.standoff or 0
        out.append(([(x0 + ux * s0, y0 + uy * s0), (x1 - ux * s1, y1 - uy * s1)], 1.5 * (a.arrowwidth or 1)))
    return out


def stage_centres(fig: go.Figure, width: float) -> dict[str, tuple[float, float]]:
    px = _frame(fig, width)
    trace = _stage_trace(fig)
    names = {v: s for s, pair in STAGES.items() for v in pair}
    return {names[t]: px(x, y) for x, y, t in zip(trace.x, trace.y, trace.text, strict=True)}


def _stage_trace(fig: go.Figure):
    return next(tr for tr in fig.data if tr.text is not None and len(tr.x) == len(STAGES))


def _segment_box_distance(a, b, box) -> float:
    """Distance between segment a-b and a box: 0 if they meet, else the least distance from an end
    of the segment to the box or from a corner of the box to the segment."""
    corners = [(box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])]
    if _inside(a, box) or _inside(b, box) or any(
            _crosses(a, b, c, d) for c, d in zip(corners, corners[1:] + corners[:1], strict=True)):
        return 0.0
    to_box = [math.hypot(max(box[0] - x, 0, x - box[2]), max(box[1] - y, 0, y - box[3])) for x, y in (a, b)]
    return min(to_box + [_point_segment_distance(c, a, b) for c in corners])


def _inside(p, box) -> bool:
    return box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]


def _crosses(a, b, c, d) -> bool:
    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return side(a, b, c) * side(a, b, d) <= 0 and side(c, d, a) * side(c, d, b) <= 0


def _point_segment_distance(p, a, b) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    u = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy or 1)))
    return math.hypot(p[0] - a[0] - u * dx, p[1] - a[1] - u * dy)


def labels_under_arrows(fig: go.Figure, width: float) -> list[str]:
    problems = []
    drawn = arrows(fig, width)
    for stage, box in label_boxes(fig, width).items():
        for points, reach in drawn:
            for a, b in zip(points, points[1:], strict=False):
                if _segment_box_distance(a, b, box) < reach + MARGIN:
                    problems.append(f"{stage} label {tuple(round(v) for v in box)} under the arrow at "
                                    f"{tuple(round(v) for v in a)}-{tuple(round(v) for v in b)}")
                    break
    return problems


# --- the tests ------------------------------------------------------------------------------------

def test_the_legend_names_own_stages_gaps_and_other_stages(language):
    fig = figure("C001")
    assert fig.layout.showlegend is True
    names = [tr.name for tr in fig.data if tr.showlegend is not False and tr.name]
    for key in ("chain_own", "chain_gap", "chain_other", "chain_link"):
        assert i18n.t(key) in names, (key, names)
    cjk = [bool(re.search(r"[\u4e00-\u9fff]", n)) for n in names]
    assert all(cjk) if language == "zh" else not any(cjk), names
    legend = fig.layout.legend
    assert legend.orientation == "h" and (legend.y >= 1 or legend.y < 0), "the legend must not cover the stages"


@pytest.mark.parametrize("cluster", CLUSTERS)
@pytest.mark.parametrize("width", WIDTHS)
def test_stage_labels_are_clear_of_arrows(language, cluster, width):
    fig = figure(cluster)
    boxes = label_boxes(fig, width)
    assert set(boxes) == set(STAGES), "every stage has a label"
    assert arrows(fig, width), "the cluster has supply links"
    problems = labels_under_arrows(fig, width)
    assert not problems, problems


def test_no_label_is_under_an_arrow_for_any_set_of_stages(language):
    problems = {c: p for c in _distinct_clusters() if (p := labels_under_arrows(figure(c), WIDTHS[0]))}
    assert not problems, problems


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_arrows_do_not_run_over_other_stages(language, cluster):
    fig = figure(cluster)
    centres = stage_centres(fig, WIDTHS[0])
    radius = _stage_trace(fig).marker.size / 2 + 3
    crossings = []
    for points, _ in arrows(fig, WIDTHS[0]):
        ends = {s for s, c in centres.items() if min(math.dist(c, points[0]), math.dist(c, points[-1])) <= radius + 20}
        for stage, centre in centres.items():
            if stage not in ends and min(_point_segment_distance(centre, a, b)
                                         for a, b in zip(points, points[1:], strict=False)) < radius:
                crossings.append(stage)
    assert not crossings, crossings


def test_labels_do_not_overlap_each_other(language):
    for cluster in CLUSTERS:
        boxes = list(label_boxes(figure(cluster), WIDTHS[0]).values())
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (cluster, a, b)


def test_a_gap_is_drawn_red_and_says_so(language):
    position, gaps = _inputs("C001")
    assert "dyeing_finishing" in gaps and "dyeing_finishing" not in position["stages"]
    fig = figure("C001")
    trace = _stage_trace(fig)
    labels = list(trace.text)
    i = labels.index(i18n.stage_label("dyeing_finishing"))
    r, g, b = _rgb(trace.marker.line.color[i])
    assert r > 180 and g < 90 and b < 90, trace.marker.line.color[i]
    assert trace.hovertext is not None, "hovering a stage says what it is"
    assert i18n.t("chain_gap") in trace.hovertext[i]
    own = labels.index(i18n.stage_label("weaving"))
    assert i18n.t("chain_own") in trace.hovertext[own]
    other = labels.index(i18n.stage_label("trading"))
    assert i18n.t("chain_other") in trace.hovertext[other]
    r, g, b = _rgb(trace.marker.line.color[other])
    assert not (r > 180 and g < 90 and b < 90), "only gaps are red"


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.strip()
    if colour.startswith("#"):
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
    return tuple(int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3])
