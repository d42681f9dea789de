"""Reading one layer from a path or upload bytes: vector files, size limit, read report."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rtm_core.config import LayerSource
from rtm_core.config.environment import MAX_UPLOAD_MB, positive_from_env
from rtm_core.errors import InputError
from rtm_core.io.crs import parse_crs
from rtm_core.io.delimited import read_csv
from rtm_core.io.gdal import read_vector, vector_layers
from rtm_core.io.tables import table_kind
from rtm_core.io.zips import MB, check_zip, megabytes

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb", ".parquet", ".gml"}
DEFAULT_MAX_UPLOAD_MB = 200.0  # as Streamlit's server.maxUploadSize


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

    @cached_property
    def geom_type(self) -> str:
        """ "point", "line" or "polygon" (the layer's single geometry family)."""
        return geometry_family(self.frame, self.report.source)

    @cached_property
    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """West, south, east and north of the features in lon/lat degrees.

        Worked out once per layer (a page that shows the extent redraws on every click, and
        reprojecting every feature of a large layer each time cost seconds).
        """
        west, south, east, north = self.frame.to_crs("EPSG:4326").total_bounds
        return float(west), float(south), float(east), float(north)


def max_upload_bytes() -> int:
    """The largest file read, in bytes: ``RTM_MAX_UPLOAD_MB`` megabytes (default 200).

    Raises
    ------
    ConfigError
        The variable is set but is not a positive number.
    """
    return int(positive_from_env(MAX_UPLOAD_MB, DEFAULT_MAX_UPLOAD_MB, example="200") * MB)


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
            f"is {megabytes(size)} MB, over the {megabytes(limit)} MB limit",
            f"filter or split the layer, or raise {MAX_UPLOAD_MB}",
        )


def list_layers(source: LayerSource) -> list[str]:
    """Layer names in a (multi-layer) vector file such as a GeoPackage."""
    try:
        return vector_layers(_vector_input(source))
    except Exception:
        return []


def read_layer(
    source: LayerSource, *, table: tuple[pd.DataFrame, list[str]] | None = None
) -> Layer:
    """Read one layer from a path or upload bytes.

    Parameters
    ----------
    source : LayerSource
        Path or bytes plus layer name, CSV coordinate columns and CRS.
    table : (DataFrame, list of str), optional
        A table file as :func:`~rtm_core.io.tables.read_table` read it already (table,
        notes), so a caller that looked at the table first does not read the file again.

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
    if table is not None or table_kind(source) is not None:
        frame, note = read_csv(source, table)
    elif suffix in VECTOR_SUFFIXES or source.data is None:
        frame, note = _read_vector(source, suffix)
    else:
        raise InputError(
            label,
            None,
            f"unsupported file type {suffix!r}",
            "upload CSV (also .csv.gz or zipped), Excel .xlsx, GeoJSON, GeoPackage or a "
            "zipped shapefile",
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

    Parameters
    ----------
    frame : GeoDataFrame
    source : str
        The layer's name, for the error.

    Returns
    -------
    str

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


def _suffix(source: LayerSource) -> str:
    name = source.name or (source.path.name if source.path else "")
    if not name and source.path is not None:
        name = str(source.path)
    return Path(name).suffix.lower()


def _vector_input(source: LayerSource):
    if source.data is not None:
        return io.BytesIO(source.data)
    return str(source.path)


def _read_vector(source: LayerSource, suffix: str) -> tuple[gpd.GeoDataFrame, str]:
    label = source.label
    if source.data is None and source.path is not None and not Path(source.path).exists():
        raise InputError(label, "file", "file not found", "check the path")
    if suffix == ".zip":
        flat = check_zip(source)
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
            frame = read_vector(_vector_input(source), **kwargs)
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
