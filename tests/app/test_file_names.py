"""One rule for every file or folder name the product writes from text (``matcher.text.file_part``): a
download named after a shortlist, the folder of an uploaded file, a participant's calendar."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from app_components import datasets, downloads
from matcher.outputs.calendar import calendar_file_names
from matcher.text import file_part

FORBIDDEN = re.compile(r'[\\/:*?"<>|]')
DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def assert_fit(name: str) -> None:
    """A name every system takes and a planner can read as it is shown."""
    assert not FORBIDDEN.search(name), name
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in name), name
    assert not name.startswith((".", "-", " ")) and not name.endswith((".", " ")), name
    assert name.split(".")[0].casefold() not in DEVICES, name


TEXT = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["CON", "nul.tar", "lpt1", ".env", "..", "-rf", "a\u202eslx.exe", "清单\u200b一", "\u2028", "a/b\\c:d"])


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_every_name_written_from_text_fits_every_file_system(text):
    assert_fit(downloads.file_name(text, "xlsx").removesuffix(".xlsx"))
    assert len(downloads.file_name(text, "xlsx")) <= 60 + len(".xlsx")
    slug = datasets._slug(text + ".csv")
    assert len(slug) <= 40
    if slug:
        assert_fit(slug)
    for name in calendar_file_names([text, "C001"]).values():
        assert_fit(name.removesuffix(".ics"))


def test_a_right_to_left_override_cannot_disguise_a_download():
    # "清单\u202exslx.exe" shows as "清单exe.xlsx" in a browser's download bar if the override is kept
    assert downloads.file_name("清单\u202exslx.exe", "csv") == "清单_xslx.exe.csv"
    assert downloads.file_name("CON", "xlsx") == "_CON.xlsx"
    assert downloads.file_name("柯桥 · 春季对接会", "xlsx") == "柯桥 · 春季对接会.xlsx"  # readable names stay


def test_the_three_names_follow_one_rule():
    text = "Keqiao / spring: 第一轮?"
    assert file_part(text) == "Keqiao _ spring_ 第一轮"
    assert downloads.file_name(text, "csv") == file_part(text) + ".csv"
    uploaded = "Keqiao: spring 第一轮?"  # a browser sends the file's name without its folder
    assert datasets._slug(uploaded + ".xlsx") == file_part(uploaded) == "Keqiao_ spring 第一轮"
    assert calendar_file_names([text])[text] == file_part(text) + ".ics"
