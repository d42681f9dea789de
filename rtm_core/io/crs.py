"""The working CRS: parse user CRSs, choose a projected CRS in metres (a feet CRS gives way to
its metre counterpart), suggest a CRS for bare x/y columns, reproject."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from pyproj import CRS
from pyproj.database import query_crs_info
from pyproj.enums import PJType
from pyproj.exceptions import CRSError

from rtm_core.errors import InputError

if TYPE_CHECKING:
    from rtm_core.io.layers import Layer

METRE_UNITS = ("metre", "meter")
_UNIT_SUFFIX = re.compile(
    r"\s*\((?:ftUS|ft|ftIn|ftCla|ftSe|ftGC|ft US|US survey foot|foot|feet)\)$"
)


def parse_crs(value: str | int | CRS, *, source: str, field: str = "crs") -> CRS:
    """Parse a user-given CRS (``"EPSG:26971"``, ``26971``, WKT, PROJ string).

    Parameters
    ----------
    value : str, int or pyproj.CRS
        As the user wrote it.
    source : str
        The file or setting named in the error.
    field : str
        The key named in the error.

    Returns
    -------
    pyproj.CRS

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
    """The working CRS (see :func:`working_crs`), without the note.

    Parameters
    ----------
    configured : str or None
        ``units.crs``.
    anchor : GeoDataFrame
        The boundary or units layer as read.
    source : str
        The anchor's name, for messages.

    Returns
    -------
    pyproj.CRS
    """
    return working_crs(configured, anchor, source=source)[0]


def working_crs(
    configured: str | None, anchor: gpd.GeoDataFrame, *, source: str, role: str = "boundary"
) -> tuple[CRS, str]:
    """The working CRS and a note saying how it was chosen.

    Configured (``units.crs``) wins and must be projected in metres. Else the anchor layer's
    CRS when it is projected in metres; a projected CRS in feet (or any other unit) gives way
    to its metre counterpart (a state plane in US survey feet → the same zone in metres);
    where none exists, and for lon/lat anchors, the estimated UTM zone is used.

    Parameters
    ----------
    configured : str or None
        The ``units.crs`` setting.
    anchor : GeoDataFrame
        The boundary (grid units) or the units layer.
    source : str
        Name for messages.
    role : str
        What the anchor is, for the note ("boundary", "units layer").

    Returns
    -------
    crs : pyproj.CRS
    note : str
        Empty when the anchor's own CRS is used, else e.g. "boundary is in EPSG:3435 (US
        survey foot); working CRS EPSG:26971 (metres), the same zone".

    Raises
    ------
    InputError
        The configured CRS is unknown, geographic or not in metres.
    """
    if configured is not None:
        crs = parse_crs(configured, source=source, field="units.crs")
        _check_metric(crs, source)
        return crs, ""
    own = anchor.crs
    if own is not None and own.is_projected and _unit(own) in METRE_UNITS:
        return own, ""
    counterpart = metre_counterpart(own) if own is not None and own.is_projected else None
    if counterpart is not None:
        crs, how = counterpart, "the same zone"
    else:
        crs, how = anchor.estimate_utm_crs(), "the estimated UTM zone"
    unit = "degrees" if own is None or own.is_geographic else _unit(own)
    note = f"{role} is in {crs_name(own)} ({unit}); working CRS {crs_name(crs)} (metres), {how}"
    return crs, note


def _unit(crs: CRS) -> str:
    return crs.axis_info[0].unit_name if crs.axis_info else "metre"


def _check_metric(crs: CRS, source: str) -> None:
    if not crs.is_projected:
        raise InputError(
            source,
            "units.crs",
            f"{crs.to_string()} is in degrees; distances and bandwidths need metres",
            "use a projected CRS (e.g. a UTM zone) or leave crs empty to estimate one",
        )
    unit = _unit(crs)
    if unit not in METRE_UNITS:
        raise InputError(
            source,
            "units.crs",
            f"{crs.to_string()} measures in {unit}, bandwidths are metres",
            "choose a CRS in metres (e.g. the state plane's metre variant or UTM)",
        )


def crs_name(crs: CRS | None) -> str:
    """A CRS for messages: "EPSG:26971" where it has a code, else its name."""
    if crs is None:
        return "no CRS"
    code = crs.to_epsg(min_confidence=70)
    return f"EPSG:{code}" if code is not None else crs.name


def crs_text(crs: CRS) -> str:
    """A CRS as text that reads back as the same CRS: "EPSG:<code>" where it has one, else
    its WKT (a .prj without an authority code, e.g. a custom "Transverse_Mercator")."""
    name = crs_name(crs)
    return name if name.startswith("EPSG:") else crs.to_wkt()


@lru_cache(maxsize=1)
def _projected_by_name() -> dict[str, str]:
    """Name → EPSG code of every projected CRS in pyproj's database (read once, ~0.2 s)."""
    infos = query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS)
    return {info.name: info.code for info in infos if not info.deprecated}


def metre_counterpart(crs: CRS) -> CRS | None:
    """The same projection in metres: "NAD83 / Illinois East (ftUS)" → EPSG:26971.

    Looks the name without its unit suffix up in pyproj's database and accepts the match only
    when datum, method and every angular and scale parameter agree and the false easting and
    northing agree once converted to metres. None when no such CRS exists.
    """
    code = crs.to_epsg(min_confidence=70)
    if code is not None:
        crs = CRS.from_epsg(code)
    name = _UNIT_SUFFIX.sub("", crs.name).strip()
    if name == crs.name:
        return None
    match = _projected_by_name().get(name)
    if match is None:
        return None
    candidate = CRS.from_epsg(match)
    if _unit(candidate) not in METRE_UNITS or not _same_projection(crs, candidate):
        return None
    return candidate


def _same_projection(feet: CRS, metres: CRS) -> bool:
    a, b = feet.coordinate_operation, metres.coordinate_operation
    if a is None or b is None or a.method_name != b.method_name:
        return False
    if feet.geodetic_crs != metres.geodetic_crs:
        return False
    pa = {p.name: p for p in a.params}
    pb = {p.name: p for p in b.params}
    if set(pa) != set(pb):
        return False
    for key, p in pa.items():
        value = p.value * p.unit_conversion_factor
        other = pb[key].value * pb[key].unit_conversion_factor
        tolerance = 0.01 if p.unit_category == "linear" else 1e-9
        if abs(value - other) > tolerance * max(1.0, abs(other) * 1e-6):
            return False
    return True


def xy_ranges(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float] | None:
    """Robust ranges of coordinates (1st-99th percentile from 100 points on).

    Parameters
    ----------
    x, y : ndarray
        Coordinates (NaN where missing).

    Returns
    -------
    tuple of float or None
        ``(x0, y0, x1, y1)``; None when no pair is finite.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    q = (1, 99) if ok.sum() >= 100 else (0, 100)
    x0, x1 = np.percentile(x[ok], q)
    y0, y1 = np.percentile(y[ok], q)
    return float(x0), float(y0), float(x1), float(y1)


def suggest_crs(
    xy_ranges: tuple[float, float, float, float] | None,
    boundary_crs: CRS | None,
    boundary_bounds: tuple[float, float, float, float],
) -> CRS | None:
    """The boundary's CRS for x/y columns without one, when their ranges fit the boundary.

    The ranges fit when they overlap the boundary's box and lie within it grown by its size
    on every side (a layer may reach past the study area, not to another city).

    Parameters
    ----------
    xy_ranges : tuple of float or None
        ``(xmin, ymin, xmax, ymax)`` of the layer's coordinates (see :func:`xy_ranges`).
    boundary_crs : pyproj.CRS or None
        The boundary's CRS as read (before any working CRS is chosen).
    boundary_bounds : tuple of float
        The boundary's bounds in ``boundary_crs``.

    Returns
    -------
    pyproj.CRS or None
        ``boundary_crs`` ("same as the boundary"), or None when the ranges do not fit.
    """
    if xy_ranges is None or boundary_crs is None or not boundary_crs.is_projected:
        return None
    bx0, by0, bx1, by1 = boundary_bounds
    x0, y0, x1, y1 = xy_ranges
    grow = max(bx1 - bx0, by1 - by0)
    overlaps = x0 <= bx1 and x1 >= bx0 and y0 <= by1 and y1 >= by0
    within = x0 >= bx0 - grow and x1 <= bx1 + grow and y0 >= by0 - grow and y1 <= by1 + grow
    return boundary_crs if overlaps and within else None


def to_working_crs(layer: Layer, crs: CRS) -> gpd.GeoDataFrame:
    """Reproject a layer's features to the working CRS.

    Parameters
    ----------
    layer : Layer
        As read.
    crs : pyproj.CRS
        The working CRS.

    Returns
    -------
    GeoDataFrame
        The layer's frame itself when it is in ``crs`` already.

    Raises
    ------
    InputError
        The layer cannot be reprojected, or reprojection gave non-finite coordinates.
    """
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
