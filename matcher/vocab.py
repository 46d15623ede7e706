"""Controlled vocabularies of the domain: chain stages, provinces and regions, flags.

Everything here is data that the rest of the library reads; nothing here computes.
The stage vocabulary and the three-belt region division follow
``../shared/reference/README.md``.
"""

from __future__ import annotations

#: Chain stages in chain order, with Chinese and English labels.
STAGES: dict[str, tuple[str, str]] = {
    "fiber": ("纤维", "fibre"),
    "spinning": ("纺纱", "spinning"),
    "weaving": ("织造", "weaving"),
    "knitting": ("针织", "knitting"),
    "dyeing_finishing": ("印染整理", "dyeing & finishing"),
    "apparel": ("服装", "apparel"),
    "home_textile": ("家纺", "home textiles"),
    "industrial_textile": ("产业用纺织品", "industrial textiles"),
    "accessories": ("辅料", "accessories"),
    "machinery": ("纺织机械", "textile machinery"),
    "trading": ("商贸流通", "trading"),
}
STAGE_ORDER: dict[str, int] = {s: i for i, s in enumerate(STAGES)}

#: China's standard three-belt division (reference README), keyed by English province name.
PROVINCES: dict[str, tuple[str, str]] = {
    # name_en: (name_zh, region)
    "Beijing": ("北京", "east"),
    "Tianjin": ("天津", "east"),
    "Hebei": ("河北", "east"),
    "Liaoning": ("辽宁", "east"),
    "Shanghai": ("上海", "east"),
    "Jiangsu": ("江苏", "east"),
    "Zhejiang": ("浙江", "east"),
    "Fujian": ("福建", "east"),
    "Shandong": ("山东", "east"),
    "Guangdong": ("广东", "east"),
    "Hainan": ("海南", "east"),
    "Shanxi": ("山西", "central"),
    "Jilin": ("吉林", "central"),
    "Heilongjiang": ("黑龙江", "central"),
    "Anhui": ("安徽", "central"),
    "Jiangxi": ("江西", "central"),
    "Henan": ("河南", "central"),
    "Hubei": ("湖北", "central"),
    "Hunan": ("湖南", "central"),
    "Inner Mongolia": ("内蒙古", "west"),
    "Guangxi": ("广西", "west"),
    "Chongqing": ("重庆", "west"),
    "Sichuan": ("四川", "west"),
    "Guizhou": ("贵州", "west"),
    "Yunnan": ("云南", "west"),
    "Tibet": ("西藏", "west"),
    "Shaanxi": ("陕西", "west"),
    "Gansu": ("甘肃", "west"),
    "Qinghai": ("青海", "west"),
    "Ningxia": ("宁夏", "west"),
    "Xinjiang": ("新疆", "west"),
}
#: Chinese province name -> English, so files written in Chinese validate too.
PROVINCE_BY_ZH: dict[str, str] = {zh: en for en, (zh, _) in PROVINCES.items()}

REGIONS: dict[str, tuple[str, str]] = {
    "east": ("东部", "east"),
    "central": ("中部", "central"),
    "west": ("西部", "west"),
}

#: Yes/no/unknown flags an entity may carry. Empty means unknown, never "no".
FLAGS: dict[str, tuple[str, str]] = {
    "transfer_park": ("产业转移试点园区", "textile industry transfer pilot park"),
    "innovation_platform": ("创新服务平台", "innovation service platform"),
    "public_service_platform": ("公共服务平台", "public service platform"),
    "effluent_treatment": ("印染废水集中处理", "unified dyeing-effluent treatment"),
}

#: Roles of a professional market in the chain.
MARKET_ROLES: dict[str, tuple[str, str]] = {
    "raw_materials": ("原料", "raw materials"),
    "fabrics": ("面料", "fabrics"),
    "finished_goods": ("成品", "finished goods"),
}

#: Entity types. Docking kinds live in ``matcher.docking.kinds`` (the registry), not here.
CLUSTER = "cluster"
MARKET = "market"
ENTERPRISE = "enterprise"
ENTITY_TYPES: dict[str, tuple[str, str]] = {
    CLUSTER: ("集群", "cluster"),
    MARKET: ("市场", "market"),
    ENTERPRISE: ("企业", "enterprise"),
}

LIST_SEPARATOR = ";"
