"""``evaluate --known FILE``: names taken by a partial name are said (or refused when they say too much
else), ids read in any letter case, long cells cut when shown and refused past a spreadsheet cell, and a JSON
file of the wrong shape said in words.

As a review found them: "Not Hangzhou at all" ranked as Hangzhou (C038) and "Ningbo Airport" as Ningbo
(C039) without a word; ``c039`` named no entity; a 2 MB unresolvable name put 4 MB on stdout; a JSON file of
one object leaked pandas' "(If using all scalar values, you must pass an index)".
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from matcher.cli import main
from matcher.exceptions import ValidationError
from matcher.ingest.validate import MAX_CELL_CHARS, MAX_SHOWN_CHARS
from matcher.learning import evaluate as ev


@pytest.fixture(scope="module")
def table(engine):
    return engine.entities().table


@pytest.fixture(scope="module")
def resolver(table):
    return ev.EntityResolver(table)


#: Texts that hold a cluster's name but say much else, and the cluster each holds.
SAYS_MUCH_ELSE = {"Not Hangzhou at all": "C038", "Ningbo Airport": "C039", "Hangzhou Bay Shipping Company": "C038",
                  "Kashgar hospital": "C128", "Hangzhou Airport": "C038", "杭州人民医院": "C038",
                  "Chongqing Wanzhou Port": "C145"}
#: Texts that hold a cluster's name with only place words around it (a province, the cluster's own city,
#: an administrative word), and the cluster each means.
PLACE_WORDS_AROUND = {"Shaoxing Keqiao District": "C025", "Keqiao, Shaoxing, Zhejiang": "C025",
                      "浙江省绍兴市柯桥区": "C025", "吴江盛泽镇": "C007", "Jiangsu Shengze town": "C007",
                      "Xinjiang Aksu": "C123", "Ningbo 宁波": "C039"}


def test_a_name_inside_a_text_is_taken_only_with_place_words_around_it(resolver):
    refused = {text: resolver.resolve(text, ("cluster",)) for text in SAYS_MUCH_ELSE}
    assert {text: (r.id, r.how, r.candidates) for text, r in refused.items()} == {
        text: (None, "unresolved", [holds]) for text, holds in SAYS_MUCH_ELSE.items()}
    taken = {text: resolver.resolve(text, ("cluster",)) for text in PLACE_WORDS_AROUND}
    assert {text: (r.id, r.how) for text, r in taken.items()} == {
        text: (means, "partial name") for text, means in PLACE_WORDS_AROUND.items()}


def test_a_text_that_is_part_of_a_bundled_name_is_taken_as_the_place_within_it(resolver):
    """``杭州四季青`` is the Sijiqing market; among clusters it is Hangzhou, where the market is (docs §1)."""
    assert resolver.resolve("杭州四季青").id == "M012"
    assert resolver.resolve("杭州四季青", ("cluster",)).id == "C038"
    assert resolver.resolve("杭州服装市场", ("cluster",)).id is None  # a Hangzhou clothes market: not a name we know


def test_refused_partial_names_are_problems_that_say_why(table, tmp_path):
    f = tmp_path / "k7.csv"
    f.write_text("left,right,date\nNot Hangzhou at all,Aksu Textile Industrial City,2014\n"
                 "Ningbo Airport,Chongqing Hechuan,2010\n", encoding="utf-8")
    known = ev.read_known(f, "east_west", table)
    assert known.pairs.empty
    reasons = known.problems.set_index("row")["reason"]
    assert reasons[2] == ("no bundled entity has this id or name; it holds the name of C038 Hangzhou (women's wear), "
                          "but says too much else to be taken as it: write the id or the full name")
    assert "C039 Ningbo (men's wear & knitwear)" in reasons[3]


def test_rows_taken_by_a_partial_name_are_listed_in_the_report(engine, tmp_path):
    f = tmp_path / "partial.csv"
    f.write_text("left,right,date\nAksu,Ningbo,2014\nShaoxing Keqiao District,Kashgar,2012\nC056,C154,2011\n"
                 "Atlantis,C123,\n", encoding="utf-8")
    known = ev.read_known(f, "east_west", engine.entities("east_west").table)
    assert known.notes == [
        "row 2, left: 'Aksu' taken as C123 Aksu Textile Industrial City (partial name); write the id or the full "
        "name to be sure",
        "row 3, left: 'Shaoxing Keqiao District' taken as C025 Keqiao (Shaoxing County) (partial name); write the "
        "id or the full name to be sure"]
    text = ev.evaluate_known(engine, f, "east_west").report()
    assert "2 name(s) resolved by a partial name (ranked as taken; check them):" in text
    for note in known.notes:
        assert f"  {note}\n" in text
    assert "Atlantis" in text and "C056" not in text.split("problem(s)")[0].split("partial name")[-1]


def test_a_partial_name_on_a_row_not_ranked_is_not_listed(table, tmp_path):
    f = tmp_path / "unused.csv"
    f.write_text("left,right\nAksu,Atlantis\nAksu,Ningbo\nAksu Textile Industrial City,C039\n", encoding="utf-8")
    known = ev.read_known(f, "east_west", table)
    # row 2 is not used (Atlantis), row 4 repeats row 3: only row 3 was ranked as taken
    assert [n.split(":")[0] for n in known.notes] == ["row 3, left"]


def test_ids_are_read_in_any_letter_case(resolver, table, tmp_path):
    assert (resolver.resolve("c039").id, resolver.resolve("c039").how) == ("C039", "id")
    assert resolver.resolve("ｃ１２３").id == "C123"  # full-width, as a Chinese keyboard types it
    assert resolver.resolve("c039", ("market",)).id is None  # still only among the kind's types
    f = tmp_path / "ids.csv"
    f.write_text("left,right\nc039,c123\n m012 ,c038\n", encoding="utf-8")
    known = ev.read_known(f, "east_west", table)
    assert list(known.pairs[["left_id", "right_id"]].iloc[0]) == ["C039", "C123"]
    # a market's id in any case is known as one, and said to be the wrong type for the kind
    assert known.problems["reason"].tolist() == ["m012 (M012) is a market in the bundled data, but an east_west "
                                                 "pair needs two clusters"]
    known = ev.read_known(f, "cluster_market", table)
    assert known.problems["row"].tolist() == [2]  # two clusters: not a cluster_market pair
    assert list(known.pairs[["left_id", "right_id"]].iloc[0]) == ["C038", "M012"]


def test_a_long_value_is_cut_in_the_problems(engine, tmp_path, capsys):
    """A 10,000-character unresolvable name: the problems table (padded to its widest value) had grown to tens of
    KB; the value is now cut as the importer cuts it."""
    f = tmp_path / "long.csv"
    f.write_text(f"left,right,kind,date\nC039,{'B' * 10_000},,2014\nC038,C123,,{'9' * 5_000}\n"
                 f"C038,C124,{'k' * 5_000},\n", encoding="utf-8")
    known = ev.read_known(f, "east_west", engine.entities().table)
    assert known.problems["value"].str.len().max() <= MAX_SHOWN_CHARS + 30
    assert known.problems["reason"].str.len().max() < 500
    assert "(10,000 characters)" in known.problems.set_index("row").at[2, "value"]
    assert main(["evaluate", "--kind", "east_west", "--known", str(f)]) == 0
    assert len(capsys.readouterr().out) < 20_000


@pytest.mark.memory_capped
def test_a_cell_longer_than_a_spreadsheet_cell_is_refused_by_row_and_column(table, tmp_path, capsys):
    f = tmp_path / "huge.csv"
    f.write_text(f"left,right,evidence\nC039,C123,ok\nC038,{'B' * 2_000_000},fine\nC038,C124,{'e' * 40_000}\n",
                 encoding="utf-8")
    with pytest.raises(ValidationError, match=f"2 cell.s. longer than {MAX_CELL_CHARS:,} characters") as caught:
        ev.read_known(f, "east_west", table)
    problems = caught.value.problems
    assert problems[["row", "column"]].values.tolist() == [[3, "right"], [4, "evidence"]]
    assert problems["value"].str.len().max() <= MAX_SHOWN_CHARS + 30
    assert main(["evaluate", "--kind", "east_west", "--known", str(f)]) == 2
    captured = capsys.readouterr()
    assert len(captured.out) + len(captured.err) < 20_000 and "row 3, column right" in captured.err


@pytest.mark.parametrize("content", [{"left": "C039", "right": "C123"}, "C039", 3])
def test_a_json_file_that_is_no_list_of_records_is_said_in_words(table, tmp_path, capsys, content):
    f = tmp_path / "one.json"
    f.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        ev.read_known(f, "east_west", table)
    message = str(caught.value)
    assert message.startswith(f"{f}: the JSON holds no list of known dockings") and "one object per pair" in message
    assert "scalar" not in message and "DataFrame" not in message
    assert main(["evaluate", "--kind", "east_west", "--known", str(f)]) == 2
    err = capsys.readouterr().err
    assert "one object per pair" in err and "must pass an index" not in err


def test_a_json_list_of_records_still_reads(table, tmp_path):
    f = tmp_path / "pairs.json"
    f.write_text(json.dumps({"pairs": [{"left": "c039", "right": "Aksu"}]}), encoding="utf-8")
    known = ev.read_known(f, "east_west", table)
    assert known.problems.empty and known.notes == [
        "row 2, right: 'Aksu' taken as C123 Aksu Textile Industrial City (partial name); write the id or the full "
        "name to be sure"]
    assert isinstance(known.problems, pd.DataFrame)
