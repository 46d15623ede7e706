"""Build the bundled tables in data/ from the project's reference facts.

Run once by a maintainer when ../shared/reference or ../shared/external/china_io_tables change:

    .venv/bin/python scripts/build_bundled_data.py

It reads only ../shared/reference/*.csv and the China input-output tables, adds stable ids and the
fields the engine needs, and writes data/clusters.csv, data/markets.csv, data/chain_stages.csv,
data/chain_links.csv, data/policy_pairings.csv and data/provinces.csv. Every derived field is derived by a rule written
here, and data/README.md documents each rule. Nothing is invented: where the reference gives no fact
the cell stays empty (unknown).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from matcher.columns import CLUSTERS, MARKETS
from matcher.vocab import PROVINCES, STAGE_ORDER, STAGES

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

E09_URL = "http://www.hometex114.com/news/235581.html"
# Parks named "textile industry transfer pilot park" in known_dockings.md item E09 (and seed_context.md §3).
E09_PARKS = {
    "Langxi (Jingdu Industrial Park)", "Aksu Textile Industrial City", "Chongqing Hechuan",
    "Fushun (Zigong) textile & apparel park", "Pengzhou", "Fengxin", "Suzhou (Anhui) textile & apparel city",
    "Huangmei textile & apparel park", "Xiangyang (Fancheng)", "Wangjiang",
    "Xianyang Xinxing Textile Industrial Park", "Guangyuan Lizhou", "Wannian", "Yining County (Ili)",
}
# Flag rules: a flag is set to true only where the designation or specialty text says so;
# otherwise it stays empty (unknown), never false.
FLAG_PATTERNS = {
    "transfer_park": r"transfer (?:pilot|demonstration) park|transfer base|transfer pilot|"
    r"demonstration park for eastern industrial transfer|转移试点",
    "innovation_platform": r"innovation service platform|innovation demonstration cluster|创新服务平台",
    "public_service_platform": r"public service platform|公共服务平台",
    "effluent_treatment": r"dyeing park|dyeing control zone|dyeing & printing demonstration base|"
    r"printing & dyeing control zone",
}

# Market categories -> the chain stages whose goods the market trades, and its role in the chain.
MARKET_STAGE_WORDS = {
    # "(chemical-fibre) fabrics" names a fabric, not a fibre trade
    "fiber": r"fibre(?!\)? fabric)|fiber|raw cashmere|dehaired|raw material",
    "spinning": r"yarn",
    "weaving": r"fabric|cloth|greige|textile city",
    "knitting": r"knit|sweater|sock|hosiery",
    "apparel": r"apparel|garment|wear|trousers|fashion|leather|fur|shoes",
    "home_textile": r"home textile|home-textile|bedding|towel|blanket|quilt",
    "accessories": r"accessor",
    "machinery": r"machinery",
}
MARKET_ROLE_STAGES = {
    "raw_materials": {"fiber", "spinning"},
    "fabrics": {"weaving"},
    "finished_goods": {"knitting", "apparel", "home_textile", "accessories"},
}

# How input-output sectors (153-sector table, 2020) map to chain stages. Spinning, weaving and
# dyeing & finishing share the textile sectors 027-029 (the IO table does not split them), so a
# stage pair inside that group takes the group's own intra-sector coefficient.
TEXTILE = ("027", "028", "029")
STAGE_EDGES = [
    # supplier stage, buyer stage, supplier sectors, buyer sectors, basis
    ("fiber", "spinning", ("001", "003", "051"), TEXTILE, "agriculture (cotton), livestock (wool), chemical fibres -> textiles"),
    ("fiber", "weaving", ("051",), TEXTILE, "chemical fibres (filament) -> textiles"),
    ("fiber", "knitting", ("051",), ("030",), "chemical fibres -> knitting"),
    ("fiber", "industrial_textile", ("051",), ("031",), "chemical fibres -> made-up textiles (nonwovens)"),
    ("fiber", "home_textile", ("001", "003", "051"), ("031",), "fibres (down, silk, cotton) -> made-up textiles"),
    ("spinning", "weaving", TEXTILE, TEXTILE, "intra-sector flow of textiles 027-029"),
    ("spinning", "knitting", TEXTILE, ("030",), "textiles (yarn) -> knitting"),
    ("spinning", "industrial_textile", TEXTILE, ("031",), "textiles (yarn) -> made-up textiles"),
    ("weaving", "dyeing_finishing", TEXTILE, TEXTILE, "intra-sector flow of textiles 027-029"),
    ("spinning", "dyeing_finishing", TEXTILE, TEXTILE, "intra-sector flow of textiles 027-029 (yarn dyeing)"),
    ("knitting", "dyeing_finishing", ("030",), TEXTILE, "knitting -> textiles incl. dyeing"),
    ("weaving", "apparel", TEXTILE, ("032", "033"), "textiles (fabric) -> apparel, leather & fur"),
    ("dyeing_finishing", "apparel", TEXTILE, ("032", "033"), "textiles (finished fabric) -> apparel"),
    ("knitting", "apparel", ("030",), ("032", "033"), "knitting -> apparel"),
    ("weaving", "home_textile", TEXTILE, ("031",), "textiles -> made-up textiles"),
    ("dyeing_finishing", "home_textile", TEXTILE, ("031",), "textiles (finished) -> made-up textiles"),
    ("knitting", "home_textile", ("030",), ("031",), "knitting -> made-up textiles"),
    ("weaving", "industrial_textile", TEXTILE, ("031",), "textiles -> made-up textiles"),
    ("knitting", "industrial_textile", ("030",), ("031",), "knitting -> made-up textiles"),
    ("accessories", "apparel", ("031",), ("032",), "proxy: made-up textiles -> apparel (no accessory sector)"),
    ("machinery", "spinning", ("078",), TEXTILE, "other special machinery -> textiles"),
    ("machinery", "weaving", ("078",), TEXTILE, "other special machinery -> textiles"),
    ("machinery", "knitting", ("078",), ("030",), "other special machinery -> knitting"),
    ("machinery", "dyeing_finishing", ("078",), TEXTILE, "other special machinery -> textiles"),
    ("machinery", "apparel", ("078",), ("032",), "other special machinery -> apparel"),
]
IO_FILE = "textile_chain_links_china_2020_153.csv"
IO_SOURCE = ("NBS China input-output table 2020 (153 sectors), via ionet R package data "
             "(github.com/Carol-seven/ionet); strength = sum of flows / buyer sectors' total input")

# Provincial pairing policies that shape textile transfer. 'source' is a URL where a page was seen,
# or 'general knowledge' where none was.
SEED_URL_XJ = "http://info1.texnet.com.cn/content/2010-03-17/283702.html"
POLICIES = [
    # province_a (east, giver), province_b (receiver), area_b, policy, source
    ("Zhejiang", "Xinjiang", "Aksu", "counterpart_aid_xinjiang", "http://tex-asia.com/news/201811/21/45535.html"),
    ("Zhejiang", "Xinjiang", "Alar", "counterpart_aid_xinjiang", "general knowledge"),
    ("Shandong", "Xinjiang", "Kashgar", "counterpart_aid_xinjiang", "http://www.tex-asia.com/news/201811/21/47525.html"),
    ("Guangdong", "Xinjiang", "Kashgar", "counterpart_aid_xinjiang", "http://m.de.chinaxinrunju.com/info/kashgar-has-become-a-cluster-of-textile-and-cl-28078729.html"),
    ("Shanghai", "Xinjiang", "Kashgar", "counterpart_aid_xinjiang", "general knowledge"),
    ("Jiangsu", "Xinjiang", "Ili", "counterpart_aid_xinjiang", "general knowledge (seed_context.md: Jiangsu -> Ili)"),
    ("Jiangsu", "Xinjiang", "Kizilsu", "counterpart_aid_xinjiang", "general knowledge"),
    ("Beijing", "Xinjiang", "Hotan", "counterpart_aid_xinjiang", "general knowledge"),
    ("Tianjin", "Xinjiang", "Hotan", "counterpart_aid_xinjiang", "general knowledge"),
    ("Hebei", "Xinjiang", "Bayingolin", "counterpart_aid_xinjiang", "general knowledge"),
    ("Liaoning", "Xinjiang", "Tacheng", "counterpart_aid_xinjiang", "general knowledge"),
    ("Fujian", "Xinjiang", "Changji", "counterpart_aid_xinjiang", "general knowledge"),
    ("Anhui", "Xinjiang", "Hotan", "counterpart_aid_xinjiang", "general knowledge"),
    ("Jiangxi", "Xinjiang", "Kizilsu", "counterpart_aid_xinjiang", "general knowledge"),
    ("Henan", "Xinjiang", "Hami", "counterpart_aid_xinjiang", "general knowledge"),
    ("Hubei", "Xinjiang", "Bortala", "counterpart_aid_xinjiang", "general knowledge"),
    ("Hunan", "Xinjiang", "Turpan", "counterpart_aid_xinjiang", "general knowledge"),
    ("Shanxi", "Xinjiang", "Changji", "counterpart_aid_xinjiang", "general knowledge"),
    ("Jilin", "Xinjiang", "Altay", "counterpart_aid_xinjiang", "general knowledge"),
    ("Heilongjiang", "Xinjiang", "Altay", "counterpart_aid_xinjiang", "general knowledge"),
    ("Beijing", "Inner Mongolia", "", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 北京市帮扶内蒙古自治区"),
    ("Tianjin", "Gansu", "", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 天津市帮扶甘肃省"),
    ("Shanghai", "Yunnan", "", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 上海市帮扶云南省"),
    ("Jiangsu", "Shaanxi", "", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 江苏省帮扶陕西省"),
    ("Jiangsu", "Qinghai", "", "east_west_cooperation", "general knowledge"),
    ("Zhejiang", "Sichuan", "", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 浙江省帮扶四川省"),
    ("Zhejiang", "Guizhou", "", "east_west_cooperation", "general knowledge (2016-2020 round)"),
    ("Fujian", "Ningxia", "", "east_west_cooperation", "general knowledge"),
    ("Shandong", "Chongqing", "", "east_west_cooperation", "general knowledge"),
    ("Shandong", "Gansu", "Dingxi", "east_west_cooperation", "https://ldg9.com/a/nvxing/shishangchaoliu/21559.html"),
    ("Guangdong", "Guangxi", "", "east_west_cooperation", "general knowledge"),
    ("Guangdong", "Guizhou", "", "east_west_cooperation", "general knowledge"),
    ("Guangdong", "Sichuan", "", "east_west_cooperation", "general knowledge (2016-2020 round)"),
    ("Guangdong", "Yunnan", "", "east_west_cooperation", "general knowledge (2016-2020 round)"),
]


# Pairings that name the sender's city (area_a) as well: they hold for that city's clusters and the named
# receiving area only. Three Gorges counterpart support (from 1992) and the 2016 east-west cooperation
# city pairings; every row from a page seen in this project (the quote is in the row's source).
TG = "three_gorges_counterpart_support"
CITY_POLICIES = [
    # province_a, area_a, province_b, area_b, policy, source
    ("Shanghai", "", "Chongqing", "Wanzhou", TG, "https://www.chinanews.com/cj/2019/04-29/8824343.shtml | 1992年……上海对口支援重庆市万州区……湖北省宜昌市夷陵区"),
    ("Shanghai", "", "Hubei", "Yiling", TG, "https://www.chinanews.com/cj/2019/04-29/8824343.shtml | 上海对口支援……湖北省宜昌市夷陵区(原为宜昌市宜昌县)"),
    ("Zhejiang", "Ningbo", "Chongqing", "Wanzhou", TG, "https://zjnews.zjol.com.cn/zjnews/nbnews/201705/t20170516_3901979.shtml | 在对口帮扶黔西南州和万州三峡库区的基础上,宁波再担国家对口帮扶重任"),
    ("Tianjin", "", "Chongqing", "Wanzhou", TG, "http://news.jdgod.com/shenghuo/2022/1101/29428.html | 1992年,天津担负起对口支援重庆市万州区的光荣使命 (mirror page)"),
    ("Fujian", "", "Chongqing", "Wanzhou", TG, "http://fgw.fujian.gov.cn/zfxxgkzl/zfxxgkml/ghjh/202204/t20220408_5881288.htm | 福建省“十四五”对口支援三峡万州库区合作实施方案"),
    ("Jiangsu", "", "Chongqing", "Wanzhou", TG, "http://www.sxzg.cn/article/202510/17/c811234.html | 江苏省对口支援三峡库区重庆市万州区、云阳县和湖北省秭归县合作实施规划"),
    ("Jiangsu", "", "Chongqing", "Yunyang", TG, "http://www.sxzg.cn/article/202510/17/c811234.html | 江苏省对口支援三峡库区重庆市万州区、云阳县和湖北省秭归县"),
    ("Jiangsu", "", "Hubei", "Zigui", TG, "http://www.sxzg.cn/article/202510/17/c811234.html | 对口支援秭归是中央赋予江苏省的重要政治使命"),
    ("Guangdong", "", "Chongqing", "Wushan", TG, "http://huishangjy.com/jmcs/detail/20221212/1000200033136171670817466543953850_1.html | 全國對口支援三峽重慶庫區30周年……與巫山“一對一”結對的廣東 (mirror page)"),
    ("Zhejiang", "", "Chongqing", "Fuling", TG, "https://news.cqnews.net/1/detail/1165180104750223360/web/content_1165180104750223360.html | 浙江与涪陵充分利用对口支援纽带"),
    ("Liaoning", "", "Chongqing", "Fengjie", TG, "http://zgcxtc.cn/news/196008.html | 辽宁省与奉节县因三峡工程而结缘、因对口支援而交亲"),
    ("Shandong", "", "Chongqing", "Zhongxian", TG, "http://www.jizihe.com/page/2022/1010/11357468.shtml | 自國務院確定山東省、沈陽市對口支援忠縣以來 (mirror page)"),
    ("Beijing", "", "Hubei", "Badong", TG, "http://bdxyz.com/newsinfo/6465806.html | 自1992年三峡工程启动建设以来,北京市对口支援巴东县"),
    ("Liaoning", "Dalian", "Hubei", "Xingshan", TG, "http://www.hb.chinanews.com/news/2021/0126/351569.html | 大连市自1995年开展援兴工作以来"),
    ("Jiangsu", "Suzhou", "Guizhou", "Tongren", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 苏州市帮扶贵州省铜仁市"),
    ("Liaoning", "Dalian", "Guizhou", "Liupanshui", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 辽宁省大连市帮扶贵州省六盘水市"),
    ("Shanghai", "", "Guizhou", "Zunyi", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 上海市帮扶云南省、贵州省遵义市"),
    ("Zhejiang", "Hangzhou", "Hubei", "Enshi", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 杭州市帮扶湖北省恩施土家族苗族自治州"),
    ("Zhejiang", "Hangzhou", "Guizhou", "Qiandongnan", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 杭州市帮扶……贵州省黔东南苗族侗族自治州"),
    ("Zhejiang", "Ningbo", "Jilin", "Yanbian", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 宁波市帮扶吉林省延边朝鲜族自治州"),
    ("Zhejiang", "Ningbo", "Guizhou", "Qianxinan", "east_west_cooperation", "http://daily.cnnb.com.cn/nbrb/html/2016-12/08/content_1015203.htm?div=-1 | 2016 list: 宁波市帮扶……贵州省黔西南"),
    ("Shandong", "Jinan", "Chongqing", "Wulong", "east_west_cooperation", "https://feifmx.com/domesticgd/10000159/20190922/37086048.html | 2016年7月……濟南市對口重慶武隆區 (mirror page)"),
    ("Shandong", "Yantai", "Chongqing", "Wushan", "east_west_cooperation", "https://feifmx.com/domesticgd/10000159/20190922/37086048.html | 煙台市對口重慶巫山縣 (mirror page)"),
    ("Shandong", "Weifang", "Chongqing", "Kaizhou", "east_west_cooperation", "https://feifmx.com/domesticgd/10000159/20190922/37086048.html | 濰坊市對口重慶開州區 (mirror page); since 2010: https://fx361.cc/page/2018/1118/4522329.shtml"),
    ("Shandong", "Zibo", "Chongqing", "Shizhu", "east_west_cooperation", "https://feifmx.com/domesticgd/10000159/20190922/37086048.html | 淄博市對口重慶石柱縣 (mirror page)"),
    ("Shandong", "Binzhou", "Chongqing", "Fengjie", "east_west_cooperation", "http://epaper.bzrb.net/bzrb/20200925/html/content_20200925006001.htm | 2010年……山东省确定滨州市扶贫协作奉节县"),
    ("Shandong", "Weihai", "Chongqing", "Yunyang", "east_west_cooperation", "https://www.yunyang.gov.cn/bm_257/xfpb/zwxx_62085/dt/202207/t20220707_10895546.html | 威海市·云阳县东西部协作"),
    ("Shandong", "Jinan", "Hunan", "Xiangxi", "east_west_cooperation", "https://www.xuehua.us/a/5ec01aa956a42ff72b3f2d7b | 自2016年年底东西部扶贫协作启动以来,济南市和湘西州"),
    ("Shandong", "Qingdao", "Gansu", "Longnan", "east_west_cooperation", "http://www.lfbxx.com/html/1326/2017-08-10/content-177087.html | 中央確定青島市結對幫扶隴南市 (mirror page)"),
    ("Guangdong", "Shenzhen", "Guangxi", "Baise", "east_west_cooperation", "https://yybnet.net/baise/longlin/201707/6317983.html | 2016年9月以来,由深圳市代表广东省对口帮扶广西,重点帮扶百色市和河池市"),
    ("Guangdong", "Shenzhen", "Guangxi", "Hechi", "east_west_cooperation", "https://yybnet.net/baise/longlin/201707/6317983.html | 由深圳市代表广东省对口帮扶广西,重点帮扶百色市和河池市"),
    ("Guangdong", "Dongguan", "Guangxi", "Hechi", "east_west_cooperation", "http://gx.sina.com.cn/city/321/2014-05-15/1888.html | 从1996年起……东莞市对口帮扶河池市"),
    ("Guangdong", "Guangzhou", "Guizhou", "Bijie", "east_west_cooperation", "https://mtiku.zujuan.com/map/paper-5011513.shtml | 2016年,广州开始对口帮扶毕节"),
    ("Guangdong", "Guangzhou", "Guizhou", "Qiannan", "east_west_cooperation", "http://gdgz.wenming.cn/2020index/wmcj/202007/t20200713_6578771.html | 广州……到毕节、黔南两地投资兴业"),
    ("Guangdong", "Foshan", "Sichuan", "Liangshan", "east_west_cooperation", "http://sc.china.com.cn/2021/toutiao_0518/405863.html | 2016年,佛山市对口帮扶凉山州"),
    ("Guangdong", "Dongguan", "Yunnan", "Zhaotong", "east_west_cooperation", "https://zkxblog.com/lab/read-3825845.html | 2016年以来,东莞……对口帮扶 (昭通) (mirror page)"),
    ("Guangdong", "Zhongshan", "Yunnan", "Zhaotong", "east_west_cooperation", "http://www.zzkailai.com/newdetail-261548.html | 中山聯合東莞對口幫扶云南昭通市 (mirror page)"),
    ("Guangdong", "Zhuhai", "Yunnan", "Nujiang", "east_west_cooperation", "https://static.nfapp.southcn.com/content/202010/16/c4161658.html | 自2016年底开展东西部扶贫协作以来,珠海市……帮扶怒江"),
    ("Guangdong", "Dongguan", "Guizhou", "Tongren", "east_west_cooperation", "https://dejiangwang.gov.cn/ztzl/shxslltxdxbxzzl//20220913/20220913_876576.shtml | “十四五”期间,由广东省东莞市对口帮扶铜仁市"),
    ("Jiangsu", "Nanjing", "Shaanxi", "Shangluo", "east_west_cooperation", "http://www.zgjssw.gov.cn/yaowen/202008/t20200831_6784418.shtml | 1996年……确定南京与商洛开展挂钩协作"),
    ("Jiangsu", "Wuxi", "Shaanxi", "Yan'an", "east_west_cooperation", "https://js.news.163.com/22/0630/14/HB4AH7FD04249CTR.html | 1997年5月,无锡、延安两市结对共建"),
    ("Fujian", "Xiamen", "Gansu", "Linxia", "east_west_cooperation", "http://gansu.gscn.com.cn/system/2016/06/17/011407233.shtml | 自2010年……厦门与临夏两地建立东西协作关系"),
]


def _stages(text: str) -> str:
    stages = {s.strip() for s in str(text).split(";") if s.strip()}
    unknown = stages - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stages {unknown}")
    return ";".join(sorted(stages, key=STAGE_ORDER.get))


def build_clusters(reference: Path) -> pd.DataFrame:
    raw = pd.read_csv(reference / "clusters.csv", dtype=str, keep_default_na=False)
    out = pd.DataFrame({
        "id": [f"C{i:03d}" for i in range(1, len(raw) + 1)],
        "name_zh": raw["name_zh"],
        "name_en": raw["name_en"],
        "province": raw["province"],
        "city": raw["city_or_county"],
        "region": raw["region"],
        "lat": raw["approx_lat"],
        "lon": raw["approx_lon"],
        "stages": raw["chain_stage"].map(_stages),
        "buys": "",
        "products": raw["specialty"],
        "designations": raw["title"],
    })
    text = (raw["title"] + " | " + raw["specialty"]).str.lower()
    for flag, pattern in FLAG_PATTERNS.items():
        out[flag] = text.str.contains(pattern, regex=True).map({True: "true", False: ""})
    in_e09 = raw["name_en"].isin(E09_PARKS)
    missing = E09_PARKS - set(raw["name_en"])
    if missing:
        raise ValueError(f"E09 parks not in clusters.csv: {missing}")
    out.loc[in_e09, "transfer_park"] = "true"
    for col in ("capacity", "output_value_cny_m", "n_firms", "labour_cost_cny_month"):
        out[col] = ""
    out["synthetic"] = "false"
    out["provenance"] = raw["source_url"].where(~in_e09, raw["source_url"] + " ; transfer park: " + E09_URL)
    for region, province in zip(out["region"], out["province"], strict=True):
        if PROVINCES[province][1] != region:
            raise ValueError(f"{province} is {PROVINCES[province][1]}, reference says {region}")
    return out[CLUSTERS.names]


# Roles the category words get wrong. China Textile City lists "textile raw materials" among its
# categories, but it is a fabric market: Keqiao's yarn and fibre trade is the separate Qianqing
# raw-materials market (M002, 12 km away).
MARKET_OVERRIDES = {
    "China Textile City (Keqiao)": {"buys": "weaving;home_textile", "roles": "fabrics;finished_goods"},
}


def build_markets(reference: Path) -> pd.DataFrame:
    raw = pd.read_csv(reference / "markets.csv", dtype=str, keep_default_na=False)
    text = raw["categories"].str.lower()
    buys = []
    roles = []
    for t in text:
        stages = [s for s, pat in MARKET_STAGE_WORDS.items() if re.search(pat, t)]
        buys.append(";".join(sorted(stages, key=STAGE_ORDER.get)))
        roles.append(";".join(r for r, st in MARKET_ROLE_STAGES.items() if st & set(stages)))
    out = pd.DataFrame({
        "id": [f"M{i:03d}" for i in range(1, len(raw) + 1)],
        "name_zh": raw["name_zh"],
        "name_en": raw["name_en"],
        "province": raw["province"],
        "city": raw["city"],
        "region": raw["province"].map(lambda p: PROVINCES[p][1]),
        "lat": raw["approx_lat"],
        "lon": raw["approx_lon"],
        "stages": "trading",
        "buys": buys,
        "roles": roles,
        "products": raw["categories"],
        "designations": "",
        "output_value_cny_m": "",
        "n_firms": "",
        "labour_cost_cny_month": "",
        "synthetic": "false",
        "provenance": raw["source_url"],
    })
    for name, fields in MARKET_OVERRIDES.items():
        row = out.index[out["name_en"] == name]
        if len(row) != 1:
            raise SystemExit(f"market override: no single market named {name!r}")
        for column, value in fields.items():
            out.loc[row[0], column] = value
    return out[MARKETS.names]


def build_chain(io_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    io = pd.read_csv(io_dir / IO_FILE, dtype={"supplier_code": str, "buyer_code": str})
    # total input of each buyer sector, recovered from any flow: TI_j = z_ij / a_ij
    positive = io[io["direct_input_coef_a_ij"] > 0]
    total_input = (positive["flow_10k_cny"] / positive["direct_input_coef_a_ij"]).groupby(positive["buyer_code"]).median()
    rows = []
    for supplier, buyer, s_codes, b_codes, basis in STAGE_EDGES:
        flows = io[io["supplier_code"].isin(s_codes) & io["buyer_code"].isin(b_codes)]["flow_10k_cny"].sum()
        denominator = total_input.reindex(list(b_codes)).sum()
        rows.append({
            "supplier_stage": supplier,
            "buyer_stage": buyer,
            "strength": round(float(flows / denominator), 6),
            "io_supplier_sectors": ";".join(s_codes),
            "io_buyer_sectors": ";".join(b_codes),
            "basis": basis,
            "provenance": IO_SOURCE,
        })
    links = pd.DataFrame(rows)
    links["strength_norm"] = (links["strength"] / links["strength"].max()).round(6)
    stages = pd.DataFrame(
        [{"stage": s, "name_zh": zh, "name_en": en, "order": STAGE_ORDER[s]} for s, (zh, en) in STAGES.items()]
    )
    return stages, links


def build_policies() -> pd.DataFrame:
    rows = [(a, "", b, area, policy, source) for a, b, area, policy, source in POLICIES] + CITY_POLICIES
    return pd.DataFrame([{
        "province_a": a, "area_a": area_a, "province_b": b, "area_b": area, "policy": policy,
        "general_knowledge": "true" if source.startswith("general knowledge") else "false",
        "source": source,
    } for a, area_a, b, area, policy, source in rows])


# Province neighbours (land borders); one line per province, symmetric (checked), each with the page
# that lists them (popular-geography pages, not official ones; NEIGHBOURS_SOURCE unless named below).
NEIGHBOURS_SOURCE = ("https://c.m.163.com/news/a/G52PIB6T0541NBRQ.html?from=subscribe "
                     "(same text: http://m.cnbaoji.cn/baoji/228.html)")
NEIGHBOURS_SOURCES = {
    "Hebei": "https://hasen-chat.org/hebei-%E6%B2%B3%E5%8C%97%E7%9C%81/",
    "Inner Mongolia": "https://m.how234.com/eamydbbdrzs.html",
    "Anhui": "https://mmipxs.com/427953061.html",
    "Jiangxi": "https://www.cyts888.com/article/144121.html",
    "Guangdong": "https://zh.m.wikipedia.org/zh-cn/Portal:%E5%B9%BF%E4%B8%9C/%E7%AE%80%E4%BB%8B | also borders "
                 "Hong Kong and Macao (not provinces of the table)",
    "Hainan": "http://www.zyzhuanghuang.com/lssb/1331.html | no land neighbour",
    "Sichuan": "http://m.xinwsy.com/news/1163513.html",
    "Shaanxi": "https://g230.com/553950248.html",
    "Gansu": "https://xiumeifan.com/shenghuo/jingyan/gmjgyg.html",
}
NEIGHBOURS = {
    "Beijing": "Tianjin;Hebei", "Tianjin": "Beijing;Hebei",
    "Hebei": "Beijing;Tianjin;Shanxi;Inner Mongolia;Liaoning;Shandong;Henan",
    "Shanxi": "Hebei;Inner Mongolia;Shaanxi;Henan",
    "Inner Mongolia": "Heilongjiang;Jilin;Liaoning;Hebei;Shanxi;Shaanxi;Ningxia;Gansu",
    "Liaoning": "Hebei;Inner Mongolia;Jilin", "Jilin": "Liaoning;Inner Mongolia;Heilongjiang",
    "Heilongjiang": "Jilin;Inner Mongolia", "Shanghai": "Jiangsu;Zhejiang",
    "Jiangsu": "Shanghai;Zhejiang;Anhui;Shandong", "Zhejiang": "Shanghai;Jiangsu;Anhui;Jiangxi;Fujian",
    "Anhui": "Jiangsu;Zhejiang;Jiangxi;Hubei;Henan;Shandong", "Fujian": "Zhejiang;Jiangxi;Guangdong",
    "Jiangxi": "Zhejiang;Anhui;Hubei;Hunan;Guangdong;Fujian", "Shandong": "Hebei;Henan;Anhui;Jiangsu",
    "Henan": "Hebei;Shanxi;Shaanxi;Hubei;Anhui;Shandong", "Hubei": "Henan;Anhui;Jiangxi;Hunan;Chongqing;Shaanxi",
    "Hunan": "Hubei;Jiangxi;Guangdong;Guangxi;Guizhou;Chongqing", "Guangdong": "Fujian;Jiangxi;Hunan;Guangxi",
    "Guangxi": "Guangdong;Hunan;Guizhou;Yunnan", "Hainan": "",
    "Chongqing": "Hubei;Hunan;Guizhou;Sichuan;Shaanxi",
    "Sichuan": "Chongqing;Guizhou;Yunnan;Tibet;Qinghai;Gansu;Shaanxi",
    "Guizhou": "Sichuan;Chongqing;Hunan;Guangxi;Yunnan", "Yunnan": "Sichuan;Guizhou;Guangxi;Tibet",
    "Tibet": "Xinjiang;Qinghai;Sichuan;Yunnan",
    "Shaanxi": "Shanxi;Inner Mongolia;Ningxia;Gansu;Sichuan;Chongqing;Hubei;Henan",
    "Gansu": "Inner Mongolia;Ningxia;Shaanxi;Sichuan;Qinghai;Xinjiang", "Qinghai": "Gansu;Xinjiang;Tibet;Sichuan",
    "Ningxia": "Inner Mongolia;Gansu;Shaanxi", "Xinjiang": "Gansu;Qinghai;Tibet",
}
# River economic belts, the corridors along which capacity moves inland (whole-province memberships).
BELTS = {
    "yangtze_belt": (("Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Jiangxi", "Hubei", "Hunan", "Chongqing",
                      "Sichuan", "Yunnan", "Guizhou"),
                     "https://soolun.net/periodical/efaea0ee9c97106cdc6b8c14df174212.html | State Council guidance "
                     "on the Yangtze River Economic Belt (2014): 11 provinces and municipalities"),
    "pearl_xijiang": (("Guangdong", "Guangxi"),
                      "http://paper.wenweipo.com/2014/07/24/CH1407240032.htm | State Council approval of the "
                      "Pearl River-Xijiang Economic Belt plan (July 2014), spanning Guangdong and Guangxi"),
}
# The page of each cooperation grouping (../shared/reference/provinces_README.md, "Groupings and their pages").
GROUPING_SOURCES = {
    "pan_prd": "https://baike.baidu.hk/item/%E6%B3%9B%E7%8F%A0%E4%B8%89%E8%A7%92%E5%8D%80%E5%9F%9F%E5%90%88%E4%BD%9C/10743733",
    "yrd": "http://sisi-smu.org/2010/0525/c8819a88354/page.htm",
    "bohai": "https://wapiknow.baidu.com/question/2013835180046041548.html",
    "central_rise": "http://gosense.cn/show.php?id=2806",
    "western_dev": "http://en.chinagate.cn/features/Western_Development/2009-12/23/content_19114961.htm",
    "northeast": "http://japanese.china.org.cn/business/txt/2010-08/16/content_20721644.htm",
}
YRD_EXTENSION_SOURCE = ("https://jxxfw.com/periodical/2114a6a394396da6fdc4724cf3c4ae33.html | Anhui joined the "
                        "Yangtze River Delta as its 2008 extension")
# Gaps of the reference table filled from pages seen by this project:
# (province, value column) -> (value, year column, year, source column, source).
# 2010 class-1 monthly minimum wages (yuan): province -> (value, "page | what it says").
MIN_WAGE_FILLS: dict[str, tuple[str, str]] = {
    "Shandong": ("920",
               "http://www.jnxjqwl.com/content/2011-02/22/content_8672612.htm | class 1 of 920/760/600 "
               "from 2010-05-01 until 1100 on 2011-03-01; mirror of a Qingdao News/Jinghua Times story "
               "of 2011-02-22; same tiers in the text of Lu Zheng Zi [2010] 74 at "
               "http://biz.doczj.com/doc/4313650093.html"),
    "Hebei": ("900",
               "https://iscstaffing.com/gzdt/2010-07/09/content_1649546.htm | class 1 of 900/840/760/690 "
               "from 2010-07-01; mirror of a gov.cn / Hebei Daily story"),
    "Shanxi": ("850",
               "https://law.esnai.cn/do.aspx?action=show&controller=home&lawid=89208 | Jin Zheng Ban Fa "
               "[2010] 18: class 1 raised 720 -> 850 from 2010-04-01"),
    "Inner Mongolia": ("900",
               "http://biz.doczj.com/doc/50896484.html | class 1 of 900/820/750/680 (Nei Zheng Ban Fa "
               "Dian [2010] 73) in a table of yearly standards; the page gives no month"),
    "Anhui": ("720",
               "https://www.yybnet.net/hefei/chaohu/201006/736226.html | Hefei and Ma'anshan urban "
               "areas, the province's highest, from 2010-07-01"),
    "Fujian": ("900",
               "https://global.chinadaily.com.cn/dfpd/2010-03/22/content_9623092.htm | class 1 of "
               "900/800/700/600 from March 2010"),
    "Jiangxi": ("720",
               "https://law1.110.com/law_378436.html | Gan Fu Fa [2010] 18: class 1 720 from 2010-07-01"),
    "Hunan": ("850",
               "http://www.ft22.com/zuidi/2010-6/1696.html | Xiang Ren She Tong Zi (2010) 11: class 1 of "
               "850/800/725/650/600 from 2010-07-01"),
    "Chongqing": ("680",
               "http://m.xibolg.cn/news/200712/29/116862.html | main urban districts, 680 from "
               "2008-01-01 and in force through 2010 (870 only from 2011-01-01: "
               "http://www.chinanews.com.cn/cj/2010/12-26/2746970.shtml)"),
    "Sichuan": ("850",
               "http://www.ldztgls.cn/art/view.asp?id=898254006397 | Chuan Fu Fa [2010] 22: class 1 850 "
               "from 2010-08-01"),
    "Guizhou": ("830",
               "https://m.110ask.com/wenda/10029195527781471789.html | Qian Ren She Ting Fa [2010] 47: "
               "class 1 of 830/730/650 from 2010-10-01; a Q&A page quoting the notice in full (China "
               "Daily of 2010-08-19 lists Guizhou among the provinces still to raise in 2010)"),
    "Shaanxi": ("760",
               "http://big5.www.gov.cn/gate/big5/www.gov.cn/gzdt/2010-05/21/content_1610693.htm | class "
               "1 raised 600 -> 760 from 2010-07-01; gov.cn news of 2010-05-21"),
}
PROVINCE_FILLS: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    (province, "min_wage_monthly_cny"): (value, "min_wage_year", "2010", "min_wage_source", source)
    for province, (value, source) in MIN_WAGE_FILLS.items()
}


def build_provinces(reference: Path) -> pd.DataFrame:
    """The reference province facts, their gaps filled from ``PROVINCE_FILLS`` (source per cell),
    plus neighbours and river-belt memberships with their sources."""
    table = pd.read_csv(reference / "provinces.csv", dtype=str, keep_default_na=False)
    for (province, column), (value, year_column, year, source_column, source) in PROVINCE_FILLS.items():
        row = table.index[table["province_en"] == province]
        if len(row) != 1 or table.loc[row[0], column]:
            raise SystemExit(f"fill {province}/{column}: no such row or the reference already has a value")
        table.loc[row[0], [column, year_column, source_column]] = [value, year, source]
    for a, near in NEIGHBOURS.items():
        for b in filter(None, near.split(";")):
            if a not in NEIGHBOURS.get(b, "").split(";"):
                raise SystemExit(f"neighbours are not symmetric: {a} - {b}")
    table["groupings_source"] = [
        " ; ".join(YRD_EXTENSION_SOURCE if (p, g) == ("Anhui", "yrd") else GROUPING_SOURCES[g]
                   for g in filter(None, v.split(";")))
        for p, v in zip(table["province_en"], table["groupings"], strict=True)]
    table["neighbours"] = table["province_en"].map(NEIGHBOURS)
    table["neighbours_source"] = table["province_en"].map(NEIGHBOURS_SOURCES).fillna(NEIGHBOURS_SOURCE)
    table["belts"] = [";".join(b for b, (members, _) in BELTS.items() if p in members) for p in table["province_en"]]
    table["belts_source"] = [" ; ".join(src for _, (members, src) in BELTS.items() if p in members)
                             for p in table["province_en"]]
    if table["neighbours"].isna().any() or set(table["province_en"]) - set(PROVINCES):
        raise SystemExit("provinces.csv names a province the project does not know")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=SHARED / "reference")
    parser.add_argument("--io", type=Path, default=SHARED / "external" / "china_io_tables")
    parser.add_argument("--out", type=Path, default=ROOT / "data")
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    build_clusters(args.reference).to_csv(args.out / "clusters.csv", index=False)
    build_markets(args.reference).to_csv(args.out / "markets.csv", index=False)
    stages, links = build_chain(args.io)
    stages.to_csv(args.out / "chain_stages.csv", index=False)
    links.to_csv(args.out / "chain_links.csv", index=False)
    build_policies().to_csv(args.out / "policy_pairings.csv", index=False)
    build_provinces(args.reference).to_csv(args.out / "provinces.csv", index=False)
    print(f"wrote data to {args.out}")


if __name__ == "__main__":
    main()
