"""The fast readers agree with the reference readers they replace, on hostile text.

A million-row registry is parsed by pyarrow (CSV cells, numbers, the invisible-character check of
ids), which is many times faster than pandas and Python's regex; each has a reference reader it must
agree with cell for cell, and wherever pyarrow refuses the text the reference reader takes over (and
names the bad row). These tests draw text from the characters that make CSV and numbers hard.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.exceptions import ValidationError
from matcher.ingest import fast, read, validate

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_both(text: str, monkeypatch) -> tuple:
    out = []
    for arrow in (True, False):
        monkeypatch.setattr(fast, "ARROW_CSV", arrow)
        try:
            out.append(read.read_csv_text(text, "t.csv", as_typed=True))
        except ValidationError as err:
            out.append(str(err))
    return tuple(out)


CSV_CHARS = st.sampled_from(['a', 'b', '1', ',', ',', '"', '"', '\n', '\r\n', '\r', ' ', '\t', '中', '=', ';', "'"])


@SETTINGS
@given(header=st.lists(st.sampled_from(["id", "name", "x y", '"q"', "中文"]), min_size=1, max_size=4, unique=True),
       body=st.lists(CSV_CHARS, max_size=60))
def test_pyarrow_reads_every_csv_cell_as_pandas_does(header, body, monkeypatch_session):
    text = ",".join(header) + "\n" + "".join(body)
    quick, slow = _read_both(text, monkeypatch_session)
    if isinstance(slow, str) or isinstance(quick, str):
        assert quick == slow
    else:
        pd.testing.assert_frame_equal(quick, slow)


@pytest.fixture(scope="module")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_a_registry_like_csv_is_read_by_pyarrow_and_agrees(monkeypatch):
    rows = ["id,name_en,products,capacity"] + [
        f'E{i:05d},"Firm {i}, Ltd","cotton ""fine"" yarn; denim",{i * 1.5}' for i in range(2000)]
    text = "\r\n".join(rows) + "\r\n"
    called = []
    real = fast.arrow_cells
    monkeypatch.setattr(read, "arrow_cells", lambda *a: called.append(1) or real(*a))
    quick, slow = _read_both(text, monkeypatch)
    monkeypatch.setattr(fast, "ARROW_CSV", True)
    assert called and real(read.csv_source(text), ",") is not None  # the fast reader did the work
    pd.testing.assert_frame_equal(quick, slow)
    assert quick.loc[2, "name_en"] == "Firm 0, Ltd" and quick.loc[3, "products"] == 'cotton "fine" yarn; denim'


NUMBER_CHARS = st.sampled_from(list("0123456789.+-eE,_ xX") + ["inf", "nan", "Infinity", "١", "１", "d", "\u00a0"])


@SETTINGS
@given(st.lists(st.lists(NUMBER_CHARS, max_size=8).map("".join), min_size=1, max_size=20))
def test_numbers_parsed_by_pyarrow_equal_pandas(cells):
    text = pd.Series(cells, dtype="str").mask(lambda s: s.eq(""))
    pd.testing.assert_series_equal(fast.to_float(text), pd.to_numeric(text, errors="coerce").astype("float64"))


def test_numbers_fall_back_to_pandas_when_pyarrow_refuses_a_cell():
    text = pd.Series(["1.5", " 2", "x"], dtype="str")
    assert fast.to_float(text).tolist()[:2] == [1.5, 2.0]  # pandas takes " 2"; pyarrow would not


ID_CHARS = st.sampled_from(list("E0129-_ 中") + ["\u200b", "\u200f", "\u202e", "\ufeff", "\x00", "\x1f", "\x7f",
                                               "\x9f", "\u00ad", "\u3164", "\ufe0f", "\u2060", "\u2063", "\u00a0"])


@SETTINGS
@given(st.lists(st.lists(ID_CHARS, max_size=6).map("".join), min_size=1, max_size=20))
def test_invisible_characters_are_found_by_re2_as_by_python(cells):
    text = pd.Series(cells, dtype="str")
    slow = text.str.contains(validate._INVISIBLE, regex=True).astype(bool)
    pd.testing.assert_series_equal(fast.contains(text, validate._INVISIBLE), slow)
