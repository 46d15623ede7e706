"""AppTest of every page on the bundled data: overview, explore, profile, shortlist, meetings,
outcomes. Uploads and the language switch are in ``test_data_page.py`` and ``test_i18n.py``."""

from __future__ import annotations

import re

import pandas as pd
from conftest import go, table

from matcher.docking.kinds import get_kind
from matcher.store import Store


def test_overview_counts_map_and_filters(app):
    go(app, "overview")
    assert app.title[0].value == "概览"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["集群"] == "163" and metrics["专业市场"] == "41"
    assert len(app.get("deck_gl_json_chart")) == 1
    assert len(app.get("plotly_chart")) == 1  # stage coverage by region
    app.multiselect(key="overview.filters.region").set_value(["west"]).run()
    directory = table(app, "称号")
    assert 0 < len(directory) < 204
    assert set(directory["区域"]) == {"西部"}
    app.multiselect(key="overview.filters.stage").set_value(["spinning"]).run()
    assert {m.label: m.value for m in app.metric}["集群"] != "38"


def _ranked(at):
    return at.dataframe(key="explore.table.east_west").value


def test_explore_ranks_explains_reweights_and_shortlists(app, workspace):
    go(app, "explore")
    first = _ranked(app)
    assert len(first) == 30 and list(first["rank"][:3]) == [1, 2, 3]
    assert first["score"].is_monotonic_decreasing
    assert first["reason"].str.len().min() > 0
    # select a pair: waterfall, both directions, what holds it back, and the arc map
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    assert any("对接解释" in s.value for s in app.subheader)
    # what holds the pair back gives each motive's share of the weights, and says what a share is
    assert "missed" in table(app, "weight").columns  # the table whose weight column is headed "权重占比"
    assert any(c.value.startswith("权重占比 = 该项滑块值") for c in app.caption)
    assert len(app.get("plotly_chart")) == 1
    assert len(app.get("deck_gl_json_chart")) == 1
    # a slider re-ranks the list; the reset puts the preset back
    app.slider(key="explore.weights.east_west.w.chain").set_value(1.0).run()
    moved = _ranked(app)
    assert list(moved["score"]) != list(first["score"])
    app.button(key="explore.weights.east_west.reset").click().run()
    assert list(_ranked(app)["score"]) == list(first["score"])
    # a preset moves every slider
    app.selectbox(key="explore.weights.east_west.preset").set_value("supply").run()
    assert app.slider(key="explore.weights.east_west.w.chain").value == get_kind("east_west").preset_weights("supply")["chain"]
    # ticks outlive a re-rank (the pair ticked under the first preset is still ticked); clear them, then add
    # two selected pairs to the shortlist
    app.button(key="explore.clear").click().run()
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    app.run()
    app.button(key="explore.add").click().run()
    assert any("已加入 2 对" in s.value for s in app.success)
    items = Store().items()
    assert len(items) == 2 and set(items["kind"]) == {"east_west"}
    app.button(key="explore.add").click().run()  # the same pairs again are skipped, not duplicated
    assert len(Store().items()) == 2
    assert not app.success and any(i.value.startswith("2 对已在清单") for i in app.info)
    # one held pair and one new: each is named once, as what happened to it
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [1, 2], "columns": [], "cells": []}}
    app.run()
    app.button(key="explore.add").click().run()
    [added] = [s.value for s in app.success]
    [held] = [i.value for i in app.info if "已在清单" in i.value]
    assert added.startswith("已加入 1 对") and held.startswith("1 对已在清单")
    added_pair, held_pair = added.split("：", 1)[1], held.split("：", 1)[1]
    assert "；" not in added_pair and "；" not in held_pair and "—" in added_pair  # one pair each
    assert added_pair != held_pair and held_pair not in added and added_pair not in held
    assert len(Store().items()) == 3


def test_explore_records_the_chosen_preset_and_items_carry_their_run(app):
    def add_row(row: int) -> tuple[str, str]:
        """Add ranked row ``row``; the stored run's id and preset that the new item names."""
        app.session_state["explore.table.east_west"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
        app.run()
        before = len(Store().items())
        app.button(key="explore.add").click().run()
        store = Store()
        assert len(store.items()) == before + 1  # a pair not listed yet
        run_id = store.items()["run_id"].iloc[-1]
        return run_id, store.runs().set_index("run_id").at[run_id, "preset"]

    go(app, "explore")
    first = add_row(0)
    assert first[1] == "balanced"  # the kind's default preset
    app.selectbox(key="explore.weights.east_west.preset").set_value("supply").run()
    assert add_row(5)[1] == "supply"
    app.slider(key="explore.weights.east_west.w.chain").set_value(1.0).run()
    assert add_row(10)[1] == "custom"  # a slider moved off the preset
    app.button(key="explore.weights.east_west.reset").click().run()
    assert add_row(15)[1] == "supply"
    items = Store().items()
    assert items["run_id"].notna().all() and items["run_id"].nunique() == 4 and items["run_id"].iloc[0] == first[0]
    # another kind
    app.selectbox(key="explore.kind").set_value("cluster_market").run()
    assert len(app.dataframe(key="explore.table.cluster_market").value) == 30


def test_ticks_a_filter_hides_entirely_can_still_be_seen_cleared_and_added(app):
    """A minimum score no pair reaches empties the ranking; the two ticked pairs stay counted and can
    be added (before, the page stopped at "no pairs match" and the ticks vanished from view)."""
    go(app, "explore")
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    app.run()
    app.slider(key="explore.min_score").set_value(1.0).run()
    assert not app.exception
    assert any("没有符合条件的对接" in i.value for i in app.info)
    assert any("已勾选 2 对" in c.value for c in app.caption)
    app.button(key="explore.add").click().run()
    assert len(Store().items()) == 2
    app.button(key="explore.clear").click().run()
    assert any("已勾选 0 对" in c.value for c in app.caption)


def test_explore_focus_on_one_cluster(app):
    go(app, "explore")
    app.selectbox(key="explore.focus").set_value("C001").run()
    ranked = _ranked(app)
    assert len(ranked) > 0
    assert ((ranked["left"] == "江阴") | (ranked["right"] == "江阴")).all()


def test_profile_chain_gaps_partners_history(app):
    store = Store()
    sid = store.create_shortlist("t", planner="li")["id"]
    store.add_items(sid, pd.DataFrame({"left_id": ["C001"], "right_id": ["C093"], "kind": ["east_west"]}),
                    planner="li")
    go(app, "profile")
    app.selectbox(key="profile.cluster").set_value("C001").run()
    assert app.header[0].value == "江阴"
    assert len(app.get("plotly_chart")) == 1  # chain position graph
    gaps = table(app, "缺失环节")
    assert len(gaps) > 0 and gaps["可补链伙伴"].str.len().min() > 0
    assert len(table(app, "可补链伙伴")) > 0
    history = table(app, "内容")
    assert history["内容"].str.contains("望江").any() and not history["内容"].str.contains("C093").any()
    import json

    top = next(f for f in app.dataframe if "reason" in f.value.columns)  # a kind's top partners
    assert json.loads(top.proto.columns)["score"]["type_config"]["format"] == "%.3f"  # 0.680, not 0.68
    # the province facts behind the motives, in words, with their sources; unknown said so
    facts = table(app, "指标").set_index("指标")
    assert facts.at["最低工资（元/月，最高档）", "特征值"] == "960"
    assert "](https://dezshira.com/" in facts.at["最低工资（元/月，最高档）", "来源"]  # a link named by its site
    assert facts.at["平均工资（元/年）", "特征值"] == "未知"
    assert facts.at["流域经济带", "特征值"] == "长江经济带" and "Anhui" not in facts.at["相邻省份", "特征值"]
    # the docking corridors as facts: Jiangsu's documented dockings by province, most first, with their pages
    # (Xinjiang: D14 Shihezi, S06 Jiangyin - Shaya, S11 Nantong - Yining, S41 Nantong - Aksu, S62 Zhangjiagang -
    # Shihezi, S69 Changzhou - Kuitun; Sichuan: S25-S27, S30; Anhui: D25, D26)
    corridors = facts.at["有据对接通道（与各省的有据对接项数）", "特征值"]
    assert corridors.startswith("新疆 6、四川 4、安徽 2") and "Anhui" not in corridors
    corridor_pages = facts.at["有据对接通道（与各省的有据对接项数）", "来源"]
    assert "](http" in corridor_pages
    # the pages of the strongest corridors are linked, the rest counted (there were about 50 links)
    assert corridor_pages.count("](http") == 6 and "另有" in corridor_pages and "个来源" in corridor_pages
    # a gap partner's docking kind is named; Keqiao's home markets are shown, not suggested
    assert set(gaps["对接类型"]) <= {"东西部对接", "集群—集群"}  # the short names of a table's kind column
    app.selectbox(key="profile.cluster").set_value("C025").run()
    assert any("本地专业市场" in c.value and "中国轻纺城" in c.value for c in app.caption)


def _shortlist_with(pairs: int) -> Store:
    store = Store()
    sid = store.create_shortlist("会议清单", planner="li")["id"]
    rows = pd.DataFrame({"left_id": ["C001", "C002", "C003"][:pairs], "right_id": ["C093", "C094", "C095"][:pairs],
                         "kind": "east_west", "score": [0.9, 0.8, 0.7][:pairs]})
    store.add_items(sid, rows, planner="li")
    return store


def test_the_shortlist_says_why_each_pair_is_on_it(app):
    """Under the editor, each pair the filters show has its full reason, the one the downloads carry;
    a pair the data in use no longer proposes says so."""
    from matcher import DockingEngine, load_dataset

    store = Store()
    sid = store.create_shortlist("会议清单", planner="li")["id"]
    store.add_items(sid, pd.DataFrame({"left_id": ["C001", "C002", "C003", "C025"],
                                       "right_id": ["C093", "C094", "C095", "C026"],
                                       "kind": "east_west", "score": [0.9, 0.8, 0.7, 0.1]}), planner="li")
    go(app, "shortlist")
    shown = table(app, "reason")
    assert len(shown) == 4
    from app_components.tables import breakable

    why = DockingEngine(load_dataset()).explain_pairs(store.items()[["kind", "left_id", "right_id"]])
    for (_, row), (_, expected) in zip(shown.iterrows(), why.iterrows(), strict=True):
        if pd.isna(expected["reason_zh"]):  # two eastern clusters: not an east-west candidate
            assert row["reason"] == "当前数据不再推荐此对"
        else:
            assert row["reason"] == breakable(expected["reason_zh"]) and "；" in row["reason"]
    assert shown["reason"].eq("当前数据不再推荐此对").sum() == 1


def test_a_missing_value_shows_as_a_dash_not_the_word_none(app):
    """A pair added without a score (a planner's file, the CLI) showed "None" in its score cell: an English
    word on a Chinese page. Every grid shows a missing value as a dash."""
    store = Store()
    sid = store.create_shortlist("会议清单", planner="li")["id"]
    store.add_items(sid, pd.DataFrame({"left_id": ["C001"], "right_id": ["C093"], "kind": ["east_west"]}),
                    planner="li")
    go(app, "shortlist")
    grids = list(app.dataframe)
    editor = [d for d in grids if d.proto.editing_mode != d.proto.EditingMode.READ_ONLY]
    assert len(editor) == 1 and pd.isna(editor[0].value["score"].iloc[0])
    assert {d.proto.placeholder for d in grids} == {"—"}  # the editor and the why-table alike


def test_the_shortlist_and_its_downloads_give_the_reason_the_pair_was_ticked_with(app):
    """A pair ticked under the supply preset keeps the supply preset's reason on the shortlist (and so in
    every download), not the balanced preset's: the reason and the score come from the same weights."""
    go(app, "explore")
    app.selectbox(key="explore.weights.east_west.preset").set_value("supply").run()
    ticked = _ranked(app).iloc[0]
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    app.button(key="explore.add").click().run()
    go(app, "shortlist")
    shown = table(app, "reason")
    assert len(shown) == 1
    # the ranking shows the first motives and "另有 N 项"; the shortlist gives them all, in the same order
    named = re.split(r"；\s*另有", ticked["reason"])[0]
    assert "另有" in ticked["reason"] and shown["reason"].iloc[0].startswith(named + "；"), (shown["reason"].iloc[0], named)


def test_the_shortlist_workbook_names_the_preset_its_pairs_were_ticked_under(app, monkeypatch):
    import io

    from openpyxl import load_workbook

    from app_components import downloads

    files = {}
    monkeypatch.setattr(downloads, "button", lambda label, data, file_name, key: files.__setitem__(file_name, data))
    go(app, "explore")
    app.selectbox(key="explore.weights.east_west.preset").set_value("supply").run()
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    app.button(key="explore.add").click().run()
    go(app, "shortlist")
    # the files are named after the list, and the run sheet names it
    assert set(files) == {"默认清单.xlsx", "默认清单.csv"}, set(files)
    book = load_workbook(io.BytesIO(files["默认清单.xlsx"]))
    run = {str(k): v for k, v in book.worksheets[-1].iter_rows(values_only=True)}
    assert run["候选清单"] == "默认清单"
    assert "运行编号" in [c.value for c in book.worksheets[0][1]]  # each pair's run
    preset = next(v for k, v in run.items() if k.startswith("权重方案"))
    assert preset == "重供应链", run  # it was left blank: the page made its run sheet with no weights
    assert run.get("规划人员") == "未署名"
    # both downloads name each side in both languages (the CSV in the page's, before) and round the score
    sheet = pd.DataFrame(list(book.worksheets[0].iter_rows(values_only=True))[1:],
                         columns=[c.value for c in book.worksheets[0][1]])
    text = files["默认清单.csv"].decode("utf-8-sig")
    csv = pd.read_csv(io.StringIO(text), dtype=str)
    for frame in (sheet, csv):
        assert {"甲方（中文）", "甲方（英文）", "乙方（中文）", "乙方（英文）"} <= set(frame.columns), list(frame.columns)
        assert frame["甲方（英文）"].iloc[0] and frame["甲方（中文）"].iloc[0] != frame["甲方（英文）"].iloc[0]
    score = csv[[c for c in csv.columns if "得分" in c or "评分" in c][0]].iloc[0]
    assert len(score.split(".")[1]) <= 4, score


def test_shortlist_edit_save_bulk_and_conflict(app):
    store = _shortlist_with(3)
    go(app, "shortlist")
    editor = app.data_editor[0]
    assert len(editor.value) == 3
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "先电话联系", "status": "accepted"}},
                                     "added_rows": [], "deleted_rows": []}
    app.run()
    app.button(key="shortlist.save").click().run()
    assert not app.exception
    first = store.items().iloc[0]
    assert first["notes"] == "先电话联系" and first["status"] == "accepted"
    assert any("已保存 1 项" in s.value for s in app.success)
    # bulk: tick two rows and lock them
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {1: {"select": True}, 2: {"select": True}},
                                     "added_rows": [], "deleted_rows": []}
    app.run()
    app.button(key="shortlist.bulk_lock").click().run()
    assert list(store.items()["locked"]) == [False, True, True]
    # someone else changes item 1 meanwhile: saving over it is refused with both values shown
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "我的备注"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    item = store.item(int(first["id"]))
    store.update(item["id"], {"notes": "别人的备注"}, item["version"], planner="wang")
    app.button(key="shortlist.save").click().run()
    assert app.error and "别人的备注" in app.error[0].value
    assert store.item(item["id"])["notes"] == "别人的备注"
    # downloads do not rerun the page
    assert len(app.get("download_button")) == 2


def _above_editor(app) -> list[str]:
    """The kinds and texts of the page's elements above the shortlist editor, in page order."""
    out = []

    def walk(node) -> bool:
        if type(node).__name__ == "Dataframe":  # the editor is the page's first table
            return True
        children = getattr(node, "children", None)
        if children:
            return any(walk(child) for child in children.values())
        out.append(f"{type(node).__name__}:{getattr(node, 'value', '')}" if type(node).__name__ in (
            "Caption", "Markdown", "Button", "Warning", "Info") else type(node).__name__)
        return False

    walk(app.main)
    return out


def test_unsaved_shortlist_changes_lock_the_filters_until_saved_or_discarded(app):
    """A note typed into the shortlist and then a search: the editor was redrawn with other rows and the note
    was gone without a word ("没有需要保存的修改。"). The filters are locked while changes are unsaved."""
    store = _shortlist_with(3)
    go(app, "shortlist")
    assert not app.text_input(key="shortlist.search").disabled
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {1: {"select": True}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert not app.text_input(key="shortlist.search").disabled  # a tick is not a change to save
    above = _above_editor(app)
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "先电话联系"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    # nothing appears above the table when the first change is typed: the table does not move under the mouse
    assert _above_editor(app) == above
    assert app.text_input(key="shortlist.search").disabled
    assert all(m.disabled for m in app.multiselect)
    assert any("有未保存的修改" in c.value for c in app.caption)
    app.button(key="shortlist.save").click().run()
    assert store.items().iloc[0]["notes"] == "先电话联系"
    assert not app.text_input(key="shortlist.search").disabled  # saved: the filters are free again
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "不要了"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    app.button(key="shortlist.discard").click().run()
    assert not app.exception and not app.text_input(key="shortlist.search").disabled
    assert store.items().iloc[0]["notes"] == "先电话联系"


def test_unsaved_shortlist_changes_survive_another_page_and_a_language_switch(app):
    """A note typed into the shortlist, then a look at the explore page: back on the shortlist the note was
    gone (Streamlit forgets a widget's edits when it is not drawn), and a language switch lost it the same
    way. The changes are kept until saved or discarded, the page says so, and saving stores them."""
    store = _shortlist_with(3)
    go(app, "shortlist")
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "先电话联系"}, 2: {"status": "accepted"}},
                                     "added_rows": [], "deleted_rows": []}
    app.run()
    go(app, "explore")
    go(app, "shortlist")
    shown = app.data_editor[0].value
    assert shown["notes"].iloc[0] == "先电话联系" and shown["status"].iloc[2] == "accepted"
    assert app.text_input(key="shortlist.search").disabled  # still unsaved: the filters stay locked
    assert any("未保存的 2 项修改仍在" in c.value for c in app.caption)
    # one more change on the restored editor: all three are saved
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {1: {"notes": "第二条"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    app.button(key="shortlist.save").click().run()
    saved = store.items()
    assert list(saved["notes"].iloc[:2]) == ["先电话联系", "第二条"] and saved["status"].iloc[2] == "accepted"
    assert not app.text_input(key="shortlist.search").disabled
    # a discarded change is gone after leaving the page too
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "不要了"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    app.button(key="shortlist.discard").click().run()
    go(app, "explore")
    go(app, "shortlist")
    assert app.data_editor[0].value["notes"].iloc[0] == "先电话联系"
    assert not app.text_input(key="shortlist.search").disabled
    # a change, then the other language: still there, and said in English
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {2: {"notes": "换语言前"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    app.session_state["lang"] = "en"
    app.run()
    assert not app.exception
    assert app.data_editor[0].value["notes"].iloc[2] == "换语言前"
    assert any("Kept for you: 1 unsaved change," in c.value for c in app.caption)  # one change, no "(s)"


def test_a_kept_change_survives_a_save_on_another_shortlist_and_holds_the_bulk_actions(app):
    """Review of stop 38: all shortlists shared one save counter, so saving list B dropped the change kept on
    list A; a bulk action saved over the kept changes and dropped them; and the count of kept changes
    stayed at the number first restored."""
    store = _shortlist_with(2)
    first = int(store.shortlists()["id"].iloc[-1])
    second = int(store.create_shortlist("第二清单", planner="li")["id"])
    store.add_items(second, pd.DataFrame({"left_id": ["C025"], "right_id": ["C123"], "kind": "east_west",
                                          "score": [0.5]}), planner="li")
    go(app, "shortlist")
    app.selectbox(key="shortlist.pick.pick").set_value(first).run()
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "甲清单的备注"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert all(app.button(key=k).disabled for k in ("shortlist.bulk_apply", "shortlist.bulk_lock", "shortlist.bulk_unlock"))
    app.selectbox(key="shortlist.pick.pick").set_value(second).run()  # list B: a change, saved
    assert not app.button(key="shortlist.bulk_lock").disabled
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {0: {"notes": "乙清单的备注"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    app.button(key="shortlist.save").click().run()
    assert store.items(second)["notes"].iloc[0] == "乙清单的备注"
    app.selectbox(key="shortlist.pick.pick").set_value(first).run()  # back on A: its change is still there
    assert app.data_editor[0].value["notes"].iloc[0] == "甲清单的备注"
    assert any("未保存的 1 项修改仍在" in c.value for c in app.caption)
    editor = app.data_editor[0]
    app.session_state[editor.key] = {"edited_rows": {1: {"status": "accepted"}}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert any("未保存的 2 项修改仍在" in c.value for c in app.caption)  # counted now, not when restored
    app.button(key="shortlist.save").click().run()
    saved = store.items(first)
    assert saved["notes"].iloc[0] == "甲清单的备注" and saved["status"].iloc[1] == "accepted"


def test_meetings_schedule_grid_download_keeps_state(app):
    store = _shortlist_with(3)
    go(app, "meetings")
    assert app.info and "先生成排期" in app.info[0].value
    app.number_input(key="meetings.tables").set_value(2).run()
    app.button(key="meetings.run").click().run()
    grid = table(app, "桌号 1")
    assert grid.shape == (2, 2)  # 3 meetings, 2 tables: 2 slots
    assert sum(cell != "" for cell in grid.to_numpy().ravel()) == 3
    xlsx = app.download_button(key="meetings.download_xlsx")
    assert xlsx.proto.label == "Excel 工作簿"
    # a download keeps the page as it was: same plan, same grid, no reset to "run first"
    before = app.session_state["meetings.plan"]["plan"]
    xlsx.click().run()
    assert not app.info or "先生成排期" not in app.info[0].value
    assert app.session_state["meetings.plan"]["plan"] is before
    assert table(app, "桌号 1").equals(grid)
    for fmt in ("pdf", "ics", "csv"):
        app.download_button(key=f"meetings.download_{fmt}").click().run()
        assert table(app, "桌号 1").equals(grid)
    files = app.session_state["meetings.plan"]["files"]["zh"]
    assert files["xlsx"][:2] == b"PK" and files["pdf"][:4] == b"%PDF" and b"BEGIN:VCALENDAR" in files["ics"]
    # save the bookings; a re-run keeps them where they are and marks them booked
    app.button(key="meetings.save").click().run()
    assert len(store.meetings()) == 3
    assert set(store.items()["status"]) == {"scheduled"}
    assert not app.warning  # the bookings of this plan do not make it out of date
    app.button(key="meetings.run").click().run()
    assert not app.error and any("没有冲突" in c.value for c in app.caption)
    assert app.dataframe[-1].value.equals(grid) or table(app, "桌号 1").equals(grid)  # kept in place
    assert any("洽谈日期：" in c.value for c in app.caption)  # the date under the downloads says what it is
    # a pair added to the list afterwards: the plan is said to be out of date until run again
    sid = int(store.shortlists()["id"].iloc[0])
    extra = pd.DataFrame({"left_id": ["C025"], "right_id": ["C123"], "kind": ["east_west"], "score": [0.5]})
    store.add_items(sid, extra, planner="li")
    app.run()
    assert [w.value for w in app.warning] == [
        "此排期生成后清单已有改动（现有 4\u00a0对可排期）；下方排期与下载仍是改动前的，请重新生成排期。"]
    app.button(key="meetings.run").click().run()
    assert not app.warning and len(app.session_state["meetings.plan"]["plan"].meetings) == 4


def test_a_plan_belongs_to_the_list_it_was_made_for(app):
    """A schedule made for one shortlist is not shown, downloaded or booked once another list is picked;
    an empty list says so before anything is run."""
    store = _shortlist_with(3)
    go(app, "meetings")
    app.button(key="meetings.run").click().run()
    assert len(table(app, "桌号 1").to_numpy().ravel()) and app.button(key="meetings.save")
    empty = store.create_shortlist("展会B清单", planner="li")["id"]
    app.run()  # the picker offers the new list
    app.selectbox(key="meetings.pick.pick").set_value(empty).run()
    assert not app.exception
    assert [i.value for i in app.info] == ["所选清单中没有可排期的对接。"]
    assert not app.get("download_button") and not [b for b in app.button if b.key == "meetings.save"]
    assert "meetings.plan" not in app.session_state
    assert store.meetings().empty and set(store.items()["status"]) == {"proposed"}
    # back on the first list: nothing was carried over, the planner runs the scheduler again
    first = int(store.shortlists()["id"].iloc[0])
    app.selectbox(key="meetings.pick.pick").set_value(first).run()
    assert [i.value for i in app.info] == ["先生成排期。"]


def test_outcomes_record_both_stages_and_conversion(app):
    go(app, "explore")
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    app.run()
    app.button(key="explore.add").click().run()
    go(app, "outcomes")
    app.radio(key="outcomes.stage").set_value("meeting").run()
    app.selectbox(key="outcomes.value.meeting").set_value("met").run()
    app.slider(key="outcomes.rating").set_value(4).run()
    app.text_input(key="outcomes.note").input("双方约定下月回访").run()
    app.button(key="outcomes.record").click().run()
    assert any("已记录" in s.value for s in app.success)
    # the note went with that record and does not stay for the next one
    assert app.text_input(key="outcomes.note").value == ""
    assert Store().outcomes()["note"].tolist() == ["双方约定下月回访"]
    app.radio(key="outcomes.stage").set_value("followup").run()
    app.selectbox(key="outcomes.value.followup").set_value("agreement_reached").run()
    app.button(key="outcomes.record").click().run()
    recorded = Store().outcomes()
    assert sorted(recorded["stage"]) == ["followup", "meeting"]
    assert int(recorded.loc[recorded["stage"] == "meeting", "rating"].iloc[0]) == 4
    by_kind = table(app, "列入清单")
    assert by_kind.iloc[0]["列入清单"] == 2 and by_kind.iloc[0]["达成协议"] == 1
    by_preset = table(app, "权重方案")
    assert by_preset.iloc[0]["权重方案"] == "均衡"
    # recording a different value over an outcome needs "replace"
    app.selectbox(key="outcomes.value.followup").set_value("no_further_contact").run()
    app.button(key="outcomes.record").click().run()
    # said in the page's language, with names, labels, an unnamed planner and a local time; no codes
    [said] = [e.value for e in app.error]
    assert said.startswith("江阴 ↔ 望江（东西部对接")
    assert "的成效（数月后跟进）已由 未署名 于 " in said and "记录为“已达成协议”" in said
    assert "勾选“替换已有记录”" in said
    assert not re.search(r"[A-Za-z]{3,}|C\d{3}|east_west|\d{4}-\d\d-\d\dT", said.replace("\\", "")), said
    app.checkbox(key="outcomes.replace").check().run()
    app.button(key="outcomes.record").click().run()
    assert "no_further_contact" in set(Store().outcomes()["value"])


def test_a_second_shortlist_with_a_taken_name_is_refused_in_words(app):
    go(app, "shortlist")
    for _ in range(2):
        app.text_input(key="shortlist.pick.new").input("浙疆对接会").run()
        app.button(key="shortlist.pick.create").click().run()
    assert not app.exception
    assert any("已有名为" in e.value and "浙疆对接会" in e.value for e in app.error)
    assert list(Store().shortlists()["name"]).count("浙疆对接会") == 1


def test_products_and_designations_read_in_the_pages_language(app):
    """Bundled products and designations show in Chinese in the Chinese UI (data/texts_zh.csv) and
    as the reference's English in the English UI."""
    import re

    go(app, "profile")
    app.selectbox(key="profile.cluster").set_value("C056").run()  # Xintang
    facts = table(app, "特征").set_index("特征")
    assert "牛仔" in facts.at["产品", "特征值"]
    assert not re.search(r"[A-Za-z]{3,}", facts.at["产品", "特征值"] + facts.at["称号", "特征值"])
    go(app, "overview")
    directory = table(app, "称号")
    assert directory["称号"].str.contains("中国纺织产业基地市").any()
    assert not directory["称号"].str.contains("China textile industry base city").any()


def test_find_a_cluster_by_chinese_english_pinyin_or_initials(app):
    go(app, "profile")
    for query, expected in (("keqiao", "C025"), ("柯桥", "C025"), ("Aksu", "C123"), ("akesu", "C123"),
                            ("xt", "C056")):
        app.text_input(key="profile.find").input(query).run()
        options = app.selectbox(key="profile.cluster").options
        assert any(o.endswith(f"({expected})") for o in options), (query, options)
        assert len(options) < 20, (query, len(options))
    app.text_input(key="profile.find").input("zzzz-none").run()
    assert len(app.selectbox(key="profile.cluster").options) == 163 and any("没有找到" in c.value for c in app.caption)


def test_the_shortlist_says_how_many_pairs_its_table_holds_and_meeting_files_speak_the_page_language(app,
                                                                                                     monkeypatch):
    """The table is a few tall rows high and scrolls inside: a planner is told how many pairs it holds. The
    meeting downloads are named in the page's language, as the shortlist's are."""
    from app_components import downloads

    _shortlist_with(3)
    go(app, "shortlist")
    assert any("表中 3 对" in c.value for c in app.caption), [c.value for c in app.caption]
    files = {}
    monkeypatch.setattr(downloads, "button", lambda label, data, file_name, key: files.__setitem__(file_name, data))
    go(app, "meetings")
    app.button(key="meetings.run").click().run()
    stems = {name.rsplit(".", 1)[0] for name in files}
    assert len(stems) == 1 and next(iter(stems)).startswith("洽谈会-"), files.keys()
    assert {name.rsplit(".", 1)[1] for name in files} == {"xlsx", "pdf", "ics", "csv"}
