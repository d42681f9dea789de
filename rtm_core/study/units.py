"""Spatial units of analysis: a grid over a boundary, or uploaded points/lines/polygons.

Every unit has a stable ``unit_id``, a representative point (cell centre, segment midpoint,
polygon point-on-surface) and a measure (area in m², length in m, or 1 for points), which is
what the evaluation's "share of area" is taken over.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from rtm_core.config import MAX_GRID_CELLS
from rtm_core.errors import InputError
from rtm_core.io import geometry_family

__all__ = [
    "Units",
    "GridSpec",
    "grid_units",
    "units_from_layer",
    "count_crimes",
    "CountReport",
    "representative_points",
    "lonlat",
]


@dataclass(frozen=True)
class GridSpec:
    """Geometry of a square grid: origin (lower-left corner), cell size and shape.

    Attributes
    ----------
    x0, y0 : float
        Lower-left corner of cell (row 0, col 0); rows grow northwards.
    cell_size : float
        Side in metres.
    n_rows, n_cols : int
    """

    x0: float
    y0: float
    cell_size: float
    n_rows: int
    n_cols: int


@dataclass(frozen=True)
class Units:
    """The units of analysis.

    Attributes
    ----------
    frame : GeoDataFrame
        ``unit_id`` and geometry (plus ``row``/``col`` for grids and any fixed covariates).
    kind : {"grid", "polygon", "line", "point"}
    points : ndarray of shape (n, 2)
        Representative point of each unit (working CRS, metres).
    measure : ndarray of shape (n,)
        Area (m²) for grids and polygons, length (m) for lines, 1 for points.
    crs : pyproj.CRS
    grid : GridSpec or None
        Set for grid units.
    """

    frame: gpd.GeoDataFrame
    kind: str
    points: np.ndarray
    measure: np.ndarray
    crs: CRS
    grid: GridSpec | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def unit_ids(self) -> np.ndarray:
        """The ``unit_id`` column as an array."""
        return self.frame["unit_id"].to_numpy()

    @property
    def measure_name(self) -> str:
        """What ``measure`` is: "area", "length" or "count"."""
        return {"grid": "area", "polygon": "area", "line": "length"}.get(self.kind, "count")


def grid_units(
    boundary: gpd.GeoDataFrame,
    cell_size: float,
    *,
    keep: str = "centre",
    max_cells: int = MAX_GRID_CELLS,
    source: str = "boundary",
) -> Units:
    """Lay a square grid over a boundary.

    Parameters
    ----------
    boundary : GeoDataFrame
        Study-area polygon(s) in a projected CRS (metres).
    cell_size : float
        Cell side in metres.
    keep : {"centre", "intersect"}
        Keep cells whose centre lies inside the boundary, or every cell touching it.
    max_cells : int
        Refuse grids (cells of the bounding box) larger than this (asked by accident?).
    source : str
        Name for messages.

    Returns
    -------
    Units
        Kind "grid", ``unit_id = row * n_cols + col``, cell centres as points.
    """
    if not np.isfinite(cell_size) or cell_size <= 0:
        raise InputError(
            source, "cell_size", f"must be > 0 metres, got {cell_size!r}", "use e.g. 150"
        )
    area = _study_area(boundary, source)
    spec = _grid_spec(area, cell_size, max_cells, source)
    n_rows, n_cols, minx, miny = spec.n_rows, spec.n_cols, spec.x0, spec.y0
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    cx = minx + (cols + 0.5) * cell_size
    cy = miny + (rows + 0.5) * cell_size
    shapely.prepare(area)
    if keep == "centre":
        inside = shapely.contains_xy(area, cx, cy)
    elif keep == "intersect":
        boxes = shapely.box(
            cx - cell_size / 2, cy - cell_size / 2, cx + cell_size / 2, cy + cell_size / 2
        )
        inside = shapely.intersects(area, boxes)
    else:
        raise InputError(source, "keep", f"unknown value {keep!r}", 'use "centre" or "intersect"')
    if not inside.any():
        raise InputError(
            source, "cell_size", "no cell centre falls inside the boundary", "use smaller cells"
        )
    rows, cols, cx, cy = rows[inside], cols[inside], cx[inside], cy[inside]
    half = cell_size / 2
    geometry = shapely.box(cx - half, cy - half, cx + half, cy + half)
    frame = gpd.GeoDataFrame(
        {"unit_id": rows * n_cols + cols, "row": rows, "col": cols},
        geometry=geometry,
        crs=boundary.crs,
    )
    points = np.column_stack([cx, cy])
    measure = np.full(len(frame), cell_size * cell_size)
    return Units(frame, "grid", points, measure, boundary.crs, spec)


def _study_area(boundary: gpd.GeoDataFrame, source: str):
    """The boundary's polygons as one valid geometry with an area."""
    polygons = boundary.geometry[boundary.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        raise InputError(
            source, "geometry", "holds no polygon", "use the study-area polygon as boundary"
        )
    area = shapely.make_valid(shapely.union_all(polygons.values))
    if area.is_empty or area.area <= 0:
        raise InputError(
            source, "geometry", "has zero area", "use the study-area polygon as boundary"
        )
    return area


def _grid_spec(area, cell_size: float, max_cells: int, source: str) -> GridSpec:
    """The grid over ``area``'s bounding box, refused when too large or too coarse."""
    minx, miny, maxx, maxy = area.bounds
    n_cols = int(np.ceil((maxx - minx) / cell_size))
    n_rows = int(np.ceil((maxy - miny) / cell_size))
    if n_cols * n_rows > max_cells:
        raise InputError(
            source,
            "cell_size",
            f"{cell_size:g} m cells make a {n_rows:,} x {n_cols:,} grid (> {max_cells:,} cells)",
            "use a larger cell size, or confirm the size by raising units.max_cells "
            "(rtm: --allow-large-grid)",
        )
    if cell_size > max(maxx - minx, maxy - miny):
        raise InputError(
            source,
            "cell_size",
            f"{cell_size:g} m is larger than the study area "
            f"({maxx - minx:.0f} x {maxy - miny:.0f} m)",
            "use a cell size well below the area's width (e.g. 100-300 m)",
        )
    return GridSpec(float(minx), float(miny), float(cell_size), n_rows, n_cols)


def representative_points(geometry) -> np.ndarray:
    """The representative point of each geometry: the one place this is defined.

    Polygons: a point on their surface (inside even for concave shapes); lines: their midpoint
    along the line (a vertex can lie far from most of a segment); points: the point (the
    centroid of a multipoint).

    Parameters
    ----------
    geometry : array-like of shapely geometries

    Returns
    -------
    ndarray of shapely Points
    """
    geometry = np.asarray(geometry)
    kind = shapely.get_type_id(geometry)
    points = shapely.point_on_surface(geometry)
    lines = np.isin(kind, (1, 2, 5))
    if lines.any():
        points[lines] = shapely.line_interpolate_point(geometry[lines], 0.5, normalized=True)
    dots = np.isin(kind, (0, 4))
    if dots.any():
        points[dots] = shapely.centroid(geometry[dots])
    return points


def lonlat(points: np.ndarray, crs) -> np.ndarray:
    """WGS84 longitude and latitude of points given in ``crs`` (e.g. the units' points).

    Parameters
    ----------
    points : ndarray of shape (n, 2)
    crs : pyproj.CRS or str

    Returns
    -------
    ndarray of shape (n, 2)
        Longitude, latitude in degrees.
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return np.column_stack(to_wgs84.transform(points[:, 0], points[:, 1]))


def units_from_layer(
    frame: gpd.GeoDataFrame,
    *,
    id_column: str | None = None,
    fixed_columns: tuple[str, ...] = (),
    source: str = "units",
) -> Units:
    """Units brought by the user: street segments (lines), intersections (points), polygons.

    Parameters
    ----------
    frame : GeoDataFrame
        In the working (projected) CRS; one geometry family.
    id_column : str or None
        Column with unique ids; default: row number.
    fixed_columns : tuple of str
        Numeric columns kept as fixed covariates.
    source : str
        Name for messages.

    Returns
    -------
    Units
        Kind ``"line"``, ``"point"`` or ``"polygon"``; ``unit_id`` from ``id_column`` (else
        0 .. n-1), the ``fixed_columns`` as float, representative points, and as measure the
        area (m²) of polygons, the length (m) of lines, 1 for points.

    Raises
    ------
    InputError
        Mixed or unsupported geometry types, a missing or repeating id column, a missing or
        non-numeric fixed covariate, or a unit of zero area or length.
    """
    family = geometry_family(frame, source)
    if id_column is not None:
        if id_column not in frame.columns:
            raise InputError(
                source, id_column, "id column not found", f"use one of {list(frame.columns)[:10]}"
            )
        ids = frame[id_column]
        if ids.duplicated().any():
            raise InputError(
                source,
                id_column,
                f"id {ids[ids.duplicated()].tolist()[0]!r} repeats",
                "use a unique id column",
            )
    else:
        ids = pd.Series(np.arange(len(frame)))
    out = gpd.GeoDataFrame(
        {"unit_id": ids.to_numpy()}, geometry=frame.geometry.values, crs=frame.crs
    )
    for col in fixed_columns:
        if col not in frame.columns:
            raise InputError(source, col, "fixed covariate column not found", "check units.fixed")
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.isna().any():
            raise InputError(
                source, col, "fixed covariate has missing or non-numeric values", "fill them"
            )
        out[col] = values.to_numpy(dtype=float)
    geometry = out.geometry.values
    points = shapely.get_coordinates(representative_points(geometry))
    if family == "polygon":
        measure = shapely.area(geometry)
    elif family == "line":
        measure = shapely.length(geometry)
    else:
        measure = np.ones(len(out))
    if (measure <= 0).any():
        raise InputError(
            source, "geometry", "has units of zero area or length", "remove degenerate units"
        )
    return Units(out, family, points, np.asarray(measure, float), frame.crs)


@dataclass(frozen=True)
class CountReport:
    """How crimes were assigned to units for one period."""

    period: str
    n_crimes: int
    n_counted: int
    n_outside: int


def count_crimes(
    units: Units, crimes: np.ndarray, *, snap_distance: float = 50.0, period: str = "train"
) -> tuple[np.ndarray, CountReport]:
    """Count crime points per unit.

    Grid cells and polygons count the crimes inside them; point and line units take each
    crime at its nearest unit within ``snap_distance`` metres.

    Parameters
    ----------
    units : Units
    crimes : ndarray of shape (m, 2)
        Crime coordinates in the units' CRS.
    snap_distance : float
        For point and line units.
    period : str
        Label for the report.

    Returns
    -------
    counts : ndarray of int64, shape (n_units,)
    report : CountReport
        Crimes that landed in no unit are counted, not silently lost.
    """
    crimes = np.asarray(crimes, dtype=float).reshape(-1, 2)
    n = len(units)
    if units.kind == "grid":
        index = _grid_index(units, crimes)
    elif units.kind == "polygon":
        tree = shapely.STRtree(units.frame.geometry.values)
        pts = shapely.points(crimes)
        pairs = tree.query(pts, predicate="intersects")
        index = np.full(len(crimes), -1)
        # a point on a shared edge goes to the first unit only (tree order is arbitrary)
        pairs = pairs[:, np.lexsort((pairs[1], pairs[0]))]
        first = np.unique(pairs[0], return_index=True)[1]
        index[pairs[0, first]] = pairs[1, first]
    else:
        tree = shapely.STRtree(units.frame.geometry.values)
        pts = shapely.points(crimes)
        pairs = tree.query_nearest(pts, max_distance=snap_distance, all_matches=False)
        index = np.full(len(crimes), -1)
        index[pairs[0]] = pairs[1]
    inside = index >= 0
    counts = np.bincount(index[inside], minlength=n).astype(np.int64)
    report = CountReport(period, len(crimes), int(inside.sum()), int((~inside).sum()))
    return counts, report


def _grid_index(units: Units, crimes: np.ndarray) -> np.ndarray:
    """Position (in ``units.frame``) of the kept cell each crime falls in, or -1."""
    spec = units.grid
    col = np.floor((crimes[:, 0] - spec.x0) / spec.cell_size).astype(np.int64)
    row = np.floor((crimes[:, 1] - spec.y0) / spec.cell_size).astype(np.int64)
    valid = (col >= 0) & (col < spec.n_cols) & (row >= 0) & (row < spec.n_rows)
    lookup = np.full(spec.n_rows * spec.n_cols, -1, dtype=np.int64)
    lookup[units.frame["unit_id"].to_numpy()] = np.arange(len(units))
    index = np.full(len(crimes), -1, dtype=np.int64)
    index[valid] = lookup[row[valid] * spec.n_cols + col[valid]]
    return index
