"""pydeck map builders: compact payloads that draw with no network.

Grid cells travel as their centres (lon/lat, 5 decimals) drawn as squares by a ColumnLayer,
with only the columns the tooltip needs and colours computed in the browser from one number
per cell, so the 25k-cell demo grid is a few hundred kB instead of megabytes of polygon JSON.
Without a basemap (the default) the deck has ``map_provider=None, map_style=None`` and makes
no network request.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

LONLAT = "EPSG:4326"
SAMPLE_POINTS = 4000
#: colours for layers and factor overlays (Okabe-Ito, colour-blind safe)
PALETTE = [
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (240, 228, 66),
    (0, 0, 0),
]
#: yellow -> orange -> dark red, evaluated in the browser from t in [0, 1]
RISK_COLOR = (
    "t < 0.5 ? [255, 255 - 154 * t, 178 - 228 * t, 200] "
    ": [254 - 140 * (t - 0.5), 178 - 356 * (t - 0.5), 64 - 56 * (t - 0.5), 220]"
)
_STOPS = ((0.0, (255, 255, 178)), (0.5, (254, 178, 64)), (1.0, (184, 0, 36)))


class CompactDeck(pdk.Deck):
    """A Deck serialised once, without indentation (pydeck indents every data record)."""

    def to_json(self) -> str:
        cached = self.__dict__.get("_compact_json")
        if cached is None:
            cached = json.dumps(
                self, sort_keys=True, default=default_serialize, separators=(",", ":")
            )
            self.__dict__["_compact_json"] = cached
        return cached


def ramp_color(t: float) -> tuple[int, int, int]:
    """The risk ramp's RGB at ``t`` in [0, 1] (same as the browser's expression)."""
    t = min(max(float(t), 0.0), 1.0)
    (t0, c0), (t1, c1) = (_STOPS[0], _STOPS[1]) if t < 0.5 else (_STOPS[1], _STOPS[2])
    w = (t - t0) / (t1 - t0)
    return tuple(int(round(a + (b - a) * w)) for a, b in zip(c0, c1, strict=True))


def to_lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in lon/lat (unchanged if it already is, or has no CRS)."""
    if frame.crs is None or frame.crs.to_epsg() == 4326:
        return frame
    return frame.to_crs(LONLAT)


def centres(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Lon/lat of each feature's representative point (cell centre, segment midpoint...)."""
    geometry = frame.geometry.values
    kind = shapely.get_type_id(geometry)
    points = shapely.point_on_surface(geometry)
    lines = np.isin(kind, (1, 2, 5))
    if lines.any():
        points[lines] = shapely.line_interpolate_point(geometry[lines], 0.5, normalized=True)
    lonlat = to_lonlat(gpd.GeoDataFrame(geometry=points, crs=frame.crs))
    return np.round(shapely.get_coordinates(lonlat.geometry.values), 5)


def view_for(bounds, *, width: int = 700, height: int = 520) -> pdk.ViewState:
    """A view that fits lon/lat ``bounds`` (minx, miny, maxx, maxy) in the map."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    span_x = max(maxx - minx, 1e-4)
    span_y = max(maxy - miny, 1e-4) / max(math.cos(math.radians(lat)), 0.1)
    zoom = min(math.log2(360 * width / (256 * span_x)), math.log2(360 * height / (256 * span_y)))
    return pdk.ViewState(longitude=lon, latitude=lat, zoom=round(zoom - 0.15, 2), pitch=0)


def deck(layers, view: pdk.ViewState, *, tooltip: dict | None = None, online: bool = False):
    """A :class:`CompactDeck`; a Carto basemap only when ``online``."""
    provider = dict(map_provider="carto", map_style="light") if online else {}
    if not online:
        provider = dict(map_provider=None, map_style=None)
    return CompactDeck(
        layers=[layer for layer in layers if layer is not None],
        initial_view_state=view,
        tooltip=tooltip or False,
        **provider,
    )


def outline_layer(frame: gpd.GeoDataFrame | None, color=(60, 60, 60), width_px: float = 1.5):
    """The outline of polygons (e.g. the study area), simplified to ~10 m."""
    if frame is None or frame.empty:
        return None
    shape = shapely.union_all(to_lonlat(frame).geometry.values).simplify(1e-4)
    return pdk.Layer(
        "GeoJsonLayer",
        data=shapely.geometry.mapping(shape),
        stroked=True,
        filled=False,
        get_line_color=list(color),
        line_width_min_pixels=width_px,
        pickable=False,
    )


def points_layer(xy: np.ndarray, color, *, radius: float = 25, sample: int = SAMPLE_POINTS):
    """A point layer (sampled to ``sample`` points, fixed seed) of lon/lat pairs."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) > sample:
        keep = np.random.default_rng(0).choice(len(xy), sample, replace=False)
        xy = xy[np.sort(keep)]
    data = [{"p": [round(x, 5), round(y, 5)]} for x, y in xy]
    return pdk.Layer(
        "ScatterplotLayer",
        data=data,
        get_position="p",
        get_fill_color=[*color, 190],
        get_radius=radius,
        radius_min_pixels=1.5,
        radius_max_pixels=6,
        pickable=False,
    )


def frame_layer(frame: gpd.GeoDataFrame, color, *, sample: int = SAMPLE_POINTS):
    """Any layer as a preview: polygons/lines as outlines, points sampled."""
    family = frame.geom_type.str.replace("Multi", "", regex=False).iloc[0]
    if family == "Point":
        lonlat = to_lonlat(frame)
        return points_layer(shapely.get_coordinates(lonlat.geometry.values), color, sample=sample)
    frame = to_lonlat(frame)
    if len(frame) > sample:
        frame = frame.sample(sample, random_state=0)
    simplified = frame.geometry.simplify(5e-5)
    data = json.loads(gpd.GeoSeries(simplified).to_json(to_wgs84=False, drop_id=True))
    return pdk.Layer(
        "GeoJsonLayer",
        data=data,
        stroked=True,
        filled=False,
        get_line_color=[*color, 220],
        line_width_min_pixels=1,
        pickable=False,
    )


def cell_layer(records: list[dict], cell_size: float, color, *, pickable: bool = True, alpha=1.0):
    """Grid cells as squares of side ``cell_size`` metres centred on ``[x, y]`` records.

    ``color`` is an RGBA list or a browser expression over the record's fields.
    """
    return pdk.Layer(
        "ColumnLayer",
        data=records,
        get_position="[x, y]",
        disk_resolution=4,
        angle=45,
        radius=cell_size / math.sqrt(2),
        extruded=False,
        get_fill_color=color,
        opacity=alpha,
        pickable=pickable,
        auto_highlight=pickable,
    )


def dot_layer(records: list[dict], color, *, radius: float, pickable=True, stroked=False):
    """Units as dots (point and line units, or overlays) at ``[x, y]`` records."""
    return pdk.Layer(
        "ScatterplotLayer",
        data=records,
        get_position="[x, y]",
        get_fill_color=color,
        get_line_color=color if stroked else [0, 0, 0, 0],
        stroked=stroked,
        filled=not stroked,
        line_width_min_pixels=1.5 if stroked else 0,
        get_radius=radius,
        radius_min_pixels=2,
        pickable=pickable,
        auto_highlight=pickable,
    )


def risk_scale(score: np.ndarray) -> tuple[np.ndarray, float]:
    """Colour position ``t`` in [0, 1] of relative-risk scores, and the score at ``t = 1``.

    ``t = log(score) / log(top)``, with ``top`` the 99th percentile (at least 1.01), so the
    lowest-risk units are pale and the top 1 % share the darkest colour.
    """
    score = np.asarray(score, dtype=float)
    finite = score[np.isfinite(score) & (score > 0)]
    top = max(float(np.quantile(finite, 0.99)) if finite.size else 1.0, 1.01)
    low = max(float(finite.min()) if finite.size else 1.0, 1e-9)
    t = np.log(np.clip(score, low, None) / low) / math.log(top / low if top > low else 1.01)
    return np.round(np.clip(np.nan_to_num(t), 0, 1), 2), top


def legend_stops(top: float, n: int = 5) -> list[tuple[str, str]]:
    """``(hex colour, score text)`` pairs along the risk ramp for a legend."""
    out = []
    for k in range(n):
        t = k / (n - 1)
        r, g, b = ramp_color(t)
        value = top**t
        text = f"{value:.3g}" + ("+" if k == n - 1 else "")
        out.append((f"#{r:02x}{g:02x}{b:02x}", text))
    return out


def units_records(
    units: gpd.GeoDataFrame, columns: dict[str, str], *, digits: dict | None = None
) -> list[dict]:
    """One compact record per unit: ``x``, ``y`` (lon/lat) plus renamed ``columns``.

    Parameters
    ----------
    units : GeoDataFrame
    columns : dict
        Record key -> units column (e.g. ``{"i": "unit_id", "s": "risk_dl"}``).
    digits : dict, optional
        Record key -> decimals to round floats to (default 3).
    """
    digits = digits or {}
    xy = centres(units)
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    for key, column in columns.items():
        values = units[column]
        if pd.api.types.is_float_dtype(values):
            values = values.round(digits.get(key, 3))
        elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            values = values.fillna("").astype(str)
        frame[key] = values.to_numpy()
    return frame.to_dict(orient="records")


def payload_bytes(deck_obj: pdk.Deck) -> int:
    """Size of the deck JSON sent to the browser, in bytes."""
    return len(deck_obj.to_json().encode("utf-8"))
