"""The working CRS: parse user CRSs, choose a projected CRS in metres, reproject."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError

from rtm_core.errors import InputError

if TYPE_CHECKING:
    from rtm_core.io.layers import Layer


def parse_crs(value: str | int | CRS, *, source: str, field: str = "crs") -> CRS:
    """Parse a user-given CRS (``"EPSG:26971"``, ``26971``, WKT, PROJ string).

    Raises
    ------
    InputError
        The text is not a CRS pyproj knows.
    """
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise InputError(
            source, field, f"unknown CRS {value!r}", 'write it as "EPSG:<code>", e.g. "EPSG:4326"'
        ) from None


def choose_crs(configured: str | None, anchor: gpd.GeoDataFrame, *, source: str) -> CRS:
    """The working CRS: configured, else the anchor layer's if projected, else a UTM zone.

    Parameters
    ----------
    configured : str or None
        The ``units.crs`` setting.
    anchor : GeoDataFrame
        The boundary (grid units) or the units layer.
    source : str
        Name for messages.

    Raises
    ------
    InputError
        The chosen CRS is geographic (degrees cannot measure distances).
    """
    if configured is not None:
        crs = parse_crs(configured, source=source, field="units.crs")
    elif anchor.crs is not None and anchor.crs.is_projected:
        crs = anchor.crs
    else:
        crs = anchor.estimate_utm_crs()
    if not crs.is_projected:
        raise InputError(
            source,
            "units.crs",
            f"{crs.to_string()} is in degrees; distances and bandwidths need metres",
            "use a projected CRS (e.g. a UTM zone) or leave crs empty to estimate one",
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise InputError(
            source,
            "units.crs",
            f"{crs.to_string()} measures in {unit}, bandwidths are metres",
            "choose a CRS in metres (e.g. the state plane's metre variant or UTM)",
        )
    return crs


def to_working_crs(layer: Layer, crs: CRS) -> gpd.GeoDataFrame:
    """Reproject a layer's features to the working CRS."""
    frame = layer.frame
    if frame.crs is not None and frame.crs.equals(crs):
        return frame
    try:
        out = frame.to_crs(crs)
    except Exception as exc:
        raise InputError(
            layer.report.source, "crs", f"cannot be reprojected ({exc})", "check its CRS"
        ) from None
    bounds = out.total_bounds
    if not np.isfinite(bounds).all():
        raise InputError(
            layer.report.source,
            "crs",
            "reprojection gave invalid coordinates",
            "check the layer's CRS",
        )
    return out
