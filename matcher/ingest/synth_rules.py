"""The rules the synthetic enterprise generator draws by: shares, distribution parameters and
per-stage vocabularies.

Data only; :mod:`matcher.ingest.synth` makes and writes the enterprises. Changing any value here
changes the rows a seed gives: bump :data:`matcher.ingest.synth.SYNTH_VERSION` with it.
"""

from __future__ import annotations

#: Share of enterprises working in two stages (when their cluster has two or more).
P_SECOND_STAGE = 0.20
#: Shares left empty (unknown).
P_BUYS_UNKNOWN = 0.25
P_CAPACITY_UNKNOWN = 0.15
P_WORKERS_UNKNOWN = 0.20
#: Chain links weaker than this are not listed as something an enterprise buys (machinery, 0.001).
MIN_BUY_STRENGTH = 0.01
#: Location offset from the cluster point: standard deviation and clip, km.
JITTER_SD_KM = 3.0
JITTER_MAX_KM = 8.0
#: Clusters named "textile industry base city" get this many times the enterprises.
BASE_CITY_FACTOR = 2.0
#: Spread (log sd) of the seeded factor in a cluster's weight.
CLUSTER_WEIGHT_SIGMA = 0.5
#: How much more likely a product is when the cluster's products text names it.
PRODUCT_MATCH_BOOST = 8.0
#: How much more a stage weighs when it is the cluster's specialty (named first in products).
SPECIALTY_BOOST = 4.0

#: Per stage: (base weight, capacity median t/year, capacity log sd, tonnes a year per worker,
#: enterprise word zh, enterprise word en). Trading and machinery are rare inside clusters.
STAGE_PROFILE: dict[str, tuple[float, float, float, float, str, str]] = {
    "fiber": (1.0, 20_000, 1.0, 200.0, "化纤厂", "Fibre Co."),
    "spinning": (1.0, 5_000, 0.9, 25.0, "纺纱厂", "Spinning Mill"),
    "weaving": (1.0, 3_000, 0.9, 20.0, "织造厂", "Weaving Mill"),
    "knitting": (1.0, 1_500, 0.9, 10.0, "针织厂", "Knitting Mill"),
    "dyeing_finishing": (0.8, 4_000, 0.8, 30.0, "印染厂", "Dyeing & Finishing Works"),
    "apparel": (1.0, 500, 1.0, 2.0, "服装厂", "Garment Factory"),
    "home_textile": (1.0, 1_000, 0.9, 5.0, "家纺厂", "Home Textiles Co."),
    "industrial_textile": (1.0, 2_000, 1.0, 20.0, "产业用纺织品厂", "Technical Textiles Co."),
    "accessories": (0.5, 300, 0.9, 3.0, "辅料厂", "Trims & Accessories Co."),
    "machinery": (0.15, 500, 1.0, 5.0, "纺机厂", "Textile Machinery Works"),
    "trading": (0.15, 2_000, 1.1, 50.0, "纺织品贸易公司", "Textile Trading Co."),
}

#: Words in a cluster's products text that name a stage (lower-cased regex), for its specialty.
STAGE_WORDS: dict[str, str] = {
    "fiber": r"fib(?:re|er)|polyester|polymer|viscose|cashmere dehairing|sericulture|reeling|down processing|raw material|纤维|化纤",
    "spinning": r"spinning|yarn|纺纱|纱线",
    "weaving": r"weaving|fabric|greige|cloth|denim(?! apparel)|silk|面料|织造",
    "knitting": r"knit|sweater|sock|hosiery|针织|毛衫",
    "dyeing_finishing": r"dyeing|printing|finishing|印染",
    "apparel": r"apparel|garment|wear|shirt|suit|jeans|dress|服装",
    "home_textile": r"home[- ]textile|bedding|quilt|towel|curtain|upholster|carpet|家纺",
    "industrial_textile": r"industrial|nonwoven|non-woven|technical|产业用",
    "accessories": r"accessor|button|zip|lace|trim|辅料",
    "machinery": r"machin|equipment|机械",
    "trading": r"trading|wholesale|market|批发|市场",
}

#: Per stage: bilingual product items and the keywords (lower-cased regex) that make an item
#: likelier in a cluster whose products text contains them.
PRODUCTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "fiber": (
        ("polyester staple fibre", "涤纶短纤", r"polyester|chemical|polymer|化纤"),
        ("polyester filament", "涤纶长丝", r"filament|polyester|water-jet"),
        ("ginned cotton", "皮棉", r"cotton"),
        ("cashmere", "山羊绒", r"cashmere"),
        ("raw silk", "生丝", r"silk|sericulture|reeling"),
        ("viscose fibre", "粘胶纤维", r"viscose"),
        ("duck & goose down", "羽绒", r"down"),
        ("wool tops", "毛条", r"wool|tops"),
    ),
    "spinning": (
        ("cotton yarn", "棉纱", r"cotton"),
        ("worsted wool yarn", "精纺毛纱", r"wool|worsted"),
        ("cashmere yarn", "羊绒纱", r"cashmere"),
        ("polyester-cotton yarn", "涤棉混纺纱", r"blend|polyester|chemical"),
        ("covered yarn", "包覆纱", r"covered|wrapped|spandex"),
        ("spun silk yarn", "绢丝", r"silk"),
        ("linen yarn", "亚麻纱", r"linen|flax|ramie|hemp"),
    ),
    "weaving": (
        ("cotton greige fabric", "全棉坯布", r"cotton|greige"),
        ("denim fabric", "牛仔布", r"denim|jeans"),
        ("silk fabric", "真丝面料", r"silk"),
        ("polyester filament fabric", "涤纶长丝面料", r"filament|polyester|chemical|synthetic"),
        ("woollen fabric", "毛纺面料", r"wool"),
        ("home-textile fabric", "家纺面料", r"home|upholster|curtain|sofa"),
        ("shirting fabric", "衬衫面料", r"shirt"),
        ("linen fabric", "亚麻面料", r"linen|flax|ramie"),
    ),
    "knitting": (
        ("wool sweaters", "羊毛衫", r"sweater|wool"),
        ("socks", "袜子", r"sock|hosiery"),
        ("warp-knitted fabric", "经编面料", r"warp"),
        ("knitted underwear", "针织内衣", r"underwear"),
        ("knitted T-shirts", "针织T恤", r"t-shirt|knitwear"),
        ("cashmere knitwear", "羊绒针织衫", r"cashmere"),
        ("weft-knitted fabric", "纬编面料", r"knitted fabric|weft"),
    ),
    "dyeing_finishing": (
        ("fabric dyeing", "面料染色", r"dyeing"),
        ("textile printing", "纺织印花", r"print"),
        ("denim washing", "牛仔水洗", r"denim|jeans|wash"),
        ("yarn dyeing", "纱线染色", r"yarn"),
        ("functional finishing", "功能性整理", r"finishing|functional"),
    ),
    "apparel": (
        ("menswear", "男装", r"menswear|men's|suit"),
        ("womenswear", "女装", r"women"),
        ("children's wear", "童装", r"children|kidswear|kids"),
        ("jeans", "牛仔服装", r"denim|jeans"),
        ("casual wear", "休闲服装", r"casual"),
        ("down jackets", "羽绒服", r"down"),
        ("shirts", "衬衫", r"shirt"),
        ("sportswear", "运动服装", r"sport|outdoor"),
        ("workwear", "职业服装", r"workwear|uniform"),
        ("leather & fur garments", "皮革裘皮服装", r"leather|fur"),
    ),
    "home_textile": (
        ("bedding sets", "床上用品", r"bedding|bed"),
        ("silk quilts", "蚕丝被", r"quilt|silk"),
        ("towels", "毛巾", r"towel"),
        ("curtains", "窗帘", r"curtain"),
        ("upholstery fabric", "沙发布", r"upholster|sofa"),
        ("embroidered home textiles", "刺绣家纺", r"embroid"),
        ("carpets", "地毯", r"carpet|rug"),
        ("down quilts", "羽绒被", r"down"),
    ),
    "industrial_textile": (
        ("nonwovens", "无纺布", r"nonwoven|non-woven"),
        ("geotextiles", "土工布", r"geo"),
        ("filter media", "过滤材料", r"filter"),
        ("medical textiles", "医用纺织品", r"medical"),
        ("coated fabric", "涂层织物", r"coat"),
        ("technical warp-knitted fabric", "经编产业用布", r"warp"),
    ),
    "accessories": (
        ("buttons", "纽扣", r"button"),
        ("zippers", "拉链", r"zip"),
        ("lace", "花边", r"lace"),
        ("labels & tapes", "商标织带", r"label|tape|ribbon"),
        ("interlinings", "衬布", r"interlining"),
        ("embroidery trims", "绣花辅料", r"embroid"),
    ),
    "machinery": (
        ("sock knitting machines", "织袜机", r"sock|hosiery"),
        ("garment cutting equipment", "服装裁剪设备", r"cutting"),
        ("looms", "织机", r"loom|weaving"),
        ("knitting machines", "针织机", r"knit"),
        ("spinning frames", "细纱机", r"spinning"),
    ),
    "trading": (
        ("fabric wholesale", "面料批发", r"fabric|cloth"),
        ("garment wholesale", "服装批发", r"garment|apparel|wear"),
        ("yarn & fibre trading", "纱线原料贸易", r"yarn|fibre|raw material"),
        ("home-textile wholesale", "家纺批发", r"home"),
        ("sweater wholesale", "毛衫批发", r"sweater"),
    ),
}
