"""Column mappings that import real third-party factory lists as enterprises.

Two public data sets (read from ``../shared/external/``, never copied into the project):

* ``nike_adidas_factories/merged_adidas_nike.csv`` — the Nike manufacturing map merged with the
  adidas supplier list: 1,017 facilities, 228 in China, with address, province, product type,
  factory tier and workers. See :data:`NIKE_ADIDAS`.
* ``oar_fixture_lists/list_<N>.geocoded.csv`` and ``oar_fixture_lists_combined.csv`` — Open
  Apparel Registry fixture lists (MIT): names, addresses and coordinates, no province column and
  no product type. See :data:`OAR_LISTS`.

Only facilities in mainland China are imported (others are counted in ``skipped``). Chain stages
are read with a small keyword table (:data:`STAGE_KEYWORDS`) from the product type, the factory
tier and the facility name; the province from the province column or, failing that, from
province and city names in the address (:data:`CITY_PROVINCES`). A row whose id, name, province
or stage cannot be mapped is reported in ``problems`` (file, source row, column, value, reason)
and left out; the import never fails on a messy row. Everything imported passes the same
validation as a planner's enterprises file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from matcher.columns import ENTERPRISES
from matcher.exceptions import MatcherError
from matcher.ingest.read import PROBLEM_COLUMNS, problems_frame, read_table
from matcher.ingest.validate import check_table
from matcher.vocab import LIST_SEPARATOR, PROVINCES, STAGE_ORDER

#: Free-text keyword (regular expression, matched in lower case) -> chain stage. A text may hit
#: several stages ("Knitting and Garment" -> knitting;apparel). Built from the OS Hub processing
#: taxonomy (``../shared/external/oshub_processing_taxonomy``) and the words the lists use.
STAGE_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"\bfib(?:er|re)s?\b|\bginning|\bviscose|\bpolyester chip|\bchemical fib", "fiber"),
    (r"\bspinning|\byarns?\b|\btwisting|\btexturi[sz]", "spinning"),
    (r"\bweav|\bwoven|\bfabrics?\b|\btextiles?\b|\bdenim|\btaffeta|\bfabric mill|\btextile mill", "weaving"),
    (r"\bknit|\bsocks?\b|\bhosiery", "knitting"),
    (
        r"\bdye|\bdyeing|\bprint(?:ing)?\b|\bfinishing|\blaund|\bwash(?:ing)?\b|\bcoating|\blaminat",
        "dyeing_finishing",
    ),
    (
        r"\bapparel|\bgarments?\b|\bcloth(?:ing|es)\b|\bfashion|wear\b|\bsewing|\bcut (?:&|and) sew|\btailor"
        r"|\bfootwear|\bshoes?\b|\bdress(?:es)?\b|\bshirts?\b|\bjeans\b|\bsweaters?\b|\bjackets?\b|\buniforms?\b",
        "apparel",
    ),
    (r"\bhome textile|\bbedding|\btowels?\b|\bcurtains?\b|\bcarpets?\b|\brugs?\b", "home_textile"),
    (
        r"\bnon[- ]?woven|\btents?\b|\bfilters?\b|\bgeotextile|\bindustrial textile|\bequipment",
        "industrial_textile",
    ),
    (
        r"\baccessor|\bbuttons?\b|\bzippers?\b|\blabels?\b|\btrims?\b|\bbags?\b|\bgear\b|\bpackag|\bbelts?\b"
        r"|\btags?\b|\blace\b|\bembroider",
        "accessories",
    ),
    (r"\bmachinery\b|\bmachines?\b", "machinery"),
    (r"\btrad(?:e|ing)\b|\bimport (?:&|and) export|\bsourcing\b|\bwarehous", "trading"),
)
_STAGE_PATTERNS = [(re.compile(pattern), stage) for pattern, stage in STAGE_KEYWORDS]

#: Cities and towns that name a province in addresses without the province (textile centres only).
CITY_PROVINCES: dict[str, str] = {
    **dict.fromkeys(
        [
            "shenzhen",
            "guangzhou",
            "dongguan",
            "foshan",
            "zhongshan",
            "shantou",
            "jiangmen",
            "huizhou",
            "heyuan",
            "enping",
            "kaiping",
            "zhuhai",
            "humen",
            "houjie",
            "xintang",
            "zengcheng",
            "puning",
        ],
        "Guangdong",
    ),
    **dict.fromkeys(
        [
            "ningbo",
            "wenzhou",
            "hangzhou",
            "shaoxing",
            "jiaxing",
            "haining",
            "huzhou",
            "yiwu",
            "jinhua",
            "cixi",
            "yuyao",
            "quzhou",
            "xiaoshan",
            "keqiao",
            "tongxiang",
            "haiyan",
            "pinghu",
            "ouhai",
        ],
        "Zhejiang",
    ),
    **dict.fromkeys(
        [
            "suzhou",
            "wuxi",
            "changzhou",
            "nantong",
            "yancheng",
            "yangzhou",
            "changshu",
            "jiangyin",
            "kunshan",
            "zhangjiagang",
            "taicang",
            "rugao",
            "jintan",
            "wujiang",
            "shengze",
            "haimen",
        ],
        "Jiangsu",
    ),
    **dict.fromkeys(
        ["quanzhou", "jinjiang", "xiamen", "fuzhou", "putian", "fuqing", "shishi", "chendai", "changle"],
        "Fujian",
    ),
    **dict.fromkeys(["qingdao", "yantai", "weihai", "zibo", "zhucheng", "jinan", "binzhou"], "Shandong"),
    **dict.fromkeys(["dalian", "shenyang", "dandong"], "Liaoning"),
    "wuhan": "Hubei",
    "changsha": "Hunan",
    **dict.fromkeys(["hefei", "anqing"], "Anhui"),
    "nanchang": "Jiangxi",
    "zhengzhou": "Henan",
    "chengdu": "Sichuan",
    "xi'an": "Shaanxi",
    "urumqi": "Xinjiang",
}

#: Province names as addresses spell them (lower case): the official names plus spaced pinyin and
#: a misspelling seen in the lists.
PROVINCE_SPELLINGS: dict[str, str] = {
    **{p.lower(): p for p in PROVINCES},
    "jiang su": "Jiangsu",
    "zhe jiang": "Zhejiang",
    "zheijang": "Zhejiang",
    "guang dong": "Guangdong",
    "fu jian": "Fujian",
    "shan dong": "Shandong",
    "an hui": "Anhui",
    "jiang xi": "Jiangxi",
    "he nan": "Henan",
    "hu bei": "Hubei",
    "hu nan": "Hunan",
    "guang xi": "Guangxi",
    "xin jiang": "Xinjiang",
}


def _words(names) -> re.Pattern:
    alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(alternatives) + r")\b")


_PROVINCE_PATTERN = _words(PROVINCE_SPELLINGS)
_CITY_PATTERN = _words(CITY_PROVINCES)
_CHINA = {"china", "cn", "prc", "people's republic of china", "mainland china", "中国"}


@dataclass(frozen=True)
class ExternalMapping:
    """How one external file's columns become enterprise columns.

    Attributes
    ----------
    name : str
        Short name, also the id prefix.
    source : str
        Where the data comes from (goes into each row's ``provenance``).
    columns : dict
        Enterprise column -> source column copied as text.
    country_column : str
        Source column with the country; only China is imported.
    """

    name: str
    source: str
    columns: dict[str, str]
    country_column: str


#: Nike manufacturing map + adidas supplier list. ``Factory_Number`` is not used as an id (for
#: adidas rows it is a phone number); ids are ``NKAD-<source row>``. Tier-2 ``MATERIALS``
#: suppliers get stages from their name only (the product type says what their material is for,
#: not what they make); ``FINISHED GOODS - COMPONENTS`` adds accessories.
NIKE_ADIDAS = ExternalMapping(
    name="NKAD",
    source="Nike manufacturing map + adidas supplier list (Arity-jpg/Database_Project_Manufacturing_Disclosure)",
    columns={
        "name_en": "Factory_Name",
        "province": "Province",
        "city": "City",
        "products": "Product_Type",
        "n_workers": "Total_Workers",
    },
    country_column="Country",
)

#: Open Apparel Registry fixture lists (MIT). No province column: read from the address. No
#: product type: stages come from the facility name (and ``sector`` where filled). Ids are
#: ``OAR<list>-<source row>``.
OAR_LISTS = ExternalMapping(
    name="OAR",
    source="Open Apparel Registry fixture facility lists (opensupplyhub/open-apparel-registry, MIT)",
    columns={"name_en": "name", "lat": "lat", "lon": "lng"},
    country_column="country",
)

#: Product types of the Nike/adidas list -> stages (footwear is cut-and-sew assembly like apparel).
PRODUCT_TYPE_STAGES: dict[str, str] = {
    "apparel": "apparel",
    "footwear": "apparel",
    "accessories": "accessories",
    "gear": "accessories",
    "equipment": "industrial_textile",
}


@dataclass
class ExternalImport:
    """The result of importing an external list.

    Attributes
    ----------
    enterprises : pandas.DataFrame
        Valid rows, with the enterprise columns in memory types.
    problems : pandas.DataFrame
        Rows left out: ``file, row, column, value, reason`` (row = row in the source file).
    skipped : int
        Rows outside mainland China, not imported by design.
    """

    enterprises: pd.DataFrame
    problems: pd.DataFrame
    skipped: int


def stages_from_text(text: str) -> set[str]:
    """Chain stages named in a free text, by :data:`STAGE_KEYWORDS`.

    Examples
    --------
    >>> sorted(stages_from_text("Dongguan Crystal Knitting and Garment Co., Ltd"))
    ['apparel', 'knitting']
    """
    lowered = text.lower()
    return {stage for pattern, stage in _STAGE_PATTERNS if pattern.search(lowered)}


def province_from_text(text: str) -> str | None:
    """The province named in an address: the last province or known city mentioned.

    Examples
    --------
    >>> province_from_text("11 Changjiang Road, Yancheng, Jiangsu Province")
    'Jiangsu'
    >>> province_from_text("NO. 20 WENWEI ROAD, GULIN TOWN. NINGBO. CHINA")
    'Zhejiang'
    """
    lowered = text.lower()
    # A province named anywhere beats a city; the last one wins because addresses end with it.
    for pattern, table in ((_PROVINCE_PATTERN, PROVINCE_SPELLINGS), (_CITY_PATTERN, CITY_PROVINCES)):
        hits = pattern.findall(lowered)
        if hits:
            return table[hits[-1]]
    return None


def _join_stages(stages: set[str]) -> str:
    return LIST_SEPARATOR.join(sorted(stages, key=STAGE_ORDER.__getitem__))


def _finish(mapped: pd.DataFrame, own: list[dict], file: str, skipped: int) -> ExternalImport:
    """Validate mapped rows as enterprises; keep the valid ones, report the rest."""
    typed, problems = check_table(mapped, ENTERPRISES, file)
    problems = pd.concat([problems_frame(own), problems], ignore_index=True)
    problems = problems.drop_duplicates(["row", "column"], keep="first")
    problems = problems.sort_values(["row", "column"], kind="stable").reset_index(drop=True)[PROBLEM_COLUMNS]
    valid = typed.drop(index=problems["row"].unique(), errors="ignore").reset_index(drop=True)
    return ExternalImport(enterprises=valid, problems=problems, skipped=skipped)


def _china_rows(raw: pd.DataFrame, mapping: ExternalMapping, file: str) -> tuple[pd.DataFrame, int]:
    country = mapping.country_column.lower()
    if country not in raw.columns:
        raise MatcherError(f"{file}: no '{mapping.country_column}' column; is this the right file?")
    china = raw[country].str.lower().isin(_CHINA)
    return raw[china], int((~china).sum())


def _base(rows: pd.DataFrame, mapping: ExternalMapping, ids: pd.Series, file: str) -> pd.DataFrame:
    mapped = pd.DataFrame(index=rows.index)
    mapped["id"] = ids
    for target, source in mapping.columns.items():
        # read_table lower-cases headers
        mapped[target] = rows[source.lower()] if source.lower() in rows.columns else ""
    mapped["synthetic"] = "false"
    mapped["provenance"] = f"{mapping.source}; {Path(file).name} row " + rows.index.astype(str)
    return mapped


def import_nike_adidas(path: str | Path) -> ExternalImport:
    """Import the merged Nike/adidas factory list's Chinese facilities as enterprises.

    Parameters
    ----------
    path : path-like
        ``merged_adidas_nike.csv``.
    """
    file = str(path)
    raw = read_table(path, common_aliases=False)
    missing = [c for c in ("factory_name", "product_type", "factory_type", "city", "address") if c not in raw]
    if missing:
        raise MatcherError(
            f"{file}: columns {', '.join(missing)} are missing; is this merged_adidas_nike.csv?"
        )
    rows, skipped = _china_rows(raw, NIKE_ADIDAS, file)
    mapped = _base(rows, NIKE_ADIDAS, "NKAD-" + rows.index.astype(str).str.zfill(5), file)
    own = []
    stages = []
    for row, name, product, tier in zip(
        rows.index, rows["factory_name"], rows["product_type"], rows["factory_type"].str.upper(), strict=True
    ):
        found = stages_from_text(name)
        if tier.startswith("FINISHED GOODS - COMPONENTS"):
            found.add("accessories")
        elif tier != "MATERIALS":
            found |= {
                PRODUCT_TYPE_STAGES[p]
                for p in re.split(r"\s*,\s*", product.lower())
                if p in PRODUCT_TYPE_STAGES
            }
        if not found:
            own.append(
                {
                    "file": file,
                    "row": row,
                    "column": "stages",
                    "value": f"{product} / {tier} / {name}",
                    "reason": "no chain stage could be read from the product type, factory type or name",
                }
            )
        stages.append(_join_stages(found))
    mapped["stages"] = stages
    # A few rows leave Province empty: try the city, then the address.
    empty = mapped["province"].eq("")
    guessed = (rows["city"] + ", " + rows["address"])[empty].map(lambda t: province_from_text(t) or "")
    mapped.loc[empty, "province"] = guessed
    for row in guessed.index[guessed.eq("")]:
        own.append(
            {
                "file": file,
                "row": row,
                "column": "province",
                "value": rows.at[row, "address"],
                "reason": "province is empty and no province or known city is named in the address",
            }
        )
    return _finish(mapped, own, file, skipped)


def import_oar_list(path: str | Path) -> ExternalImport:
    """Import an Open Apparel Registry fixture list's Chinese facilities as enterprises.

    Parameters
    ----------
    path : path-like
        ``list_<N>.geocoded.csv`` (list number from the file name) or
        ``oar_fixture_lists_combined.csv`` (list number from its ``list_id`` column).
    """
    file = str(path)
    raw = read_table(path, common_aliases=False)
    missing = [c for c in ("name", "address") if c not in raw]
    if missing:
        raise MatcherError(f"{file}: columns {', '.join(missing)} are missing; is this an OAR fixture list?")
    rows, skipped = _china_rows(raw, OAR_LISTS, file)
    if "list_id" in rows.columns:
        list_ids = rows["list_id"]
    else:
        match = re.search(r"list_(\d+)", Path(path).name)
        list_ids = pd.Series(match.group(1) if match else "0", index=rows.index)
    mapped = _base(rows, OAR_LISTS, "OAR" + list_ids + "-" + rows.index.astype(str).str.zfill(4), file)
    own = []
    sector = rows["sector"] if "sector" in rows.columns else pd.Series("", index=rows.index)
    stages, provinces = [], []
    for row, name, address, extra in zip(rows.index, rows["name"], rows["address"], sector, strict=True):
        found = stages_from_text(f"{name} {extra}")
        if not found:
            own.append(
                {
                    "file": file,
                    "row": row,
                    "column": "stages",
                    "value": name,
                    "reason": "no chain stage keyword in the facility name (the list has no product type)",
                }
            )
        stages.append(_join_stages(found))
        province = province_from_text(address) or province_from_text(name)
        if province is None:
            own.append(
                {
                    "file": file,
                    "row": row,
                    "column": "province",
                    "value": address,
                    "reason": "no province or known city is named in the address",
                }
            )
        provinces.append(province or "")
    mapped["stages"] = stages
    mapped["province"] = provinces
    return _finish(mapped, own, file, skipped)


def import_external(path: str | Path) -> ExternalImport:
    """Import a known external list, choosing the mapping from the file name.

    Raises
    ------
    MatcherError
        The file name matches no known mapping, or the file lacks the mapping's columns.
    """
    name = Path(path).name.lower()
    if "adidas" in name or "nike" in name:
        return import_nike_adidas(path)
    if name.startswith(("list_", "oar_")):
        return import_oar_list(path)
    raise MatcherError(
        f"{path}: no mapping for this file; known: merged_adidas_nike.csv, list_<N>.geocoded.csv"
    )
