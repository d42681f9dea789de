"""Exports of a run folder as bytes, ready for a download button or a file.

Units with their risk scores as GeoPackage, GeoJSON or CSV; the risk surface of a grid run
as a GeoTIFF; the IRR table as CSV; the self-contained HTML report; the manifest. CSV cells
that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage
return) are prefixed with an apostrophe. Nothing here imports streamlit.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rtm_core.errors import InputError
from rtm_core.io.gdal import geotiff_bytes, write_vector
from rtm_core.record.folder import REPORT_FILE, UNITS_LAYER, RunFiles
from rtm_core.results.report import render_report
from rtm_core.study.units import representative_points

__all__ = [
    "FORMULA_PREFIXES",
    "neutralise_formulas",
    "units_geopackage",
    "units_geojson",
    "units_csv",
    "risk_geotiff",
    "risk_columns",
    "coefficients_csv",
    "report_html",
    "manifest_json",
    "export_name",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LONLAT = "EPSG:4326"


def export_name(run: RunFiles, suffix: str) -> str:
    """A download file name: ``<run folder name>_<suffix>``.

    Parameters
    ----------
    run : RunFiles
    suffix : str
        What follows the run's name, e.g. ``"units.csv"``.

    Returns
    -------
    str
    """
    return f"{Path(run.path).name}_{suffix}"


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Make text cells and headers safe to open in a spreadsheet.

    Any text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe, so Excel/LibreOffice show it as text instead of running it (CSV
    formula injection). Numbers are left alone (a negative number is not a formula).

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    DataFrame
        A copy with text cells and column names neutralised.
    """

    def safe(value):
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return value

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(safe)
    out.columns = [safe(str(c)) for c in out.columns]
    return out


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8")


def risk_columns(run: RunFiles) -> list[str]:
    """Risk columns of the run's units (models first, then baselines), then the forecasts
    (``forecast_<model>``: expected crimes in the period after the test period)."""
    columns = list(run.units.columns)
    risks = [c for c in columns if c.startswith("risk_")]
    return risks + [c for c in columns if c.startswith("forecast_")]


def _units(run: RunFiles) -> gpd.GeoDataFrame:
    units = run.units
    if units.crs is None and run.record.crs:
        units = units.set_crs(run.record.crs)
    return units


def _vector_bytes(frame: gpd.GeoDataFrame, driver: str, layer: str | None = None) -> bytes:
    buffer = io.BytesIO()
    kwargs = {"layer": layer} if layer else {}
    write_vector(frame, buffer, driver=driver, **kwargs)
    return buffer.getvalue()


def units_geopackage(run: RunFiles) -> bytes:
    """The units with counts, risk scores and factors as a GeoPackage (layer ``units``).

    Parameters
    ----------
    run : RunFiles
        A loaded run (:func:`rtm_core.record.folder.load_run`).

    Returns
    -------
    bytes
        The GeoPackage file, in the run's working CRS.
    """
    return _vector_bytes(_units(run), "GPKG", layer=UNITS_LAYER)


def units_geojson(run: RunFiles) -> bytes:
    """The units with counts, risk scores and factors as GeoJSON in lon/lat (RFC 7946).

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    bytes
        A GeoJSON FeatureCollection in EPSG:4326.
    """
    return _vector_bytes(_units(run).to_crs(LONLAT), "GeoJSON")


def units_csv(run: RunFiles) -> bytes:
    """The units table as CSV: attributes plus the representative point of each unit.

    Columns ``x``, ``y`` (run CRS, metres) and ``lon``, ``lat`` give the cell centre,
    segment midpoint or point on the polygon's surface. Text cells are neutralised against
    spreadsheet formula injection.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    bytes
        UTF-8 CSV.
    """
    units = _units(run)
    points = _representative_points(units)
    table = pd.DataFrame(units.drop(columns=units.geometry.name))
    table["x"] = np.round(shapely.get_x(points.values), 2)
    table["y"] = np.round(shapely.get_y(points.values), 2)
    if units.crs is not None:
        lonlat = points.to_crs(LONLAT)
        table["lon"] = np.round(shapely.get_x(lonlat.values), 6)
        table["lat"] = np.round(shapely.get_y(lonlat.values), 6)
    return _csv_bytes(table)


def _representative_points(units: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return gpd.GeoSeries(representative_points(units.geometry.values), crs=units.crs)


def risk_geotiff(run: RunFiles, column: str | None = None) -> bytes:
    """The risk surface of a grid run as a single-band float32 GeoTIFF.

    The raster has the grid's shape, cell size and origin (``manifest["grid"]``) and the run
    CRS; cells outside the study area are NaN (nodata).

    Parameters
    ----------
    run : RunFiles
        A grid run (units with ``row``/``col`` and a ``grid`` entry in the manifest).
    column : str, optional
        Which units column to write (default: the first ``risk_`` column, the DL model's
        relative risk score when present).

    Returns
    -------
    bytes
        The GeoTIFF file.

    Raises
    ------
    InputError
        The run is not a grid run, or the column does not exist.
    """
    from affine import Affine

    grid = run.record.grid
    units = run.units
    label = Path(run.path).name
    if not grid or not {"row", "col"} <= set(units.columns):
        raise InputError(
            label,
            "grid",
            "is not a grid run, so it has no raster",
            "export the units as GeoPackage or GeoJSON instead",
        )
    column = column or (risk_columns(run) or [None])[0]
    if column not in units.columns:
        raise InputError(
            label,
            "column",
            f"has no column {column!r}",
            f"choose one of {', '.join(risk_columns(run)) or 'its risk columns'}",
        )
    n_rows, n_cols = int(grid["n_rows"]), int(grid["n_cols"])
    cell = float(grid["cell_size"])
    x0, y0 = float(grid["x0"]), float(grid["y0"])
    image = np.full((n_rows, n_cols), np.nan, dtype=np.float32)
    rows = units["row"].to_numpy(dtype=np.int64)
    cols = units["col"].to_numpy(dtype=np.int64)
    # grid rows grow northwards from y0; raster rows grow southwards from the top edge
    image[n_rows - 1 - rows, cols] = units[column].to_numpy(dtype=np.float32)
    profile = {
        "driver": "GTiff",
        "height": n_rows,
        "width": n_cols,
        "count": 1,
        "dtype": "float32",
        "crs": run.record.crs or (units.crs.to_string() if units.crs else None),
        "transform": Affine(cell, 0.0, x0, 0.0, -cell, y0 + n_rows * cell),
        "nodata": float("nan"),
        "compress": "deflate",
    }
    return geotiff_bytes(image, profile, column)


def coefficients_csv(run: RunFiles) -> bytes:
    """The coefficient table (coef, IRR with interval, selection share per model) as CSV."""
    return _csv_bytes(run.coefficients)


def report_html(run: RunFiles) -> bytes:
    """The run's self-contained HTML report (rendered from ``run`` if the file is missing)."""
    path = Path(run.path) / REPORT_FILE
    if path.is_file():
        return path.read_bytes()

    return render_report(run).encode("utf-8")


def manifest_json(run: RunFiles) -> bytes:
    """The run manifest (config, input hashes, versions, seeds, device, timings) as JSON,
    as the run folder holds it."""
    return json.dumps(run.manifest, indent=2, default=str).encode("utf-8")
