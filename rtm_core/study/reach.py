"""Whether a layer reaches the study area, and the lon/lat swap check for one that misses it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from rtm_core.io import Layer
from rtm_core.study.generators import GeneratorLayer
from rtm_core.study.units import Units

__all__ = ["reach_box", "is_near", "inside_box", "check_not_swapped"]


def reach_box(units: Units, reach: float) -> tuple[float, float, float, float]:
    """The units' bounding box (of their geometry) grown by ``reach`` metres.

    Parameters
    ----------
    units : Units
    reach : float
        Metres added on every side (0 gives the bounding box itself).

    Returns
    -------
    tuple of float
        ``(x0, y0, x1, y1)`` in the units' working CRS.
    """
    x0, y0, x1, y1 = units.frame.total_bounds
    return (x0 - reach, y0 - reach, x1 + reach, y1 + reach)


def is_near(layer: GeneratorLayer, units: Units) -> bool:
    """Whether any feature lies within reach (the largest bandwidth) of the study area.

    "Within reach" is measured against :func:`reach_box`, not the units' shapes, so a feature
    near a corner of the box counts.

    Parameters
    ----------
    layer : GeneratorLayer
        Points (and line or polygon geometry, when it has some) in the working CRS.
    units : Units

    Returns
    -------
    bool
        True when a point, or any part of a line or polygon, touches the units' bounding box
        grown by the layer's largest bandwidth.
    """
    box = reach_box(units, max(layer.bandwidths))
    if layer.geometry is not None:  # lines and polygons: any part of them, not their points
        return bool(shapely.intersects(layer.geometry, shapely.box(*box)).any())
    return bool(inside_box(layer.points, box).any())


def inside_box(pts: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Which points ``(n, 2)`` lie in the box ``(x0, y0, x1, y1)`` (edges included).

    Parameters
    ----------
    pts : ndarray of shape (n, 2)
        x and y in the box's CRS.
    box : tuple of float
        ``(x0, y0, x1, y1)``, as from :func:`reach_box`.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    x0, y0, x1, y1 = box
    return (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)


def check_not_swapped(
    layer: Layer, source: LayerSource, crs: CRS, box: tuple[float, float, float, float]
) -> None:
    """Refuse lon/lat points that miss the study area but would cover it with x and y swapped.

    Swapped values are often still valid degrees (Chicago: lat -87.7, lon 41.8), so only the
    study area can tell. Called once a layer is known to miss the area. Only all-point layers
    in a geographic CRS whose x values could be latitudes (within ±90) are checked; the layer
    is refused when, read as (y, x), more than half its points fall in ``box``.

    Parameters
    ----------
    layer : Layer
        The layer as read, in its own CRS.
    source : LayerSource
        Where it came from (its ``x``/``y`` column names go into the message).
    crs : pyproj.CRS
        The working CRS of ``box``.
    box : tuple of float
        ``(x0, y0, x1, y1)`` the layer should reach, from :func:`reach_box`.

    Raises
    ------
    InputError
        The points look swapped; the fix is to swap x and y.
    """
    frame = layer.frame
    if frame.crs is None or not frame.crs.is_geographic or len(frame) == 0:
        return
    geometry = frame.geometry.values
    if not (shapely.get_type_id(geometry) == 0).all():  # plain points only
        return
    xy = shapely.get_coordinates(geometry)
    if (np.abs(xy[:, 0]) > 90).any():  # swapped, x would be a latitude
        return
    try:
        swapped = gpd.GeoSeries(gpd.points_from_xy(xy[:, 1], xy[:, 0]), crs=frame.crs).to_crs(crs)
    except Exception:  # cannot be projected: not a plausible swap
        return
    if inside_box(shapely.get_coordinates(swapped.values), box).mean() > 0.5:
        columns = f"{source.x}/{source.y}" if source.x and source.y else "lon/lat"
        raise InputError(
            layer.report.source,
            columns,
            "longitude and latitude look swapped (swapped back, the points fall on the study area)",
            "swap x and y",
        )
