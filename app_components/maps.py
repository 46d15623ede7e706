"""Maps (pydeck): entities coloured by region, and arcs between docking pairs, over an offline basemap.

The basemap is ``data/basemap/china.geojson`` (``scripts/build_basemap.py``): China's provinces drawn
to China's official map, the maritime boundary line and the South China Sea islands inset. No map
tiles are fetched: the maps draw the same offline as online. Tooltips use pydeck's ``text`` form,
never ``html``: names are data and must not become markup.
"""

from __future__ import annotations

import html
import json
import math
from functools import lru_cache

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from app_components.i18n import entity_type_label, fmt_score, name_of, reason_column, region_label, t
from matcher.ingest.dataset import BUNDLED_DATA

BASEMAP = BUNDLED_DATA / "basemap" / "china.geojson"
LAND = [244, 242, 236]
SEA = [228, 238, 246]
BORDER = [150, 150, 150]

REGION_COLOUR: dict[str, list[int]] = {
    "east": [31, 119, 180],
    "central": [255, 127, 14],
    "west": [44, 160, 44],
}
UNKNOWN_COLOUR = [150, 150, 150]
#: What every map shows whole (west, south, east, north in degrees): all provinces, from Xinjiang's western
#: tip to Heilongjiang's northern one, and the South China Sea inset (123.6-133.6°E, 15.6-26.4°N).
CHINA_BOUNDS = (73.5, 15.6, 135.1, 53.6)
MAP_HEIGHT = 460


def china_view(height: int = MAP_HEIGHT, margin: int = 12) -> pdk.ViewState:
    """The view that fits :data:`CHINA_BOUNDS` into a map ``height`` pixels tall (Web Mercator, deck.gl's
    512-pixel world at zoom 0); the maps are wider than China at that zoom on any laptop screen."""
    west, south, east, north = CHINA_BOUNDS

    def y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    zoom = math.log2((height - 2 * margin) * 2 * math.pi / ((y(north) - y(south)) * 512))
    middle = math.degrees(2 * math.atan(math.exp((y(north) + y(south)) / 2)) - math.pi / 2)
    return pdk.ViewState(latitude=round(middle, 3), longitude=(west + east) / 2, zoom=round(zoom, 3), pitch=0)


CHINA_VIEW = china_view()


def _colour(region) -> list[int]:
    return REGION_COLOUR.get(region if isinstance(region, str) else "", UNKNOWN_COLOUR)


def entity_points(entities: pd.DataFrame) -> pd.DataFrame:
    """Plottable rows (known coordinates) with colour, radius and tooltip label."""
    known = entities.dropna(subset=["lat", "lon"])
    return pd.DataFrame(
        {
            "lat": known["lat"].astype(float).to_numpy(),
            "lon": known["lon"].astype(float).to_numpy(),
            "colour": [_colour(r) for r in known["region"]],
            "radius": [9000 if e == "market" else 14000 for e in known["entity_type"]],
            "label": [
                f"{name_of(zh, en, i)} ({i})"
                for zh, en, i in zip(known["name_zh"], known["name_en"], known["id"], strict=True)
            ],
            "detail": [
                f"{entity_type_label(e)} · {region_label(r)}"
                for e, r in zip(known["entity_type"], known["region"], strict=True)
            ],
        }
    )


@lru_cache(maxsize=1)
def basemap_features() -> tuple[dict, dict]:
    """(areas: the inset's sea, provinces and inset islands, each with its fill; lines: the maritime
    boundary in the sea and in the inset) as GeoJSON."""
    features = json.loads(BASEMAP.read_text(encoding="utf-8"))["features"]
    areas = []
    for f in features:
        kind = f["properties"]["kind"]
        if kind in ("inset_frame", "province", "inset_land"):
            fill = SEA if kind == "inset_frame" else LAND
            areas.append({**f, "properties": {**f["properties"], "fill": fill}})
    lines = [f for f in features if f["properties"]["kind"] in ("maritime_boundary", "inset_boundary")]
    return ({"type": "FeatureCollection", "features": areas}, {"type": "FeatureCollection", "features": lines})


@lru_cache(maxsize=1)
def basemap_layers() -> list[pdk.Layer]:
    """Provinces (light land, grey borders) and the lines, drawn first, in pixels at any zoom."""
    land, lines = basemap_features()
    return [
        pdk.Layer("GeoJsonLayer", data=land, stroked=True, filled=True, get_fill_color="properties.fill",
                  get_line_color=BORDER, get_line_width=1000, line_width_min_pixels=0.6,
                  line_width_max_pixels=1, pickable=False),
        pdk.Layer("GeoJsonLayer", data=lines, stroked=True, filled=False, get_line_color=[110, 110, 110],
                  get_line_width=2000, line_width_min_pixels=1, line_width_max_pixels=1.5, pickable=False),
    ]


class CompactDeck(pdk.Deck):
    """A deck sent as compact JSON, its basemap written once per process.

    pydeck indents its JSON (six times larger on the wire with the basemap) and serialises every
    layer again on every rerun; the basemap never changes, so its JSON is made once
    (:func:`basemap_json`) and put in front of the other layers'.
    """

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        text = json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))
        key = '"layers":['  # the deck's own key: keys inside the layers' data are escaped strings
        at = text.index(key) + len(key)
        return text[:at] + basemap_json() + ("," if text[at] != "]" else "") + text[at:]


@lru_cache(maxsize=1)
def basemap_json() -> str:
    """The basemap's layers as JSON (without the brackets of a list), made once."""
    from pydeck.bindings.json_tools import default_serialize

    return json.dumps(basemap_layers(), sort_keys=True, default=default_serialize, separators=(",", ":"))[1:-1]


def _deck(layers: list[pdk.Layer], tooltip: dict | None = None) -> pdk.Deck:
    """A deck over the basemap (which :class:`CompactDeck` adds when it is written)."""
    # no provider and pydeck's own default style (its sentinel): Streamlit then draws no basemap and fetches
    # none (map_style=None made it fetch Carto's style, against "no map tiles fetched")
    return CompactDeck(layers=layers, initial_view_state=CHINA_VIEW, map_provider=None,
                       tooltip=tooltip)


def entity_layer(entities: pd.DataFrame) -> pdk.Layer:
    """The clusters and markets as dots coloured by region."""
    return pdk.Layer(
        "ScatterplotLayer", data=entity_points(entities), get_position=["lon", "lat"], get_fill_color="colour",
        get_radius="radius", radius_min_pixels=3, radius_max_pixels=12, opacity=0.8, pickable=True,
        stroked=True, get_line_color=[255, 255, 255], line_width_min_pixels=1,
    )


#: Tooltips wrap (a pair's reason is a long line) within a box a map can hold near its edge.
TOOLTIP_STYLE = {"maxWidth": "320px", "whiteSpace": "pre-wrap", "fontSize": "12px", "lineHeight": "1.4"}


def entity_deck(entities: pd.DataFrame) -> pdk.Deck:
    return _deck([entity_layer(entities)], tooltip={"text": "{label}\n{detail}", "style": TOOLTIP_STYLE})


def arc_rows(pairs: pd.DataFrame, entities: pd.DataFrame, highlight: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """One arc per pair with known coordinates on both sides; highlighted pairs drawn wider in red."""
    where = entities.drop_duplicates("id").set_index("id")[["lat", "lon"]].astype(float)
    columns = ["slon", "slat", "tlon", "tlat", "width", "source_colour", "target_colour", "label", "detail"]
    a = where.reindex(pairs["left_id"].to_numpy())
    b = where.reindex(pairs["right_id"].to_numpy())
    known = a.notna().all(axis=1).to_numpy() & b.notna().all(axis=1).to_numpy()
    kept = pairs[known]
    if kept.empty:
        return pd.DataFrame(columns=columns)
    top = float(pairs["score"].max())
    strength = kept["score"].astype(float).to_numpy() / top if top > 0 else np.zeros(len(kept))
    hot = np.array([bool(highlight) and (p, q) in highlight for p, q in
                    zip(kept["left_id"], kept["right_id"], strict=True)], dtype=bool)
    # width and opacity by score, in pixels: readable at 10 pairs and at 500
    alpha = (40 + 150 * strength if len(pairs) > 100 else 90 + 140 * strength).astype(int)
    red = [214, 39, 40, 255]
    reasons = kept[reason_column()] if reason_column() in kept else pd.Series("", index=kept.index)
    return pd.DataFrame({
        "slon": a["lon"].to_numpy()[known], "slat": a["lat"].to_numpy()[known],
        "tlon": b["lon"].to_numpy()[known], "tlat": b["lat"].to_numpy()[known],
        "width": np.where(hot, 5.0, 0.5 + 2.5 * strength),
        "source_colour": [red if h else _colour(r) + [int(x)] for h, r, x in zip(hot, kept["left_region"], alpha, strict=True)],
        "target_colour": [red if h else _colour(r) + [int(x)] for h, r, x in zip(hot, kept["right_region"], alpha, strict=True)],
        "label": [f"{name_of(lz, le, li)} ↔ {name_of(rz, re_, ri)}" for lz, le, li, rz, re_, ri in zip(
            kept["left_name_zh"], kept["left_name_en"], kept["left_id"], kept["right_name_zh"], kept["right_name_en"],
            kept["right_id"], strict=True)],
        "detail": [f"{t('col_score')} {fmt_score(v)}\n{r if isinstance(r, str) else ''}"
                   for v, r in zip(kept["score"], reasons, strict=True)],
    }, columns=columns)


def arc_deck(pairs: pd.DataFrame, entities: pd.DataFrame, highlight: set[tuple[str, str]] | None = None) -> pdk.Deck:
    arcs = arc_rows(pairs, entities, highlight)
    layer = pdk.Layer(
        "ArcLayer", data=arcs, get_source_position=["slon", "slat"], get_target_position=["tlon", "tlat"],
        get_source_color="source_colour", get_target_color="target_colour", get_width="width",
        # a quoted value: pydeck turns a bare string into an accessor ("@@=pixels"), and deck.gl then
        # draws the widths in metres, as ribbons hundreds of kilometres wide
        width_units=pdk.types.String("pixels"), width_min_pixels=0.5, width_max_pixels=6,
        pickable=True, auto_highlight=True,
    )
    ids = set(pairs["left_id"]) | set(pairs["right_id"]) if len(pairs) else set()
    ends = entity_layer(entities[entities["id"].isin(ids)])
    return _deck([ends, layer], tooltip={"text": "{label}\n{detail}", "style": TOOLTIP_STYLE})


def legend() -> None:
    """Region colours in words (the map itself has no legend)."""
    cols = st.columns(len(REGION_COLOUR))
    for col, region in zip(cols, REGION_COLOUR, strict=True):
        # the dot in the map's own colour (Markdown's named colours are the theme's, a brown for orange)
        rgb = ",".join(str(c) for c in REGION_COLOUR[region])
        col.html(f'<span style="color: rgb({rgb}); font-size: 1.1em">●</span>&nbsp;{html.escape(region_label(region))}')


def show_entities(key: str, entities: pd.DataFrame) -> None:
    st.pydeck_chart(entity_deck(entities), key=key, height=MAP_HEIGHT)
    legend()
    st.caption(t("map_note"))


def show_arcs(key: str, pairs: pd.DataFrame, entities: pd.DataFrame,
              highlight: set[tuple[str, str]] | None = None) -> None:
    st.pydeck_chart(arc_deck(pairs, entities, highlight), key=key, height=MAP_HEIGHT)
    legend()
    st.caption(t("arc_legend"))
