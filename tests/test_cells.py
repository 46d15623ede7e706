"""One cell neutraliser for every export: pandas frames, pyarrow tables and single values."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from matcher.outputs.cells import (
    FORMULA_START,
    cell_text,
    neutralise_arrow_table,
    neutralise_cell,
    neutralise_frame,
    restore_cell,
)

TEXTS = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+86", "-2", "\tTAB", "\rCR", "常熟", "", "'=x", "a=b", None]
NAMES = ("left_id", "right_id", "left_name_zh", "left_name_en", "right_name_zh", "right_name_en")


def _table(large: bool = True) -> pa.Table:
    columns = {name: pa.array(TEXTS[i:] + TEXTS[:i], pa.string()) for i, name in enumerate(NAMES)}
    if large:
        columns["right_name_en"] = columns["right_name_en"].cast(pa.large_string())
    columns["score"] = pa.array([float(i) - 3 for i in range(len(TEXTS))])
    columns["kind"] = pa.array(["-x"] * len(TEXTS)).dictionary_encode()  # not plain text: left alone
    return pa.table(columns)


def test_arrow_table_is_neutralised_cell_by_cell_like_neutralise_cell():
    table = _table()
    out = neutralise_arrow_table(table)
    assert out.schema == table.schema
    for name in NAMES:
        assert out.column(name).to_pylist() == [neutralise_cell(v) for v in table.column(name).to_pylist()]
    assert out.column("score").equals(table.column("score")) and out.column("kind").equals(table.column("kind"))
    only = neutralise_arrow_table(table, ["left_id"])
    assert only.column("left_id").equals(out.column("left_id"))
    assert only.column("right_id").equals(table.column("right_id"))
    clean = pa.table({"left_id": ["C1", None]})
    assert neutralise_arrow_table(clean) is clean  # nothing to fix: the same table back


def test_streamed_writers_neutralise_every_text_column(tmp_path):
    """The block writers (suggestions streamed block by block) use this one function on every text column."""
    from matcher.outputs.writers import block_writer

    table = pa.table({"left_id": ["=C1"], "reason_en": ["+chain"], "d_policy": ["@aid"], "score": [0.5]})
    writer = block_writer(tmp_path / "out.csv")
    writer.write(table)
    writer.close()
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert "'=C1" in text and "'+chain" in text and "'@aid" in text and "0.5" in text


def test_frame_values_and_the_way_back():
    frame = neutralise_frame(pd.DataFrame({"=a": ["=b", "c", None], "n": [-1, 2, 3]}))
    assert list(frame.columns) == ["'=a", "n"] and frame["'=a"].tolist()[:2] == ["'=b", "c"]
    for text in TEXTS:
        if text != "'=x":  # a typed quote before a formula character is taken for ours (as always)
            assert restore_cell(neutralise_cell(text)) == text
        if isinstance(text, str) and text.startswith(FORMULA_START):
            assert cell_text(text) == "'" + text
    assert restore_cell("'plain") == "'plain" and cell_text(None) == "" and cell_text(pd.NA) == ""
    assert cell_text(0.5) == "0.5"
