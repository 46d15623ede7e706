"""Nothing cut off and no stray language in the tables the grid draws on a canvas, on every page.

The browser cannot see text drawn on a canvas, so each table is checked from what the app sent:
its column widths and row height against the width of its text (``app_components.tables``). The
pages are filled first: three pairs on the shortlist, a schedule, an outcome and a profile.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from conftest import app_in, go
from language import stray_cjk, stray_latin

from app_components.i18n import TEXT
from app_components.tables import FULL_WIDTH_PX, PADDING_PX, clipped, fit, lines_needed, text_px

PAGES = ("overview", "explore", "profile", "shortlist", "meetings", "outcomes", "data")


def _tables(at) -> list[tuple]:
    out = []
    for frame in at.dataframe:
        proto = frame.proto
        config = json.loads(proto.columns) if proto.columns else {}
        value = frame.value
        if isinstance(value, pd.io.formats.style.Styler):
            value = value.data
        for name in value.columns:  # a picker column shows its options' labels, not their values
            options = ((config.get(name) or {}).get("type_config") or {}).get("options")
            if options:
                shown = {o["value"]: o["label"] for o in options}
                value = value.assign(**{name: [shown.get(v, v) for v in value[name]]})
        shown = list(proto.column_order) or list(value.columns)
        ticks = [n for n in shown if ((config.get(n) or {}).get("type_config") or {}).get("type") == "checkbox"]
        value = value[[n for n in shown if n in value.columns and n not in ticks]]
        widths = {name: (config.get(name) or {}).get("width") for name in list(value.columns) + ticks}
        labels = {name: (config.get(name) or {}).get("label") or str(name) for name in value.columns}
        out.append((proto.id[-40:], value.reset_index(drop=True), widths, labels, proto.row_height or None))
    return out


def _long_named(lang_ok: bool = True) -> str:
    """A data set (staged as an upload) whose top east-west clusters carry names of the longest length the
    importer takes, in both languages."""
    import csv
    import io

    from app_components import datasets
    from matcher import limits
    from matcher.ingest.dataset import BUNDLED_DATA

    rows = list(csv.reader(io.StringIO((BUNDLED_DATA / "clusters.csv").read_text(encoding="utf-8-sig"))))
    head = rows[0]
    for row in rows[1:]:
        if row[head.index("id")] in ("C001", "C028", "C093", "C123"):
            row[head.index("name_zh")] = (row[head.index("name_zh")] + "超长名称纺织服装产业集群" * 12)[:limits.MAX_NAME_CHARS]
            row[head.index("name_en")] = (row[head.index("name_en")] + " Extremely Long Textile Cluster" * 6
                                          )[:limits.MAX_NAME_CHARS]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    made = datasets.stage_upload("clusters.csv", out.getvalue().encode("utf-8"), "clusters")
    return str(datasets.datasets_dir() / made.name)


@pytest.mark.parametrize("names", ["bundled", "longest"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_table_cuts_off_its_text(workspace, lang, names, monkeypatch):
    """Every table of every page, after a planner's job (three pairs ticked, shortlisted, scheduled, an
    outcome recorded), on the bundled data and on names of the longest length the importer takes."""
    import app_components.i18n

    at = app_in(lang, monkeypatch, dataset="" if names == "bundled" else _long_named())
    assert app_components.i18n.lang() == lang
    at.button(key="meetings.run").click().run()
    go(at, "outcomes")
    at.button(key="outcomes.record").click().run()
    problems, strays, seen = {}, {}, set()
    for page in PAGES:
        go(at, page)
        for where, frame, widths, labels, row_height in _tables(at):
            seen.add(tuple(labels.values()))
            cut = clipped(frame, widths, row_height, labels)
            unsized = [labels[n] for n, w in widths.items() if not isinstance(w, int)]
            if unsized:  # an automatic width knows nothing of the column the table sits in
                cut.append(f"not sized: {unsized}")
            elif sum(widths.values()) > FULL_WIDTH_PX:
                cut.append(f"{sum(widths.values())} px wide: {widths}")
            if cut:
                problems[f"{page} {where}"] = cut[:4]
            text = " ".join(list(labels.values()) + [str(v) for v in frame.astype(str).to_numpy().ravel()])
            stray = stray_latin(text, {"clqkyj"}) if lang == "zh" else stray_cjk(text)  # a web site's name
            if stray:
                strays[f"{page} {where}"] = sorted(set(stray))[:12]
    explained = {TEXT["col_feature"][lang == "en"], TEXT["missed"][lang == "en"]}
    assert any(explained <= set(labels) for labels in seen), "the explanation panel was not drawn"
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    assert not strays, json.dumps(strays, ensure_ascii=False, indent=1)


def test_widths_follow_the_text():
    """Chinese is about twice as wide as Latin; a long column wraps onto the lines it needs and the
    checker agrees with the layout it was given (and finds a column made too narrow)."""
    assert text_px("柯桥") == pytest.approx(2 * text_px("柯"))
    assert text_px("柯桥") > text_px("kq")
    frame = pd.DataFrame({"name": ["柯桥", "Xintang"], "reason": ["同类产能转移；" * 12, "similar products; " * 12]})
    widths, row_height = fit(frame, wrap=["reason"], budget=600)
    assert row_height is not None and row_height >= 65
    assert not clipped(frame, widths, row_height)
    assert clipped(frame, {**widths, "reason": 120}, row_height)
    assert clipped(frame, {**widths, "name": 30}, None)
    assert lines_needed("similar products", 1000) == 1
    assert lines_needed("similar products " * 20, 200) > 5


def test_chinese_text_wraps_at_its_spaces_as_the_grid_does():
    """The grid fills a line and breaks at its last space, inside a word only when the line has none: a
    Chinese reason with numbers ("集群 1,100 公里") ends lines early. Counted as breaking anywhere in a
    Chinese run, Nanchong's reason in Keqiao's profile needed 4 lines and drew 5, its last one cut off."""
    reason = ("织造→服装互补；同类产能转移（纤维、织造）；同属长江经济带；东西部协作结对；就近转移（承接地最近的东部集群 "
              "1,100 公里）；产品相近；有对接先例（双方有记录的对接：1 项、1 项）；承接地劳动力成本较低（最低工资 "
              "1,100→850 元/月）；1,380 公里；未知：转移试点园区")
    assert lines_needed(reason, 520) == 5
    per_line = (200 - PADDING_PX) // text_px("柯")  # no space: whole characters per line, broken anywhere
    assert lines_needed("柯" * 100, 200) == math.ceil(100 / per_line)
    assert lines_needed("similar products " + "柯" * 10, 200) == 2  # the run that does not fit starts a line


def test_a_chinese_reason_may_end_a_line_between_its_motives():
    """With its numbers joined to their units, a Chinese reason had no plain space in some lines, and the
    grid broke them inside a word ("3,780 公" / "里"). A wrapped cell gets a space after "；" and "，", so a
    line ends between motives; text already spaced, numbers and English are left as they are."""
    from app_components.tables import breakable

    reason = "有对接先例（双方有记录的对接：0\u00a0项、8\u00a0项）；3,780\u00a0公里"
    assert breakable(reason) == "有对接先例（双方有记录的对接：0\u00a0项、8\u00a0项）； 3,780\u00a0公里"
    assert breakable("甲； 乙，丙") == "甲； 乙， 丙" and breakable("a; b, c") == "a; b, c" and breakable(0.5) == 0.5
    width = text_px("有对接先例（双方有记录的对接：0 项、8 项）；") + PADDING_PX + 10
    assert lines_needed(breakable(reason), width) == 2  # the distance whole on the second line


def test_source_links_are_named_by_site_and_cannot_break_out():
    from app_components.tables import source_links

    cell = source_links("http://x.org/a)](javascript:alert(1)) | note *b*")
    assert cell.startswith("[x\\.org](http://x.org/a%29%5D%28javascript:alert%281)")  # encoded: one link
    assert "\\*b\\*" in cell and "\\|" in cell  # the note stays text
    assert source_links("no address here <b>") == "no address here \\<b\\>"


def test_a_short_wrapped_column_leaves_its_room_to_the_long_one():
    """The data page's problems table wraps the cell value and the reason: an empty value column used to
    take an equal share of the row (up to 400 px) and made the reason wrap after two characters."""
    frame = pd.DataFrame({"row": [1], "value": [""], "reason": ["第 1 行只有一个单元格（“2024年纺织集群名录”），像是表格上方的标题；"
                                                            "第一行必须是列名：请删除列名上方的行"]})
    widths, row_height = fit(frame, wrap=["value", "reason"], budget=900)
    assert widths["value"] < 120 and widths["reason"] >= 700
    assert not clipped(frame, widths, row_height)
    assert list(widths) == list(frame.columns)
    both = pd.DataFrame({"a": ["柯桥 " * 80], "b": ["similar products " * 40]})
    widths, row_height = fit(both, wrap=["a", "b"], budget=900)
    assert widths["b"] > widths["a"] and sum(widths.values()) == 900  # the longer text gets more room
    assert _tallest(both, widths) <= _tallest(both, {"a": 450, "b": 450})  # no taller than an even split
    assert _no_shift_shortens(both, widths)


def _tallest(frame: pd.DataFrame, widths: dict) -> int:
    return max(lines_needed(v, widths[c]) for c in frame.columns for v in frame[c].astype(str))


def _no_shift_shortens(frame: pd.DataFrame, widths: dict, step: int = 10) -> bool:
    """No move of ``step`` px from one text column to another makes the tallest cell shorter."""
    tallest = _tallest(frame, widths)
    for give in frame.columns:
        for take in frame.columns:
            if give != take and widths[give] - step >= 90:
                moved = {**widths, give: widths[give] - step, take: widths[take] + step}
                if _tallest(frame, moved) < tallest:
                    return False
    return True


def test_a_latin_word_is_not_broken_inside_when_room_allows():
    """The shortlist's "why these pairs" in English drew "Wangjiangjin" / "g (Xiuzhou)": a column is never
    narrower than its longest Latin word (up to ``WORD_PX``), so the grid breaks at a space."""
    from app_components.tables import WORD_PX

    frame = pd.DataFrame({"left": ["Lanxi", "Wangjiangjing (Xiuzhou)"], "right": ["Wangjiang", "Aksu Textile Industrial City"],
                          "reason": ["weaving feeds apparel; similar products; nearby transfer " * 6] * 2})
    widths, row_height = fit(frame, wrap=["reason"], budget=850, caps={"left": 170, "right": 170})
    assert widths["left"] >= text_px("Wangjiangjing") + PADDING_PX
    assert not clipped(frame, widths, row_height)
    long = pd.DataFrame({"name": ["E-dong (Yingshan/Huangmei/Longganhu)"], "reason": ["similar products " * 60]})
    widths, _ = fit(long, wrap=["reason"], budget=600)
    assert widths["name"] <= WORD_PX < text_px("(Yingshan/Huangmei/Longganhu)") + PADDING_PX  # not past the cap


def test_the_directorys_long_english_names_get_the_width_they_need():
    """The overview's directory in English: every text column was narrowed to one common width, so a
    123-px name column drew the longest names on 9 lines (rows 191 px high) beside a province column
    with room to spare. Widths are now chosen so the tallest cell is as short as the page allows."""
    names = ["Ningxia Ecological Textile Industry Demonstration Park (Helan, Yinchuan)",
             "Guang'an (Western Denim Textile & Apparel Trade-Tech Industrial Park)",
             "XPCC 7th Division textile park (130th Regiment)", "Jiangyin", "Keqiao (Shaoxing County)"]
    frame = pd.DataFrame({
        "ID": ["C135", "C154", "C133", "C001", "C025"], "Name": names, "Type": ["Cluster"] * 5,
        "Region": ["West", "West", "West", "East", "East"],
        "Province": ["Ningxia", "Sichuan", "Xinjiang", "Inner Mongolia", "Zhejiang"],
        "Chain stages": ["spinning, weaving, dyeing & finishing, apparel, home textiles"] * 5,
        "Designations": ["China textile industry base city; China casual-wear city; China cashmere-products city"] * 5,
    })
    widths, row_height = fit(frame, wrap=["Designations"], caps={"Name": 170, "Chain stages": 150})
    assert sum(widths.values()) <= FULL_WIDTH_PX and not clipped(frame, widths, row_height)
    assert _tallest(frame, widths) <= 6  # 9 before
    assert _no_shift_shortens(frame.drop(columns=["ID", "Type", "Region"]), widths)


def test_a_table_of_many_columns_stays_within_the_page():
    """The outcomes table (nine columns): its note column wraps more rather than push the last column
    ("recorded") past the right edge, where it was cut at 1366 px."""
    frame = pd.DataFrame({"甲方": ["王江泾"], "乙方": ["阿克苏纺织工业城"], "对接类型": ["东西部对接（产能转移）"],
                          "阶段": ["数月后跟进"], "结果": ["已达成协议"], "评分": [3], "说明": ["意向很强，约定下月回访" * 6],
                          "规划人员": ["未署名"], "记录时间": ["2026年11月30日 18:44"]})
    widths, row_height = fit(frame, wrap=["说明"])
    assert sum(widths.values()) <= FULL_WIDTH_PX
    assert not clipped(frame, widths, row_height)


def test_a_table_wider_than_the_page_even_at_its_floors_cuts_no_header():
    """Thirty columns cannot fit the page at any width: the room left was negative and was "shared" to the
    wrap column, which shrank below its header. It keeps its floor; the grid scrolls sideways."""
    frame = pd.DataFrame({f"column {i}": ["some text here"] * 3 for i in range(30)})
    widths, row_height = fit(frame, wrap=["column 0"])
    assert min(widths.values()) >= 90 and not clipped(frame, widths, row_height)


def test_widths_are_whole_pixels_under_a_fractional_budget():
    """The meeting grid's budget is the page less its slot labels' measured width (a fraction): every
    width must still be a whole number of pixels, or the grid leaves the column to its automatic width."""
    frame = pd.DataFrame({f"桌号 {i}": ["沙雅 — 新昌镜岭"] for i in range(1, 9)})
    widths, _ = fit(frame, wrap=list(frame.columns), min_wrap=96, budget=FULL_WIDTH_PX - 123.4)
    assert all(isinstance(w, int) for w in widths.values()), widths


def test_fit_keeps_its_promises_on_any_table():
    """Property test: whatever the texts (Chinese, English, empty, long), columns and budget, every width is
    a whole number of pixels no narrower than its header needs; a table whose floors fit the budget stays
    within it; and the row height holds every cell (nothing clipped) while no cell needs more lines than
    ``fit`` allows."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from app_components.tables import header_px, natural_px

    words = st.sampled_from(["柯桥", "纺纱→织造互补；", "similar products;", "Wangjiangjing", "(Xiuzhou)", "3,780\u00a0公里",
                             "a", "", "China textile industry base city;"])
    cell = st.lists(words, max_size=12).map(" ".join)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.integers(1, 6), st.lists(cell, min_size=1, max_size=5), st.integers(300, 1200), st.data())
    def check(n_columns, rows, budget, data):
        frame = pd.DataFrame({f"col {i}": [data.draw(cell) for _ in rows] for i in range(n_columns)})
        wrap = [c for c in frame.columns if data.draw(st.booleans())]
        widths, row_height = fit(frame, wrap=wrap, budget=budget, min_wrap=120)
        assert all(isinstance(w, int) for w in widths.values())
        assert all(widths[c] >= min(math.ceil(natural_px(frame[c], c)), max(90, header_px(c))) for c in frame.columns)
        floors = sum(max(90, header_px(c)) for c in frame.columns)
        if floors <= budget:
            assert sum(widths.values()) <= budget, (widths, budget)
        cut = clipped(frame, widths, row_height)
        assert not cut or max(lines_needed(v, widths[c]) for c in frame.columns for v in frame[c]) > 10, cut

    check()


@pytest.mark.parametrize("left, right", [
    ("江阴超长名称纺织" * 15, '=HYPERLINK("http://evil.example","望江")'),
    ("Jiangyin " + "verylongname " * 9, "Ningxia Ecological Textile Industry Demonstration Park (Helan, Yinchuan)"),
    ("W" * 120, "江" * 120),
])
def test_a_meeting_cell_shows_both_sides_of_its_pair(left, right):
    """With a 120-character name (the longest the importer takes) the grid's slot 1 / table 1 cell stopped
    after ten lines of the first name and the partner was not in sight: each name is cut with "…" instead."""
    from app_components import meeting_plan
    from matcher.meetings.schedule import schedule

    wanted = pd.DataFrame({"left_id": ["A"], "right_id": ["B"], "kind": ["east_west"], "score": [0.5],
                           "left_name_zh": [left], "left_name_en": [left], "right_name_zh": [right],
                           "right_name_en": [right]})
    plan = schedule(wanted, 1, 1)
    cells, _ = meeting_plan.grid(plan, pd.DataFrame(columns=["slot", "table_label", "left_id", "right_id"]))
    cell = cells.iloc[0, 0]
    first, second = cell.split(" – ")
    assert left.startswith(first.rstrip("…").rstrip()) and right.startswith(second.rstrip("…").rstrip())
    assert len(first) > 10 and len(second) > 10
    assert lines_needed(cell, meeting_plan.GRID_CELL_PX) <= 10
    short = meeting_plan.grid(schedule(wanted.assign(left_name_zh="柯桥", left_name_en="柯桥"), 1, 1),
                              pd.DataFrame(columns=["slot", "table_label", "left_id", "right_id"]))[0].iloc[0, 0]
    assert short.startswith("柯桥 – ")  # a name that fits is never cut


@pytest.mark.parametrize("language", ["zh", "en"])
def test_what_holds_a_pair_back_keeps_each_english_word_whole(monkeypatch, language):
    """The table beside the waterfall has four columns in half the page: with the headers "Weight share"
    and "Score missed" its feature column fell to 98 px and "complementarity" broke in two. Every motive's
    name of every kind now fits its words whole."""
    from app_components import i18n, pairs, tables
    from matcher.docking.kinds import KINDS

    monkeypatch.setattr(i18n, "lang", lambda: language)
    labels = {"feature": i18n.t("col_feature"), "value": i18n.t("col_value"), "weight": i18n.t("col_weight_share"),
              "missed": i18n.t("missed")}
    for kind in KINDS.values():
        names = [i18n.feature_label(f) for f in kind.features]
        frame = pd.DataFrame({"feature": names, "value": "0.000", "weight": "0.115", "missed": "0.115"})
        widths, _ = fit(frame, wrap=["feature"], labels=labels, budget=pairs.HALF_WIDTH_PX, min_wrap=120)
        assert widths["feature"] >= tables._longest_word_px(names), (kind.name, widths)
