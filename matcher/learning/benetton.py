"""Benetton: real vendor -> production-site links, a held-out test of the enterprise kind.

Hold out one site per vendor and rank it among all sites, for the engine and baselines. The list is
a third-party data set kept outside the project (``../shared/external/benetton_supplier_list``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from matcher.docking import features as F
from matcher.docking.kinds import ENTERPRISE_DOCKING
from matcher.exceptions import MatcherError
from matcher.learning.evaluate import Evaluation, hard_auc, normalise_name, rank_of, summarise

if TYPE_CHECKING:
    from matcher.docking.entities import Entities

# --- Benetton: real vendor -> production-site links ------------------------------------------

#: Where the Benetton supplier list sits next to the repository (read in place, never copied).
BENETTON_FOLDER = Path(__file__).resolve().parents[3] / "shared" / "external" / "benetton_supplier_list"
#: Benetton production phases -> chain stages. Benetton's WEAVING covers knitted fabric too; printing
#: is part of dyeing & finishing in the Chinese classification (印染); OTHER PROCESSING says nothing.
PHASE_STAGES = {
    "SPINNING": ("spinning",),
    "WEAVING": ("weaving", "knitting"),
    "WET_PROCESS": ("dyeing_finishing",),
    "PRINTING": ("dyeing_finishing",),
    "MANUFACTURING": ("apparel",),
}
PRODUCT_FLAGS = {"APPAREL": "apparel garments", "ACCESSORIES": "accessories", "SHOES": "shoes footwear"}


@dataclass
class BenettonData:
    """Benetton vendors and sites as an in-memory dataset, with the vendor -> site links."""

    dataset: object
    links: pd.DataFrame
    sites: pd.DataFrame


def load_benetton(folder: str | Path | None = None, country: str | None = None) -> BenettonData:
    """Build an enterprise dataset from the Benetton supplier list, in memory only.

    Sites (``COMPANY NAME``) become enterprises ``S0001...`` with stages from their production
    phases, products from the apparel/accessories/shoes flags and phases, and the midpoint of the
    employees range as capacity. Each vendor becomes an enterprise ``V001...``: a tier-1 apparel
    vendor (stage ``apparel``), with its own site's phases and products when it also appears as a
    site. The source has no coordinates, so ``lat``/``lon`` stay unknown. ``country`` keeps only
    sites in that country (e.g. ``"China"``).

    Raises
    ------
    MatcherError
        The folder or its ``BenettonData_enriched.csv`` is missing.
    """
    from matcher.columns import CLUSTERS, ENTERPRISES, MARKETS
    from matcher.ingest.dataset import Dataset, load_dataset
    from matcher.ingest.validate import empty_table

    folder = Path(folder) if folder is not None else BENETTON_FOLDER
    file = folder / "BenettonData_enriched.csv"
    if not file.is_file():
        raise MatcherError(f"Benetton supplier list not found: {file} is missing")
    raw = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8")
    raw = raw.apply(lambda s: s.str.strip())
    if country:
        wanted = normalise_name(country)
        hit = raw["COUNTRY"].map(lambda c: bool(wanted) and wanted in normalise_name(c))
        if not hit.any():
            countries = ", ".join(sorted(raw["COUNTRY"].unique()))
            raise MatcherError(f"no Benetton sites in country {country!r}; countries in the list: {countries}")
        raw = raw[hit]

    def stages_of(frame: pd.DataFrame) -> pd.Series:
        out = []
        for _, r in frame.iterrows():
            found = {s for phase, stages in PHASE_STAGES.items() if r.get(phase, "").lower() == "true" for s in stages}
            out.append(";".join(s for s in F.STAGE_NAMES if s in found) if found else pd.NA)
        return pd.Series(out, index=frame.index, dtype="string")

    def products_of(frame: pd.DataFrame) -> pd.Series:
        words = []
        for _, r in frame.iterrows():
            parts = [w for flag, w in PRODUCT_FLAGS.items() if r.get(flag, "").lower() == "true"]
            parts += [p.lower().replace("_", " ") for p in PHASE_STAGES if r.get(p, "").lower() == "true"]
            words.append(" ".join(parts) or pd.NA)
        return pd.Series(words, index=frame.index, dtype="string")

    sites = raw.drop_duplicates("COMPANY NAME").sort_values("COMPANY NAME").reset_index(drop=True)
    sites["id"] = [f"S{i + 1:04d}" for i in range(len(sites))]
    sites["stages"] = stages_of(sites)
    sites["products"] = products_of(sites)
    lo = pd.to_numeric(sites["MIN_EMPLOYEES"], errors="coerce")
    hi = pd.to_numeric(sites["MAX_EMPLOYEES"], errors="coerce")
    sites["capacity"] = ((lo + hi) / 2).astype("Float64")
    site_of = dict(zip(sites["COMPANY NAME"].str.lower(), sites.index, strict=True))

    vendors = sorted(raw["VENDOR"].unique())
    vendor_rows = []
    for i, vendor in enumerate(vendors):
        own = site_of.get(vendor.lower())
        stages = {"apparel"}
        products = "apparel garments"
        capacity = pd.NA
        if own is not None:
            if not pd.isna(sites.at[own, "stages"]):
                stages |= set(str(sites.at[own, "stages"]).split(";"))
            if not pd.isna(sites.at[own, "products"]):
                products = str(sites.at[own, "products"])
            capacity = sites.at[own, "capacity"]
        vendor_rows.append({"id": f"V{i + 1:03d}", "name_en": vendor, "country": "",
                            "stages": ";".join(s for s in F.STAGE_NAMES if s in stages), "products": products,
                            "capacity": capacity, "own_site": sites.at[own, "id"] if own is not None else pd.NA})
    vendor_frame = pd.DataFrame(vendor_rows)
    vendor_id = dict(zip(vendor_frame["name_en"], vendor_frame["id"], strict=True))

    columns = ENTERPRISES.names
    ent = pd.DataFrame({
        "id": list(vendor_frame["id"]) + list(sites["id"]),
        "name_en": list(vendor_frame["name_en"]) + list(sites["COMPANY NAME"]),
        "stages": list(vendor_frame["stages"]) + list(sites["stages"]),
        "products": list(vendor_frame["products"]) + list(sites["products"]),
        "capacity": list(vendor_frame["capacity"]) + list(sites["capacity"]),
    })
    template = empty_table(ENTERPRISES)
    enterprises = pd.DataFrame({c: pd.Series([pd.NA] * len(ent), dtype=template[c].dtype) for c in columns})
    for c in ("id", "name_en", "stages", "products"):
        enterprises[c] = ent[c].astype("string")
    enterprises["capacity"] = pd.to_numeric(ent["capacity"], errors="coerce").astype("Float64")
    enterprises["province"] = pd.NA
    enterprises["synthetic"] = pd.array([False] * len(ent), dtype="boolean")
    enterprises["provenance"] = "Benetton Group supplier list (via github.com/AlessioNar/PW4)"

    links = raw[["VENDOR", "COMPANY NAME", "COUNTRY"]].drop_duplicates(["VENDOR", "COMPANY NAME"])
    links = pd.DataFrame({
        "vendor_id": links["VENDOR"].map(vendor_id).to_numpy(),
        "site_id": links["COMPANY NAME"].str.lower().map(lambda s: sites.at[site_of[s], "id"]).to_numpy(),
        "country": links["COUNTRY"].to_numpy(),
    })
    own = dict(zip(vendor_frame["id"], vendor_frame["own_site"], strict=True))
    links["self_link"] = [own.get(v) == s for v, s in zip(links["vendor_id"], links["site_id"], strict=True)]
    links = links.sort_values(["vendor_id", "site_id"]).reset_index(drop=True)

    bundled = load_dataset()
    dataset = Dataset(
        clusters=empty_table(CLUSTERS), markets=empty_table(MARKETS), enterprises=enterprises,
        chain_links=bundled.chain_links, policies=bundled.policies, name="benetton",
        version=f"benetton-{len(sites)}-{len(links)}",
    )
    site_table = sites[["id", "COMPANY NAME", "COUNTRY", "stages"]].rename(
        columns={"COMPANY NAME": "name", "COUNTRY": "country"})
    return BenettonData(dataset, links, site_table)


def enterprise_feature_frame(E: Entities, li: np.ndarray, ri: np.ndarray, scale_km: float) -> pd.DataFrame:
    """The enterprise kind's features for given pairs, computed as ``matcher.docking.kinds`` does.

    Used where the kind's candidate rule cannot run (no coordinates): every vendor x site pair is
    scored instead of the nearest chain-adjacent ones.
    """
    kind = ENTERPRISE_DOCKING
    columns = F.compute(E, F.pairs_of(E, li, ri), kind.features, {"distance_scale_km": scale_km})
    return F.feature_frame(columns, kind.features)


def evaluate_benetton(
    folder: str | Path | None = None,
    k: int = 10,
    seed: int = 0,
    country: str | None = None,
    scorers: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Hold out one site per vendor and rank it among all sites, for the engine and baselines.

    Only vendors with at least two links to sites other than their own are asked. The held-out
    site is chosen with ``seed``. The vendor's other (training) sites feed the graph and location
    baselines: ``same_country`` (share of the vendor's training sites in the candidate's country),
    ``site_popularity`` (vendors using the site) and ``vendor_path3`` (sites of vendors that share
    a training site with this one). The engine scores every vendor x site pair with the enterprise
    features (its nearest-supplier candidate rule needs coordinates, which the list lacks).
    """
    from matcher.docking.engine import DockingEngine

    say = progress or (lambda message: None)
    data = load_benetton(folder, country)
    engine = DockingEngine(data.dataset)
    kind = ENTERPRISE_DOCKING
    E = engine.entities(kind)
    ids = E.table["id"].astype(str).to_numpy()
    links = data.links[~data.links["self_link"]]
    vendors = sorted(links["vendor_id"].unique())
    site_ids = data.sites["id"].to_numpy()
    site_pos = np.array([E.index[s] for s in site_ids])
    country_of = dict(zip(data.sites["id"], data.sites["country"], strict=True))
    stage_of = dict(zip(data.sites["id"], data.sites["stages"].fillna(""), strict=True))
    rng = np.random.default_rng(seed)
    held = {}
    for vendor in vendors:
        mine = sorted(links.loc[links["vendor_id"] == vendor, "site_id"])
        if len(mine) >= 2:
            held[vendor] = mine[int(rng.integers(len(mine)))]
    say(f"scoring {len(held)} vendors x {len(site_ids)} sites")
    train = links[[held.get(v) != s for v, s in zip(links["vendor_id"], links["site_id"], strict=True)]]
    # bipartite vendor-site graph of training links
    v_index = {v: i for i, v in enumerate(vendors)}
    s_index = {s: i for i, s in enumerate(site_ids)}
    B = sparse.csr_matrix((np.ones(len(train)), ([v_index[v] for v in train["vendor_id"]],
                                                 [s_index[s] for s in train["site_id"]])),
                          shape=(len(vendors), len(site_ids)))
    B.data[:] = 1.0
    popularity = np.asarray(B.sum(axis=0)).ravel()
    path3 = np.asarray((B @ B.T @ B).todense())
    params = kind.params
    weighted = engine.scorer(kind)
    all_scorers = {"engine": weighted, **(scorers or {})}
    site_countries = np.array([country_of[s] for s in site_ids])
    site_stage_sets = [set(stage_of[s].split(";")) - {""} for s in site_ids]
    rows = []
    for vendor, target in held.items():
        u = E.index[vendor]
        training = set(train.loc[train["vendor_id"] == vendor, "site_id"])
        own = data.links.loc[(data.links["vendor_id"] == vendor) & data.links["self_link"], "site_id"]
        keep = np.array([s not in training and s not in set(own) for s in site_ids])
        cand_sites = site_ids[keep]
        cand = site_pos[keep]
        X = enterprise_feature_frame(E, np.full(len(cand), u), cand, params["distance_scale_km"])
        tcountry = _country_share(train.loc[train["vendor_id"] == vendor, "country"])
        scores = {name: np.asarray(s.predict(X), dtype=np.float64) for name, s in all_scorers.items()}
        scores["random"] = rng.random(len(cand))
        scores["product"] = np.nan_to_num(X["product"].to_numpy(dtype=np.float64), nan=-1.0)
        scores["chain"] = X["chain"].to_numpy(dtype=np.float64)
        scores["same_country"] = np.array([tcountry.get(c, 0.0) for c in site_countries[keep]])
        scores["site_popularity"] = popularity[keep]
        scores["vendor_path3"] = path3[v_index[vendor]][keep]
        t = int(np.flatnonzero(cand_sites == target)[0])
        t_stages = site_stage_sets[s_index[target]]
        hard = np.array([j != t and (bool(site_stage_sets[s_index[s]] & t_stages)
                                     or site_countries[s_index[s]] == country_of[target])
                         for j, s in enumerate(cand_sites)])
        local_ids = ids[cand]
        others = np.flatnonzero(np.arange(len(cand)) != t)
        for method, s in scores.items():
            rows.append({"query": vendor, "partner": target, "item": country_of[target], "method": method,
                         "rank": rank_of(s, local_ids, t, others), "auc_hard": hard_auc(s, t, np.flatnonzero(hard)),
                         "candidate": True, "of": len(cand)})
    ranks = pd.DataFrame(rows)
    methods = list(ranks["method"].unique()) if len(ranks) else []
    metrics = summarise(ranks, k, methods) if len(ranks) else pd.DataFrame()
    notes = [
        f"Benetton supplier list{' (' + country + ')' if country else ''}: {len(vendors)} vendors, "
        f"{len(site_ids)} sites, {len(links)} vendor -> other-site links; {len(held)} vendors with 2+ links "
        "each hold out one site (seed " + str(seed) + ")",
        "no coordinates in the source: the distance feature is unknown for every pair, and the engine "
        "scores every vendor x site pair (its nearest-supplier candidate rule needs lat/lon)",
    ]
    return Evaluation(ENTERPRISE_DOCKING.name, k, metrics, ranks, None, "", pd.DataFrame(), notes,
                      protocol="one held-out site per vendor, ranked among all sites the vendor does not use")


def _country_share(values: pd.Series) -> dict[str, float]:
    """Share of each value in a series (e.g. the countries of a vendor's training sites)."""
    counts = values.value_counts()
    return (counts / max(counts.sum(), 1)).to_dict()


__all__ = ["BENETTON_FOLDER", "BenettonData", "evaluate_benetton", "load_benetton"]
