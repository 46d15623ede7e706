"""A validated data set: clusters, markets, enterprises, chain links and policy pairings.

:func:`load_dataset` reads a folder of tables (or the data bundled with the repository), checks
every file in one pass and either returns a :class:`Dataset` or raises one
:class:`~matcher.exceptions.ValidationError` whose ``problems`` cover all files. Nothing is
cached here; callers that want caching (the app) do it in one place of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.columns import SPECS
from matcher.digest import digest_bytes
from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.ids import fold_id
from matcher.ingest.read import PROBLEM_COLUMNS, read_table
from matcher.ingest.validate import check_table, empty_table, parse_cells, summarize
from matcher.vocab import CLUSTER, ENTERPRISE, MARKET, STAGE_ORDER

#: The repository's bundled data folder (``data/`` next to the package).
BUNDLED_DATA = Path(__file__).resolve().parents[2] / "data"

#: Entity tables in load order (clusters first: enterprises refer to them).
ENTITY_TABLES = ("clusters", "markets", "enterprises")
#: Reference tables, read from the folder if present, else from the bundled data.
REFERENCE_TABLES = ("chain_links", "policy_pairings", "provinces", "known_dockings", "known_dockings_regional")
#: ``entity_type`` value of each entity table.
ENTITY_TYPES = {"clusters": CLUSTER, "markets": MARKET, "enterprises": ENTERPRISE}

_CHAIN_LINK_COLUMNS = {"supplier_stage": "stages", "buyer_stage": "stages", "strength": "share"}
_POLICY_COLUMNS = {"province_a": "province", "province_b": "province", "policy": "text"}
_PROVINCE_COLUMNS = {"province_en": "province"}
_DOCKING_COLUMNS = {"left": "text", "right": "text"}
_REGIONAL_COLUMNS = {"query": "text"}
#: Reference tables with one row per value of a column.
_UNIQUE = {"provinces": "province_en"}
_REFERENCE_EXTRA_KINDS = {"strength_norm": "number", "general_knowledge": "flag", "avg_wage_urban_cny": "amount",
                          "min_wage_monthly_cny": "amount", "cotton_output_10k_t": "amount"}
_REFERENCE_REASONS = {
    "stages": "must be one chain stage: " + ", ".join(STAGE_ORDER),
    "province": "unknown province; use the English or Chinese name of a mainland province",
    "share": "must be a number between 0 and 1",
    "number": "not a number",
    "amount": "must be a number of 0 or more (empty when unknown)",
    "flag": "not a yes/no flag",
    "text": "required cell is empty",
}


@dataclass
class Dataset:
    """Everything the engine reads, validated and in memory types.

    Attributes
    ----------
    clusters, markets, enterprises : pandas.DataFrame
        Entity tables with the columns of ``matcher.columns`` (empty tables when a file is absent).
    chain_links : pandas.DataFrame
        ``supplier_stage, buyer_stage, strength`` (0..1) and any further columns of the file.
    policies : pandas.DataFrame
        ``province_a, province_b, policy`` (provinces as English names) and further columns.
    dockings : pandas.DataFrame
        Documented dockings (``known_dockings.csv``: ``left, right`` ids, ``kind``, ``item`` = the
        page or event, ...): the docking experience the engine reads; empty when there are none.
    regional_dockings : pandas.DataFrame
        Documented dockings whose partner a page names only as a province or city
        (``known_dockings_regional.csv``: ``query`` id, ``partner_provinces``, ``partner_places``,
        ``item``, ...): the query entity's docking experience too; empty when there are none.
    provinces : pandas.DataFrame
        Province facts (``data/provinces.csv``: wages, cotton output, cooperation groupings, river
        belts, neighbours, each with its source); empty when the data set has none.
    name : str
        The folder's name, or ``"bundled"``.
    version : str
        First 12 hex digits of the SHA-256 of the files' bytes, in a fixed order.
    """

    clusters: pd.DataFrame
    markets: pd.DataFrame
    enterprises: pd.DataFrame
    chain_links: pd.DataFrame
    policies: pd.DataFrame
    name: str
    version: str
    provinces: pd.DataFrame = field(default_factory=lambda: _empty_reference(_PROVINCE_COLUMNS))
    dockings: pd.DataFrame = field(default_factory=lambda: _empty_reference(_DOCKING_COLUMNS))
    regional_dockings: pd.DataFrame = field(default_factory=lambda: _empty_reference(_REGIONAL_COLUMNS))

    def _tables(self) -> dict[str, pd.DataFrame]:
        return {"clusters": self.clusters, "markets": self.markets, "enterprises": self.enterprises}

    def entity(self, entity_id: str) -> pd.Series:
        """The row of the cluster, market or enterprise with this id, with its ``entity_type``.

        Raises
        ------
        MatcherError
            No entity has this id.
        """
        for table, frame in self._tables().items():
            hit = frame.index[frame["id"].eq(str(entity_id)).fillna(False).to_numpy()]
            if len(hit):
                row = frame.loc[hit[0]].copy()
                row["entity_type"] = ENTITY_TYPES[table]
                return row
        raise MatcherError(
            f"no cluster, market or enterprise has the id '{entity_id}' in data set {self.name}"
        )

    def entities(self, types: Iterable[str] | None = None, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Clusters, markets and enterprises (or only ``types`` of them) stacked, with an
        ``entity_type`` column first: the one place entity tables are stacked.

        ``columns`` picks columns (default: every column of any table). Columns missing from a table
        are filled with NA of the column's dtype, so the dtypes of the stacked table are the
        in-memory types.
        """
        tables = {t: f for t, f in self._tables().items() if types is None or ENTITY_TYPES[t] in set(types)}
        dtypes: dict[str, object] = {}
        for frame in tables.values():
            for name in frame.columns:
                dtypes.setdefault(name, frame[name].dtype)
        wanted = list(dtypes) if columns is None else [c for c in columns if c != "entity_type"]
        parts = []
        for table, frame in tables.items():
            part = {"entity_type": np.full(len(frame), ENTITY_TYPES[table], dtype=object)}
            for name in wanted:
                if name in frame.columns:
                    part[name] = frame[name].reset_index(drop=True)
                else:
                    part[name] = pd.Series(pd.NA, index=range(len(frame)), dtype=dtypes.get(name, object))
            parts.append(pd.DataFrame(part, index=range(len(frame))))
        stacked = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["entity_type", *wanted])
        stacked["entity_type"] = stacked["entity_type"].astype("string")
        return stacked


def _find(folder: Path, table: str) -> Path | None:
    for suffix in (".csv", ".xlsx"):
        candidate = folder / f"{table}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _reference_file(folder: Path, table: str) -> Path:
    """A reference table of the folder, else the bundled one (which may be absent too)."""
    file = folder / f"{table}.csv"
    return file if file.is_file() else BUNDLED_DATA / f"{table}.csv"


def data_version(path: str | Path | None = None) -> str:
    """The version of a data folder (``None``: the bundled data): a digest of its tables' bytes.

    Each entity table and each reference table that :func:`load_dataset` reads counts, in load
    order, with its name; an absent table counts as absent. Same bytes, same version (see
    :mod:`matcher.digest`); ``Dataset.version`` is this value.
    """
    folder = BUNDLED_DATA if path is None else Path(path)
    return digest_bytes(_version_chunks(folder))


def _version_chunks(folder: Path) -> Iterator[bytes]:
    files = [(table, _find(folder, table)) for table in ENTITY_TABLES]
    files += [(table, _reference_file(folder, table)) for table in REFERENCE_TABLES]
    for table, file in files:
        yield f"{table}\0".encode()
        if file is None or not file.is_file():
            yield b"<absent>\0"
            continue
        yield file.read_bytes()
        yield b"\0"


def _problems_of(err: ValidationError, file: Path) -> pd.DataFrame:
    if err.problems is not None and len(err.problems):
        return err.problems
    return pd.DataFrame([{"file": str(file), "row": 0, "column": "", "value": "", "reason": str(err)}])


def _reference_table(raw: pd.DataFrame, kinds: dict[str, str], file: str,
                     unique: str | None = None) -> tuple[pd.DataFrame, list]:
    """Light checks of a reference table: needed columns present, stages/provinces known, shares 0..1,
    amounts 0 or more, and one row per value of the ``unique`` column."""
    found = []
    missing = [c for c in kinds if c not in raw.columns]
    if missing:
        found.append(
            pd.DataFrame(
                [
                    {
                        "file": file,
                        "row": 1,
                        "column": c,
                        "value": "",
                        "reason": f"required column '{c}' is missing; needed columns: {', '.join(kinds)}",
                    }
                    for c in missing
                ]
            )
        )
    typed = {}
    for name in raw.columns:
        kind = kinds.get(name) or _REFERENCE_EXTRA_KINDS.get(name, "text")
        values, bad = parse_cells(raw[name], "number" if kind in ("share", "amount") else kind)
        reason = _REFERENCE_REASONS.get(kind, "not valid")
        if kind == "share":
            bad = bad | ~values.between(0, 1).fillna(False)
        elif kind == "amount":
            bad = bad | (values < 0).fillna(False) | values.isin([np.inf, -np.inf]).fillna(False)
        elif name in kinds:
            bad = bad | values.isna()  # every named column of a reference table is required
        if kind == "stages":
            bad = bad | values.str.contains(";").fillna(False)
        typed[name] = values
        if bad.any():
            found.append(
                pd.DataFrame(
                    {
                        "file": file,
                        "row": raw.index[bad.to_numpy()],
                        "column": name,
                        "value": raw[name][bad].to_numpy(),
                        "reason": reason,
                    }
                )
            )
    if unique and unique in raw.columns:
        cells = raw[unique].str.strip()
        twice = cells.duplicated(keep="first") & cells.ne("")
        if twice.any():
            found.append(pd.DataFrame({"file": file, "row": raw.index[twice.to_numpy()], "column": unique,
                                       "value": raw[unique][twice].to_numpy(),
                                       "reason": f"this {unique} already has a row above; keep one row each"}))
    return pd.DataFrame(typed).reset_index(drop=True), found


def _ids_across_tables(ids: dict[str, tuple[str, pd.Series]]) -> pd.DataFrame:
    """An id (or a look-alike of one, ``ids.fold_id``) that an earlier entity table already uses: the
    tables are one set of entities, so a cluster and a market may not share an id. Repeats within one
    table are the table's own problem (``check_table``)."""
    parts = [pd.DataFrame({"file": file, "row": column.dropna().index, "value": column.dropna().astype(str).to_numpy()})
             for file, column in ids.values()]
    every = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["file", "row", "value"])
    if every.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    plain = every["value"].str.isascii()
    every["fold"] = every["value"].str.casefold().where(plain, every["value"].map(fold_id))  # fold_id, fast for ASCII
    first = every.drop_duplicates("fold", keep="first").set_index("fold")
    later = every[every.duplicated("fold", keep="first")]
    hit = later.merge(first, left_on="fold", right_index=True, how="inner", suffixes=("", "_first"))
    hit = hit[hit["file"] != hit["file_first"]]
    same = np.where(hit["value"] == hit["value_first"], "the id", "a look-alike of the id '" + hit["value_first"] + "'")
    reason = (same + " of row " + hit["row_first"].astype(str) + " of " + hit["file_first"].map(lambda f: Path(f).name)
              + "; ids must be unique across clusters, markets and enterprises")
    return pd.DataFrame({"file": hit["file"], "row": hit["row"], "column": "id", "value": hit["value"],
                         "reason": reason})[PROBLEM_COLUMNS]


def _empty_reference(kinds: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series([], dtype="Float64" if k == "share" else "string") for c, k in kinds.items()}
    )


def load_dataset(path: str | Path | None = None) -> Dataset:
    """Load and validate a data set.

    Parameters
    ----------
    path : path-like, optional
        ``None`` loads the data bundled in the repository's ``data/`` folder. A folder must hold
        ``clusters.csv`` (or ``.xlsx``); ``markets`` and ``enterprises`` are optional (empty
        tables when absent). ``chain_links.csv``, ``policy_pairings.csv``, ``provinces.csv``,
        ``known_dockings.csv`` and ``known_dockings_regional.csv`` come from the folder
        when present, else from the bundled data.

    Returns
    -------
    Dataset

    Raises
    ------
    ValidationError
        Any file is unreadable or breaks its schema. ``problems`` lists the problems of all files
        together; nothing is loaded.
    MatcherError
        The folder does not exist or has no clusters file.
    """
    folder = BUNDLED_DATA if path is None else Path(path)
    if not folder.is_dir():
        raise MatcherError(f"data folder not found: {folder}")
    if _find(folder, "clusters") is None:
        raise MatcherError(f"{folder} has no clusters.csv (or clusters.xlsx); it is required")

    found: list[pd.DataFrame] = []
    tables: dict[str, pd.DataFrame] = {}
    ids: dict[str, tuple[str, pd.Series]] = {}  # table -> (file, ids by Excel row)
    read_ok: set[str] = set()
    for table in ENTITY_TABLES:
        file = _find(folder, table)
        if file is None:
            tables[table] = empty_table(SPECS[table])
            continue
        try:
            raw = read_table(file, SPECS[table].aliases)
        except ValidationError as err:
            found.append(_problems_of(err, file))
            tables[table] = empty_table(SPECS[table])
            continue
        # Enterprises must point at clusters of this data set (ids that parsed, even if other cells
        # failed); when the clusters file could not be read at all, that check would only add noise.
        clusters_read = "clusters" in read_ok
        cluster_ids = tables["clusters"]["id"].dropna() if table == "enterprises" and clusters_read else None
        typed, problems = check_table(raw, SPECS[table], file, cluster_ids=cluster_ids)
        read_ok.add(table)
        found.append(problems)
        ids[table] = (str(file), typed["id"] if "id" in typed.columns else pd.Series([], dtype=object))
        tables[table] = typed.reset_index(drop=True)
    found.append(_ids_across_tables(ids))

    references: dict[str, pd.DataFrame] = {}
    for table, kinds in (("chain_links", _CHAIN_LINK_COLUMNS), ("policy_pairings", _POLICY_COLUMNS),
                         ("provinces", _PROVINCE_COLUMNS), ("known_dockings", _DOCKING_COLUMNS),
                         ("known_dockings_regional", _REGIONAL_COLUMNS)):
        file = _reference_file(folder, table)
        if not file.is_file():
            references[table] = _empty_reference(kinds)
            continue
        try:
            raw = read_table(file, common_aliases=False)
        except ValidationError as err:
            found.append(_problems_of(err, file))
            references[table] = _empty_reference(kinds)
            continue
        references[table], problems = _reference_table(raw, kinds, str(file), unique=_UNIQUE.get(table))
        found.extend(problems)

    found = [f for f in found if len(f)]
    if found:
        problems = pd.concat(found, ignore_index=True)[PROBLEM_COLUMNS]
        files = problems["file"].nunique()
        raise ValidationError(summarize(problems, f"{folder} ({files} file(s) with problems)"), problems)
    return Dataset(
        clusters=tables["clusters"],
        markets=tables["markets"],
        enterprises=tables["enterprises"],
        chain_links=references["chain_links"],
        policies=references["policy_pairings"],
        provinces=references["provinces"],
        dockings=references["known_dockings"],
        regional_dockings=references["known_dockings_regional"],
        name="bundled" if path is None else folder.name,
        version=data_version(folder),
    )
