"""Loading a whole data set: bundled data, folders, optional tables, versions, entity lookup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from matcher.columns import CLUSTERS, ENTERPRISES, MARKETS
from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.dataset import BUNDLED_DATA, Dataset, load_dataset

FIXTURES = Path(__file__).parent / "fixtures" / "import"


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "planning_2024"
    shutil.copytree(FIXTURES / "dataset_ok", target)
    return target


def test_bundled_data_loads():
    data = load_dataset()
    assert isinstance(data, Dataset)
    assert (len(data.clusters), len(data.markets), len(data.enterprises)) == (163, 41, 0)
    assert data.name == "bundled" and len(data.version) == 12
    assert data.clusters["id"].is_unique and data.clusters["region"].notna().all()
    assert set(data.clusters["region"]) == {"east", "central", "west"}
    assert data.markets["stages"].notna().all()
    assert list(data.enterprises.columns) == ENTERPRISES.names
    assert (
        data.chain_links["strength"].dtype == "Float64" and data.chain_links["strength"].between(0, 1).all()
    )
    assert {"province_a", "province_b", "policy"} <= set(data.policies.columns)
    assert data.policies["general_knowledge"].dtype == "boolean"


def test_folder_loads_with_types_and_references_from_bundled(folder):
    data = load_dataset(folder)
    assert data.name == "planning_2024"
    assert data.clusters["id"].tolist() == ["00123", "C002", "C003"]
    assert data.clusters["province"].tolist() == ["Zhejiang", "Xinjiang", "Guangdong"]
    assert data.clusters["region"].tolist() == ["east", "west", "east"]
    assert data.clusters["stages"].tolist() == [
        "weaving;dyeing_finishing",
        "fiber;spinning",
        "weaving;apparel",
    ]
    assert data.clusters["transfer_park"].tolist() == [pd.NA, True, False]
    assert data.clusters["n_firms"].dtype == "Int64" and data.clusters["lat"].dtype == "Float64"
    assert data.markets["stages"].tolist() == ["trading", "trading"]
    assert data.enterprises["cluster_id"].tolist() == ["00123", "C002"]
    # chain links and policies come from the bundled data when the folder has none
    bundled = load_dataset()
    pd.testing.assert_frame_equal(data.chain_links, bundled.chain_links)
    pd.testing.assert_frame_equal(data.policies, bundled.policies)


def test_optional_tables_are_empty_with_right_columns_and_dtypes(folder):
    (folder / "markets.csv").unlink()
    (folder / "enterprises.csv").unlink()
    data = load_dataset(folder)
    assert len(data.markets) == 0 and list(data.markets.columns) == MARKETS.names
    assert data.markets["lat"].dtype == "Float64" and data.enterprises["n_workers"].dtype == "Int64"


def test_folder_chain_links_override_bundled(folder):
    (folder / "chain_links.csv").write_text("supplier_stage,buyer_stage,strength\nfiber,spinning,0.5\n")
    data = load_dataset(folder)
    assert data.chain_links.to_dict("list") == {
        "supplier_stage": ["fiber"],
        "buyer_stage": ["spinning"],
        "strength": [0.5],
    }


def test_version_is_deterministic_and_follows_the_bytes(folder):
    first = load_dataset(folder).version
    assert load_dataset(folder).version == first
    path = folder / "clusters.csv"
    path.write_bytes(path.read_bytes().replace(b"Keqiao", b"Keqiao district"))
    assert load_dataset(folder).version != first


def test_problems_of_all_files_collected_and_nothing_loaded(folder):
    clusters = folder / "clusters.csv"
    clusters.write_text(clusters.read_text(encoding="utf-8").replace("30.08", "95"), encoding="utf-8")
    (folder / "markets.csv").write_bytes(b"")
    enterprises = folder / "enterprises.csv"
    enterprises.write_text(
        enterprises.read_text(encoding="utf-8").replace(",C002,", ",C999,"), encoding="utf-8"
    )
    (folder / "chain_links.csv").write_text("supplier_stage,buyer_stage,strength\nfiber,silk,1.5\n")
    with pytest.raises(ValidationError) as caught:
        load_dataset(folder)
    problems = caught.value.problems
    found = {(Path(f).name, c) for f, c in zip(problems["file"], problems["column"], strict=True)}
    assert found == {
        ("clusters.csv", "lat"),
        ("markets.csv", ""),
        ("enterprises.csv", "cluster_id"),
        ("chain_links.csv", "buyer_stage"),
        ("chain_links.csv", "strength"),
    }
    assert "nothing was loaded" in str(caught.value)


def test_enterprises_in_an_xlsx_folder(folder):
    from openpyxl import Workbook

    (folder / "enterprises.csv").unlink()
    book = Workbook()
    book.active.append(["id", "name_zh", "province", "cluster_id", "stages"])
    book.active.append(["000042", "柯桥织造", "浙江", "00123", "织造"])
    book.save(folder / "enterprises.xlsx")
    data = load_dataset(folder)
    assert data.enterprises[["id", "cluster_id", "stages"]].values.tolist() == [
        ["000042", "00123", "weaving"]
    ]


def test_missing_folder_or_clusters_file(tmp_path):
    with pytest.raises(MatcherError, match="not found"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(MatcherError, match="clusters.csv"):
        load_dataset(tmp_path)


def test_entity_and_entities(folder):
    data = load_dataset(folder)
    market = data.entity("M002")
    assert market["entity_type"] == "market" and market["name_en"] == "Changshu Garment City"
    assert data.entity("00123")["entity_type"] == "cluster"
    assert data.entity("E0002")["cluster_id"] == "C002"
    with pytest.raises(MatcherError, match="'E404'"):
        data.entity("E404")
    stacked = data.entities()
    assert stacked["entity_type"].tolist() == ["cluster"] * 3 + ["market"] * 2 + ["enterprise"] * 2
    assert stacked.columns[0] == "entity_type"
    assert set(CLUSTERS.names) | set(MARKETS.names) | set(ENTERPRISES.names) <= set(stacked.columns)
    assert stacked["roles"].dtype == "string" and stacked["n_workers"].dtype == "Int64"
    assert stacked["transfer_park"].dtype == "boolean" and stacked["capacity"].dtype == "Float64"


def test_bundled_folder_is_the_repository_data():
    assert BUNDLED_DATA == Path(__file__).resolve().parent.parent / "data"


def test_unreadable_clusters_file_does_not_flood_enterprise_problems(folder):
    (folder / "clusters.csv").write_bytes("id,name_zh\n".encode("utf-16-le"))  # no byte-order mark: refused
    with pytest.raises(ValidationError) as caught:
        load_dataset(folder)
    problems = caught.value.problems
    assert problems["file"].map(lambda f: Path(f).name).tolist() == ["clusters.csv"]
    assert "UTF-16" in problems["reason"].iloc[0]


def _version_as_before(folder: Path) -> str:
    """The data version as ``load_dataset`` computed it before ``matcher.digest`` (inline sha256)."""
    import hashlib

    digest = hashlib.sha256()
    for table in ("clusters", "markets", "enterprises"):
        file = next((folder / f"{table}{s}" for s in (".csv", ".xlsx") if (folder / f"{table}{s}").is_file()), None)
        digest.update(f"{table}\0".encode())
        digest.update(b"<absent>\0" if file is None else file.read_bytes() + b"\0")
    for table in ("chain_links", "policy_pairings", "provinces", "known_dockings",
                  "known_dockings_regional"):  # the reference tables
        file = folder / f"{table}.csv"
        file = file if file.is_file() else BUNDLED_DATA / f"{table}.csv"
        digest.update(f"{table}\0".encode())
        digest.update(file.read_bytes() + b"\0" if file.is_file() else b"<absent>\0")
    return digest.hexdigest()[:12]


def test_version_keeps_its_value_for_the_same_files(folder):
    """One digest scheme (``matcher.digest``) and the same versions as before, byte for byte."""
    from matcher.ingest.dataset import data_version

    assert load_dataset(folder).version == data_version(folder) == _version_as_before(folder)
    assert load_dataset().version == data_version() == _version_as_before(BUNDLED_DATA)
    (folder / "markets.csv").unlink()
    shutil.copy(BUNDLED_DATA / "chain_links.csv", folder / "chain_links.csv")
    assert load_dataset(folder).version == _version_as_before(folder)
    # a fixed folder pins the value itself (computed by the code before the change), not just
    # agreement with the inline copy above
    fixed = folder.parent / "fixed"
    fixed.mkdir()
    shutil.copy(FIXTURES / "dataset_ok" / "clusters.csv", fixed / "clusters.csv")
    (fixed / "chain_links.csv").write_bytes(b"supplier_stage,buyer_stage,strength\nfiber,spinning,0.5\n")
    (fixed / "policy_pairings.csv").write_bytes(b"province_a,province_b,policy\nZhejiang,Xinjiang,aid\n")
    # since issue 14 the version also counts provinces.csv and known_dockings.csv (here the folder's own)
    (fixed / "provinces.csv").write_bytes(b"province_en,min_wage_monthly_cny\nZhejiang,1100\n")
    (fixed / "known_dockings.csv").write_bytes(b"left,right,kind\nC001,C002,east_west\n")
    # and since stop 27 known_dockings_regional.csv
    (fixed / "known_dockings_regional.csv").write_bytes(
        b"query,partner_provinces,partner_places,kind\nC001,Zhejiang,,east_west\n")
    assert load_dataset(fixed).version == _version_as_before(fixed) == "5443260269a7"


def test_an_id_two_tables_share_or_only_look_alike_in_is_refused(folder):
    """Clusters, markets and enterprises are one set of entities: a market may not reuse a cluster's id.
    Before, such a data set loaded and the engine failed on it with a pandas traceback."""
    markets = (folder / "markets.csv").read_text(encoding="utf-8")
    markets = markets.replace("\nM001,", "\nC002,", 1).replace("\nM002,", "\n\uff23002,", 1)
    (folder / "markets.csv").write_text(markets, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_dataset(folder)
    problems = caught.value.problems
    mine = problems[problems["file"].map(lambda f: Path(f).name) == "markets.csv"].set_index("row")
    assert mine.loc[2, "column"] == "id" and "the id of row 3 of clusters.csv" in mine.loc[2, "reason"]
    assert "a look-alike of the id 'C002' of row 3 of clusters.csv" in " ".join(mine.loc[[3], "reason"])


def test_a_name_is_one_line_and_prints(tmp_path):
    """A line break typed in a name cell (Alt+Enter) had split the app's headings, the rest of the name
    dropping into a paragraph: it is read as a space. A control character, which does not print, is refused
    by row and column."""
    import shutil

    from matcher.exceptions import ValidationError
    from matcher.ingest.dataset import BUNDLED_DATA, load_dataset

    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    table = pd.read_csv(data / "clusters.csv", dtype=str, keep_default_na=False)
    table.loc[0, "name_zh"] = "兰溪\r\n第二行"
    table.loc[1, "name_en"] = "Lanxi\tsecond\u2028line"
    table.to_csv(data / "clusters.csv", index=False)
    ds = load_dataset(data)
    names = ds.clusters.set_index("id")
    assert names.at[table.at[0, "id"], "name_zh"] == "兰溪 第二行"
    assert names.at[table.at[1, "id"], "name_en"] == "Lanxi second line"
    table.loc[2, "name_en"] = "Zhang\x01jiagang"
    table.to_csv(data / "clusters.csv", index=False)
    with pytest.raises(ValidationError) as caught:
        load_dataset(data)
    problems = caught.value.problems
    assert problems[["row", "column"]].values.tolist() == [[4, "name_en"]]
    assert problems["reason"].iloc[0].startswith("a name holds a control character")


def test_a_name_longer_than_the_bound_is_refused_by_row_and_column(tmp_path):
    """A 300-character name made every row of the app's tables 200 px tall and was still cut; names are
    at most ``limits.MAX_NAME_CHARS`` (the longest bundled one has 92)."""
    import shutil

    from matcher import limits
    from matcher.exceptions import ValidationError
    from matcher.ingest.dataset import BUNDLED_DATA, load_dataset

    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    table = pd.read_csv(data / "clusters.csv", dtype=str, keep_default_na=False)
    table.loc[1, "name_en"] = "Keqiao " * 40
    table.loc[2, "name_zh"] = "柯" * (limits.MAX_NAME_CHARS + 1)
    table.loc[3, "name_zh"] = "柯" * limits.MAX_NAME_CHARS  # at the bound: read
    table.to_csv(data / "clusters.csv", index=False)
    with pytest.raises(ValidationError) as caught:
        load_dataset(data)
    problems = caught.value.problems
    assert sorted(problems[["row", "column"]].values.tolist()) == [[3, "name_en"], [4, "name_zh"]]
    assert problems["reason"].str.startswith("a name of more than 120 characters").all()
