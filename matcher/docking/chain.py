"""The industry chain as a graph: stages, who works in them and who buys from them.

Stage nodes carry the input-output supply strengths (``data/chain_links.csv``); every cluster,
market and enterprise is linked to the stages it works in (``works_in``) and the stages it buys
from (``buys_from``). Functions take the graph ``G`` first, like networkx.

Examples
--------
>>> from matcher.ingest.dataset import load_dataset
>>> G = build_chain_graph(load_dataset())
>>> chain_position(G, "C056")["stages"]
['spinning', 'weaving', 'dyeing_finishing', 'apparel']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.exceptions import MatcherError
from matcher.outputs.atomic import replacing, write_text
from matcher.vocab import CLUSTER, ENTERPRISE, MARKET, STAGE_ORDER, STAGES

if TYPE_CHECKING:  # networkx is imported where a graph is built or written, not by a registry run
    import networkx as nx

    from matcher.ingest.dataset import Dataset

#: Stages that make goods; trading and machinery serve the chain but do not transform fibre.
MAKING_STAGES = [s for s in STAGES if s not in ("trading", "machinery")]


def split_list(value: object) -> list[str]:
    """A canonical ``;``-joined list cell as a list (empty/NA -> [])."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return []
    return [v for v in str(value).split(";") if v]


def stage_strength(chain_links: pd.DataFrame) -> np.ndarray:
    """Square matrix ``M[s, t]``: how strongly stage ``s`` supplies stage ``t`` (0..1, max = 1).

    Uses ``strength_norm`` when present, else ``strength`` divided by its maximum.
    """
    n = len(STAGES)
    m = np.zeros((n, n), dtype=np.float64)
    col = "strength_norm" if "strength_norm" in chain_links else "strength"
    values = chain_links[col].astype(float)
    if col == "strength" and len(values) and values.max() > 0:
        values = values / values.max()
    for s, t, v in zip(chain_links["supplier_stage"], chain_links["buyer_stage"], values, strict=True):
        m[STAGE_ORDER[s], STAGE_ORDER[t]] = max(m[STAGE_ORDER[s], STAGE_ORDER[t]], float(v))
    return m


def stage_matrix(cells: pd.Series) -> np.ndarray:
    """One-hot matrix (rows x stages) of a column of ``;``-joined stage lists; vectorised."""
    n = len(STAGES)
    out = np.zeros((len(cells), n), dtype=np.float32)
    text = cells.fillna("").astype(str)
    for stage, j in STAGE_ORDER.items():
        # canonical cells: exact token match on ';' boundaries
        out[:, j] = (";" + text + ";").str.contains(f";{stage};", regex=False).to_numpy()
    return out


def input_needs(stages: np.ndarray, buys: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """How much each entity needs each stage's output (rows x stages, 0..1).

    An entity needs stage ``s`` as much as ``s`` supplies the stages it works in (IO strength),
    except where it already makes an input of that stage at least as strong as ``s`` (a cluster
    that spins and dyes dyes its own yarn: its dyeing does not need greige fabric). Stages it
    declares in ``buys`` are needed fully. Stages it already works in count half: it makes some of
    that input itself. Computed once per distinct row of stages.
    """
    n_stages = stages.shape[1]
    if n_stages < 63:  # each row's stages as one whole number: a 1-d unique, not a slow row-wise one
        bits = np.left_shift(np.int64(1), np.arange(n_stages, dtype=np.int64))
        codes, inverse = np.unique((stages > 0).astype(np.int64) @ bits, return_inverse=True)
        distinct = (codes[:, None] & bits[None, :]) > 0
    else:
        distinct, inverse = np.unique(stages > 0, axis=0, return_inverse=True)
    works = distinct.astype(np.float32)
    need = np.zeros_like(works)
    for t in range(n_stages):
        inputs = strength[:, t]
        if not inputs.any():
            continue
        made = works * inputs[None, :]  # in-house inputs of t and their strength
        for s in np.flatnonzero(inputs > 0):
            others = np.delete(made, s, axis=1).max(axis=1) if n_stages > 1 else np.zeros(len(works))
            open_need = np.where(others >= inputs[s], 0.0, inputs[s]).astype(np.float32)
            need[:, s] = np.maximum(need[:, s], works[:, t] * open_need)
    need = need[inverse.ravel()]
    need = np.maximum(need, buys)
    return np.where(stages > 0, need * 0.5, need).astype(np.float32)


def build_chain_graph(dataset: Dataset, include_enterprises: bool = True) -> nx.DiGraph:
    """Build the chain graph of a dataset.

    Parameters
    ----------
    dataset : matcher.ingest.dataset.Dataset
        Clusters, markets, enterprises and chain links.
    include_enterprises : bool
        Add enterprise nodes (skip for very large registries).

    Returns
    -------
    networkx.DiGraph
        Stage nodes ``stage:<name>`` with ``supplies`` edges weighted by IO strength; entity nodes
        (id) with ``works_in`` edges to stages and ``buys_from`` edges from stages.
    """
    import networkx as nx

    G = nx.DiGraph(name="textile chain", data_version=getattr(dataset, "version", ""))
    for stage, (zh, en) in STAGES.items():
        G.add_node(f"stage:{stage}", kind="stage", stage=stage, name_zh=zh, name_en=en, order=STAGE_ORDER[stage])
    strength = stage_strength(dataset.chain_links)
    for s, i in STAGE_ORDER.items():
        for t, j in STAGE_ORDER.items():
            if strength[i, j] > 0:
                G.add_edge(f"stage:{s}", f"stage:{t}", relation="supplies", weight=float(strength[i, j]))
    types = [CLUSTER, MARKET, *([ENTERPRISE] if include_enterprises else [])]
    table = dataset.entities(types, ["id", "name_zh", "name_en", "province", "region", "stages", "buys", "cluster_id"])
    if len(table):
        for row in table.itertuples(index=False):
            attrs = {
                "kind": str(row.entity_type),
                "name_zh": _text(getattr(row, "name_zh", None)),
                "name_en": _text(getattr(row, "name_en", None)),
                "province": _text(getattr(row, "province", None)),
                "region": _text(getattr(row, "region", None)),
            }
            G.add_node(row.id, **attrs)
            for stage in split_list(row.stages):
                G.add_edge(row.id, f"stage:{stage}", relation="works_in", weight=1.0)
            for stage in split_list(getattr(row, "buys", None)):
                G.add_edge(f"stage:{stage}", row.id, relation="buys_from", weight=1.0)
            cluster_id = _text(getattr(row, "cluster_id", None))
            if cluster_id:
                G.add_edge(row.id, cluster_id, relation="member_of", weight=1.0)
    return G


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _strength_matrix(G: nx.DiGraph) -> np.ndarray:
    m = np.zeros((len(STAGES), len(STAGES)))
    for u, v, d in G.edges(data=True):
        if d.get("relation") == "supplies":
            m[STAGE_ORDER[u[6:]], STAGE_ORDER[v[6:]]] = d["weight"]
    return m


def entity_stages(G: nx.DiGraph, entity_id: str) -> list[str]:
    """Stages the entity works in, in chain order."""
    stages = [v[6:] for v in G.successors(entity_id) if G.edges[entity_id, v]["relation"] == "works_in"]
    return sorted(stages, key=STAGE_ORDER.get)


def chain_position(G: nx.DiGraph, entity_id: str) -> dict:
    """Where an entity stands in the chain.

    Returns a dict with ``stages`` (works in), ``upstream`` (stages that supply its stages, with
    IO strength), ``downstream`` (stages its stages supply) and ``position`` (0 = fibre end,
    1 = garment/trading end: the mean chain order of its stages scaled to 0..1).
    """
    if entity_id not in G:
        raise MatcherError(f"no cluster, market or enterprise has the id {entity_id!r}")
    stages = entity_stages(G, entity_id)
    m = _strength_matrix(G)
    idx = [STAGE_ORDER[s] for s in stages]
    names = list(STAGES)
    up = {names[i]: float(m[i, idx].max()) for i in range(len(names)) if idx and m[i, idx].max() > 0}
    down = {names[j]: float(m[idx, j].max()) for j in range(len(names)) if idx and m[idx, j].max() > 0}
    making = [STAGE_ORDER[s] for s in stages if s in MAKING_STAGES]
    position = float(np.mean(making) / (len(MAKING_STAGES) - 1)) if making else float("nan")
    return {
        "id": entity_id,
        "stages": stages,
        "buys": sorted(
            (u[6:] for u in G.predecessors(entity_id) if G.edges[u, entity_id]["relation"] == "buys_from"),
            key=STAGE_ORDER.get,
        ),
        "upstream": dict(sorted(up.items(), key=lambda kv: (-kv[1], kv[0]))),
        "downstream": dict(sorted(down.items(), key=lambda kv: (-kv[1], kv[0]))),
        "position": position,
    }


def chain_gaps(
    G: nx.DiGraph,
    entity_id: str,
    threshold: float = 0.2,
    partners: int = 5,
    candidates: list[str] | None = None,
    partner_scores: dict[str, float | tuple[float, str]] | None = None,
) -> pd.DataFrame:
    """Stages an entity's products need that it lacks, with the best partners to fill each gap.

    A gap is an input stage whose IO strength into one of the entity's stages is at least
    ``threshold`` and which the entity does not work in itself. Partners are other entities
    (clusters and markets, or ``candidates``) working in the gap stage, ranked by
    ``partner_scores`` when given (a score, or ``(score, kind)`` as ``DockingEngine.partner_scores``
    gives: the best docking score over every kind reaching the partner), then by the partner's
    number of stages (broader base first), then by id.

    Returns
    -------
    pandas.DataFrame
        One row per gap and partner: ``id, gap_stage, feeds, need, partner_rank, partner_id,
        partner_name_zh, partner_name_en, partner_region, partner_kind, partner_score``. A gap with
        no partner keeps one row
        with an empty partner.
    """
    position = chain_position(G, entity_id)
    have = set(position["stages"])
    m = _strength_matrix(G)
    names = list(STAGES)
    gaps = []
    for i, stage in enumerate(names):
        if stage in have:
            continue
        feeds = [(t, m[i, STAGE_ORDER[t]]) for t in position["stages"] if m[i, STAGE_ORDER[t]] >= threshold]
        if not feeds:
            continue
        best_t, need = max(feeds, key=lambda kv: (kv[1], -STAGE_ORDER[kv[0]]))
        gaps.append((stage, best_t, float(need)))
    if candidates is not None:
        pool = set(candidates)
    else:
        pool = {n for n, d in G.nodes(data=True) if d.get("kind") in ("cluster", "market")}
    rows = []
    for stage, feeds, need in sorted(gaps, key=lambda g: (-g[2], STAGE_ORDER[g[0]])):
        workers = [
            n for n in G.predecessors(f"stage:{stage}")
            if n != entity_id and n in pool and G.edges[n, f"stage:{stage}"]["relation"] == "works_in"
        ]
        scores = {n: v if isinstance(v, tuple) else (float(v), "") for n, v in (partner_scores or {}).items()}
        workers.sort(key=lambda n: (-scores.get(n, (0.0, ""))[0], -len(entity_stages(G, n)), n))
        workers = _round_robin(workers, [scores.get(n, (0.0, ""))[1] for n in workers])
        base = {"id": entity_id, "gap_stage": stage, "feeds": feeds, "need": round(need, 4)}
        if not workers:
            rows.append({**base, "partner_rank": pd.NA, "partner_id": "", "partner_name_zh": "",
                         "partner_name_en": "", "partner_region": "", "partner_kind": "", "partner_score": np.nan})
        for rank, n in enumerate(workers[:partners], start=1):
            d = G.nodes[n]
            score, kind = scores.get(n, (np.nan, ""))
            rows.append({**base, "partner_rank": rank, "partner_id": n, "partner_name_zh": d.get("name_zh", ""),
                         "partner_name_en": d.get("name_en", ""), "partner_region": d.get("region", ""),
                         "partner_kind": kind, "partner_score": score})
    columns = ["id", "gap_stage", "feeds", "need", "partner_rank", "partner_id", "partner_name_zh",
               "partner_name_en", "partner_region", "partner_kind", "partner_score"]
    return pd.DataFrame(rows, columns=columns)


def _round_robin(ranked: list[str], kinds: list[str]) -> list[str]:
    """Ranked partners taken in turn from each docking kind (in the order of each kind's best), so a
    short list holds the best partners of every kind that reaches the entity: the nearest along the
    chain and the best across regions."""
    queues: dict[str, list[str]] = {}
    for n, k in zip(ranked, kinds, strict=True):
        queues.setdefault(k, []).append(n)
    out: list[str] = []
    while any(queues.values()):
        for q in queues.values():
            if q:
                out.append(q.pop(0))
    return out


def export_graph(G: nx.DiGraph, path: str | Path) -> Path:
    """Write the graph as GraphML (``.graphml``) or node-link JSON (``.json``).

    Text attributes are neutralised like every export (a name starting with ``=`` gets a leading
    quote), because graph tools such as Gephi can re-export them to spreadsheets.
    """
    import networkx as nx

    from matcher.outputs.cells import neutralise_cell

    path = Path(path)
    G = G.copy()
    for _, attrs in G.nodes(data=True):
        for key, value in attrs.items():
            if isinstance(value, str):
                attrs[key] = neutralise_cell(value)
    if path.suffix == ".graphml":
        with replacing(path) as tmp:
            nx.write_graphml(G, tmp)
    elif path.suffix == ".json":
        data = nx.node_link_data(G, edges="edges")
        write_text(path, json.dumps(data, ensure_ascii=False, indent=1))
    else:
        raise MatcherError(f"unsupported graph format {path.suffix!r}: use .graphml or .json")
    return path
