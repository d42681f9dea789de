"""The bad-input catalogue: one row per mistake a tired analyst makes, through every door.

Each row breaks one thing in a copy of a small synthetic city (see ``conftest.py``) and names
the one-line message that must come back. Every row is run

- through the library (``load_config`` + ``load_study`` + risk factors): an :class:`RTMError`
  whose message is one line naming the file, the field and the fix, input files untouched;
- through ``rtm features``: exit code 2, exactly one line on stderr, no traceback, an earlier
  output at ``--out`` left as it was and no partial file beside it;
- through ``rtm run``: exit code 2, an earlier run untouched, and the new run folder either
  absent (config errors) or a failed-run record that says why, never a run that looks finished;
- and, for rows whose fault lies in one file, as an upload (the bytes through ``read_layer``,
  as the app's Data page sends them).

``CATALOGUE`` is importable so the app's upload tests can run the same rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from rtm_core.cli import main
from rtm_core.config import LayerSource, load_config
from rtm_core.errors import RTMError
from rtm_core.factors.designs import build_features
from rtm_core.io import read_layer
from rtm_core.record.folder import list_runs
from rtm_core.study.load import load_study
from tests.hardening.conftest import edit_config, generator

# GDAL notes that a GeoPackage read from memory has no .gpkg name: harmless
pytestmark = pytest.mark.filterwarnings("ignore:.*non conformant file extension:RuntimeWarning")

CRS = "EPSG:32616"


@dataclass(frozen=True)
class BadInput:
    """One row of the catalogue.

    Attributes
    ----------
    id : str
        Short name of the mistake.
    build : callable
        ``build(city_folder)`` breaks one thing in the city and returns the config path.
    match : str
        Regex the one-line message must contain.
    file : str
        The file the message must name.
    field : str or None
        The field the message must show in brackets; None when the whole file is at fault.
    upload : str or None
        The broken file, when reading it alone (as an upload) gives the same message.
    env : dict
        Environment variables the row needs (e.g. a small upload limit).
    """

    id: str
    build: Callable[[Path], Path]
    match: str
    file: str
    field: str | None = None
    upload: str | None = None
    env: dict = dataclasses.field(default_factory=dict)


# ------------------------------------------------------------------------- builders


def _config(change: Callable[[dict], None]) -> Callable[[Path], Path]:
    return lambda folder: edit_config(folder, change)


def _set(section: str, **values) -> Callable[[Path], Path]:
    return _config(lambda data: data[section].update(values))


def _set_generator(set_name: str, /, **values) -> Callable[[Path], Path]:
    return _config(lambda data: generator(data, set_name).update(values))


def _history(test_end: str | None = None, **values) -> Callable[[Path], Path]:
    """Add ``[history]`` (and optionally end the test period early)."""

    def change(data: dict) -> None:
        data.setdefault("history", {}).update(values)
        if test_end:
            data["crimes"]["test"] = [data["crimes"]["test"][0], test_end]

    return _config(change)


def _crimes(change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> Callable[[Path], Path]:
    """Rewrite crimes.csv through a DataFrame (``change`` may return a new frame)."""

    def build(folder: Path) -> Path:
        path = folder / "crimes.csv"
        frame = pd.read_csv(path, dtype=str)
        out = change(frame)
        (frame if out is None else out).to_csv(path, index=False)
        return folder / "config.toml"

    return build


def _write(name: str, content: Callable[[Path], bytes | str] | str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        data = content if isinstance(content, str) else content(folder)
        path = folder / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return folder / "config.toml"

    return build


def _shapefile_parts(folder: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(folder / "vacant.zip") as handle:
        return {info.filename: handle.read(info) for info in handle.infolist()}


def _rezip(change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Callable[[Path], Path]:
    """Rebuild vacant.zip (a zipped shapefile) from its changed members."""

    def content(folder: Path) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for name, data in change(_shapefile_parts(folder)).items():
                out.writestr(zipfile.ZipInfo(name), data)
        return buffer.getvalue()

    return _write("vacant.zip", content)


def _without(suffix: str):
    return lambda parts: {n: d for n, d in parts.items() if not n.endswith(suffix)}


def _renamed(stem: str):
    return lambda parts: {n.replace("vacant", stem): d for n, d in parts.items()}


def _two_layers(parts):
    return {n.replace("vacant", s): d for n, d in parts.items() for s in ("north", "south")}


def _many_members(parts):
    return parts | {f"notes/note{i:03d}.txt": b"x" for i in range(250)}


def _bomb(folder: Path) -> bytes:
    """A zipped shapefile whose directory declares a 3.5 GB .dbf (a zip bomb's claim)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, data in _shapefile_parts(folder).items():
            out.writestr(zipfile.ZipInfo(name), data)
    raw = bytearray(buffer.getvalue())
    start = raw.find(b"PK\x01\x02")  # the central directory: patch each uncompressed size
    while start != -1:
        name_len = int.from_bytes(raw[start + 28 : start + 30], "little")
        if raw[start + 46 : start + 46 + name_len].endswith(b".dbf"):
            raw[start + 24 : start + 28] = (3_500_000_000).to_bytes(4, "little")
        start = raw.find(b"PK\x01\x02", start + 4)
    return bytes(raw)


def _xlsx(folder: Path) -> bytes:
    """What an Excel workbook looks like (a zip of XML parts)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("[Content_Types].xml", "<Types/>")
        out.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def _vector(name: str, geometries, crs: str = CRS, **columns) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        frame = gpd.GeoDataFrame(columns or None, geometry=list(geometries), crs=crs)
        path = folder / name
        path.unlink(missing_ok=True)
        if name.endswith(".geojson"):
            frame.to_file(path, driver="GeoJSON", engine="pyogrio")
        else:
            frame.to_file(path, layer=Path(name).stem, engine="pyogrio")
        return folder / "config.toml"

    return build


def _boundary(geometry) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        gpd.GeoDataFrame({"name": ["city"]}, geometry=[geometry], crs=CRS).to_file(
            folder / "boundary.gpkg", layer="boundary", engine="pyogrio"
        )
        return folder / "config.toml"

    return build


def _area_bounds(folder: Path) -> tuple[float, float, float, float]:
    return tuple(gpd.read_file(folder / "boundary.gpkg", engine="pyogrio").total_bounds)


def _bowtie(folder: Path) -> Path:
    x0, y0, x1, y1 = _area_bounds(folder)
    return _boundary(Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)]))(folder)


def _boundary_points(folder: Path) -> Path:
    x0, y0, _, _ = _area_bounds(folder)
    return _vector("boundary.gpkg", [Point(x0, y0), Point(x0 + 10, y0)])(folder)


def _mixed_liquor(folder: Path) -> Path:
    x0, y0, _, _ = _area_bounds(folder)
    geometries = [Point(x0 + 100, y0 + 100), box(x0 + 200, y0 + 200, x0 + 300, y0 + 300)]
    return _vector("liquor.geojson", geometries)(folder)


def _bars(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / "bars.csv"
        change(pd.read_csv(path)).to_csv(path, index=False)
        return folder / "config.toml"

    return build


def _pad_crimes(folder: Path) -> Path:
    """crimes.csv grown past 1 MB with a long notes column."""
    return _crimes(lambda f: f.assign(notes="x" * 600))(folder)


def _write_european(folder: Path) -> Path:
    """Written by a spreadsheet set to a European locale: ; between fields, , for decimals."""
    frame = pd.read_csv(folder / "crimes.csv")
    frame.to_csv(folder / "crimes.csv", sep=";", decimal=",", index=False)
    return folder / "config.toml"


def _write_european_garbage(folder: Path) -> Path:
    """A ; CSV whose X column is not a number in any locale ("440,050,07")."""
    frame = pd.read_csv(folder / "crimes.csv")
    frame["X"] = [f"{int(v)},{int(v * 100) % 100:02d},{i % 10}" for i, v in enumerate(frame["X"])]
    frame.to_csv(folder / "crimes.csv", sep=";", decimal=",", index=False)
    return folder / "config.toml"


def _flat_boundary(folder: Path) -> Path:
    """A boundary drawn along one line: invalid, and no area is left once repaired."""
    x0, y0, x1, _ = _area_bounds(folder)
    return _boundary(Polygon([(x0, y0), ((x0 + x1) / 2, y0), (x1, y0), (x0, y0)]))(folder)


def _write_cp437(folder: Path) -> Path:
    """An old DOS export: the street names hold bytes that are not UTF-8 nor Windows-1252."""
    frame = pd.read_csv(folder / "crimes.csv")
    frame["street"] = "Mühlenstraße"
    (folder / "crimes.csv").write_bytes(frame.to_csv(index=False).encode("cp437"))
    return folder / "config.toml"


def _crimes_lonlat_swapped(folder: Path) -> Path:
    """Crimes exported as lon/lat with the two columns' values swapped."""
    frame = pd.read_csv(folder / "crimes.csv")
    points = gpd.GeoSeries(gpd.points_from_xy(frame["X"], frame["Y"]), crs=CRS)
    lonlat = points.to_crs("EPSG:4326")
    frame = frame.assign(lon=lonlat.y.round(7), lat=lonlat.x.round(7)).drop(columns=["X", "Y"])
    frame.to_csv(folder / "crimes.csv", index=False)
    return edit_config(
        folder, lambda data: data["crimes"].update(x="lon", y="lat", crs="EPSG:4326")
    )


def _swap_periods(data: dict) -> None:
    crimes = data["crimes"]
    crimes["train"], crimes["test"] = crimes["test"], crimes["train"]


def _duplicate_names(data: dict) -> None:
    data["generators"][1]["name"] = data["generators"][0]["name"]


def _missing_config(folder: Path) -> Path:
    (folder / "config.toml").unlink()
    return folder / "config.toml"


def _broken_toml(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(path.read_text() + "\n[model\nseeds = 3\n")
    return path


def _delete(name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        (folder / name).unlink()
        return folder / "config.toml"

    return build


def _nan_inf(frame: pd.DataFrame) -> None:
    values = ["nan", "inf", "-inf", ""]
    frame["X"] = [values[i % 4] for i in range(len(frame))]


def _truncate(name: str) -> Callable[[Path], Path]:
    return _write(name, lambda folder: (folder / name).read_bytes()[:300])


# ------------------------------------------------------------------------- the table


B = BadInput
CATALOGUE: list[BadInput] = [
    # --- the config file
    B(
        "config-unknown-key",
        _set("units", colour="red"),
        r"\[units\.colour\]: unknown key\. Fix: remove it or use one of ",
        "config.toml",
        "units.colour",
    ),
    B(
        "config-wrong-type",
        _set("units", cell_size="150"),
        r"\[units\.cell_size\]: must be a number, got str '150'\. Fix: write `cell_size` as a",
        "config.toml",
        "units.cell_size",
    ),
    B(
        "config-not-toml",
        _broken_toml,
        r"config\.toml: is not valid TOML \(.*\)\. Fix: fix the syntax",
        "config.toml",
    ),
    B(
        "config-missing",
        _missing_config,
        r"config\.toml: file not found\. Fix: check the path",
        "config.toml",
    ),
    B(
        "bandwidths-empty",
        _set_generator("bars", bandwidths=[]),
        r"\[generators\[0\]\.bandwidths\]: is empty\. Fix: list at least one distance in metres",
        "config.toml",
        "generators[0].bandwidths",
    ),
    B(
        "bandwidths-negative",
        _set_generator("bars", bandwidths=[-50, 100]),
        r"\[generators\[0\]\.bandwidths\]: must be > 0 metres, got -50\. Fix: use positive",
        "config.toml",
        "generators[0].bandwidths",
    ),
    B(
        "bandwidths-in-feet",
        _set_generator("bars", bandwidths=[500, 1320, 2640, 26400]),
        r"\[generators\[0\]\.bandwidths\]: 26400 m is over 20 km \(feet by mistake\?\)\. "
        r"Fix: give bandwidths in metres \(1 ft = 0\.3048 m\)",
        "config.toml",
        "generators[0].bandwidths",
    ),
    B(
        "history-before-data",
        _history(lags=1),
        r"crimes\.csv \[history\.lags\]: 1 lag\(s\) before the training period need crimes "
        r"from 2020-01-01, but the earliest date is 2021-01-01 in the file\. Fix: lower history",
        "crimes.csv",
        "history.lags",
    ),
    B(
        "history-unequal-periods",
        _history("2022-06-30", lags=1),
        r"\[crimes\.test\]: with history the periods must be equally long: training "
        r"2021-01-01 – 2021-12-31 lasts 12 months, test 2022-01-01 – 2022-06-30 lasts 6 months",
        "config.toml",
        "crimes.test",
    ),
    B(
        "history-lags-not-integer",
        _history(lags=1.5),
        r"\[history\.lags\]: must be a positive integer, got 1\.5\. Fix: set `lags = 1`",
        "config.toml",
        "history.lags",
    ),
    B(
        "history-bandwidths-negative",
        _history(lags=1, bandwidths=[-150, 300]),
        r"\[history\.bandwidths\]: must be > 0 metres, got -150\. Fix: use positive",
        "config.toml",
        "history.bandwidths",
    ),
    B(
        "duplicate-layer-names",
        _config(_duplicate_names),
        r"\[generators\]: name 'bars' is used twice\. Fix: give each layer its own name",
        "config.toml",
        "generators",
    ),
    B(
        "generator-name-not-simple",
        _set_generator("bars", name="bars & pubs"),
        r"\[generators\[0\]\.name\]: 'bars & pubs' is not a simple name\. Fix: use letters",
        "config.toml",
        "generators[0].name",
    ),
    B(
        "threshold-nan",
        _config(lambda data: data.__setitem__("features", {"threshold": float("nan")})),
        r"\[features\.threshold\]: must be a finite number, got nan\. Fix: set e\.g\.",
        "config.toml",
        "features.threshold",
    ),
    B(
        "fixed-not-column-names",
        _set("units", fixed=[1]),
        r"\[units\.fixed\]: must list column names, got 1\. Fix: write `fixed = ",
        "config.toml",
        "units.fixed",
    ),
    B(
        "max-cells-not-positive",
        _set("units", max_cells=0),
        r"\[units\.max_cells\]: must be > 0, got 0\. Fix: set a positive `max_cells`",
        "config.toml",
        "units.max_cells",
    ),
    B(
        "report-option-wrong-type",
        _config(lambda data: data.__setitem__("report", {"include_incidents": "yes"})),
        r"\[report\.include_incidents\]: must be true or false, got str 'yes'\. Fix:",
        "config.toml",
        "report.include_incidents",
    ),
    B(
        "period-not-two-dates",
        _set("crimes", train=["2021-01-01"]),
        r"\[crimes\.train\]: must be two dates, got \['2021-01-01'\]\. Fix: write `train = ",
        "config.toml",
        "crimes.train",
    ),
    B(
        "model-kind-unknown",
        _config(lambda data: data.__setitem__("model", {"kinds": ["xgboost"]})),
        r"\[model\.kinds\]: unknown \['xgboost'\]\. Fix: use \"dl\" and/or \"classical\"",
        "config.toml",
        "model.kinds",
    ),
    # --- wrong file, wrong format
    B(
        "excel-renamed-csv",
        _write("bars.csv", _xlsx),
        r"bars\.csv \[file\]: is a zip archive \(an Excel \.xlsx workbook or a zipped layer\?\), "
        r"not CSV text \(renamed\?\)\. Fix: export the data as CSV",
        "bars.csv",
        "file",
        upload="bars.csv",
    ),
    B(
        "csv-renamed-gpkg",
        _write("boundary.gpkg", lambda folder: (folder / "crimes.csv").read_bytes()),
        r"boundary\.gpkg: cannot be read as a GIS layer \(.*\)\. Fix: check the file type",
        "boundary.gpkg",
        upload="boundary.gpkg",
    ),
    B(
        "truncated-geojson",
        _truncate("liquor.geojson"),
        r"liquor\.geojson: cannot be read as a GIS layer \(.*\)\. Fix: check the file type and "
        r"that it is complete",
        "liquor.geojson",
        upload="liquor.geojson",
    ),
    B(
        "file-not-found",
        _delete("bars.csv"),
        r"bars\.csv \[file\]: file not found\. Fix: check the path",
        "bars.csv",
        "file",
    ),
    # --- CSV dialects and numbers
    B(  # issue 9: a ; CSV with decimal commas is read (ACCEPTED); garbage numbers are not
        "semicolon-csv-garbage-numbers",
        _write_european_garbage,
        r"crimes\.csv \[X\]: is not numeric \(e\.g\. '\d+,\d+,\d+'\)\. Fix: remove thousands "
        r"separators and use \. for decimals",
        "crimes.csv",
        "X",
        upload="crimes.csv",
    ),
    B(
        "non-utf8-csv",
        _write_cp437,
        r"crimes\.csv: is not UTF-8 or Windows-1252 text\. Fix: save the CSV as UTF-8",
        "crimes.csv",
        upload="crimes.csv",
    ),
    B(
        "thousands-separators",
        _crimes(lambda f: f.assign(X=[f"{float(v):,.2f}" for v in f["X"]])),
        r"crimes\.csv \[X\]: is not numeric \(e\.g\. '4\d\d,\d\d\d\.\d\d'\)\. Fix: remove "
        r"thousands separators",
        "crimes.csv",
        "X",
        upload="crimes.csv",
    ),
    B(
        "duplicate-column-names",
        _crimes(lambda f: f.set_axis(["X", "Y", "X"], axis=1)),
        r"crimes\.csv \[X\]: column name appears twice\. Fix: rename one of the columns",
        "crimes.csv",
        "X",
        upload="crimes.csv",
    ),
    B(
        "coordinate-column-missing",
        _set("crimes", x="EASTING"),
        r"crimes\.csv \[x\]: column 'EASTING' not found \(columns: X, Y, OCCUR_DATE\)\. "
        r"Fix: set x to one of the file's columns",
        "crimes.csv",
        "x",
    ),
    B(
        "nan-inf-coordinates",
        _crimes(_nan_inf),
        r"crimes\.csv: has no usable features \(\d+ rows, none with valid coordinates\)\. Fix:",
        "crimes.csv",
        upload="crimes.csv",
    ),
    B(
        "empty-layer",
        _write("bars.csv", "longitude,latitude\n"),
        r"bars\.csv: has no usable features \(0 rows, none with valid coordinates\)\. Fix: check",
        "bars.csv",
        upload="bars.csv",
    ),
    # --- coordinates and CRS
    B(
        "lon-lat-swapped",
        _bars(lambda f: f.set_axis(["latitude", "longitude"], axis=1)),
        r"bars\.csv \[lon/lat\]: longitude and latitude look swapped \(swapped back, the points "
        r"fall on the study area\)\. Fix: swap x and y",
        "bars.csv",
        "lon/lat",
    ),
    B(
        "crimes-lon-lat-swapped",
        _crimes_lonlat_swapped,
        r"crimes\.csv \[lon/lat\]: longitude and latitude look swapped .*Fix: swap x and y",
        "crimes.csv",
        "lon/lat",
    ),
    B(
        "degrees-declared-metres",
        _set_generator("bars", x="longitude", y="latitude", crs=CRS),
        r"bars\.csv \[crs\]: coordinates look like lon/lat degrees but EPSG:32616 is in "
        r"metres/feet\. Fix: set crs = \"EPSG:4326\"",
        "bars.csv",
        "crs",
        upload="bars.csv",
    ),
    B(
        "metres-declared-degrees",
        _set("crimes", crs="EPSG:4326"),
        r"crimes\.csv \[crs\]: EPSG:4326 is in degrees but the values are not lon/lat\. "
        r"Fix: set crs to the projected CRS",
        "crimes.csv",
        "crs",
        upload="crimes.csv",
    ),
    B(
        "unknown-crs",
        _set("crimes", crs="EPSG:999999"),
        r"crimes\.csv \[crs\]: unknown CRS 'EPSG:999999'\. Fix: write it as \"EPSG:<code>\"",
        "crimes.csv",
        "crs",
        upload="crimes.csv",
    ),
    B(
        "working-crs-in-degrees",
        _set("units", crs="EPSG:4326"),
        r"boundary\.gpkg \[units\.crs\]: EPSG:4326 is in degrees; distances and bandwidths need "
        r"metres\. Fix: use a projected CRS",
        "boundary.gpkg",
        "units.crs",
    ),
    B(
        "missing-prj",
        _rezip(_without(".prj")),
        r"vacant\.zip \[crs\]: has no CRS \(missing \.prj\?\)\. Fix: set crs, e\.g\.",
        "vacant.zip",
        "crs",
        upload="vacant.zip",
    ),
    B(
        "unreadable-prj",
        _rezip(
            lambda parts: {n: b"garbage" if n.endswith(".prj") else d for n, d in parts.items()}
        ),
        r"vacant\.zip \[crs\]: has a \.prj that holds no readable CRS\. Fix: set crs, e\.g\. "
        r"\"EPSG:26971\", or replace the \.prj",
        "vacant.zip",
        "crs",
        upload="vacant.zip",
    ),
    # --- zips
    B(
        "zip-missing-shx",
        _rezip(_without(".shx")),
        r"vacant\.zip: vacant\.shx is missing from the zip\. Fix: add the \.shx file",
        "vacant.zip",
        upload="vacant.zip",
    ),
    B(
        "zip-two-layers",
        _rezip(_two_layers),
        r"vacant\.zip \[layer\]: holds several layers \(north, south\)\. Fix: choose one layer",
        "vacant.zip",
        "layer",
        upload="vacant.zip",
    ),
    B(
        "zip-path-traversal",
        _rezip(_renamed("../../vacant")),
        r"vacant\.zip: member '\.\./\.\./vacant\.\w+' escapes the folder\. Fix: re-create the zip",
        "vacant.zip",
        upload="vacant.zip",
    ),
    B(
        "zip-backslash-traversal",
        _rezip(_renamed("..\\..\\vacant")),
        r"vacant\.zip: member .* escapes the folder\. Fix: re-create the zip with plain names",
        "vacant.zip",
        upload="vacant.zip",
    ),
    B(
        "zip-too-many-members",
        _rezip(_many_members),
        r"vacant\.zip: holds 255 files \(limit 200\)\. Fix: zip only the layer's files",
        "vacant.zip",
        upload="vacant.zip",
    ),
    B(
        "zip-bomb",
        _write("vacant.zip", _bomb),
        r"vacant\.zip: unpacks to 3,3\d\d MB \(limit 1,907 MB\)\. Fix: zip only the layer's",
        "vacant.zip",
        upload="vacant.zip",
    ),
    # --- layers that do not fit the study
    B(
        "layer-outside-study-area",
        _bars(lambda f: f.assign(longitude=f["longitude"] + 1.0)),
        r"bars\.csv \[geometry\]: no feature lies within reach of the study area\. Fix: check "
        r"the layer's CRS",
        "bars.csv",
        "geometry",
    ),
    B(
        "crimes-outside-study-area",
        _crimes(lambda f: f.assign(X=[str(float(v) + 100_000) for v in f["X"]])),
        r"crimes\.csv \[geometry\]: no training crime falls inside the study area\. Fix: check "
        r"the crimes' CRS",
        "crimes.csv",
        "geometry",
    ),
    B(
        "all-crimes-in-one-unit",
        _crimes(lambda f: f.assign(X=f["X"].iloc[0], Y=f["Y"].iloc[0])),
        r"crimes\.csv \[geometry\]: every training crime \(\d+\) falls in one unit \(unit_id "
        r"\d+\), so risk cannot vary over space\. Fix: check the crimes' coordinates and CRS",
        "crimes.csv",
        "geometry",
    ),
    B(
        "mixed-geometry-types",
        _mixed_liquor,
        r"liquor\.geojson \[geometry\]: mixes geometry types \(Point, Polygon\)\. Fix: split",
        "liquor.geojson",
        "geometry",
    ),
    B(
        "gpkg-layer-not-named",
        _config(lambda data: generator(data, "transit").pop("layer")),
        r"generators\.gpkg \[layer\]: holds several layers \(.*transit.*\)\. Fix: name the layer",
        "generators.gpkg",
        "layer",
    ),
    B(
        "gpkg-layer-unknown",
        _set_generator("transit", layer="bus_stops"),
        r"generators\.gpkg:bus_stops \[layer\]: no layer named 'bus_stops' \(layers: .*\)\. "
        r"Fix: pick one of those",
        "generators.gpkg",
        "layer",
    ),
    # --- periods and dates
    B(
        "no-crimes-in-training-period",
        _set("crimes", train=["2019-01-01", "2019-12-31"], test=["2022-01-01", "2022-12-31"]),
        r"crimes\.csv \[crimes\.train\]: no crimes in the training period\. Fix: check the "
        r"period dates",
        "crimes.csv",
        "crimes.train",
    ),
    B(
        "no-crimes-in-test-period",
        _set("crimes", test=["2030-01-01", "2030-12-31"]),
        r"crimes\.csv \[crimes\.test\]: no crimes in the test period\. Fix: check the period",
        "crimes.csv",
        "crimes.test",
    ),
    B(
        "test-period-before-training",
        _config(_swap_periods),
        r"crimes\.csv \[crimes\.test\]: the test period starts before the training period "
        r"ends\. Fix: make the test period \(t\+1\) follow",
        "crimes.csv",
        "crimes.test",
    ),
    B(
        "period-ends-before-it-starts",
        _set("crimes", train=["2021-12-31", "2021-01-01"]),
        r"crimes\.csv \[crimes\.train\]: ends \(2021-01-01\) before it starts \(2021-12-31\)\. "
        r"Fix: swap the dates",
        "crimes.csv",
        "crimes.train",
    ),
    B(
        "date-column-missing",
        _set("crimes", date="DATE"),
        r"crimes\.csv \[DATE\]: date column not found \(columns: OCCUR_DATE\)\. Fix: set "
        r"crimes\.date",
        "crimes.csv",
        "DATE",
    ),
    B(
        "dates-unreadable",
        _crimes(lambda f: f.assign(OCCUR_DATE="sometime in spring")),
        r"crimes\.csv \[OCCUR_DATE\]: no date in the column could be read \(e\.g\. 'sometime in "
        r"spring'\)\. Fix: use dates like 2021-03-01",
        "crimes.csv",
        "OCCUR_DATE",
    ),
    # --- units and grid
    B(
        "cell-size-larger-than-area",
        _set("units", cell_size=5000),
        r"boundary\.gpkg \[cell_size\]: 5000 m is larger than the study area \(3000 x 3000 m\)\. "
        r"Fix: use a cell size well below",
        "boundary.gpkg",
        "cell_size",
    ),
    B(
        "million-cell-grid",
        _set("units", cell_size=2.5),
        r"boundary\.gpkg \[cell_size\]: 2\.5 m cells make a 1,20\d x 1,20\d grid \(> 1,000,000 "
        r"cells\)\. Fix: use a larger cell size, or confirm the size by raising units\.max_cells "
        r"\(rtm: --allow-large-grid\)",
        "boundary.gpkg",
        "cell_size",
    ),
    B(  # issue 9: invalid polygons are repaired (ACCEPTED); refused when no area is left
        "boundary-repair-leaves-no-area",
        _flat_boundary,
        r"boundary\.gpkg \[geometry\]: name 'city' is not a valid polygon \(Self-intersection\) "
        r"and repairing it leaves no area\. Fix: redraw that feature or remove it",
        "boundary.gpkg",
        "geometry",
    ),
    B(
        "boundary-not-a-polygon",
        _boundary_points,
        r"boundary\.gpkg \[geometry\]: the boundary must be a polygon\. Fix: upload the "
        r"study-area polygon",
        "boundary.gpkg",
        "geometry",
    ),
    # --- size
    B(
        "upload-over-the-limit",
        _pad_crimes,
        r"crimes\.csv \[file\]: is 1\.\d+ MB, over the 1 MB limit\. Fix: filter or split the "
        r"layer, or raise RTM_MAX_UPLOAD_MB",
        "crimes.csv",
        "file",
        upload="crimes.csv",
        env={"RTM_MAX_UPLOAD_MB": "1"},
    ),
]

IDS = [row.id for row in CATALOGUE]


def test_the_catalogue_is_complete():
    assert len(CATALOGUE) >= 30
    assert len(set(IDS)) == len(IDS)
    kinds = {
        "wrong file type": "excel-renamed-csv",
        "lat/lon swapped": "lon-lat-swapped",
        "degrees declared metres": "degrees-declared-metres",
        "semicolon CSV with garbage numbers": "semicolon-csv-garbage-numbers",
        "non-UTF-8 CSV": "non-utf8-csv",
        "thousands separators": "thousands-separators",
        "missing .prj": "missing-prj",
        "unreadable .prj": "unreadable-prj",
        "zip missing .shx": "zip-missing-shx",
        "zip with two layers": "zip-two-layers",
        "zip path traversal": "zip-path-traversal",
        "empty layer": "empty-layer",
        "layer outside the area": "layer-outside-study-area",
        "all crimes in one unit": "all-crimes-in-one-unit",
        "no crimes in training": "no-crimes-in-training-period",
        "test before training": "test-period-before-training",
        "duplicate layer names": "duplicate-layer-names",
        "duplicate column names": "duplicate-column-names",
        "bandwidths empty": "bandwidths-empty",
        "bandwidths negative": "bandwidths-negative",
        "bandwidths in feet": "bandwidths-in-feet",
        "cell larger than area": "cell-size-larger-than-area",
        "million-cell grid": "million-cell-grid",
        "boundary with no area left by repair": "boundary-repair-leaves-no-area",
        "mixed geometry types": "mixed-geometry-types",
        "NaN/inf coordinates": "nan-inf-coordinates",
        "upload over the limit": "upload-over-the-limit",
        "config unknown key": "config-unknown-key",
        "config wrong type": "config-wrong-type",
    }
    assert set(kinds.values()) <= set(IDS)


# ------------------------------------------------------------------------- the checks


def _files(folder: Path) -> dict[str, str]:
    """Content hash of every file under ``folder`` (to prove nothing was changed)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _check_message(row: BadInput, message: str) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    assert re.search(row.match, message), f"{row.id}: {message}"
    assert row.file in message, message
    assert re.search(r"\. Fix: \S.*$", message), message
    if row.field is not None:
        assert f"[{row.field}]" in message, message


def _library(config_path: Path) -> None:
    config = load_config(config_path)
    study = load_study(config)
    build_features(study, config.features)


@pytest.fixture(params=CATALOGUE, ids=IDS)
def bad(request, synth_city, monkeypatch) -> tuple[BadInput, Path]:
    """A row of the catalogue, built in a fresh copy of the city: (row, config path)."""
    row = request.param
    for name, value in row.env.items():
        monkeypatch.setenv(name, value)
    return row, row.build(synth_city)


def test_library(bad, synth_city):
    row, config_path = bad
    before = _files(synth_city)
    with pytest.raises(RTMError) as info:
        _library(config_path)
    _check_message(row, str(info.value))
    assert _files(synth_city) == before  # the inputs are never touched


def test_rtm_features(bad, tmp_path, capsys):
    row, config_path = bad
    out = tmp_path / "out" / "factors.parquet"
    out.parent.mkdir()
    out.write_bytes(b"an earlier output the analyst keeps")
    capsys.readouterr()

    code = main(["features", str(config_path), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 2, captured.err
    err = captured.err
    assert err.count("\n") == 1 and err.startswith("rtm: error: "), err
    assert "Traceback" not in err and captured.out == ""
    _check_message(row, err.removeprefix("rtm: error: ").rstrip("\n"))
    assert out.read_bytes() == b"an earlier output the analyst keeps"
    assert [p.name for p in out.parent.iterdir()] == ["factors.parquet"]  # no partial file


def test_rtm_run(bad, tmp_path, capsys):
    row, config_path = bad
    runs = tmp_path / "runs"
    earlier = runs / "earlier"
    earlier.mkdir(parents=True)
    (earlier / "manifest.json").write_text('{"status": "complete"}')
    before = _files(runs)
    capsys.readouterr()

    code = main(["run", str(config_path), "--out", str(runs / "new"), "--quiet"])

    captured = capsys.readouterr()
    assert code == 2, captured.err
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    message = err.removeprefix("rtm: error: ").rstrip("\n")
    _check_message(row, message)
    assert {k: v for k, v in _files(runs).items() if k.startswith("earlier")} == before
    listed = {r.name: r for r in list_runs(runs)}
    assert set(listed) <= {"earlier", "new"}
    assert not [p for p in runs.iterdir() if p.name.startswith(".")]  # no staging left
    if "new" in listed:  # data errors leave a failed-run record, never a finished-looking run
        assert listed["new"].status == "failed" and listed["new"].problem == message
        assert [p.name for p in (runs / "new").iterdir()] == ["manifest.json"]


UPLOADS = [row for row in CATALOGUE if row.upload]


@pytest.mark.parametrize("row", UPLOADS, ids=[row.id for row in UPLOADS])
def test_upload(row, synth_city, monkeypatch):
    for name, value in row.env.items():
        monkeypatch.setenv(name, value)
    config_path = row.build(synth_city)
    config = load_config(config_path)
    sources = [config.units.boundary, config.crimes.source] + [g.source for g in config.generators]
    source = next(s for s in sources if s is not None and s.path.name == row.upload)
    upload = dataclasses.replace(
        source, path=None, data=(synth_city / row.upload).read_bytes(), name=row.upload
    )
    with pytest.raises(RTMError) as info:
        read_layer(upload)
    _check_message(row, str(info.value))
    assert isinstance(upload, LayerSource)


# ------------------------------------------------- what is accepted, and said, not refused


def test_a_large_grid_is_built_once_confirmed(synth_city, tmp_path, capsys):
    # the city's 100 m grid has 900 cells: a limit of 100 stands in for the 1,000,000
    config_path = edit_config(synth_city, lambda data: data["units"].update(max_cells=100))
    with pytest.raises(RTMError, match=r"> 100 cells\)\. Fix: .*units\.max_cells"):
        load_study(load_config(config_path))
    out = tmp_path / "factors.parquet"
    assert main(["features", str(config_path), "--out", str(out)]) == 2
    assert "--allow-large-grid" in capsys.readouterr().err and not out.exists()
    assert main(["features", str(config_path), "--out", str(out), "--allow-large-grid"]) == 0
    assert len(pd.read_parquet(out)) == len(
        load_study(load_config(config_path), max_cells=900).units
    )
    edit_config(synth_city, lambda data: data["units"].update(max_cells=900))
    assert len(load_study(load_config(config_path)).units) > 0


def test_crimes_outside_both_periods_are_counted_not_dropped_silently(synth_city):
    def add_old_crimes(frame: pd.DataFrame) -> pd.DataFrame:
        old = frame.head(7).assign(OCCUR_DATE="2019-05-05")
        undated = frame.head(2).assign(OCCUR_DATE="unknown")
        return pd.concat([frame, old, undated], ignore_index=True)

    study = load_study(load_config(_crimes(add_old_crimes)(synth_city)))
    (crimes,) = [r for r in study.reads if r.source == "crimes.csv"]
    assert "7 rows dated outside both periods not used" in crimes.note
    assert "2 rows without a readable date dropped" in crimes.note
    assert crimes.n_dropped == 2


def test_excel_unicode_text_csv_is_read(tmp_path):
    text = "x\ty\tname\n440000\t4630000\tcafé\n440100\t4630100\tnaïve\n"
    source = LayerSource(data=text.encode("utf-16"), name="export.csv", x="x", y="y", crs=CRS)
    layer = read_layer(source)
    assert list(layer.frame["name"]) == ["café", "naïve"]


_APP_ROLE = {"crimes.csv": "crimes", "boundary.gpkg": "boundary"}


@pytest.mark.parametrize("row", UPLOADS, ids=[row.id for row in UPLOADS])
def test_app_upload_path(row, synth_city, monkeypatch):
    """The same files through the Data page's upload path (``rtm_app.dataset.add_layer``)."""
    from rtm_app.dataset import DataSet, add_layer

    for name, value in row.env.items():
        monkeypatch.setenv(name, value)
    config = load_config(row.build(synth_city))
    sources = [config.units.boundary, config.crimes.source] + [g.source for g in config.generators]
    source = next(s for s in sources if s is not None and s.path.name == row.upload)
    upload = dataclasses.replace(
        source, path=None, data=(synth_city / row.upload).read_bytes(), name=row.upload
    )
    role = _APP_ROLE.get(row.upload, "generator")
    extra = {"name": "uploaded"} if role == "generator" else {}
    if role == "crimes":
        extra = {
            "date": config.crimes.date,
            "train": config.crimes.train,
            "test": config.crimes.test,
        }
    data = DataSet.demo()
    with pytest.raises(RTMError) as info:
        add_layer(data, role, upload, **extra)
    _check_message(row, str(info.value))
    assert data == DataSet.demo()  # the data set in the session is unchanged


# ------------------------------------------ accepted with a note (issue 9: no GIS detours)


@dataclass(frozen=True)
class Accepted:
    """A row of what published data looks like and is read, with a note, not refused.

    Attributes
    ----------
    id : str
    build : callable
        ``build(city_folder)`` changes the city and returns the config path.
    note : str
        Regex the note on ``file``'s read report (and ``rtm check``) must contain.
    file : str
        The layer the note is on (its read-report source).
    role : str or None
        The layer's role for an upload through :func:`rtm_core.study.checks.check_layer`; None when
        the case needs the whole study (e.g. the boundary's CRS).
    """

    id: str
    build: Callable[[Path], Path]
    note: str
    file: str
    role: str | None = None


def _boundary_in_feet(folder: Path) -> Path:
    frame = gpd.read_file(folder / "boundary.gpkg", engine="pyogrio").to_crs("EPSG:3435")
    frame.to_file(folder / "boundary.gpkg", layer="boundary", engine="pyogrio")
    return folder / "config.toml"


def _gzip_crimes(folder: Path) -> Path:
    import gzip

    data = (folder / "crimes.csv").read_bytes()
    (folder / "crimes.csv.gz").write_bytes(gzip.compress(data))
    (folder / "crimes.csv").unlink()
    return edit_config(folder, lambda d: d["crimes"].update(file="crimes.csv.gz"))


def _zip_bars(folder: Path) -> Path:
    with zipfile.ZipFile(folder / "bars.zip", "w", zipfile.ZIP_DEFLATED) as out:
        out.write(folder / "bars.csv", "bars.csv")
    (folder / "bars.csv").unlink()
    return edit_config(folder, lambda d: generator(d, "bars").update(file="bars.zip"))


def _bars_xlsx(folder: Path) -> Path:
    pd.read_csv(folder / "bars.csv").to_excel(folder / "bars.xlsx", index=False)
    (folder / "bars.csv").unlink()
    return edit_config(folder, lambda d: generator(d, "bars").update(file="bars.xlsx"))


def _tz_dates(frame: pd.DataFrame) -> None:
    frame["OCCUR_DATE"] = [f"{d}T10:00:00-05:00" for d in frame["OCCUR_DATE"]]


def _no_crimes_crs(folder: Path) -> Path:
    return edit_config(folder, lambda d: d["crimes"].pop("crs"))


ACCEPTED: list[Accepted] = [
    Accepted(
        "feet-crs-boundary",
        _boundary_in_feet,
        r"boundary is in EPSG:3435 \(US survey foot\); working CRS EPSG:26971 \(metres\), "
        r"the same zone",
        "boundary.gpkg",
        "boundary",
    ),
    Accepted(
        "boundary-self-intersecting",
        _bowtie,
        r"repaired 1 invalid polygon \(name 'city': Self-intersection, area as drawn 0, now "
        r"[\d,]+\)",
        "boundary.gpkg",
        "boundary",
    ),
    Accepted(
        "semicolon-csv-decimal-comma",
        _write_european,
        r"semicolon-separated with decimal commas \(X, Y converted\)",
        "crimes.csv",
        "crimes",
    ),
    Accepted("gzipped-csv", _gzip_crimes, r"read from a gzipped CSV", "crimes.csv.gz", "crimes"),
    Accepted("zipped-csv", _zip_bars, r"read bars\.csv from the zip", "bars.zip", "generator"),
    Accepted(
        "tz-datetimes",
        _crimes(_tz_dates),
        r"[\d,]+ dates carry a UTC offset \(e\.g\. -05:00\); their local time is used",
        "crimes.csv",
        "crimes",
    ),
    Accepted(
        "xlsx-generator",
        _bars_xlsx,
        r"read from the Excel sheet 'Sheet1'",
        "bars.xlsx",
        "generator",
    ),
    Accepted(
        "bare-xy-fitting-the-boundary",
        _no_crimes_crs,
        r"no CRS given; x/y ranges match the boundary's, EPSG:32616 used",
        "crimes.csv",
    ),
]
ACCEPTED_IDS = [row.id for row in ACCEPTED]


def test_the_accepted_rows_are_complete():
    wanted = {"feet CRS", "invalid polygon", "; + decimal comma", ".csv.gz", "tz datetimes", "xlsx"}
    ids = {
        "feet CRS": "feet-crs-boundary",
        "invalid polygon": "boundary-self-intersecting",
        "; + decimal comma": "semicolon-csv-decimal-comma",
        ".csv.gz": "gzipped-csv",
        "tz datetimes": "tz-datetimes",
        "xlsx": "xlsx-generator",
    }
    assert set(ids) == wanted and set(ids.values()) <= set(ACCEPTED_IDS)
    assert len(set(ACCEPTED_IDS)) == len(ACCEPTED_IDS)
    assert not set(ACCEPTED_IDS) & set(IDS)  # accepted, so not in the refused catalogue


@pytest.mark.parametrize("row", ACCEPTED, ids=ACCEPTED_IDS)
def test_accepted_with_a_note(row, synth_city, capsys):
    config_path = row.build(synth_city)
    config = load_config(config_path)
    study = load_study(config)
    build_features(study, config.features)
    (report,) = [r for r in study.reads if r.source == row.file]
    assert re.search(row.note, report.note), report.note
    assert study.y_train.sum() > 0 and study.y_test.sum() > 0
    capsys.readouterr()
    assert main(["check", str(config_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(row.note, out) and "0 error(s)" in out, out


UPLOADED = [row for row in ACCEPTED if row.role]


@pytest.mark.parametrize("row", UPLOADED, ids=[row.id for row in UPLOADED])
def test_accepted_upload_is_checked_with_a_note(row, synth_city):
    """The same file as the Data page sends it (bytes), through ``check_layer``."""
    from rtm_core.study.checks import check_layer, errors

    config = load_config(row.build(synth_city))
    sources = [config.units.boundary, config.crimes.source] + [g.source for g in config.generators]
    source = next(s for s in sources if s is not None and s.label == row.file)
    upload = dataclasses.replace(
        source, path=None, data=(synth_city / row.file).read_bytes(), name=row.file
    )
    date = config.crimes.date if row.role == "crimes" else None
    problems = check_layer(upload, row.role, date=date)
    assert not errors(problems), problems
    assert any(re.search(row.note, p.problem) for p in problems), problems
