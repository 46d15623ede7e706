"""Every label exists in Chinese and English, every key the app uses is defined, and the
language switch changes what each page says."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import go, table

from app_components import i18n, messages

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_label_has_both_languages():
    for key, (zh, en) in i18n.TEXT.items():
        assert zh and en, key
        assert CJK.search(zh), f"{key}: Chinese label has no Chinese: {zh!r}"
        assert not CJK.search(en) or "中文" in en, f"{key}: English label has Chinese: {en!r}"
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_every_key_used_in_the_app_is_defined():
    used = set()
    for file in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "app_components").glob("*.py"))]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_0-9]+)["']""", file.read_text(encoding="utf-8")))
    missing = sorted(used - set(i18n.TEXT))
    assert not missing, missing


def test_english_column_headers_start_with_a_capital():
    """A table's English headers read "Feature, Value, Weight, Score missed", not "score missed":
    every label a table is given as a column header (``labels={...: t(key)}``) starts with a capital."""
    keys = set()
    for file in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "app_components").glob("*.py"))]:
        for block in re.findall(r"labels=\{(.*?)\}", file.read_text(encoding="utf-8"), flags=re.S):
            keys |= set(re.findall(r"""\bt\(\s*["']([a-z_0-9]+)["']""", block))
    assert len(keys) > 10 and "missed" in keys
    lower = {k: i18n.TEXT[k][1] for k in keys if k in i18n.TEXT and i18n.TEXT[k][1][:1].islower()}
    assert not lower, lower


@pytest.mark.parametrize(("page", "title"), [
    ("overview", "Overview"), ("explore", "Explore docking"), ("profile", "Cluster profile"),
    ("shortlist", "Shortlist"), ("meetings", "Meeting planner"), ("outcomes", "Outcomes"), ("data", "Data"),
])
def test_english_switch_covers_each_page(app, page, title):
    app.segmented_control(key="lang").set_value("en").run()
    go(app, page)
    assert app.title[0].value == title
    texts = [e.value for kind in ("subheader", "caption", "info", "markdown") for e in app.get(kind)]
    texts += [w.label for kind in ("selectbox", "multiselect", "slider", "button", "number_input")
              for w in app.get(kind)]
    leaked = [x for x in texts if isinstance(x, str) and CJK.search(x) and "中文" not in x]
    assert not leaked, leaked


def test_english_tables_and_numbers(app):
    app.segmented_control(key="lang").set_value("en").run()
    go(app, "overview")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Clusters"] == "163"
    directory = table(app, "Designations")
    assert "Jiangyin" in set(directory["Name"]) and "east" in set(directory["Region"])
    go(app, "explore")
    ranked = app.dataframe(key="explore.table.east_west").value
    assert not ranked["reason"].str.contains(CJK).any()


def test_importer_problems_in_chinese_and_as_given_in_english(monkeypatch):
    monkeypatch.setattr(messages, "lang", lambda: "zh")
    assert messages.problem_reason("latitude must be between -90 and 90") == "纬度须在 -90 到 90 之间"
    assert messages.problem_reason("unknown stage 'silk'; valid stages: fiber, spinning") == \
        "未知的产业链环节“silk”；可用：fiber, spinning"
    assert messages.problem_reason("id 'C1' is used more than once (rows 2, 3); ids must be unique") == \
        "id“C1”重复出现（第 2, 3 行）；编号必须唯一"
    # the reader's encoding refusals, as matcher.ingest.read words them
    assert messages.problem_reason("the file starts as UTF-16 but row 3 cannot be read as UTF-16") == \
        "文件开头是 UTF-16 编码，但第 3 行无法按 UTF-16 读取；请另存为 UTF-8（Excel 的“CSV UTF-8”）"
    assert messages.problem_reason("the file is neither UTF-8 nor GB18030 (GBK) nor Big5: row 7 cannot be read as any "
                                   "of them; save it as UTF-8 (CSV UTF-8 in Excel)").startswith("文件既不是 UTF-8")
    # ids that only look alike (letter case, full-width forms), within a table and across tables
    assert messages.problem_reason("id 'c001' looks like 'C001' (row 2) but is a different id: it differs only in "
                                   "letter case or in full-width or other compatibility characters; retype it") == \
        "编号“c001”与第 2 行的“C001”只差字母大小写或全角字符，却是不同的编号；请重新输入"
    assert messages.problem_reason("a look-alike of the id 'C001' of row 3 of clusters.csv; ids must be unique across "
                                   "clusters, markets and enterprises").startswith("与 clusters.csv 第 3 行的编号")
    assert messages.problem_reason("something new") == "something new"  # unknown text stays readable
    monkeypatch.setattr(messages, "lang", lambda: "en")
    assert messages.problem_reason("latitude must be between -90 and 90") == "latitude must be between -90 and 90"


def test_store_messages_in_chinese(monkeypatch):
    conflict = ("Shortlist item 3 was changed by wang at 2026-11-26T08:00 since you loaded it: yours is based on "
                "version 1, theirs is now version 2.\n  status: yours 'accepted', theirs 'rejected'\n"
                "Nothing was saved. Reload it, then apply your change again if it still holds.")
    monkeypatch.setattr(messages, "lang", lambda: "zh")
    assert messages.message(conflict).splitlines() == [
        "清单条目 3 在你载入后已被 wang 于 2026-11-26T08:00 修改：你的基于第 1 版，对方的已是第 2 版。",
        "  状态：你的 已接受，对方的 已拒绝",
        "未保存任何内容。请重新载入，如仍需要，再修改一次。",
    ]
    monkeypatch.setattr(messages, "lang", lambda: "en")
    assert messages.message(conflict) == conflict


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_names_the_app_made_are_shown_in_the_session_language(lang, monkeypatch):
    """The first shortlist is named in the language of the session that made it, and a planner who
    gave no name is recorded as ``planner``: both are shown in the language of the session that reads them."""
    monkeypatch.setattr(i18n, "lang", lambda: lang)
    for stored in i18n.TEXT["default_shortlist"]:
        assert i18n.shortlist_name(stored) == i18n.TEXT["default_shortlist"][lang == "en"]
    assert i18n.shortlist_name("春季洽谈会") == "春季洽谈会"
    assert i18n.planner_name(i18n.UNNAMED_PLANNER) == i18n.TEXT["unnamed_planner"][lang == "en"]
    assert i18n.planner_name("李明") == "李明"
    assert i18n.planner_name(None) == ""


def test_an_upload_problem_is_shown_wholly_in_the_page_language(monkeypatch):
    """The problem table showed "江阴…… (300 characters)" on the Chinese page and "e.g. Zhejiang or 浙江" on
    the English one."""
    from matcher.ingest.validate import check_table, clip

    long = clip("江" * 300)
    monkeypatch.setattr(messages, "lang", lambda: "zh")
    assert messages.problem_value(long).endswith("……（共 300 个字符）") and "characters" not in messages.problem_value(long)
    assert messages.problem_value("江阴") == "江阴"
    monkeypatch.setattr(messages, "lang", lambda: "en")
    assert messages.problem_value(long) == long
    raw = pd.DataFrame({"id": ["X1"], "name_zh": ["甲"], "province": ["Atlantis"], "stages": ["spinning"]})
    _, problems = check_table(raw, "clusters", "c.csv")
    reason = problems.set_index("column").at["province", "reason"]
    assert not re.search(r"[\u4e00-\u9fff]", messages.problem_reason(reason)), reason
    monkeypatch.setattr(messages, "lang", lambda: "zh")
    assert messages.problem_reason(reason).startswith("未知省份")


def test_workbook_layout_refusals_in_chinese(monkeypatch):
    monkeypatch.setattr(messages, "lang", lambda: "zh")
    assert messages.problem_reason("the sheet is empty; it needs at least a header row (only sheet '封面' is read; "
                                   "the workbook also has 数据)") == "工作表为空；至少需要一行表头（只读取工作表“封面”；工作簿中还有：数据）"
    assert messages.problem_reason("row 1 holds one cell ('名录'), like a title above the table; the first row must be "
                                   "the column names: delete the rows above them").startswith("第 1 行只有一个单元格（“名录”）")


def test_a_name_with_a_web_or_mail_address_is_shown_as_text_not_a_link():
    """GFM links "http://…", "www.…" and "a@b.c" whatever their Markdown escapes (seen in Chromium: an
    uploaded cluster name became a clickable link in the profile's heading); ``plain`` breaks each with a
    zero-width space, and the text reads the same (checked in Chromium: no link left in a heading,
    a caption or a paragraph)."""
    name = "**粗体**常熟 <b>x</b> [链接](http://x.y) www.abc.com a@b.com HTTPS://Z.CN WWW.Q.CN"
    shown = i18n.plain(name)
    assert shown.replace("\u200b", "").replace("\\", "") == name
    for address in ("://", "www.", "WWW.", "a@b"):
        assert address not in shown.replace("\\", "")  # each is broken by the zero-width space


def test_data_text_in_a_heading_stays_on_one_line():
    """A name holding a line break ended the heading it was in, and the rest became a paragraph (seen in
    Chromium on the pair explanation and the profile)."""
    assert i18n.plain("兰溪\n第二行") == "兰溪 第二行"
    assert i18n.plain("Lanxi \r\n\u2028 second line*") == "Lanxi second line\\*"
    assert "\n" not in i18n.plain("a\n\nb\rc\x0bd")


def test_english_counts_agree_with_their_numbers(monkeypatch):
    monkeypatch.setattr(i18n, "lang", lambda: "en")
    assert i18n.t("ticked_into", n=1, name="x").startswith("1 pair ticked")
    assert i18n.t("ticked_into", n=3, name="x").startswith("3 pairs ticked")
    assert i18n.t("scheduled_summary", n=1, slots=2, bound=1, idle=1) == (
        "1 meeting in 2 slots (lower bound 1), 1 idle slot.")
    assert i18n.t("added_pairs", n=1_200, name="x", pairs="y").startswith("Added 1200 pairs")
    assert "(s)" not in i18n.t("home_markets", names="a") or i18n.t("home_markets", names="a").startswith("Home market(s)")
    monkeypatch.setattr(i18n, "lang", lambda: "zh")
    assert i18n.t("ticked_into", n=1, name="x").startswith("已勾选 1 对")


def test_times_are_shown_in_the_planners_zone_not_the_servers(monkeypatch):
    """The store keeps UTC; a planner in Beijing reads Beijing time (the server here runs on UTC), and a
    deployment elsewhere names its zone with MATCHER_TIMEZONE. Upload folders are named in the same zone."""
    import datetime as dt

    from app_components import datasets

    monkeypatch.setattr(i18n, "lang", lambda: "zh")
    monkeypatch.delenv("MATCHER_TIMEZONE", raising=False)
    assert i18n.fmt_date("2026-12-01T04:54:40+00:00") == "2026年12月1日 12:54"
    monkeypatch.setenv("MATCHER_TIMEZONE", "Asia/Urumqi")
    assert i18n.fmt_date("2026-12-01T04:54:40+00:00") == "2026年12月1日 10:54"
    monkeypatch.setattr(i18n, "lang", lambda: "en")
    assert i18n.fmt_date(dt.datetime(2026, 12, 1, 4, 54, tzinfo=dt.UTC)) == "1 Dec 2026 10:54"
    monkeypatch.delenv("MATCHER_TIMEZONE")
    beijing = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)
    stamp = dt.datetime.strptime(datasets.home_now().strftime("%Y%m%d-%H%M%S"), "%Y%m%d-%H%M%S")
    assert abs((stamp - beijing.replace(tzinfo=None)).total_seconds()) < 120
