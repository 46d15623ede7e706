"""The maps' decks as deck.gl reads them: arc widths in pixels, China whole in view, tooltips as text."""

from __future__ import annotations

import json
import math

import pandas as pd

from app_components import maps

ENTITIES = pd.DataFrame({
    "id": ["C1", "C2"], "lat": [30.0, 41.2], "lon": [120.6, 80.3], "region": ["east", "west"],
    "entity_type": ["cluster", "cluster"], "name_zh": ["柯桥", "阿克苏"], "name_en": ["Keqiao", "Aksu"],
})
PAIRS = pd.DataFrame({
    "left_id": ["C1"], "right_id": ["C2"], "score": [0.5], "left_region": ["east"], "right_region": ["west"],
    "left_name_zh": ["柯桥"], "left_name_en": ["Keqiao"], "right_name_zh": ["阿克苏"], "right_name_en": ["Aksu"],
})


def _layers(deck) -> list[dict]:
    return json.loads(deck.to_json())["layers"]


def test_arc_widths_are_in_pixels_and_bounded():
    """pydeck sends a bare string as an accessor ("@@=pixels"); deck.gl then draws widths in metres."""
    arc = next(layer for layer in _layers(maps.arc_deck(PAIRS, ENTITIES)) if layer["@@type"] == "ArcLayer")
    assert arc["widthUnits"] == "pixels"
    assert arc["widthMaxPixels"] <= 8
    rows = maps.arc_rows(PAIRS, ENTITIES)
    assert rows["width"].between(0.5, 6).all()


def test_only_accessors_are_functions_in_every_layer():
    """A property that is not an accessor (get_*) and not data never becomes a deck.gl expression."""
    for deck in (maps.arc_deck(PAIRS, ENTITIES), maps.entity_deck(ENTITIES)):
        for layer in _layers(deck):
            for key, value in layer.items():
                if isinstance(value, str) and value.startswith("@@="):
                    assert key.startswith("get"), f"{layer['@@type']}.{key} = {value}"


def _mercator(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    scale = 512 * 2 ** zoom / (2 * math.pi)
    return scale * math.radians(lon), scale * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def test_the_view_shows_china_whole_in_the_map_height():
    """Xinjiang's western tip, Heilongjiang's northern tip and the inset's corners are inside the map."""
    view = maps.china_view(maps.MAP_HEIGHT)
    cx, cy = _mercator(view.longitude, view.latitude, view.zoom)
    laptop_width = 1366 - 300 - 2 * 80  # the window less the sidebar and the page's margins
    for lon, lat in [(73.5, 39.4), (135.1, 48.4), (124.3, 53.6), (123.6, 15.6), (133.6, 15.6), (108.0, 18.2)]:
        x, y = _mercator(lon, lat, view.zoom)
        assert abs(x - cx) < laptop_width / 2 and abs(y - cy) < maps.MAP_HEIGHT / 2, (lon, lat)
    # and it is not a postage stamp: China fills most of the height
    top = _mercator(0, 53.6, view.zoom)[1] - _mercator(0, 15.6, view.zoom)[1]
    assert top > 0.85 * maps.MAP_HEIGHT


def test_tooltips_wrap_within_the_map():
    """A pair's reason is one long line: the tooltip wraps it in a box narrower than any map."""
    for deck in (maps.arc_deck(PAIRS, ENTITIES), maps.entity_deck(ENTITIES)):
        tooltip = json.loads(deck.to_json())["tooltip"] if "tooltip" in json.loads(deck.to_json()) else deck._tooltip
        assert tooltip["style"]["maxWidth"] == "320px" and tooltip["style"]["whiteSpace"] == "pre-wrap"
        assert "{label}" in tooltip["text"] and "{detail}" in tooltip["text"]
