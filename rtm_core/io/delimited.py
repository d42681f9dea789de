"""Point layers from tables: coordinate columns, lon/lat detection, CRS of x/y columns."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from rtm_core.io.crs import crs_name, parse_crs, suggest_crs, xy_ranges
from rtm_core.io.tables import read_table, table_kind

#: words (a whole word of a column name, or the whole name without punctuation) that name a
#: coordinate column, in the languages crime data comes in; compared without case or accents
COORDINATE_WORDS = {
    "lon": (
        "lon",
        "long",
        "lng",
        "longitude",
        "longitud",
        "longitudine",
        "laengengrad",
        "langengrad",
        "xlon",
        "lonwgs84",
        "longitudewgs84",
    ),
    "lat": (
        "lat",
        "latitude",
        "latitud",
        "latitudine",
        "breitengrad",
        "ylat",
        "latwgs84",
        "latitudewgs84",
    ),
    "x": (
        "x",
        "easting",
        "east",
        "este",
        "rechtswert",
        "pointx",
        "xcoord",
        "xcoordinate",
        "xcoordinates",
        "coordx",
        "coordenadax",
        "utmx",
        "xutm",
        "xm",
    ),
    "y": (
        "y",
        "northing",
        "north",
        "norte",
        "hochwert",
        "pointy",
        "ycoord",
        "ycoordinate",
        "ycoordinates",
        "coordy",
        "coordenaday",
        "utmy",
        "yutm",
        "ym",
    ),
}
#: name prefixes of longitude and latitude words ("longitud_hecho", "latitudes")
_PREFIXES = {"lon": ("longitud",), "lat": ("latitud",)}


def read_csv(
    source: LayerSource, table: tuple[pd.DataFrame, list[str]] | None = None
) -> tuple[gpd.GeoDataFrame, str]:
    """Points from a table file (CSV, ``.csv.gz``, zipped CSV, Excel sheet).

    ``source.x``/``source.y`` name the coordinate columns (else lon/lat columns are looked
    for); x/y without a CRS are refused unless they look like lon/lat degrees (see
    :func:`fill_missing_crs` for the boundary's CRS).

    Parameters
    ----------
    source : LayerSource
    table : (DataFrame, list of str), optional
        The file as :func:`~rtm_core.io.tables.read_table` read it already (table, notes);
        read here when not given.

    Returns
    -------
    frame : GeoDataFrame
        The rows as points, coordinate columns dropped.
    note : str
        What was converted, detected or assumed ("; "-joined).
    """
    label = source.label
    table, notes = read_table(source) if table is None else (table[0], list(table[1]))
    columns = list(table.columns)
    x_col, y_col, crs = source.x, source.y, source.crs
    if x_col is None and y_col is None:
        x_col, y_col = detect_lonlat(columns, label)
        notes.append(f"lon/lat columns detected ({x_col}, {y_col})")
        crs = crs or "EPSG:4326"
    for key, col in (("x", x_col), ("y", y_col)):
        if col is None:
            raise InputError(label, key, "coordinate column not named", f"name the {key} column")
        if col not in table.columns:
            raise InputError(
                label,
                key,
                f"column {col!r} not found (columns: {', '.join(map(str, columns[:12]))})",
                f"set {key} to one of the file's columns",
            )
    x = numeric_column(table[x_col], label, x_col)
    y = numeric_column(table[y_col], label, y_col)
    if crs is None:
        if looks_like_degrees(x, y):
            crs = "EPSG:4326"
            notes.append("no CRS given; coordinates look like lon/lat, EPSG:4326 assumed")
        else:
            raise InputError(
                label, "crs", "no CRS given for the x/y columns", 'set crs, e.g. "EPSG:26971"'
            )
    crs_obj = parse_crs(crs, source=label)
    _check_coordinates_match_crs(x, y, crs_obj, label, x_col, y_col)
    geometry = gpd.points_from_xy(x, y)
    frame = gpd.GeoDataFrame(table.drop(columns=[x_col, y_col]), geometry=geometry, crs=crs_obj)
    return frame, "; ".join(notes)


def fill_missing_crs(
    source: LayerSource,
    boundary_crs: CRS | None,
    boundary_bounds,
    table: pd.DataFrame | None = None,
) -> tuple[LayerSource, str]:
    """Give a table's bare x/y columns the boundary's CRS when their ranges fit the boundary.

    Parameters
    ----------
    source : LayerSource
        Any layer; only tables with ``x`` and ``y`` named and no ``crs`` are looked at.
    boundary_crs : pyproj.CRS or None
        The boundary's CRS as read.
    boundary_bounds : tuple of float
        The boundary's bounds in that CRS.
    table : DataFrame, optional
        The table as read already (see :func:`read_csv`); read here when needed and not given.

    Returns
    -------
    source : LayerSource
        With ``crs`` set to the boundary's, or unchanged.
    note : str
        "no CRS given; x/y ranges match the boundary's, EPSG:… used", or "".
    """
    if source.crs is not None or source.x is None or source.y is None:
        return source, ""
    if table is None and table_kind(source) is None:
        return source, ""
    try:
        if table is None:
            table, _ = read_table(source)
        x = numeric_column(table[source.x], source.label, source.x)
        y = numeric_column(table[source.y], source.label, source.y)
    except (InputError, KeyError):  # the real read reports it, in the usual order
        return source, ""
    if looks_like_degrees(x, y):
        return source, ""
    suggested = suggest_crs(xy_ranges(x, y), boundary_crs, boundary_bounds)
    if suggested is None:
        return source, ""
    name = crs_name(suggested)
    return replace(source, crs=suggested.to_wkt() if name == suggested.name else name), (
        f"no CRS given; x/y ranges match the boundary's, {name} used"
    )


def numeric_column(column: pd.Series, label: str, name: str) -> np.ndarray:
    """A coordinate column as floats (blanks and a few bad cells become NaN).

    Parameters
    ----------
    column : Series
        Numbers, or text holding numbers.
    label : str
        The file, for the error.
    name : str
        The column, for the error.

    Returns
    -------
    ndarray of float

    Raises
    ------
    InputError
        More than half the filled cells are not numbers (the message shows one).
    """
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    text = column.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & text.notna() & (text != "")
    if bad.any() and bad.mean() > 0.5:
        sample = text[bad].iloc[0]
        hint = (
            "remove thousands separators and use . for decimals"
            if any(ch in str(sample) for ch in ",'")
            else "make the column numbers only"
        )
        raise InputError(label, name, f"is not numeric (e.g. {sample!r})", hint)
    return values.to_numpy(dtype=float, na_value=np.nan)


def name_words(name) -> list[str]:
    """The words of a column name, lower case and without accents, and the whole name
    without punctuation: ``"Coordenada X"`` -> ``["coordenada", "x", "coordenadax"]``,
    ``"pointX"`` -> ``["point", "x", "pointx"]``, ``"Längengrad"`` -> ``["langengrad"]``.
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)  # camelCase: a word each
    words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
    whole = "".join(words)
    return words + [whole] if len(words) > 1 else words


def coordinate_roles(name) -> set[str]:
    """What a column's name says it holds: any of ``"lon"``, ``"lat"``, ``"x"``, ``"y"``.

    A name says so when one of its words (see :func:`name_words`) is a word of
    :data:`COORDINATE_WORDS` ("longitud", "Latitude (WGS84)", "coord_x", "X Coordinate",
    "pointY"), or starts like a longitude or latitude word ("longitud_hecho").

    Parameters
    ----------
    name : object
        The column name.

    Returns
    -------
    set of str
        Empty when the name says nothing ("fecha", "id", "tipo").
    """
    words = name_words(name)
    roles = set()
    for role, names in COORDINATE_WORDS.items():
        prefixes = _PREFIXES.get(role, ())
        if any(w in names or w.startswith(prefixes or ("\0",)) for w in words):
            roles.add(role)
    return roles


def detect_lonlat(columns: list, label: str) -> tuple[str, str]:
    """The lon and lat columns by name, in any of the languages of :data:`COORDINATE_WORDS`
    ("lon", "longitude", "longitud", "lng" ...; "lat", "latitude", "latitud" ...).

    Parameters
    ----------
    columns : list
        The table's column names.
    label : str
        The file, for the error.

    Returns
    -------
    lon, lat : str
        The two columns as the table names them (the first of each, in table order).

    Raises
    ------
    InputError
        No such pair of columns.
    """
    lon = next((c for c in columns if "lon" in coordinate_roles(c)), None)
    lat = next((c for c in columns if "lat" in coordinate_roles(c) and c != lon), None)
    if lon is None or lat is None:
        raise InputError(
            label,
            "x",
            "no coordinate columns named and no lon/lat columns found",
            "name the x and y columns and their CRS",
        )
    return lon, lat


def looks_like_degrees(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether every finite coordinate pair lies within lon/lat range (|x| <= 180, |y| <= 90).

    Parameters
    ----------
    x, y : ndarray
        The candidate longitudes and latitudes; pairs with a NaN are not looked at.

    Returns
    -------
    bool
        False when no pair is finite.
    """
    finite = np.isfinite(x) & np.isfinite(y)
    return bool(finite.any()) and bool(
        (np.abs(x[finite]) <= 180).all() and (np.abs(y[finite]) <= 90).all()
    )


def _check_coordinates_match_crs(x, y, crs: CRS, label: str, x_col: str, y_col: str) -> None:
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return
    if crs.is_geographic:
        if (np.abs(y[finite]) > 90).any() and (np.abs(x[finite]) <= 90).all():
            raise InputError(
                label, f"{x_col}/{y_col}", "longitude and latitude look swapped", "swap x and y"
            )
        if (np.abs(x[finite]) > 180).any() or (np.abs(y[finite]) > 90).any():
            raise InputError(
                label,
                "crs",
                f"{crs.to_string()} is in degrees but the values are not lon/lat",
                "set crs to the projected CRS the coordinates are in",
            )
    elif looks_like_degrees(x, y):
        raise InputError(
            label,
            "crs",
            f"coordinates look like lon/lat degrees but {crs.to_string()} is in metres/feet",
            'set crs = "EPSG:4326"',
        )
