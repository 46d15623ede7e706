"""Motives that read documented dockings: an entity's docking experience and the docking corridor
between two provinces.

Documented dockings (``data/known_dockings.csv`` pairs and ``data/known_dockings_regional.csv`` rows
whose partner a page names only by province or city, ``Entities.dockings``) feed the engine the way
recorded outcomes do. Because an evaluation ranks those same dockings, everything here takes the items
(pages, events) and pairs to leave out, so no documented docking vouches for itself:
``learning.crossval.HeldOut`` reads the motives without each held-out set through ``EvidenceIndex``
(fast), which ``tests/test_motives.py`` holds to ``evidence_values`` (plain, the reference).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matcher.docking.entities import Entities

#: Documented dockings (distinct items) at which experience counts fully.
EXPERIENCE_FULL = 2


def documented_rows(E: Entities, exclude_items: Iterable[str] = (),
                    exclude_pairs: Iterable[tuple[int, int]] = ()) -> pd.DataFrame:
    """``E.dockings`` without the items ``exclude_items`` and the rows of ``exclude_pairs`` (positions,
    either order): what an evaluation holds out of every motive that reads documented dockings."""
    rows = E.dockings if E.dockings is not None else pd.DataFrame(columns=["li", "ri", "item"])
    keep = ~rows["item"].isin(list(exclude_items)).to_numpy(dtype=bool)
    held = {(int(a), int(b)) for a, b in exclude_pairs} | {(int(b), int(a)) for a, b in exclude_pairs}
    if held:
        keep &= np.array([(int(a), int(b)) not in held for a, b in zip(rows["li"], rows["ri"], strict=True)],
                         dtype=bool)
    return rows[keep]


def experience_counts(E: Entities, exclude_items: Iterable[str] = (),
                      exclude_pairs: Iterable[tuple[int, int]] = (), rows: pd.DataFrame | None = None) -> np.ndarray:
    """Per entity, the number of distinct documented items (pages, events) it docked in, leaving out
    ``exclude_items`` and the rows of ``exclude_pairs`` (``documented_rows``; or counted over ``rows``
    already filtered). A docking whose partner a page names only by region counts for its query entity."""
    return _experience_counts(E, documented_rows(E, exclude_items, exclude_pairs) if rows is None else rows)


def _experience_counts(E: Entities, rows: pd.DataFrame) -> np.ndarray:
    ends = pd.DataFrame({"e": np.r_[rows["li"].to_numpy(), rows["ri"].to_numpy()],
                         "item": np.r_[rows["item"].to_numpy(), rows["item"].to_numpy()]}).drop_duplicates()
    ends = ends[ends["e"] >= 0]  # a docking named by region has no partner row (ri = -1)
    return np.bincount(ends["e"].to_numpy(dtype=np.int64), minlength=len(E)).astype(np.float32)


def experience_value(counts: np.ndarray, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Mean over the two sides of min(1, documented items / EXPERIENCE_FULL)."""
    full = np.minimum(counts / np.float32(EXPERIENCE_FULL), 1.0)
    return ((full[li] + full[ri]) / 2).astype(np.float32)


def pair_items(E: Entities, li: np.ndarray, ri: np.ndarray, rows: pd.DataFrame | None = None) -> np.ndarray:
    """Per pair, the documented items in which these two entities docked with each other (either order,
    ``;``-joined, sorted), "" for a pair with none: what a planner should know before proposing a pair that
    has already met. ``rows`` are ``documented_rows(E)`` when given; regional rows name no partner."""
    rows = documented_rows(E) if rows is None else rows
    rows = rows[(rows["li"] >= 0) & (rows["ri"] >= 0)]
    found: dict[tuple[int, int], set[str]] = {}
    for a, b, item in zip(rows["li"].astype(np.int64), rows["ri"].astype(np.int64), rows["item"].astype(str),
                          strict=True):
        found.setdefault((min(a, b), max(a, b)), set()).add(item)
    out = np.full(len(li), "", dtype=object)
    if not found:
        return out
    lo, hi = np.minimum(li, ri), np.maximum(li, ri)
    ends = np.fromiter({e for pair in found for e in pair}, dtype=np.int64)
    # only pairs whose two ends both dock somewhere are looked up (a few, of millions at enterprise scale)
    for at in np.flatnonzero(np.isin(lo, ends) & np.isin(hi, ends)):
        items = found.get((int(lo[at]), int(hi[at])))
        if items:
            out[at] = ";".join(sorted(items))
    return out


def province_links(E: Entities, rows: pd.DataFrame) -> list[tuple[int, int, str]]:
    """``(province code, province code, item)`` for each documented docking among ``rows`` (from
    ``documented_rows``): a pair links its two sides' provinces; a docking named by region links its
    query's province with each province its region covers. Provinces not in the table link nothing."""
    return [(a, b, item) for _, a, b, item in _row_links(E, rows)]


def _row_links(E: Entities, rows: pd.DataFrame) -> list[tuple[int, int, int, str]]:
    """``province_links`` with each link's row position in ``rows`` first."""
    n = len(E.provinces.names)
    links = []
    for at, (li, ri, item, cover) in enumerate(zip(
            rows["li"], rows["ri"], rows["item"],
            rows["provinces"] if "provinces" in rows.columns else [""] * len(rows), strict=True)):
        a = int(E.province[int(li)])
        others = [int(E.province[int(ri)])] if ri >= 0 else \
            [int(c) for c in E.provinces.code([p for p in str(cover or "").split(";") if p])]
        links += [(at, a, b, str(item)) for b in others if a < n and b < n]
    return links


def corridor_counts(E: Entities, exclude_items: Iterable[str] = (),
                    exclude_pairs: Iterable[tuple[int, int]] = ()) -> np.ndarray:
    """Province code x province code: the number of distinct documented items linking the two
    provinces (``province_links``), leaving out what ``documented_rows`` does. Symmetric; the last code,
    "not in the table", links nothing."""
    return _corridor_counts(E, documented_rows(E, exclude_items, exclude_pairs))


def _corridor_counts(E: Entities, rows: pd.DataFrame) -> np.ndarray:
    n = len(E.provinces.names)
    links = [(min(a, b), max(a, b), item) for a, b, item in province_links(E, rows)]
    out = np.zeros((n + 1, n + 1), dtype=np.float32)
    for (a, b), items in pd.DataFrame(links, columns=["a", "b", "item"]).groupby(["a", "b"])["item"]:
        out[a, b] = out[b, a] = items.nunique()
    return out


def corridor_value(E: Entities, counts: np.ndarray, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """min(1, documented items between the two sides' provinces / EXPERIENCE_FULL); unknown where a
    side's province is not in the province table."""
    a, b = E.province[li], E.province[ri]
    known = (a < len(E.provinces.names)) & (b < len(E.provinces.names))
    return np.where(known, np.minimum(counts[a, b] / np.float32(EXPERIENCE_FULL), 1.0), np.nan).astype(np.float32)


def item_sources(*frames: pd.DataFrame) -> dict[str, str]:
    """Documented item -> its first web page, from documented-docking tables with ``item`` and
    ``source`` columns (``known_dockings.csv``, ``known_dockings_regional.csv``)."""
    out: dict[str, str] = {}
    for frame in frames:
        if frame is None or not {"item", "source"} <= set(frame.columns):
            continue
        for item, source in zip(frame["item"], frame["source"], strict=True):
            page = str(source).split()[0] if isinstance(source, str) and source.strip() else ""
            if str(item).strip() and page:
                out.setdefault(str(item).strip(), page)
    return out


def province_corridors(E: Entities, province: str, sources: dict[str, str] | None = None) -> pd.DataFrame:
    """The documented docking corridors of one province, as the ``corridor`` motive counts them: one
    row per other province with ``province``, ``items`` (the documented items, ``;``-joined), ``n`` and
    ``sources`` (their pages, when ``sources`` maps item to page), most documented first, then by name.
    What a cluster profile shows behind the motive."""
    names = list(E.provinces.names)
    columns = ["province", "items", "n", "sources"]
    if province not in names:
        return pd.DataFrame(columns=columns)
    me = names.index(province)
    found: dict[int, set[str]] = {}
    for a, b, item in province_links(E, documented_rows(E)):
        if me in (a, b):
            found.setdefault(b if a == me else a, set()).add(item)
    out = pd.DataFrame([{"province": names[b], "items": ";".join(sorted(items)), "n": len(items),
                         "sources": " ".join(dict.fromkeys(sources[i] for i in sorted(items) if sources and sources.get(i)))}
                        for b, items in found.items()], columns=columns)
    return out.sort_values(["n", "province"], ascending=[False, True], kind="stable").reset_index(drop=True)


#: Motives that read documented dockings: an evaluation recomputes them without the held-out ones.
EVIDENCE_FEATURES = ("experience", "corridor")


class EvidenceIndex:
    """``evidence_values`` for many held-out sets: the documented rows' entity ends and province links
    are read once, and each call only masks them (the nested cross-validation asks for thousands of
    held-out sets; ``tests/test_motives.py`` holds it to ``evidence_values``)."""

    def __init__(self, E: Entities):
        self.E = E
        rows = documented_rows(E)
        self.li = rows["li"].to_numpy(dtype=np.int64)
        self.ri = rows["ri"].to_numpy(dtype=np.int64)
        codes, names = pd.factorize(rows["item"].astype(str))
        self.item = codes.astype(np.int64)
        self.code = {name: i for i, name in enumerate(names)}
        both = np.r_[np.arange(len(rows)), np.arange(len(rows))]
        ends = np.r_[self.li, self.ri]
        self.end_row, self.end = both[ends >= 0], ends[ends >= 0]  # a region has no partner row (ri = -1)
        links = np.array([(at, min(a, b), max(a, b)) for at, a, b, _ in _row_links(E, rows)],
                         dtype=np.int64).reshape(-1, 3)
        self.link_row, self.link_a, self.link_b = links.T
        self.n_items = max(len(names), 1)

    def values(self, li: np.ndarray, ri: np.ndarray, names: Iterable[str], exclude_items: Iterable[str] = (),
               exclude_pairs: Iterable[tuple[int, int]] = ()) -> dict:
        """What ``evidence_values`` gives for the same arguments."""
        keep = ~np.isin(self.item, [self.code[i] for i in exclude_items if i in self.code])
        held = [(int(a), int(b)) for a, b in exclude_pairs]
        if held:
            n = len(self.E)
            keys = np.array([a * n + b for a, b in held] + [b * n + a for a, b in held], dtype=np.int64)
            keep &= ~np.isin(self.li * n + self.ri, keys)
        names = set(names)
        out = {}
        if "experience" in names:
            m = keep[self.end_row]
            ends = np.unique(self.end[m] * self.n_items + self.item[self.end_row[m]])
            counts = np.bincount(ends // self.n_items, minlength=len(self.E)).astype(np.float32)
            out["experience"] = experience_value(counts, li, ri)
        if "corridor" in names:
            size = len(self.E.provinces.names) + 1
            m = keep[self.link_row]
            links = np.unique((self.link_a[m] * size + self.link_b[m]) * self.n_items + self.item[self.link_row[m]])
            counts = np.bincount(links // self.n_items, minlength=size * size).reshape(size, size).astype(np.float32)
            counts = np.maximum(counts, counts.T)  # stored once, a <= b
            out["corridor"] = corridor_value(self.E, counts, li, ri)
        return out


def evidence_values(E: Entities, li: np.ndarray, ri: np.ndarray, names: Iterable[str],
                    exclude_items: Iterable[str] = (), exclude_pairs: Iterable[tuple[int, int]] = ()) -> dict:
    """The ``EVIDENCE_FEATURES`` among ``names`` for pairs ``li``, ``ri``, without the documented
    dockings ``exclude_items`` and ``exclude_pairs``."""
    names = set(names)
    rows = documented_rows(E, exclude_items, exclude_pairs)  # once, for every motive asked
    out = {}
    if "experience" in names:
        out["experience"] = experience_value(_experience_counts(E, rows), li, ri)
    if "corridor" in names:
        out["corridor"] = corridor_value(E, _corridor_counts(E, rows), li, ri)
    return out


__all__ = ["EVIDENCE_FEATURES", "EXPERIENCE_FULL", "EvidenceIndex", "corridor_counts", "corridor_value", "documented_rows", "evidence_values",
           "experience_counts", "experience_value", "item_sources", "pair_items", "province_corridors", "province_links"]
