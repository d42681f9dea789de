"""The one file/CRS edge of rtm_core: read layers, bring them into one projected CRS, write.

Readers accept a path or the bytes of an upload. Supported: CSV (x/y or lon/lat columns),
GeoJSON, GeoPackage (layer by name), shapefile, zipped shapefile, GeoParquet.
Rows with missing or non-finite coordinates are dropped and counted in a :class:`ReadReport`.
Files over the upload limit (``RTM_MAX_UPLOAD_MB``, default 200 MB) are refused before they
are parsed; zips are checked for names that escape the folder and for bombs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import uuid
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from rtm_core.config import LayerSource
from rtm_core.errors import ConfigError, InputError

__all__ = [
    "ReadReport",
    "Layer",
    "read_layer",
    "parse_crs",
    "choose_crs",
    "to_working_crs",
    "write_table",
    "list_layers",
    "max_upload_bytes",
]

LON_NAMES = ("lon", "long", "lng", "longitude", "x_lon")
LAT_NAMES = ("lat", "latitude", "y_lat")
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb", ".parquet", ".gml"}
MAX_ZIP_MEMBERS = 200  # files in one zip
MAX_ZIP_UNPACKED = 2_000_000_000  # bytes a zip may unpack to (declared sizes)
MAX_UPLOAD_ENV = "RTM_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 200.0  # as Streamlit's server.maxUploadSize
MB = 1024 * 1024
# first bytes of files that are often renamed to .csv by mistake
_NOT_TEXT = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook or a zipped layer?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"SQLite format 3\x00", "a GeoPackage/SQLite database"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


@dataclass(frozen=True)
class ReadReport:
    """What happened to the rows of one layer on the way in.

    Attributes
    ----------
    source : str
        File (and layer) name.
    n_read : int
        Rows in the file.
    n_dropped : int
        Rows dropped for missing, empty or non-finite coordinates.
    n_kept : int
        Rows kept.
    crs : str
        CRS the layer was read in (before reprojection).
    note : str
        Anything the analyst should know (e.g. "lon/lat columns detected").
    """

    source: str
    n_read: int
    n_dropped: int
    n_kept: int
    crs: str
    note: str = ""


@dataclass(frozen=True)
class Layer:
    """A layer as read: its features and how reading went."""

    frame: gpd.GeoDataFrame
    report: ReadReport

    @property
    def geom_type(self) -> str:
        """ "point", "line" or "polygon" (the layer's single geometry family)."""
        return geometry_family(self.frame, self.report.source)


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


def max_upload_bytes() -> int:
    """The largest file read, in bytes: ``RTM_MAX_UPLOAD_MB`` megabytes (default 200).

    Raises
    ------
    ConfigError
        The variable is set but is not a positive number.
    """
    raw = os.environ.get(MAX_UPLOAD_ENV, "").strip()
    if not raw:
        return int(DEFAULT_MAX_UPLOAD_MB * MB)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise ConfigError(
            "environment", MAX_UPLOAD_ENV, f"must be a positive number, got {raw!r}", "e.g. 200"
        )
    return int(value * MB)


def _check_size(source: LayerSource) -> None:
    """Refuse a file over the upload limit before parsing it."""
    if source.data is not None:
        size = len(source.data)
    elif source.path is not None and Path(source.path).is_file():
        size = Path(source.path).stat().st_size
    else:
        return
    limit = max_upload_bytes()
    if size > limit:
        raise InputError(
            source.label,
            "file",
            f"is {_megabytes(size)} MB, over the {_megabytes(limit)} MB limit",
            f"filter or split the layer, or raise {MAX_UPLOAD_ENV}",
        )


def _megabytes(size: int) -> str:
    """Bytes as megabytes for messages: "3,338", "1.5", "0.01"."""
    value = size / MB
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def list_layers(source: LayerSource) -> list[str]:
    """Layer names in a (multi-layer) vector file such as a GeoPackage."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(_vector_input(source))]
    except Exception:
        return []


def read_layer(source: LayerSource) -> Layer:
    """Read one layer from a path or upload bytes.

    Parameters
    ----------
    source : LayerSource
        Path or bytes plus layer name, CSV coordinate columns and CRS.

    Returns
    -------
    Layer
        Features with valid, non-empty geometry and the read report.

    Raises
    ------
    InputError
        Unreadable file, missing layer or column, unknown CRS, no usable rows.
    """
    label = source.label
    suffix = _suffix(source)
    _check_size(source)
    if suffix in {".csv", ".txt", ".tsv"}:
        frame, note = _read_csv(source)
    elif suffix in VECTOR_SUFFIXES or source.data is None:
        frame, note = _read_vector(source, suffix)
    else:
        raise InputError(
            label,
            None,
            f"unsupported file type {suffix!r}",
            "upload CSV, GeoJSON, GeoPackage or a zipped shapefile",
        )
    n_read = len(frame)
    geometry = frame.geometry.values
    bad = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    coords_ok = np.ones(len(frame), dtype=bool)
    if (~bad).any():
        bounds = shapely.bounds(geometry[~bad])
        coords_ok[~bad] = np.isfinite(bounds).all(axis=1)
    keep = ~bad & coords_ok
    frame = frame.loc[keep].reset_index(drop=True)
    if len(frame) == 0:
        raise InputError(
            label,
            None,
            f"has no usable features ({n_read} rows, none with valid coordinates)",
            "check the file holds data and the coordinate columns are right",
        )
    crs_name = frame.crs.to_string() if frame.crs is not None else "none"
    report = ReadReport(label, n_read, int((~keep).sum()), len(frame), crs_name, note)
    return Layer(frame, report)


def geometry_family(frame: gpd.GeoDataFrame, source: str) -> str:
    """The one geometry family of a layer: "point", "line" or "polygon".

    Raises
    ------
    InputError
        The layer mixes families (e.g. points and polygons).
    """
    types = set(frame.geom_type.str.replace("Multi", "", regex=False).unique())
    families = {
        {"Point": "point", "LineString": "line", "Polygon": "polygon"}.get(t, t) for t in types
    }
    if len(families) != 1:
        raise InputError(
            source,
            "geometry",
            f"mixes geometry types ({', '.join(sorted(types))})",
            "split the layer so each file holds one type",
        )
    family = families.pop()
    if family not in {"point", "line", "polygon"}:
        raise InputError(
            source,
            "geometry",
            f"has unsupported geometry {family}",
            "use points, lines or polygons",
        )
    return family


# ------------------------------------------------------------------------------ CSV


def _suffix(source: LayerSource) -> str:
    name = source.name or (source.path.name if source.path else "")
    if not name and source.path is not None:
        name = str(source.path)
    return Path(name).suffix.lower()


def _read_csv(source: LayerSource) -> tuple[gpd.GeoDataFrame, str]:
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


# --------------------------------------------------------------------------- vector


def _read_bytes(source: LayerSource) -> bytes:
    try:
        return Path(source.path).read_bytes()
    except FileNotFoundError:
        raise InputError(source.label, "file", "file not found", "check the path") from None
    except OSError as exc:
        raise InputError(
            source.label, "file", f"cannot be read ({exc.strerror})", "check permissions"
        ) from None


def _vector_input(source: LayerSource):
    if source.data is not None:
        return io.BytesIO(source.data)
    return str(source.path)


def _check_zip(source: LayerSource) -> bytes | None:
    """Refuse zips whose names escape the folder, bombs, and zips with no/two shapefiles.

    Returns the zip re-packed with its shapefile at the root when the shapefile sits in a
    folder inside the zip ("compress folder"), which GDAL does not look into; else None.
    """
    try:
        handle = zipfile.ZipFile(
            io.BytesIO(source.data) if source.data is not None else source.path
        )
    except zipfile.BadZipFile:
        raise InputError(
            source.label, None, "is not a valid zip file", "re-create the zip"
        ) from None
    with handle:
        infos = handle.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(
            source.label,
            None,
            f"holds {len(infos):,} files (limit {MAX_ZIP_MEMBERS})",
            "zip only the layer's files (.shp, .shx, .dbf, .prj)",
        )
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_ZIP_UNPACKED:
        raise InputError(
            source.label,
            None,
            f"unpacks to {_megabytes(unpacked)} MB (limit {_megabytes(MAX_ZIP_UNPACKED)} MB)",
            "zip only the layer's files, or filter the layer first",
        )
    for info in infos:
        name = info.filename
        posix = name.replace("\\", "/")
        if posix.startswith("/") or ".." in posix.split("/") or ":" in name:
            raise InputError(
                source.label,
                None,
                f"member {name!r} escapes the folder",
                "re-create the zip with plain names",
            )
    # macOS "Compress" adds __MACOSX/ and ._name resource files: not layers
    n_members = len(infos)
    infos = [
        i
        for i in infos
        if "__MACOSX" not in Path(i.filename).parts and not Path(i.filename).name.startswith("._")
    ]
    stems = {}
    for info in infos:
        path = Path(info.filename)
        stems.setdefault(path.with_suffix("").as_posix(), set()).add(path.suffix.lower())
    shapes = {s: exts for s, exts in stems.items() if ".shp" in exts}
    others = [i for i in infos if Path(i.filename).suffix.lower() in {".gpkg", ".geojson", ".json"}]
    if not shapes and not others:
        raise InputError(
            source.label, None, "holds no shapefile (.shp)", "zip the .shp, .shx, .dbf and .prj"
        )
    if len(shapes) > 1 and source.layer is None:
        names = ", ".join(Path(s).name for s in sorted(shapes))
        raise InputError(
            source.label, "layer", f"holds several layers ({names})", "choose one layer"
        )
    for stem, exts in shapes.items():
        if ".shx" not in exts:
            raise InputError(
                source.label,
                None,
                f"{Path(stem).name}.shx is missing from the zip",
                "add the .shx file",
            )
    folders = {Path(stem).parent.as_posix() for stem in shapes}
    if len(folders) != 1 or others or (folders == {"."} and len(infos) == n_members):
        return None
    folder = folders.pop()
    prefix = "" if folder == "." else folder + "/"
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(source.data) if source.data is not None else source.path) as zin,
        zipfile.ZipFile(out, "w") as zout,
    ):
        for info in infos:
            if info.filename.startswith(prefix) and not info.is_dir():
                zout.writestr(info.filename[len(prefix) :], zin.read(info))
    return out.getvalue()


def _read_vector(source: LayerSource, suffix: str) -> tuple[gpd.GeoDataFrame, str]:
    label = source.label
    if source.data is None and source.path is not None and not Path(source.path).exists():
        raise InputError(label, "file", "file not found", "check the path")
    if suffix == ".zip":
        flat = _check_zip(source)
        if flat is not None:
            source = replace(source, data=flat)
    if suffix == ".gpkg" or source.layer is None:
        layers = list_layers(source)
        if source.layer is not None and layers and source.layer not in layers:
            raise InputError(
                label,
                "layer",
                f"no layer named {source.layer!r} (layers: {', '.join(layers)})",
                "pick one of those",
            )
        if source.layer is None and len(layers) > 1 and suffix == ".gpkg":
            raise InputError(
                label,
                "layer",
                f"holds several layers ({', '.join(layers)})",
                "name the layer to use",
            )
    try:
        if suffix == ".parquet":
            frame = gpd.read_parquet(_vector_input(source))
        else:
            kwargs = {"layer": source.layer} if source.layer is not None else {}
            frame = gpd.read_file(_vector_input(source), engine="pyogrio", **kwargs)
    except InputError:
        raise
    except Exception as exc:  # pyogrio/GDAL raise many types; all mean "cannot read"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if source.path is not None:  # GDAL quotes the full path: the name is enough
            first = first.replace(str(source.path), Path(source.path).name)
        first = first.split(";")[0].rstrip(".")[:160]
        raise InputError(
            label,
            None,
            f"cannot be read as a GIS layer ({first})",
            "check the file type and that it is complete",
        ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry is None:
        raise InputError(
            label, "geometry", "has no geometry column", "upload a spatial layer or a CSV with x/y"
        )
    note = ""
    if source.crs is not None:
        configured = parse_crs(source.crs, source=label)
        # as documented on LayerSource.crs: it replaces a missing or unrecognised .prj only
        # (units.crs is also the working CRS; it must not relabel a layer's real CRS)
        if frame.crs is None or frame.crs.to_epsg() is None:
            frame = frame.set_crs(configured, allow_override=True)
            note = f"CRS set to {source.crs} as configured"
        elif not frame.crs.equals(configured):
            note = f"read in the file's own CRS {frame.crs.to_string()}, not {source.crs}"
    elif frame.crs is None:
        if _has_prj(source, suffix):
            raise InputError(
                label,
                "crs",
                "has a .prj that holds no readable CRS",
                'set crs, e.g. "EPSG:26971", or replace the .prj with a good copy',
            )
        raise InputError(label, "crs", "has no CRS (missing .prj?)", 'set crs, e.g. "EPSG:26971"')
    return frame, note


def _has_prj(source: LayerSource, suffix: str) -> bool:
    """Whether a shapefile (plain or zipped) comes with a .prj (that GDAL could not read)."""
    try:
        if suffix == ".shp" and source.path is not None:
            return Path(source.path).with_suffix(".prj").is_file()
        if suffix == ".zip":
            data = source.data if source.data is not None else Path(source.path).read_bytes()
            with zipfile.ZipFile(io.BytesIO(data)) as handle:
                return any(n.lower().endswith(".prj") for n in handle.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return False


# ------------------------------------------------------------------------------ CRS


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


def write_table(frame: pd.DataFrame | gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write units and risk factors by extension: .gpkg, .geojson, .parquet or .csv.

    The file is written beside its place under a temporary name and renamed when complete, so
    a failed write (disk full, killed) never leaves a half-written file or spoils an older one.

    Raises
    ------
    InputError
        Unknown extension, geometry missing for .gpkg/.geojson, or the write failed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".gpkg", ".geojson", ".csv"}:
        raise InputError(
            str(path),
            None,
            f"unknown output type {suffix!r}",
            "use .gpkg, .geojson, .parquet or .csv",
        )
    if suffix in {".gpkg", ".geojson"} and not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(str(path), None, "needs unit geometry", "write .parquet or .csv")
    if path.is_dir():
        raise InputError(str(path), "--out", "is a folder", "give a file name, e.g. factors.gpkg")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        in_the_way = isinstance(exc, FileExistsError | NotADirectoryError)
        raise InputError(
            str(path.parent),
            "--out",
            "cannot be used as the output folder "
            f"({'a file is in the way' if in_the_way else exc.strerror})",
            "choose a writable folder",
        ) from None
    partial = path.with_name(f".{path.stem}.partial-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        if suffix == ".parquet":
            frame.to_parquet(partial, index=False)
        elif suffix in {".gpkg", ".geojson"}:
            driver = "GPKG" if suffix == ".gpkg" else "GeoJSON"
            frame.to_file(partial, driver=driver, layer=path.stem, engine="pyogrio")
        else:
            pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).to_csv(
                partial, index=False
            )
        os.replace(partial, path)
    except (OSError, pyogrio.errors.DataSourceError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:160]
        raise InputError(
            str(path),
            "--out",
            f"could not be written ({reason})",
            "free disk space or choose a writable folder",
        ) from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return path
