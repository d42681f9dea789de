"""The one file/CRS edge of rtm_core: read layers, bring them into one projected CRS, write.

Readers accept a path or the bytes of an upload. Supported: CSV (x/y or lon/lat columns; also
``.csv.gz``, a zip holding one CSV, ``;`` CSVs with decimal commas), Excel ``.xlsx`` sheets,
GeoJSON, GeoPackage (layer by name), shapefile, zipped shapefile, GeoParquet.
Rows with missing or non-finite coordinates are dropped and counted in a :class:`ReadReport`.
Files over the upload limit (``RTM_MAX_UPLOAD_MB``, default 200 MB) are refused before they
are parsed; zips are checked for names that escape the folder and for bombs.

Modules: :mod:`~rtm_core.io.layers` (read one layer), :mod:`~rtm_core.io.tables` (tables,
dates), :mod:`~rtm_core.io.delimited` (points from tables), :mod:`~rtm_core.io.zips` (zips),
:mod:`~rtm_core.io.crs` (working CRS), :mod:`~rtm_core.io.writing` (outputs),
:mod:`~rtm_core.io.gdal` (every call into GDAL, under one lock: the rest of the package and the
app reach GDAL only through it).
"""

from rtm_core.io.crs import (
    choose_crs,
    crs_name,
    crs_text,
    metre_counterpart,
    parse_crs,
    suggest_crs,
    to_working_crs,
    working_crs,
    xy_ranges,
)
from rtm_core.io.layers import (
    DEFAULT_MAX_UPLOAD_MB,
    Layer,
    ReadReport,
    geometry_family,
    list_layers,
    max_upload_bytes,
    read_layer,
)
from rtm_core.io.tables import parse_dates, read_table
from rtm_core.io.writing import write_gpkg, write_table
from rtm_core.io.zips import MAX_ZIP_MEMBERS, MAX_ZIP_UNPACKED

__all__ = [
    "write_gpkg",
    "ReadReport",
    "Layer",
    "read_layer",
    "geometry_family",
    "parse_crs",
    "choose_crs",
    "to_working_crs",
    "working_crs",
    "metre_counterpart",
    "suggest_crs",
    "xy_ranges",
    "crs_name",
    "crs_text",
    "read_table",
    "parse_dates",
    "write_table",
    "list_layers",
    "max_upload_bytes",
    "DEFAULT_MAX_UPLOAD_MB",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_UNPACKED",
]
