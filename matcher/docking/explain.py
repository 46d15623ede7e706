"""One-line reasons in Chinese and English, built from the explanation columns.

A reason names the motives strongest first: every motive whose contribution to the 0..1 score is at
least ``MIN_CONTRIBUTION`` (0.02), then the distance when it is known, then the features that were
unknown for the pair (a weighted feature is never left out silently: it is named, named as unknown,
or contributes less than the stated minimum), e.g.
``纺纱→织造互补；对口援疆省份；2,900 公里`` / ``spinning feeds weaving; counterpart-aid provinces; 2,900 km``.
The UI and exports only render these strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.docking.features import FEATURES, SPECIALTIES, STAGE_NAMES, TRADE_SELLS, TRADE_SUPPLIES
from matcher.docking.materials import LINE_LABELS
from matcher.docking.provinces import FRAMEWORK_LABELS
from matcher.vocab import FLAGS, MARKET_ROLES, STAGES

if TYPE_CHECKING:
    import pyarrow as pa

#: Joins a number to its unit ("196 公里", "720 元/月"): the data grid wraps a cell's text only at plain
#: spaces, and a line ending in the number left its unit alone on the next.
NB = "\u00a0"
STAGE_ZH = [zh for zh, _ in STAGES.values()]
STAGE_EN = [en for _, en in STAGES.values()]
POLICY_TEXT = {
    "counterpart_aid_xinjiang": ("对口援疆省份", "counterpart-aid provinces"),
    "east_west_cooperation": ("东西部协作结对", "east-west cooperation pairing"),
    "three_gorges_counterpart_support": ("对口支援三峡库区", "Three Gorges counterpart support"),
}
FEATURE_LABEL = {name: (f.label_zh, f.label_en) for name, f in FEATURES.items()}
#: Detail columns holding stage indices (written as stage names, "" for none).
STAGE_COLUMNS = ("lr_from", "lr_to", "rl_from", "rl_to", "d_channel_stage", "d_sourcing_stage")
#: A motive is named when it adds at least this much to the 0..1 score.
MIN_CONTRIBUTION = 0.02


ROLE_OF_STAGE = {
    "fiber": "raw_materials", "spinning": "raw_materials",
    "weaving": "fabrics", "knitting": "fabrics", "dyeing_finishing": "fabrics",
    "apparel": "finished_goods", "home_textile": "finished_goods", "industrial_textile": "finished_goods",
    "accessories": "finished_goods",
}


def _role_of_stage(stage: str, roles: str) -> str:
    """The market role that trades a stage's goods, when the market has that role."""
    role = ROLE_OF_STAGE.get(stage, "")
    if stage == "knitting" and "finished_goods" in roles.split(";"):
        return "finished_goods"
    return role if role in roles.split(";") else ""


def _stage(i: int, lang: int) -> str:
    return (STAGE_ZH if lang == 0 else STAGE_EN)[int(i)] if i >= 0 else ""


def _known(row: pd.Series | dict, *columns: str) -> list | None:
    """The detail values of ``columns`` when every one is known, else None."""
    values = [row.get(c) for c in columns]
    return None if any(v is None or pd.isna(v) for v in values) else values


def _phrase(feature: str, row: pd.Series, lang: int) -> str:
    zh = lang == 0
    if feature == "chain":
        if not row.get("d_chain_rl", False):
            a, b = row.get("lr_from", -1), row.get("lr_to", -1)
        else:
            a, b = row.get("rl_from", -1), row.get("rl_to", -1)
        if a >= 0 and b >= 0 and a != b:
            return f"{_stage(a, 0)}→{_stage(b, 0)}互补" if zh else f"{_stage(a, 1)} feeds {_stage(b, 1)}"
        if a >= 0:
            return f"{_stage(a, 0)}供需互补" if zh else f"{_stage(a, 1)} supply and demand"
        return FEATURE_LABEL[feature][lang]
    if feature == "specialty":
        named = str(row.get("d_specialty", "") or "").split(";")
        materials = [SPECIALTIES[f] for f in named if f in SPECIALTIES]
        lines = [LINE_LABELS[f] for f in named if f in LINE_LABELS]
        if zh and (materials or lines):
            return f"同为{'、'.join(label[0] for label in materials + lines)}产区"
        parts = ([f"both work {', '.join(label[1] for label in materials)}"] if materials else []) + \
                ([f"both make {', '.join(label[1] for label in lines)}"] if lines else [])
        return ", ".join(parts) or FEATURE_LABEL[feature][lang]
    if feature == "transfer":
        shared = [s for s in str(row.get("d_shared", "") or "").split(";") if s]
        names = "、".join(STAGES[s][0] for s in shared) if zh else ", ".join(STAGES[s][1] for s in shared)
        return f"同类产能转移（{names}）" if zh else f"capacity transfer ({names})"
    if feature == "policy":
        text = POLICY_TEXT.get(str(row.get("d_policy", "")))
        return text[lang] if text else FEATURE_LABEL[feature][lang]
    if feature == "labour" and (known := _known(row, "d_wage_left", "d_wage_right")):
        a, b = known
        return (f"承接地劳动力成本较低（最低工资 {a:,.0f}→{b:,.0f}{NB}元/月）" if zh
                else f"lower labour cost at the receiver (minimum wage {a:,.0f}→{b:,.0f}{NB}yuan/month)")
    if feature == "raw_material" and (known := _known(row, "d_cotton")):
        cotton = known[0]
        return (f"承接地有原料基地（所在省棉花产量 {cotton:,.1f}{NB}万吨）" if zh
                else f"raw-material base at the receiver (province cotton output {cotton * 10:,.0f}{NB}kt)")
    if feature == "framework":
        names = [f for f in str(row.get("d_framework", "") or "").split(";") if f in FRAMEWORK_LABELS]
        if names:
            joined = "、".join(FRAMEWORK_LABELS[f][0] for f in names) if zh else \
                ", ".join(FRAMEWORK_LABELS[f][1] for f in names)
            return f"同属{joined}" if zh else f"both in the {joined}"
        if bool(row.get("d_neighbours", False)):
            return "相邻省份" if zh else "neighbouring provinces"
        return FEATURE_LABEL[feature][lang]
    if feature == "branch":
        names = [n for n in str(row.get("d_branches_zh" if zh else "d_branches_en", "") or "").split(";") if n]
        if names:
            return (f"市场已在外地开设分市场（{'、'.join(names)}）" if zh
                    else f"the market runs branch markets elsewhere ({', '.join(names)})")
        return FEATURE_LABEL[feature][lang]
    if feature == "experience" and (known := _known(row, "d_experience_left", "d_experience_right")):
        a, b = known
        together = str(row.get("d_documented", "") or "").replace(";", "、" if zh else ", ")
        if together:  # the two have docked with each other: a planner proposes a follow-up, not a first meeting
            return (f"有对接先例（双方有记录的对接：{a:.0f}{NB}项、{b:.0f}{NB}项；本对已有有据对接：{together}）" if zh
                    else f"docking experience (documented dockings: {a:.0f} and {b:.0f}; this pair already "
                         f"docked: {together})")
        return (f"有对接先例（双方有记录的对接：{a:.0f}{NB}项、{b:.0f}{NB}项）" if zh
                else f"docking experience (documented dockings: {a:.0f} and {b:.0f})")
    if feature == "corridor" and (known := _known(row, "d_corridor")):
        n = known[0]
        return (f"省际对接通道（两省之间已有 {n:.0f}{NB}项有据对接）" if zh
                else f"docking corridor ({n:.0f} documented docking{'s' if n != 1 else ''} between the two provinces)")
    if feature == "nearby" and (known := _known(row, "d_nearest_km")):
        nearest = known[0]
        return (f"就近转移（承接地最近的东部集群 {nearest:,.0f}{NB}公里）" if zh
                else f"nearby transfer (the receiver's nearest eastern cluster: {nearest:,.0f}{NB}km)")
    if feature == "transfer_park":
        return "承接方为纺织产业转移试点园区" if zh else "receiver is a textile transfer pilot park"
    if feature == "trade":
        ways = int(row.get("d_trade", 0) or 0)
        parts = []
        stage = int(row.get("d_channel_stage", -1))
        if ways & TRADE_SELLS and stage >= 0:
            role = _role_of_stage(STAGE_NAMES[stage], str(row.get("d_roles", "") or ""))
            label = MARKET_ROLES[role][lang] if role else ""
            parts.append(f"{label}市场销售其{_stage(stage, 0)}产品" if zh
                         else f"{label + ' ' if label else ''}market for its {_stage(stage, 1)} products")
        stage = int(row.get("d_sourcing_stage", -1))
        if ways & TRADE_SUPPLIES and stage >= 0:
            parts.append(f"市场供应{_stage(stage, 0)}原料" if zh else f"supplies its {_stage(stage, 1)} inputs")
        strongest_first = parts if float(row.get("lr_channel", 0) or 0) >= float(row.get("rl_sourcing", 0) or 0) \
            else parts[::-1]
        if not zh and strongest_first and strongest_first[0].startswith("supplies"):
            strongest_first[0] = "market " + strongest_first[0]
        return ("，".join(strongest_first) if zh else " and ".join(strongest_first)) or FEATURE_LABEL[feature][lang]
    if feature == "peer":
        flags = [f for f in str(row.get("d_peer_flags", "") or "").split(";") if f in FLAGS]
        names = "、".join(FLAGS[f][0] for f in flags) if zh else ", ".join(FLAGS[f][1] for f in flags)
        return f"可借鉴：{names}" if zh else f"can learn from its {names}"
    return FEATURE_LABEL[feature][lang]


def _km_texts(km: np.ndarray) -> tuple:
    """Distances as text in Chinese and English (``1,230 公里``: tens from 100 km), as pyarrow string
    arrays, each distinct rounded value formatted once; null where unknown."""
    import pyarrow as pa
    import pyarrow.compute as pc

    km = np.asarray(km, dtype=np.float64)
    known = ~np.isnan(km)
    rounded = np.zeros(len(km), dtype=np.int64)
    v = km[known]
    rounded[known] = np.where(v >= 100, np.round(v, -1), np.round(v)).astype(np.int64)
    uniq, inv = np.unique(rounded, return_inverse=True)
    index = pa.array(inv.ravel().astype(np.int32), mask=~known)
    return tuple(pc.take(pa.array([f"{u:,}{unit}" for u in uniq], pa.string()), index)
                 for unit in (NB + "公里", NB + "km"))


#: Detail columns each feature's phrase reads (besides its value).
PHRASE_DETAILS = {
    "chain": ("lr_chain", "rl_chain", "lr_from", "lr_to", "rl_from", "rl_to", "d_chain_rl"),
    "labour": ("d_wage_left", "d_wage_right"),
    "raw_material": ("d_cotton",),
    "framework": ("d_framework", "d_neighbours"),
    "experience": ("d_experience_left", "d_experience_right", "d_documented"),
    "corridor": ("d_corridor",),
    "nearby": ("d_nearest_km",),
    "branch": ("d_branches_zh", "d_branches_en"),
    "transfer": ("d_shared",),
    "specialty": ("d_specialty",),
    "policy": ("d_policy",),
    "trade": ("d_trade", "d_channel_stage", "d_roles", "d_sourcing_stage", "lr_channel", "rl_sourcing"),
    "peer": ("d_peer_flags",),
}


def _codes(columns: dict, features: list[str], n: int) -> list[np.ndarray]:
    """Small integer codes of everything a phrase reads, per row."""
    out = []
    for f in features:
        if f == "chain" and "lr_chain" in columns:
            use_lr = ~np.asarray(columns["d_chain_rl"], dtype=bool)
            a = np.where(use_lr, columns["lr_from"], columns["rl_from"]).astype(np.int64)
            b = np.where(use_lr, columns["lr_to"], columns["rl_to"]).astype(np.int64)
            out.append((a + 1) * 16 + (b + 1))
            continue
        for col in PHRASE_DETAILS.get(f, ()):
            if col in columns:
                out.append(pd.factorize(pd.Series(columns[col], dtype=object).fillna(""), sort=False)[0])
    return out


def _distinct_rows(parts: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct combination, combination of each row) of integer columns."""
    if not parts:
        return np.zeros(min(n, 1), dtype=np.int64), np.zeros(n, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for part in parts:
        size = int(part.max()) + 1 if len(part) else 1
        if radix * size >= 2**62:
            _, first, inverse = np.unique(np.stack(parts, axis=1), axis=0, return_index=True, return_inverse=True)
            return first, inverse.ravel()
        key = key * size + part
        radix *= size
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def reasons(columns: pd.DataFrame | dict[str, np.ndarray], features: list[str], top: int | None = None,
            arrow: bool = False) -> tuple:
    """Reasons (Chinese, English) for each row of explained pairs, as numpy arrays (pyarrow string
    arrays with ``arrow=True``, for output blocks).

    ``columns`` (a DataFrame or a dict of arrays) holds ``f_``/``w_``/``c_`` columns for
    ``features`` and the kind's detail columns. A reason depends on a few small codes (which
    features lead, their details, which are unknown) and the distance: the phrases are built once per
    distinct combination and joined with the distance text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    features = list(features)
    if isinstance(columns, pd.DataFrame):
        columns = {c: columns[c].to_numpy() for c in columns.columns}
    contrib = np.stack([np.asarray(columns[f"c_{f}"], dtype=np.float64) for f in features], axis=1)
    values = np.stack([np.asarray(columns[f"f_{f}"], dtype=np.float64) for f in features], axis=1)
    weights = np.stack([np.asarray(columns[f"w_{f}"], dtype=np.float64) for f in features], axis=1)
    n = len(contrib)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top or len(features)]
    rows = np.arange(n)
    skip = features.index("distance") if "distance" in features else -1
    tokens = [np.where((contrib[rows, order[:, s]] >= MIN_CONTRIBUTION) & (order[:, s] != skip), order[:, s] + 1, 0)
              for s in range(order.shape[1])]
    bits = 2.0 ** np.arange(len(features))  # a float product is a BLAS call; exact below 2**53
    unknown = ((np.isnan(values) & (weights > 0)) @ bits).astype(np.int64)
    first, inverse = _distinct_rows([*tokens, unknown, *_codes(columns, features, n)], n)
    detail_cols = [c for f in features for c in PHRASE_DETAILS.get(f, ()) if c in columns]
    km = np.asarray(columns["d_km"], dtype=np.float64) if "d_km" in columns else np.full(n, np.nan)
    km_texts = _km_texts(km)
    out = []
    for lang, sep, nothing in ((0, "；", "无明显对接理由"), (1, "; ", "no strong reason")):
        head, tail = [], []
        for r in first:
            record = {c: columns[c][r] for c in detail_cols}
            phrases = [_phrase(features[int(t[r]) - 1], record, lang) for t in tokens if t[r] > 0]
            head.append(sep.join(phrases) or None)
            names = [features[j] for j in range(len(features)) if int(unknown[r]) >> j & 1]
            if names:
                tail.append(("未知：" + "、".join(FEATURES[x].label_zh for x in names)) if lang == 0
                            else "unknown: " + ", ".join(FEATURES[x].label_en for x in names))
            else:
                tail.append(None)
        take = pa.array(inverse)
        said = np.array([h is not None or t is not None for h, t in zip(head, tail, strict=True)], dtype=bool)
        silent = ~said[inverse] & np.isnan(km)  # no phrase, no distance, nothing unknown
        last = pc.take(pa.array(tail, pa.string()), take)
        if silent.any():
            # before the join: pyarrow drops a row whose parts are all null (skip), which would shift
            # every later reason onto the wrong pair
            last = pc.if_else(pa.array(silent), pa.scalar(nothing, pa.string()), last)
        text = pc.binary_join_element_wise(pc.take(pa.array(head, pa.string()), take), km_texts[lang], last, sep,
                                           null_handling="skip")
        out.append(text if arrow else text.to_numpy(zero_copy_only=False))
    return out[0], out[1]


def holding_back(row: pd.Series, features: list[str]) -> list[tuple[str, str, float]]:
    """What keeps a pair from ranking higher: features with the largest missed weight.

    Returns ``(feature, label_zh/label_en, missed)`` where missed = weight x (1 - value), unknown
    values counting as fully missed, largest first.
    """
    out = []
    for f in features:
        w = float(row.get(f"w_{f}", 0.0))
        v = row.get(f"f_{f}")
        v = 0.0 if v is None or pd.isna(v) else float(v)
        missed = w * (1.0 - v)
        if missed > 0:
            out.append((f, f"{FEATURE_LABEL[f][0]} / {FEATURE_LABEL[f][1]}", missed))
    return sorted(out, key=lambda t: (-t[2], t[0]))


def render_reasons(table: pa.Table | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Reasons (Chinese, English) of a suggestions table that keeps only the codes and numbers
    (a Parquet file written by ``suggest``): the same texts the run would have written.

    ``table`` (pyarrow table or DataFrame, typed as written) holds ``kind``, the ``f_``/``w_``/``c_``
    columns of the kind's features and its detail columns (stage names as text).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from matcher.docking.kinds import get_kind

    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    n = table.num_rows
    zh, en = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    if n == 0:
        return zh, en
    kinds = table.column("kind").to_numpy(zero_copy_only=False).astype(str)
    stages = pa.array(list(STAGE_NAMES), pa.string())
    for name in sorted(set(kinds)):
        kind = get_kind(name)
        rows = np.flatnonzero(kinds == name)
        part = table.take(pa.array(rows))
        columns: dict[str, np.ndarray] = {}
        for f in kind.features:
            for prefix in ("f", "w", "c"):
                col = part.column(f"{prefix}_{f}").cast(pa.float64())
                columns[f"{prefix}_{f}"] = col.to_numpy(zero_copy_only=False)
        for c in kind.details:
            if c not in part.column_names:
                continue
            if c in STAGE_COLUMNS:  # stage names back to their indices, "" or missing -> -1, in arrow
                found = pc.index_in(part.column(c), value_set=stages)
                columns[c] = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            else:
                columns[c] = part.column(c).to_numpy(zero_copy_only=False)
        a, b = reasons(columns, list(kind.features))
        zh[rows], en[rows] = a, b
    return zh, en
