"""pydeck map builders: compact payloads that draw with no network.

Units travel as one short array per unit, ``[lon, lat, id, ...]`` (lon/lat of the cell centre
rounded to 4-5 decimals), drawn as squares by a ColumnLayer for grids and as dots otherwise;
accessors (``this[0]``) and tooltips (``{2}``) read the array's positions, and colours are
computed in the browser from the score, so the 25k-cell demo grid is about a megabyte rather
than many megabytes of polygon JSON. Decks are serialised once, without indentation.

Offline (the default) the deck has ``map_provider=None`` and pydeck's default map style: the
browser then draws the layers on a blank background and makes no network request. (Passing
``map_style=None`` as well makes Streamlit fall back to a Carto style fetched from the web.)
"""

from __future__ import annotations

import html
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from rtm_core.results.colours import (
    class_legend,
    hex_color,
    ramp_color,
    score_breaks,
)
from rtm_core.study.places import label_points
from rtm_core.study.units import representative_points

LONLAT = "EPSG:4326"
SAMPLE_POINTS = 3000
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
GREY = (60, 60, 60)
#: the most area names written on a map; with more, only the areas named in ``only``
MAX_LABELS = 40


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


def payload_bytes(deck_obj: pdk.Deck) -> int:
    """Size of the deck JSON sent to the browser, in bytes."""
    return len(deck_obj.to_json().encode("utf-8"))


def class_color(field: int, breaks: list[float], alpha: int = 210) -> str:
    """A browser expression colouring ``this[field]`` by class: below breaks[0], ... above."""
    n = len(breaks)
    colors = [[*ramp_color(k / n if n else 0.0), alpha] for k in range(n + 1)]
    expression = str(colors[-1])
    for k in range(n - 1, -1, -1):
        expression = f"this[{field}] < {breaks[k]} ? {colors[k]} : ({expression})"
    return expression


# ----------------------------------------------------------------------- geometry


def to_lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in lon/lat (unchanged if it already is, or has no CRS)."""
    if frame.crs is None or frame.crs.to_epsg() == 4326:
        return frame
    return frame.to_crs(LONLAT)


def centres(frame: gpd.GeoDataFrame, digits: int = 5) -> np.ndarray:
    """Lon/lat of each feature's representative point (cell centre, segment midpoint...)."""
    points = representative_points(frame.geometry.values)
    lonlat = to_lonlat(gpd.GeoDataFrame(geometry=points, crs=frame.crs))
    return np.round(shapely.get_coordinates(lonlat.geometry.values), digits)


def units_outline(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The outer edge of polygon units (grid cells) as one feature (empty for other units)."""
    geometry = units.geometry.values
    if len(geometry) == 0 or not np.isin(shapely.get_type_id(geometry), (3, 6)).all():
        return gpd.GeoDataFrame(geometry=[], crs=units.crs)
    return gpd.GeoDataFrame(geometry=[shapely.coverage_union_all(geometry)], crs=units.crs)


def view_for(bounds, *, width: int = 850, height: int = 520) -> pdk.ViewState:
    """A view that fits lon/lat ``bounds`` (minx, miny, maxx, maxy) in a map of that size.

    deck.gl's Web Mercator world is 512 pixels wide at zoom 0.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    span_x = max(maxx - minx, 1e-4)
    span_y = max(maxy - miny, 1e-4) / max(math.cos(math.radians(lat)), 0.1)
    zoom = min(math.log2(360 * width / (512 * span_x)), math.log2(360 * height / (512 * span_y)))
    return pdk.ViewState(longitude=lon, latitude=lat, zoom=round(zoom - 0.1, 2), pitch=0)


def _bounds(frames) -> tuple[float, float, float, float]:
    boxes = [to_lonlat(f).total_bounds for f in frames if f is not None and not f.empty]
    if not boxes:
        return (-180.0, -60.0, 180.0, 75.0)
    stacked = np.array(boxes)
    return (*stacked[:, :2].min(axis=0), *stacked[:, 2:].max(axis=0))


def records(units: gpd.GeoDataFrame, columns: list, *, digits: int = 5) -> list[list]:
    """One array per unit: ``[lon, lat, *columns]`` (floats in ``columns`` as given)."""
    xy = centres(units, digits)
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    for k, values in enumerate(columns):
        frame[k] = np.asarray(values)
    return frame.to_numpy(dtype=object).tolist()


# ----------------------------------------------------------------------- layers


def deck(layers, view: pdk.ViewState, *, tooltip: dict | None = None, online: bool = False):
    """A :class:`CompactDeck`; with a Carto basemap only when ``online``."""
    provider = {"map_provider": "carto", "map_style": "light"} if online else {}
    if not online:
        provider = {"map_provider": None}  # keep pydeck's style sentinel: no request at all
    return CompactDeck(
        layers=[layer for layer in layers if layer is not None],
        initial_view_state=view,
        tooltip=tooltip or False,
        **provider,
    )


def outline_layer(frame: gpd.GeoDataFrame | None, color=GREY, width_px: float = 1.5):
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


def points_layer(xy: np.ndarray, color, *, sample: int = SAMPLE_POINTS, radius_px=(1.5, 5)):
    """A point layer of lon/lat pairs (sampled to ``sample`` points with a fixed seed)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) > sample:
        keep = np.random.default_rng(0).choice(len(xy), sample, replace=False)
        xy = xy[np.sort(keep)]
    return pdk.Layer(
        "ScatterplotLayer",
        data=np.round(xy, 4).tolist(),
        get_position="[this[0], this[1]]",
        get_fill_color=[*color, 200],
        get_radius=20,
        radius_min_pixels=radius_px[0],
        radius_max_pixels=radius_px[1],
        pickable=False,
    )


def frame_layer(frame: gpd.GeoDataFrame, color, *, sample: int = SAMPLE_POINTS, radius_px=(1.5, 5)):
    """Any layer as a preview: points sampled, lines and polygons as outlines."""
    family = frame.geom_type.str.replace("Multi", "", regex=False).iloc[0]
    if family == "Point":
        lonlat = to_lonlat(frame)
        xy = shapely.get_coordinates(lonlat.geometry.values)
        return points_layer(xy, color, sample=sample, radius_px=radius_px)
    frame = to_lonlat(frame)
    if len(frame) > sample:
        frame = frame.sample(sample, random_state=0)
    simplified = gpd.GeoSeries(frame.geometry.simplify(5e-5), crs=frame.crs)
    data = json.loads(simplified.to_json(drop_id=True))
    return pdk.Layer(
        "GeoJsonLayer",
        data=data,
        stroked=True,
        filled=False,
        get_line_color=[*color, 220],
        line_width_min_pixels=1,
        pickable=False,
    )


def unit_layer(data: list, cell_size: float | None, color, *, pickable=True, radius=None):
    """Units from :func:`records`: squares of ``cell_size`` metres for grids, else dots."""
    common = {
        "data": data,
        "get_position": "[this[0], this[1]]",
        "get_fill_color": color,
        "pickable": pickable,
        "auto_highlight": pickable,
    }
    if cell_size:
        return pdk.Layer(
            "ColumnLayer",
            disk_resolution=4,
            angle=45,
            radius=cell_size / math.sqrt(2),
            extruded=False,
            **common,
        )
    return pdk.Layer("ScatterplotLayer", get_radius=radius or 30, radius_min_pixels=2, **common)


def ring_layer(data: list, color, *, radius: float):
    """Rings around units (factor overlays)."""
    return pdk.Layer(
        "ScatterplotLayer",
        data=data,
        get_position="[this[0], this[1]]",
        get_line_color=list(color),
        stroked=True,
        filled=False,
        line_width_min_pixels=1.5,
        get_radius=radius,
        radius_min_pixels=3,
        pickable=False,
    )


def area_labels(places: gpd.GeoDataFrame | None, only=None) -> list[list]:
    """``[lon, lat, name]`` of the named areas' labels (a point inside each area).

    Parameters
    ----------
    places : GeoDataFrame or None
        The run's named areas (``place`` and polygons).
    only : collection of str, optional
        With more than :data:`MAX_LABELS` areas, only these are named (e.g. the areas of
        the brief's places); None names none of a crowded map.

    Returns
    -------
    list of list
    """
    if places is None or places.empty:
        return []
    if len(places) > MAX_LABELS:
        places = places[places["place"].isin(set(only or ()))]
        if places.empty:
            return []
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*label_points(places).T), crs=places.crs)
    xy = np.round(shapely.get_coordinates(to_lonlat(points).geometry.values), 5)
    return [[x, y, str(name)] for (x, y), name in zip(xy, places["place"], strict=True)]


def label_layer(labels: list[list], size_px: int = 12):
    """Area names as text (deck.gl TextLayer; the font atlas is drawn in the browser, no
    network; any script's letters with ``character_set="auto"``).

    pydeck reads a bare string as a JavaScript accessor, so literal settings are quoted
    (``"'pixels'"``): unquoted, ``size_units`` became a function and the text a screen-wide
    blur."""
    if not labels:
        return None
    return pdk.Layer(
        "TextLayer",
        data=labels,
        get_position="[this[0], this[1]]",
        get_text="this[2]",
        get_size=size_px,
        size_units="'pixels'",
        get_color=[29, 35, 48, 255],
        font_settings={"sdf": True},
        outline_width=4,
        outline_color=[255, 255, 255, 230],
        font_family="'Helvetica Neue, Arial, sans-serif'",
        font_weight=600,
        character_set="'auto'",
        pickable=False,
    )


def areas_layers(places: gpd.GeoDataFrame | None, only=None) -> list:
    """The named areas' outlines and names (nothing for a run without place names)."""
    if places is None or places.empty:
        return []
    outline = frame_layer(places, (75, 82, 97), sample=len(places))
    return [outline, label_layer(area_labels(places, only))]


# ----------------------------------------------------------------------- page maps


def layer_rgb(names: list[str]) -> dict[str, tuple[int, int, int]]:
    """RGB of each data layer: grey for units, a palette colour for each other layer."""
    others = [n for n in names if n not in ("boundary", "units")]
    out = {name: PALETTE[k % len(PALETTE)] for k, name in enumerate(others)}
    return {name: out.get(name, GREY) for name in names}


def layer_colors(names: list[str]) -> dict[str, str]:
    """Hex colour of each data layer, as :func:`data_map` draws them."""
    return {name: hex_color(rgb) for name, rgb in layer_rgb(names).items()}


def data_map(
    layers: list[tuple[str, gpd.GeoDataFrame]],
    *,
    online: bool = False,
    width: int = 500,
    all_names: list[str] | None = None,
) -> CompactDeck:
    """Preview of the data set: each ``(name, frame)`` in its :func:`layer_colors` colour.

    ``all_names`` lists every layer of the data set, so colours stay the same when only some
    layers are drawn.
    """
    colors = layer_rgb(all_names or [name for name, _ in layers])
    drawn = []
    for name, frame in layers:
        if name == "boundary":
            drawn.append(outline_layer(frame, GREY, 2))
        else:
            drawn.append(frame_layer(frame, colors[name]))
    view = view_for(_bounds([f for _, f in layers]), width=width)
    return deck(drawn, view, online=online)


def factor_map(
    units: gpd.GeoDataFrame,
    present: np.ndarray,
    *,
    cell_size: float | None,
    generator: gpd.GeoDataFrame | None = None,
    label: str = "",
    online: bool = False,
    width: int = 500,
) -> CompactDeck:
    """Units where one risk factor is present, the generator's features, the area outline."""
    subset = units.loc[np.asarray(present, dtype=bool)]
    layers = [
        outline_layer(units_outline(units)),
        unit_layer(records(subset, [subset["unit_id"]], digits=4), cell_size, [230, 97, 1, 200]),
    ]
    if generator is not None and not generator.empty:
        layers.append(frame_layer(generator, (80, 80, 80), radius_px=(1, 3)))
    tooltip = {"html": f"Unit {{2}}<br/>{html.escape(label)}", "style": {"fontSize": "12px"}}
    view = view_for(_bounds([units]), width=width, height=480)
    return deck(layers, view, tooltip=tooltip, online=online)


def factor_codes(factors: pd.Series, labels: list[str]) -> np.ndarray:
    """Per unit, the numbers (1-based in ``labels``) of the factors present: ``"1 3"``."""
    number = {label: str(k + 1) for k, label in enumerate(labels)}
    lists = factors.fillna("").astype(str).str.split("; ")
    return np.array(
        [" ".join(number[x] for x in items if x in number) or "none" for items in lists],
        dtype=object,
    )


def risk_map(
    units: gpd.GeoDataFrame,
    model: str,
    *,
    cell_size: float | None,
    factor_labels: list[str] = (),
    overlays: dict[str, np.ndarray] | None = None,
    online: bool = False,
    column: str | None = None,
    score_name: str = "Relative risk score",
    counts: bool = True,
    places: gpd.GeoDataFrame | None = None,
    named: tuple[str, ...] = (),
) -> tuple[CompactDeck, list[tuple[str, str]]]:
    """Relative-risk map of one model (or its forecast), with optional factor overlays and
    the named areas' outlines and names.

    Parameters
    ----------
    units : GeoDataFrame
        The run's units (``unit_id``, ``risk_<model>``, ``factors_<model>``, and the crime
        counts ``y_train``, ``y_test`` shown in the tooltip when present: a planner's copy of
        the run has none, and then nothing per unit but the score and factors is sent).
    model : str
        Model key ("dl", "classical").
    cell_size : float or None
        Grid cell side (metres) for grid runs, None for other units.
    factor_labels : list of str
        The model's selected factors; the tooltip names them by their number in this list.
    overlays : dict, optional
        Factor label -> boolean mask of units where it is present (drawn as rings).
    column : str, optional
        The score column drawn (default ``risk_<model>``; ``forecast_<model>`` for the
        forecast map).
    score_name : str
        What the tooltip calls the score.
    counts : bool
        Send and show each unit's crime counts (False for a planner's map: nothing that
        places a crime reaches the browser).
    places : GeoDataFrame, optional
        Named areas: outlined and named (:func:`areas_layers`).
    named : tuple of str
        The areas named when there are too many to name all.

    Returns
    -------
    deck : CompactDeck
    legend : list of (hex colour, text)
        The score classes.
    """
    digits = 2 if column is None else 3  # a forecast holds expected counts, often below 1
    score = np.round(units[column or f"risk_{model}"].to_numpy(dtype=float), digits)
    factors = units.get(f"factors_{model}", pd.Series("", index=units.index))
    codes = factor_codes(factors, list(factor_labels))
    counts = counts and {"y_train", "y_test"} <= set(units.columns)  # not a planner's copy
    if counts:
        columns = [units["unit_id"], score, units["y_train"].astype(int)]
        columns += [units["y_test"].astype(int), codes]
        crimes = "Crimes: {4} in period t, {5} in period t+1<br/>"
    else:
        columns, crimes = [units["unit_id"], score, codes], ""
    fields = (len(columns) + 1, len(columns) + 2)  # factors, place: [lon, lat, *columns]
    if places is not None and "place" in units.columns:  # each unit's area, in the tooltip
        columns.append(units["place"].fillna("").astype(str))
    else:
        places = None
    breaks = score_breaks(score, digits=digits)
    data = records(units, columns, digits=4 if (cell_size or 0) >= 60 else 5)
    layers = [unit_layer(data, cell_size, class_color(3, breaks))]
    for k, mask in enumerate((overlays or {}).values()):
        ring = records(units.loc[np.asarray(mask, dtype=bool)], [], digits=4)
        layers.append(
            ring_layer(ring, [*PALETTE[k % len(PALETTE)], 255], radius=(cell_size or 60) * 0.4)
        )
    layers += areas_layers(places, named)
    where = f"{{{fields[1]}}}<br/>" if places is not None else ""
    tooltip = {
        "html": f"<b>Unit {{2}}</b><br/>{where}{html.escape(score_name)}: <b>{{3}}</b><br/>"
        f"{crimes}Risk factors present: {{{fields[0]}}}",
        "style": {"fontSize": "12px"},
    }
    low = float(np.nanmin(score)) if score.size else 1.0
    view = view_for(_bounds([units]), height=560)
    return deck(layers, view, tooltip=tooltip, online=online), class_legend(breaks, low)


def share_map(
    units: gpd.GeoDataFrame, column: str, *, cell_size: float | None, online: bool = False
) -> CompactDeck:
    """How often each unit is in the top 5 % across seeds (units never there stay blank)."""
    share = units[column].to_numpy(dtype=float)
    subset = units.loc[share > 0]
    data = records(subset, [subset["unit_id"], np.round(share[share > 0], 2)], digits=4)
    layers = [
        outline_layer(units_outline(units)),
        unit_layer(data, cell_size, class_color(3, list(SHARE_BREAKS))),
    ]
    tooltip = {"html": "Unit {2}<br/>in the top 5 % for a share {3} of the seeds"}
    return deck(layers, view_for(_bounds([units])), tooltip=tooltip, online=online)


SHARE_BREAKS = (0.2, 0.4, 0.6, 0.8)


def share_legend() -> list[tuple[str, str]]:
    """``(hex colour, text)`` of :func:`share_map`'s classes; the first (pale yellow) holds
    every unit above 0 and under 20 % (units at 0 are not drawn)."""
    items = class_legend(list(SHARE_BREAKS), 0.0, fmt="{:.0%}")
    return [(items[0][0], f"above 0 and under {SHARE_BREAKS[0]:.0%}"), *items[1:]]
