"""Geography of the docking kinds: great-circle distances, their decay, and a receiver's nearest senders.

>>> round(float(haversine_km(30.0, 120.0, 31.0, 121.0)), 1)
146.8
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from matcher.docking.entities import Entities

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km (vectorised); NaN where a coordinate is unknown."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def distance_km(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    return haversine_km(E.lat[li], E.lon[li], E.lat[ri], E.lon[ri])


def distance_decay(km: np.ndarray, scale_km: float) -> np.ndarray:
    """exp(-d / scale): 1 next door, 0.37 at one scale length; NaN stays NaN."""
    return np.exp(-np.asarray(km, dtype=np.float32) / np.float32(scale_km))


#: Distances below this many km count as this many: a receiver's senders within a county's reach are
#: all equally near.
FLOOR_KM = 100.0


def nearest_sender_km(E: Entities, rows: np.ndarray) -> np.ndarray:
    """Per row, km from that entity to the nearest eastern cluster (its own position excluded; NaN
    without coordinates or without eastern clusters)."""
    table = E.table
    east = np.flatnonzero((table["entity_type"].astype(str).to_numpy() == "cluster")
                          & (table["region"].astype(str).to_numpy() == "east") & ~np.isnan(E.lat) & ~np.isnan(E.lon))
    rows = np.asarray(rows)
    out = np.full(len(rows), np.nan)
    if not len(east) or not len(rows):
        return out
    uniq, inverse = np.unique(rows, return_inverse=True)
    km = haversine_km(E.lat[uniq][:, None], E.lon[uniq][:, None], E.lat[east][None, :], E.lon[east][None, :])
    km[np.isnan(km) | (uniq[:, None] == east[None, :])] = np.inf
    nearest = km.min(axis=1)
    nearest[np.isinf(nearest)] = np.nan
    return nearest[inverse.ravel()]


__all__ = ["EARTH_RADIUS_KM", "FLOOR_KM", "distance_decay", "distance_km", "haversine_km", "nearest_sender_km"]
