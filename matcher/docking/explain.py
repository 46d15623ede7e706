"""One-line reasons in Chinese and English, built from the explanation columns.

A reason names the strongest contributions first (at most three), always ends with the distance
when it is known, and names the features that were unknown for the pair, e.g.
``纺纱→织造互补；对口援疆省份；2,900 公里`` / ``spinning feeds weaving; counterpart-aid provinces; 2,900 km``.
The UI and exports only render these strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matcher.vocab import FLAGS, MARKET_ROLES, STAGES

STAGE_ZH = [zh for zh, _ in STAGES.values()]
STAGE_EN = [en for _, en in STAGES.values()]
POLICY_TEXT = {
    "counterpart_aid_xinjiang": ("对口援疆省份", "counterpart-aid provinces"),
    "east_west_cooperation": ("东西部协作省份", "east-west cooperation provinces"),
}
FEATURE_LABEL = {
    "chain": ("产业链互补", "chain complementarity"),
    "transfer": ("产能转移", "capacity transfer"),
    "product": ("产品相近", "similar products"),
    "policy": ("省际结对政策", "provincial pairing policy"),
    "transfer_park": ("转移试点园区", "transfer pilot park"),
    "distance": ("距离", "distance"),
    "channel": ("市场销路", "market channel"),
    "sourcing": ("市场供料", "market supplies inputs"),
    "capacity": ("产能匹配", "capacity fit"),
    "peer": ("可借鉴的能力", "capabilities to learn"),
    "similar": ("业务相近", "similar activities"),
    "same_cluster": ("同一集群", "same cluster"),
}
MIN_CONTRIBUTION = 0.005


STAGE_NAMES = list(STAGES)
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


def _phrase(feature: str, row: pd.Series, lang: int) -> str:
    zh = lang == 0
    if feature == "chain":
        if row.get("lr_chain", 0) >= row.get("rl_chain", 0):
            a, b = row.get("lr_from", -1), row.get("lr_to", -1)
        else:
            a, b = row.get("rl_from", -1), row.get("rl_to", -1)
        if a >= 0 and b >= 0 and a != b:
            return f"{_stage(a, 0)}→{_stage(b, 0)}互补" if zh else f"{_stage(a, 1)} feeds {_stage(b, 1)}"
        if a >= 0:
            return f"{_stage(a, 0)}供需互补" if zh else f"{_stage(a, 1)} supply and demand"
        return FEATURE_LABEL[feature][lang]
    if feature == "transfer":
        shared = [s for s in str(row.get("d_shared", "") or "").split(";") if s]
        names = "、".join(STAGES[s][0] for s in shared) if zh else ", ".join(STAGES[s][1] for s in shared)
        return f"同类产能转移（{names}）" if zh else f"capacity transfer ({names})"
    if feature == "policy":
        text = POLICY_TEXT.get(str(row.get("d_policy", "")))
        return text[lang] if text else FEATURE_LABEL[feature][lang]
    if feature == "transfer_park":
        return "承接方为纺织产业转移试点园区" if zh else "receiver is a textile transfer pilot park"
    if feature == "channel":
        stage = int(row.get("d_channel_stage", -1))
        if stage >= 0:
            role = _role_of_stage(STAGE_NAMES[stage], str(row.get("d_roles", "") or ""))
            label = MARKET_ROLES[role][lang] if role else ""
            if zh:
                return f"{label}市场销售其{_stage(stage, 0)}产品"
            return f"{label + ' ' if label else ''}market for its {_stage(stage, 1)} products"
        return FEATURE_LABEL[feature][lang]
    if feature == "sourcing":
        stage = int(row.get("d_sourcing_stage", -1))
        if stage >= 0:
            return f"市场供应{_stage(stage, 0)}原料" if zh else f"market supplies {_stage(stage, 1)} inputs"
        return FEATURE_LABEL[feature][lang]
    if feature == "peer":
        flags = [f for f in str(row.get("d_peer_flags", "") or "").split(";") if f in FLAGS]
        names = "、".join(FLAGS[f][0] for f in flags) if zh else ", ".join(FLAGS[f][1] for f in flags)
        return f"可借鉴：{names}" if zh else f"can learn from its {names}"
    return FEATURE_LABEL[feature][lang]


def _km(value, lang: int) -> str:
    km = int(round(float(value), -1 if value >= 100 else 0))
    return f"{km:,} 公里" if lang == 0 else f"{km:,} km"


def reasons(rows: pd.DataFrame, features: list[str], top: int = 3) -> tuple[list[str], list[str]]:
    """Reasons (Chinese, English) for each row of an explained table.

    ``rows`` holds ``f_``/``c_`` columns for ``features`` and the kind's detail columns.
    """
    contrib = rows[[f"c_{f}" for f in features]].to_numpy(dtype=np.float64)
    values = rows[[f"f_{f}" for f in features]].to_numpy(dtype=np.float64)
    weights = rows[[f"w_{f}" for f in features]].to_numpy(dtype=np.float64)
    order = np.argsort(-contrib, axis=1, kind="stable")
    zh_out, en_out = [], []
    records = rows.to_dict("records")
    for i, record in enumerate(records):
        parts = ([], [])
        for j in order[i, :top]:
            name = features[j]
            if contrib[i, j] < MIN_CONTRIBUTION or name == "distance":
                continue
            for lang in (0, 1):
                parts[lang].append(_phrase(name, record, lang))
        km = record.get("d_km")
        if km is not None and not pd.isna(km):
            for lang in (0, 1):
                parts[lang].append(_km(km, lang))
        unknown = [features[j] for j in range(len(features)) if np.isnan(values[i, j]) and weights[i, j] > 0]
        if unknown:
            parts[0].append("未知：" + "、".join(FEATURE_LABEL[u][0] for u in unknown))
            parts[1].append("unknown: " + ", ".join(FEATURE_LABEL[u][1] for u in unknown))
        if not parts[0]:
            parts[0].append("无明显对接理由")
            parts[1].append("no strong reason")
        zh_out.append("；".join(parts[0]))
        en_out.append("; ".join(parts[1]))
    return zh_out, en_out


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
