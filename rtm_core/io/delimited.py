"""CSV layers: delimiter and encoding sniffing, coordinate columns, lon/lat detection."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from rtm_core.io.crs import parse_crs

LON_NAMES = ("lon", "long", "lng", "longitude", "x_lon")
LAT_NAMES = ("lat", "latitude", "y_lat")
# first bytes of files that are often renamed to .csv by mistake
_NOT_TEXT = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook or a zipped layer?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"SQLite format 3\x00", "a GeoPackage/SQLite database"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def read_csv(source: LayerSource) -> tuple[gpd.GeoDataFrame, str]:
    label = source.label
    raw = source.data if source.data is not None else _read_bytes(source)
    for magic, kind in _NOT_TEXT:
        if raw.startswith(magic):
            raise InputError(
                label,
                "file",
                f"is {kind}, not CSV text (renamed?)",
                "export the data as CSV (UTF-8), or upload the file under its real extension",
            )
    text = _decode(raw, label)
    try:
        table = pd.read_csv(io.StringIO(text), sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise InputError(
            label, None, f"is not a readable CSV ({exc})", "save it as comma-separated UTF-8"
        ) from None
    columns = list(table.columns)
    dupes = sorted({c for c in columns if columns.count(c) > 1} | _mangled_duplicates(columns))
    if dupes:
        raise InputError(label, dupes[0], "column name appears twice", "rename one of the columns")
    note = ""
    x_col, y_col, crs = source.x, source.y, source.crs
    if x_col is None and y_col is None:
        x_col, y_col = _detect_lonlat(columns, label)
        note = f"lon/lat columns detected ({x_col}, {y_col})"
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
    x = _numeric(table[x_col], label, x_col)
    y = _numeric(table[y_col], label, y_col)
    if crs is None:
        if _looks_like_degrees(x, y):
            crs, note = (
                "EPSG:4326",
                "no CRS given; coordinates look like lon/lat, EPSG:4326 assumed",
            )
        else:
            raise InputError(
                label, "crs", "no CRS given for the x/y columns", 'set crs, e.g. "EPSG:26971"'
            )
    crs_obj = parse_crs(crs, source=label)
    _check_coordinates_match_crs(x, y, crs_obj, label, x_col, y_col)
    geometry = gpd.points_from_xy(x, y)
    frame = gpd.GeoDataFrame(table.drop(columns=[x_col, y_col]), geometry=geometry, crs=crs_obj)
    return frame, note


def _mangled_duplicates(columns: list) -> set[str]:
    """pandas renames a repeated header 'a' to 'a.1': report those as duplicates."""
    names = set(map(str, columns))
    out = set()
    for col in names:
        base, dot, tail = col.rpartition(".")
        if dot and tail.isdigit() and base in names:
            out.add(base)
    return out


def _decode(raw: bytes, label: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" is UTF-16
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # NUL bytes: binary data that happens to decode
            return text
        break
    raise InputError(label, None, "is not UTF-8 or Windows-1252 text", "save the CSV as UTF-8")


def _numeric(column: pd.Series, label: str, name: str) -> np.ndarray:
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


def _detect_lonlat(columns: list, label: str) -> tuple[str, str]:
    lower = {str(c).strip().lower(): c for c in columns}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise InputError(
            label,
            "x",
            "no coordinate columns named and no lon/lat columns found",
            "name the x and y columns and their CRS",
        )
    return lon, lat


def _looks_like_degrees(x: np.ndarray, y: np.ndarray) -> bool:
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return False
    return bool((np.abs(x[finite]) <= 180).all() and (np.abs(y[finite]) <= 90).all())


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
    elif _looks_like_degrees(x, y):
        raise InputError(
            label,
            "crs",
            f"coordinates look like lon/lat degrees but {crs.to_string()} is in metres/feet",
            'set crs = "EPSG:4326"',
        )


def _read_bytes(source: LayerSource) -> bytes:
    try:
        return Path(source.path).read_bytes()
    except FileNotFoundError:
        raise InputError(source.label, "file", "file not found", "check the path") from None
    except OSError as exc:
        raise InputError(
            source.label, "file", f"cannot be read ({exc.strerror})", "check permissions"
        ) from None
