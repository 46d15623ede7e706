"""The data page: a bad upload shows its problems and replaces nothing; a good one is used; a
cluster named ``<script>`` shows as text; switching back to the bundled data."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import APP, BAD_CLUSTERS, SCRIPT_NAME, clusters_with_script_name, go, table

SOURCES = [Path(__file__).resolve().parents[2] / d for d in ("app.py", "app_pages", "app_components")]


def test_bad_upload_shows_problem_table_and_replaces_nothing(app, workspace):
    go(app, "data")
    app.file_uploader(key="data.upload").upload("我的集群.csv", BAD_CLUSTERS, "text/csv").run()
    app.button(key="data.validate").click().run()
    assert not app.exception
    assert app.error and "未做任何替换" in app.error[0].value
    # the status box ends: it says the upload was not accepted and closes (no endless "checking")
    from streamlit.testing.v1.element_tree import Status

    def statuses(node):
        for child in getattr(node, "children", {}).values():
            if isinstance(child, Status):
                yield child
            yield from statuses(child)

    [status] = list(statuses(app.main))
    assert status.proto.label == "检查未通过：问题见下表" and not status.proto.expanded
    problems = table(app, "问题")
    assert len(problems) == 4
    assert set(problems["文件"]) == {"我的集群.csv"}
    assert {"province", "id", "stages"} <= set(problems["列"])
    # the reasons speak the page's language
    reasons = set(problems["问题"])
    assert any(r.startswith("未知省份") for r in reasons) and any(r.startswith("未知的产业链环节“bogus”") for r in reasons)
    assert app.session_state["dataset_path"] == ""
    assert not (workspace / "datasets").exists() or not any((workspace / "datasets").iterdir())
    go(app, "overview")
    assert {m.label: m.value for m in app.metric}["集群"] == "163"


def test_upload_not_csv_is_refused_with_message(app):
    go(app, "data")
    assert app.file_uploader(key="data.upload").allowed_type == [".csv", ".txt", ".xlsx"]
    app.file_uploader(key="data.upload").upload("clusters.xlsx", b"this is not a workbook", "application/octet-stream").run()
    app.button(key="data.validate").click().run()
    assert app.error and len(table(app, "问题")) >= 1


def test_good_upload_is_used_and_script_name_shows_as_text(app, workspace):
    go(app, "data")
    app.file_uploader(key="data.upload").upload("clusters.csv", clusters_with_script_name(), "text/csv").run()
    app.button(key="data.validate").click().run()
    assert not app.error, [e.value for e in app.error]
    assert any("文件有效" in s.value for s in app.success)
    assert app.session_state["dataset_path"].startswith(str(workspace / "datasets"))
    # the data set is named by when, which table (in Chinese) and which file, not "2026…-clusters"
    flash = next(s.value for s in app.success if "文件有效" in s.value)
    assert re.search(r"「\d{4}\\-\d\d\\-\d\d \d\d\\:\d\d\\:\d\d · 集群 · clusters」", flash), flash
    assert "-clusters" not in flash
    go(app, "overview")
    directory = table(app, "称号")
    assert SCRIPT_NAME in set(directory["名称"])
    go(app, "profile")
    app.selectbox(key="profile.cluster").set_value("C001").run()
    # shown literally: Markdown-escaped, never as markup
    assert app.header[0].value == "\\<script\\>alert\\(1\\)\\</script\\>"
    go(app, "explore")
    app.selectbox(key="explore.focus").set_value("C001").run()
    ranked = app.dataframe(key="explore.table.east_west").value
    assert (ranked["left"] == SCRIPT_NAME).any()
    # back to the bundled data
    go(app, "data")
    app.radio(key="data.use").set_value("").run()
    assert app.session_state["dataset_path"] == ""
    go(app, "overview")
    assert SCRIPT_NAME not in set(table(app, "称号")["名称"])


def test_a_reload_keeps_the_data_set_and_the_language(app, workspace):
    """The data set and the language were session state only: a reload (a new session) went back to the
    bundled data and Chinese without a word. The page's address names both; an address naming a folder
    that is not one of the workspace's data sets, or an unknown language, is ignored."""
    from streamlit.testing.v1 import AppTest

    go(app, "data")
    app.file_uploader(key="data.upload").upload("clusters.csv", clusters_with_script_name(), "text/csv").run()
    app.button(key="data.validate").click().run()
    used = Path(app.session_state["dataset_path"])
    app.run()
    assert app.query_params["data"] == used.name
    app.session_state["lang"] = "en"
    go(app, "overview")
    assert app.query_params["lang"] == "en" and app.query_params["data"] == used.name

    again = AppTest.from_file(str(APP), default_timeout=90)  # the reloaded page: a new session, same address
    again.query_params["data"] = used.name
    again.query_params["lang"] = "en"
    again.run()
    assert not again.exception
    assert again.session_state["dataset_path"] == str(used) and again.session_state["lang"] == "en"
    assert SCRIPT_NAME in set(table(again, "Designations")["Name"])

    for bogus in ("..", "../workspace", "/etc", "nope"):
        other = AppTest.from_file(str(APP), default_timeout=90)
        other.query_params["data"] = bogus
        other.query_params["lang"] = "fr"
        other.run()
        assert other.session_state["dataset_path"] == "" and other.session_state["lang"] == "zh"
        assert "data" not in other.query_params and "lang" not in other.query_params
    # back to the bundled data (in Chinese: AppTest formats a picker's labels outside the run, in Chinese)
    app.session_state["lang"] = "zh"
    go(app, "data")
    app.radio(key="data.use").set_value("").run()
    assert "data" not in app.query_params and "lang" not in app.query_params


def test_excel_unicode_text_upload_is_used(app, workspace):
    """Excel's "Save as Unicode text": UTF-16 with a byte-order mark, tab-separated, named .txt."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(clusters_with_script_name().decode("utf-8"))))
    out = io.StringIO()
    csv.writer(out, delimiter="\t").writerows(rows)
    go(app, "data")
    app.file_uploader(key="data.upload").upload("集群.txt", out.getvalue().encode("utf-16"), "text/plain").run()
    app.button(key="data.validate").click().run()
    assert not app.error, [e.value for e in app.error]
    assert app.session_state["dataset_path"].startswith(str(workspace / "datasets"))
    go(app, "overview")
    assert SCRIPT_NAME in set(table(app, "称号")["名称"]) and {m.label: m.value for m in app.metric}["集群"] == "163"


def test_the_one_style_sheet_holds_no_markup_but_a_style(monkeypatch):
    import re

    from app_components import i18n

    for lang in ("zh", "en"):
        monkeypatch.setattr(i18n, "lang", lambda lang=lang: lang)
        sheet = i18n.streamlit_texts()
        assert re.fullmatch(r"<style>[^<]*</style>", sheet), sheet
        assert i18n.t("upload_button") in sheet and i18n.t("skip_to_content") in sheet


def test_the_grid_calibration_injects_only_constants():
    """The calibration's style sheet and script are built from the module's constants alone: no text
    from data or from a planner can reach them."""
    import re

    from app_components import tables

    assert "<" not in tables.calibration_style()  # it cannot close its <style> element
    assert tables.CALIBRATION_KEY in tables._DRAWN_SCRIPT and tables.CALIBRATED_BUTTON in tables._DRAWN_SCRIPT
    assert re.fullmatch(r"<script>[^<]*</script>", tables._DRAWN_SCRIPT)
    assert re.fullmatch(r"[a-z-]+", tables.CALIBRATION_KEY) and re.fullmatch(r"[a-z-]+", tables.CALIBRATED_BUTTON)


def test_no_unsafe_html_anywhere_in_the_app():
    for root in SOURCES:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for file in files:
            text = file.read_text(encoding="utf-8")
            assert "unsafe_allow_html" not in text, file
            # one exception: the style sheet that relabels Streamlit's own uploader button, built from
            # the app's own texts, never from data (checked below)
            # and the grid's calibration (``tables.calibrate_wrapping``): its style sheet and the script
            # that says the grid has drawn it are constants of the module (checked below)
            allowed = ("st.html(streamlit_texts())", 'st.html(f"<style>{tables.calibration_style()}</style>")',
                       "st.html(_DRAWN_SCRIPT, unsafe_allow_javascript=True)")
            for call in allowed:
                text = text.replace(call, "")
            assert "st.html(" not in text and "unsafe_allow_javascript" not in text, file
            assert '"html":' not in text, file  # pydeck tooltips use "text", never "html"


def test_a_reload_keeps_the_local_planners_name(app, workspace):
    """A reload emptied the planner's name, and the next change was recorded as "unnamed" without a
    word; the address keeps it (one line, at most 100 characters), and a signed-in account never uses it."""
    from streamlit.testing.v1 import AppTest

    app.text_input(key="planner").input("李伟").run()
    assert app.query_params["planner"] == "李伟"
    again = AppTest.from_file(str(APP), default_timeout=90)  # the reloaded page: a new session, same address
    again.query_params["planner"] = "李伟"
    again.run()
    assert again.text_input(key="planner").value == "李伟"
    hostile = AppTest.from_file(str(APP), default_timeout=90)
    hostile.query_params["planner"] = "王\n芳" + "x" * 300
    hostile.run()
    assert not hostile.exception and hostile.text_input(key="planner").value == ("王 芳" + "x" * 300)[:100]
    app.text_input(key="planner").input("").run()
    assert "planner" not in app.query_params
