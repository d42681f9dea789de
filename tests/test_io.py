"""rtm_core.io: every input format from a path and from bytes, CRS handling, bad input."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import threading
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import Point, Polygon, box

from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from rtm_core.io import (
    ReadReport,
    choose_crs,
    geometry_family,
    list_layers,
    metre_counterpart,
    parse_crs,
    parse_dates,
    read_layer,
    read_table,
    suggest_crs,
    to_working_crs,
    working_crs,
    write_table,
    xy_ranges,
)
from rtm_core.io.tables import _SPACE, date_note, day_first, offset_note
from tests.conftest import (
    POINT_KINDS,
    POINTS_XY,
    WORK_CRS,
    X0,
    Y0,
    points_frame,
    source_for,
    to_lonlat,
    zip_shapefile,
)
from tests.hypothesis_profiles import examples

# GDAL notes that a GeoPackage read from memory has no .gpkg name: harmless
pytestmark = pytest.mark.filterwarnings("ignore:.*non conformant file extension:RuntimeWarning")

WORKING = CRS.from_user_input(WORK_CRS)
FORMATS = ["csv_xy", "csv_lonlat", "geojson", "gpkg", "shp", "zip"]


def _xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([frame.geometry.x, frame.geometry.y])


def _csv(text: str | bytes, name: str = "upload.csv", **kwargs) -> LayerSource:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return LayerSource(data=data, name=name, **kwargs)


XY = {"x": "x", "y": "y", "crs": WORK_CRS}


# ------------------------------------------------------------------------ formats


@pytest.mark.parametrize(
    ("fmt", "from_bytes"),
    # a bare .shp upload has no .shx/.dbf: shapefiles are uploaded zipped
    [(fmt, b) for fmt in FORMATS for b in (False, True) if not (fmt == "shp" and b)],
    ids=lambda v: ("bytes" if v else "path") if isinstance(v, bool) else v,
)
def test_every_format_reads_the_same_points(layer_files, fmt, from_bytes):
    path, kwargs = layer_files[fmt]
    layer = read_layer(source_for(path, from_bytes, **kwargs))

    assert layer.geom_type == "point"
    report = layer.report
    assert (report.n_read, report.n_dropped, report.n_kept) == (3, 0, 3)
    assert report.source.startswith(path.name)
    working = to_working_crs(layer, WORKING)
    assert working.crs.equals(WORKING)
    np.testing.assert_allclose(_xy(working), POINTS_XY, atol=1e-3)
    assert list(working["kind"]) == POINT_KINDS
    lonlat = to_lonlat(POINTS_XY)
    expected = (*lonlat.min(axis=0), *lonlat.max(axis=0))  # west, south, east, north
    np.testing.assert_allclose(layer.lonlat_bounds, expected, atol=1e-7)


def test_zip_from_bytes_under_upload_name(layer_files):
    path, _ = layer_files["zip"]
    layer = read_layer(LayerSource(data=path.read_bytes(), name="x.zip"))
    assert layer.report.source == "x.zip"
    assert layer.report.n_kept == 3
    assert layer.frame.crs.equals(WORKING)


def test_csv_lonlat_is_detected_and_reprojected(layer_files):
    path, _ = layer_files["csv_lonlat"]
    layer = read_layer(LayerSource(path=path, name=path.name))
    assert layer.frame.crs.equals(CRS.from_epsg(4326))
    assert "lon/lat columns detected (Longitude, Latitude)" in layer.report.note
    assert layer.report.crs == "EPSG:4326"
    np.testing.assert_allclose(_xy(to_working_crs(layer, WORKING)), POINTS_XY, atol=1e-3)


def test_csv_xy_keeps_attributes_and_drops_coordinate_columns(layer_files):
    path, kwargs = layer_files["csv_xy"]
    frame = read_layer(LayerSource(path=path, name=path.name, **kwargs)).frame
    assert "kind" in frame.columns
    assert "x" not in frame.columns and "y" not in frame.columns


def test_gpkg_layer_by_name_and_list_layers(layer_files):
    path, _ = layer_files["gpkg"]
    assert sorted(list_layers(LayerSource(path=path, name=path.name))) == ["area", "points"]
    area = read_layer(LayerSource(path=path, layer="area", name=path.name))
    assert area.geom_type == "polygon"
    assert area.report.source == "layers.gpkg:area"


@pytest.mark.parametrize("from_bytes", [False, True], ids=["path", "bytes"])
def test_multi_layer_gpkg_without_layer_name_is_refused(layer_files, from_bytes):
    path, _ = layer_files["gpkg"]
    with pytest.raises(InputError, match=r"layers\.gpkg \[layer\]: holds several layers") as info:
        read_layer(source_for(path, from_bytes))
    assert "area" in str(info.value) and "points" in str(info.value)
    assert "Fix: name the layer" in str(info.value)


def test_gpkg_unknown_layer_lists_the_layers(layer_files):
    path, _ = layer_files["gpkg"]
    with pytest.raises(InputError, match=r"no layer named 'nope' \(layers: .*points.*\).*Fix:"):
        read_layer(LayerSource(path=path, layer="nope", name=path.name))


def test_single_layer_gpkg_needs_no_layer_name(tmp_path, tiny_points):
    path = tmp_path / "one.gpkg"
    tiny_points.to_file(path, layer="only", engine="pyogrio")
    assert read_layer(LayerSource(path=path, name=path.name)).report.n_kept == 3


def test_shapefile_without_prj_needs_a_crs(layer_files):
    shp, _ = layer_files["shp"]
    shp.with_suffix(".prj").unlink()
    with pytest.raises(
        InputError, match=r"points\.shp \[crs\]: has no CRS \(missing \.prj\?\).*Fix:"
    ):
        read_layer(LayerSource(path=shp, name=shp.name))
    layer = read_layer(LayerSource(path=shp, name=shp.name, crs=WORK_CRS))
    assert layer.frame.crs.equals(WORKING)
    assert "CRS set to EPSG:26971" in layer.report.note


def test_configured_crs_replaces_an_unrecognised_prj_only(layer_files):
    shp, _ = layer_files["shp"]
    # the Chicago data's .prj: Illinois East written as a custom Transverse Mercator
    shp.with_suffix(".prj").write_text(
        'PROJCS["Transverse_Mercator",GEOGCS["GCS_GRS 1980(IUGG, 1980)",'
        'DATUM["D_unknown",SPHEROID["GRS80",6378137,298.257222101]],PRIMEM["Greenwich",0],'
        'UNIT["Degree",0.017453292519943295]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["latitude_of_origin",36.66666666666666],'
        'PARAMETER["central_meridian",-88.33333333333333],PARAMETER["scale_factor",0.999975],'
        'PARAMETER["false_easting",300000],PARAMETER["false_northing",0],UNIT["Meter",1]]'
    )
    plain = read_layer(LayerSource(path=shp, name=shp.name))
    assert plain.frame.crs.to_epsg() is None
    fixed = read_layer(LayerSource(path=shp, name=shp.name, crs=WORK_CRS))
    assert fixed.frame.crs.to_epsg() == 26971
    assert fixed.report.note == "CRS set to EPSG:26971 as configured"
    np.testing.assert_allclose(_xy(to_working_crs(plain, WORKING)), POINTS_XY, atol=1e-3)

    # a recognised CRS (GeoJSON is lon/lat) is not relabelled by a configured one
    geojson, _ = layer_files["geojson"]
    layer = read_layer(LayerSource(path=geojson, name=geojson.name, crs=WORK_CRS))
    assert layer.frame.crs.to_epsg() == 4326
    assert layer.report.note == "read in the file's own CRS EPSG:4326, not EPSG:26971"
    np.testing.assert_allclose(_xy(to_working_crs(layer, WORKING)), POINTS_XY, atol=1e-3)


# -------------------------------------------------------------------- dropped rows


def test_rows_without_finite_coordinates_are_dropped_and_counted():
    text = (
        "x,y,v\n"
        "350000,570000,1\n"
        ",570000,2\n"  # missing x
        "350100,,3\n"  # missing y
        "nan,570000,4\n"
        "inf,570000,5\n"
        "350000,-inf,6\n"
        "350100,570100,7\n"
    )
    layer = read_layer(_csv(text, **XY))
    assert layer.report == ReadReport("upload.csv", 7, 5, 2, "EPSG:26971", "")
    assert list(layer.frame["v"]) == [1, 7]


def test_vector_rows_with_missing_or_empty_geometry_are_dropped(tmp_path):
    frame = gpd.GeoDataFrame(
        {"v": [1, 2, 3]}, geometry=[Point(X0, Y0), None, Point()], crs=WORK_CRS
    )
    path = tmp_path / "holes.gpkg"
    frame.to_file(path, engine="pyogrio")
    report = read_layer(LayerSource(path=path, name=path.name)).report
    assert (report.n_read, report.n_dropped, report.n_kept) == (3, 2, 1)


# ---------------------------------------------------------------------------- CRS


def test_parse_crs_accepts_codes_and_refuses_nonsense():
    assert parse_crs("EPSG:26971", source="s").to_epsg() == 26971
    assert parse_crs(4326, source="s").to_epsg() == 4326
    with pytest.raises(InputError, match=r"s \[crs\]: unknown CRS 'EPSG:999999'.*Fix:"):
        parse_crs("EPSG:999999", source="s")


def test_choose_crs_keeps_a_projected_anchor():
    anchor = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 10, Y0 + 10)], crs=WORK_CRS)
    assert choose_crs(None, anchor, source="b").equals(WORKING)


def test_choose_crs_estimates_utm_for_a_lonlat_boundary():
    lonlat = to_lonlat(np.array([[X0, Y0], [X0 + 1000, Y0 + 1000]]))
    anchor = gpd.GeoDataFrame(geometry=[box(*lonlat[0], *lonlat[1])], crs="EPSG:4326")
    crs = choose_crs(None, anchor, source="b")
    assert crs.to_epsg() == 32616  # Chicago (87.7 W, 41.8 N) is in UTM zone 16 north


def test_choose_crs_configured_wins():
    anchor = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:4326")
    assert choose_crs("EPSG:26971", anchor, source="b").to_epsg() == 26971


@pytest.mark.parametrize(
    ("configured", "match"),
    [
        (
            "EPSG:4326",
            r"b \[units\.crs\]: EPSG:4326 is in degrees; distances .*Fix: use a projected",
        ),
        ("EPSG:2263", r"b \[units\.crs\]: EPSG:2263 measures in US survey foot.*Fix: choose a CRS"),
        ("EPSG:999999", r"b \[units\.crs\]: unknown CRS 'EPSG:999999'.*Fix:"),
    ],
    ids=["degrees", "feet", "unknown"],
)
def test_choose_crs_refuses_unusable_working_crs(configured, match):
    anchor = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 10, Y0 + 10)], crs=WORK_CRS)
    with pytest.raises(InputError, match=match):
        choose_crs(configured, anchor, source="b")


def test_mixed_crs_layers_meet_in_the_working_crs(layer_files, tiny_points):
    feet = tiny_points.to_crs("EPSG:3435")
    layers = {
        "lonlat": read_layer(LayerSource(path=layer_files["csv_lonlat"][0], name="ll.csv")),
        "geojson": read_layer(LayerSource(path=layer_files["geojson"][0], name="g.geojson")),
        "feet": read_layer(
            _csv(
                pd.DataFrame({"e": feet.geometry.x, "n": feet.geometry.y}).to_csv(index=False),
                x="e",
                y="n",
                crs="EPSG:3435",
            )
        ),
    }
    assert {name: layer.frame.crs.to_epsg() for name, layer in layers.items()} == {
        "lonlat": 4326,
        "geojson": 4326,
        "feet": 3435,
    }
    for layer in layers.values():
        np.testing.assert_allclose(_xy(to_working_crs(layer, WORKING)), POINTS_XY, atol=1e-3)


def test_to_working_crs_is_a_no_op_in_the_same_crs(layer_files):
    path, kwargs = layer_files["csv_xy"]
    layer = read_layer(LayerSource(path=path, name=path.name, **kwargs))
    assert to_working_crs(layer, WORKING) is layer.frame


# ---------------------------------------------------------------------- CSV dialects


def test_semicolon_csv_is_sniffed():
    layer = read_layer(_csv("x;y;v\n350000;570000;1\n350100;570100;2\n", **XY))
    np.testing.assert_allclose(_xy(layer.frame), [[350000, 570000], [350100, 570100]])


def test_cp1252_csv_still_reads():
    data = "x,y,name\n350000,570000,café\n350100,570100,naïve\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    layer = read_layer(_csv(data, **XY))
    assert list(layer.frame["name"]) == ["café", "naïve"]


def test_utf8_bom_csv_reads():
    layer = read_layer(_csv("\ufeffx,y\n350000,570000\n".encode(), **XY))
    assert layer.report.n_kept == 1


def test_lonlat_without_crs_is_assumed_wgs84():
    layer = read_layer(_csv("x,y\n-87.6,41.8\n-87.7,41.9\n", x="x", y="y"))
    assert layer.frame.crs.to_epsg() == 4326
    assert "EPSG:4326 assumed" in layer.report.note


# ------------------------------------------------------------------------ bad input


BAD_CSV = [
    pytest.param(
        "x,y\n350000,570000\n",
        {"x": "X", "y": "y", "crs": WORK_CRS},
        r"bad\.csv \[x\]: column 'X' not found \(columns: x, y\)\. Fix: set x",
        id="missing-column",
    ),
    pytest.param(
        "x,y\n350000,570000\n",
        {"x": "x", "y": "y", "crs": "EPSG:999999"},
        r"bad\.csv \[crs\]: unknown CRS 'EPSG:999999'\. Fix:",
        id="unknown-crs",
    ),
    pytest.param(
        "x,y\n350000,570000\n",
        {"x": "x", "y": "y"},
        r"bad\.csv \[crs\]: no CRS given for the x/y columns\. Fix: set crs",
        id="no-crs",
    ),
    pytest.param(
        "x,y\n-87.6,41.8\n-87.7,41.9\n",
        XY,
        r"bad\.csv \[crs\]: coordinates look like lon/lat degrees but EPSG:26971 is in "
        r"metres/feet\. Fix: set crs = \"EPSG:4326\"",
        id="projected-crs-but-degrees",
    ),
    pytest.param(
        "x,y\n350000,570000\n",
        {"x": "x", "y": "y", "crs": "EPSG:4326"},
        r"bad\.csv \[crs\]: EPSG:4326 is in degrees but the values are not lon/lat\. Fix:",
        id="degrees-crs-but-metres",
    ),
    pytest.param(
        # Los Angeles with the columns swapped: latitude -118 is impossible
        "lon,lat\n34.05,-118.24\n34.10,-118.30\n",
        {},
        r"bad\.csv \[lon/lat\]: longitude and latitude look swapped\. Fix: swap x and y",
        id="lat-lon-swapped",
    ),
    pytest.param(
        "x,y\n",
        XY,
        r"bad\.csv: has no usable features \(0 rows, none with valid coordinates\)\. Fix:",
        id="empty-layer",
    ),
    pytest.param(
        "x,y\n,\nnan,nan\n",
        XY,
        r"bad\.csv: has no usable features \(2 rows, none with valid coordinates\)\. Fix:",
        id="no-valid-coordinates",
    ),
    pytest.param(
        "",
        XY,
        r"bad\.csv: is not a readable CSV .*Fix:",
        id="empty-file",
    ),
    pytest.param(
        'x,y\n"350,000","570,000"\n"350,100","570,100"\n',
        XY,
        r"bad\.csv \[x\]: is not numeric \(e\.g\. '350,000'\)\. Fix: remove thousands separators",
        id="thousands-separators",
    ),
    pytest.param(
        "x,y,x\n350000,570000,1\n",
        XY,
        r"bad\.csv \[x\]: column name appears twice\. Fix: rename one",
        id="duplicate-column-names",
    ),
    pytest.param(
        "a,b\n1,2\n",
        {},
        r"bad\.csv \[x\]: no coordinate columns named and no lon/lat columns found\. Fix:",
        id="no-coordinate-columns",
    ),
    pytest.param(
        bytes(range(256)) * 8,
        XY,
        r"bad\.csv: is not UTF-8 or Windows-1252 text\. Fix: save the CSV as UTF-8",
        id="binary-garbage",
    ),
    pytest.param(
        b"\x1f\x8b\x08\x00" + b"\x00\x01\x02x,y\n" * 20,
        XY,
        r"bad\.csv: is not UTF-8 or Windows-1252 text\. Fix:",
        id="binary-with-nul-bytes",
    ),
]


@pytest.mark.parametrize(("content", "kwargs", "match"), BAD_CSV)
def test_bad_csv_is_refused_with_a_fix(content, kwargs, match):
    with pytest.raises(InputError, match=match) as info:
        read_layer(_csv(content, name="bad.csv", **kwargs))
    assert "bad.csv" in str(info.value) and "Fix:" in str(info.value)


def test_mostly_numeric_column_keeps_numbers_and_drops_text_rows():
    layer = read_layer(_csv("x,y\n350000,570000\nn/a,570000\n350100,570100\n", **XY))
    assert (layer.report.n_read, layer.report.n_dropped) == (3, 1)


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(InputError, match=r"gone\.gpkg \[file\]: file not found\. Fix: check"):
        read_layer(LayerSource(path=tmp_path / "gone.gpkg", name="gone.gpkg"))
    with pytest.raises(InputError, match=r"gone\.csv \[file\]: file not found\. Fix: check"):
        read_layer(LayerSource(path=tmp_path / "gone.csv", name="gone.csv", **XY))
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"this is not a geopackage" * 40)
    with pytest.raises(InputError, match=r"broken\.gpkg: cannot be read as a GIS layer.*Fix:"):
        read_layer(LayerSource(path=broken, name=broken.name))
    with pytest.raises(InputError, match=r"up\.geojson: cannot be read as a GIS layer.*Fix:"):
        read_layer(LayerSource(data=b"{not json", name="up.geojson"))


def test_unknown_file_type_upload():
    with pytest.raises(
        InputError, match=r"notes\.docx: unsupported file type '\.docx'\. Fix: upload"
    ):
        read_layer(LayerSource(data=b"PK\x03\x04 whatever", name="notes.docx"))


def test_zip_missing_shx(layer_files, tmp_path):
    shp, _ = layer_files["shp"]
    path = zip_shapefile(shp, tmp_path / "noshx.zip", skip={".shx"})
    for source in (source_for(path, False), source_for(path, True)):
        with pytest.raises(
            InputError, match=r"noshx\.zip: points\.shx is missing from the zip\. Fix:"
        ):
            read_layer(source)


def test_zip_with_two_layers(layer_files, tmp_path):
    shp, _ = layer_files["shp"]
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as handle:
        for part in shp.parent.glob("points.*"):
            if part.suffix != ".zip":
                handle.write(part, "a" + part.suffix)
                handle.write(part, "b" + part.suffix)
    with pytest.raises(
        InputError, match=r"two\.zip \[layer\]: holds several layers \(a, b\)\. Fix:"
    ):
        read_layer(LayerSource(data=path.read_bytes(), name="two.zip"))


@pytest.mark.parametrize("member", ["../evil", "/abs/evil", "C:evil"])
def test_zip_with_path_traversal_member(layer_files, tmp_path, member):
    shp, _ = layer_files["shp"]
    path = zip_shapefile(shp, tmp_path / "evil.zip", members=member)
    with pytest.raises(InputError, match=r"evil\.zip: member .* escapes the folder\. Fix:"):
        read_layer(LayerSource(path=path, name=path.name))


@pytest.mark.parametrize("from_bytes", [False, True], ids=["path", "bytes"])
def test_zip_of_a_folder_reads(layer_files, tmp_path, from_bytes):
    # "Compress folder" zips hold folder/points.shp; macOS adds __MACOSX/ and ._ files
    shp, _ = layer_files["shp"]
    path = zip_shapefile(
        shp,
        tmp_path / "folder.zip",
        members="points_2017/points",
        extra=[("__MACOSX/points_2017/._points.shp", b"junk"), ("points_2017/._points.shx", b"")],
    )
    layer = read_layer(source_for(path, from_bytes))
    assert layer.report.source == "folder.zip"
    assert layer.report.n_kept == 3
    np.testing.assert_allclose(_xy(layer.frame), POINTS_XY)


def test_zip_with_macos_junk_at_the_root_reads(layer_files, tmp_path):
    shp, _ = layer_files["shp"]
    path = zip_shapefile(shp, tmp_path / "mac.zip", extra=[("__MACOSX/._points.shp", b"junk")])
    assert read_layer(LayerSource(data=path.read_bytes(), name="mac.zip")).report.n_kept == 3


def test_zip_without_shapefile_and_broken_zip(tmp_path):
    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as handle:
        handle.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match=r"docs\.zip: holds no shapefile \(\.shp\)\. Fix:"):
        read_layer(LayerSource(path=path, name=path.name))
    with pytest.raises(InputError, match=r"bad\.zip: is not a valid zip file\. Fix:"):
        read_layer(LayerSource(data=b"not a zip at all", name="bad.zip"))


def test_mixed_geometry_types_are_refused(tmp_path):
    frame = gpd.GeoDataFrame(
        geometry=[Point(X0, Y0), Polygon([(X0, Y0), (X0 + 9, Y0), (X0, Y0 + 9)])], crs=WORK_CRS
    )
    path = tmp_path / "mixed.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    layer = read_layer(LayerSource(path=path, name=path.name))
    with pytest.raises(
        InputError,
        match=r"mixed\.geojson \[geometry\]: mixes geometry types \(Point, Polygon\).*Fix:",
    ):
        _ = layer.geom_type


def test_multi_and_single_parts_are_one_family(tmp_path):
    frame = gpd.GeoDataFrame(
        geometry=gpd.GeoSeries.from_wkt(["POINT (1 1)", "MULTIPOINT ((2 2), (3 3))"]), crs=WORK_CRS
    )
    assert geometry_family(frame, "s") == "point"


# --------------------------------------------------------------------------- write


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".csv", ".geojson"])
def test_write_table_round_trip(tmp_path, suffix):
    frame = points_frame(POINTS_XY, unit_id=[1, 2, 3], y_train=[0, 4, 1])
    path = write_table(frame, tmp_path / f"out{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(path)
        assert list(back.columns) == ["unit_id", "y_train"]
    elif suffix == ".parquet":
        back = gpd.read_parquet(path)
    else:
        back = gpd.read_file(path, engine="pyogrio")
    assert list(back["y_train"]) == [0, 4, 1]


def test_write_table_refuses_unknown_suffix_and_gpkg_without_geometry(tmp_path):
    frame = points_frame(POINTS_XY, unit_id=[1, 2, 3])
    with pytest.raises(InputError, match=r"out\.xlsx: unknown output type '\.xlsx'\. Fix:"):
        write_table(frame, tmp_path / "out.xlsx")
    with pytest.raises(InputError, match=r"needs unit geometry\. Fix: write \.parquet or \.csv"):
        write_table(pd.DataFrame({"unit_id": [1]}), tmp_path / "out.gpkg")


# ------------------------------------------------ issue 9: formats as analysts export them

CSV_TEXT = f"id,x,y\n1,{X0 + 10},{Y0 + 20}\n2,{X0 + 30},{Y0 + 40}\n"


@pytest.mark.parametrize("from_bytes", [False, True], ids=["path", "bytes"])
def test_gzipped_csv_is_read_with_a_note(tmp_path, from_bytes):
    path = tmp_path / "points.csv.gz"
    path.write_bytes(gzip.compress(CSV_TEXT.encode()))
    source = (
        LayerSource(data=path.read_bytes(), name=path.name, **XY)
        if from_bytes
        else LayerSource(path=path, name=path.name, **XY)
    )
    layer = read_layer(source)
    assert _xy(layer.frame).tolist() == [[X0 + 10, Y0 + 20], [X0 + 30, Y0 + 40]]
    assert "read from a gzipped CSV" in layer.report.note


def test_broken_gzip_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"bad\.csv\.gz \[file\]: is not a valid gzip file\. Fix"):
        read_layer(LayerSource(data=b"\x1f\x8bnot really", name="bad.csv.gz", **XY))


def test_zip_holding_one_csv_is_read(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("export/points.csv", CSV_TEXT)
        out.writestr("__MACOSX/export/._points.csv", "resource fork")
    layer = read_layer(LayerSource(data=buffer.getvalue(), name="points.zip", **XY))
    assert len(layer.frame) == 2 and "read points.csv from the zip" in layer.report.note


def test_zip_holding_two_csvs_asks_which(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("a.csv", CSV_TEXT)
        out.writestr("b.csv", CSV_TEXT)
    with pytest.raises(
        InputError, match=r"two\.zip \[layer\]: holds several CSV files \(a\.csv, b\.csv\)\. Fix"
    ):
        read_layer(LayerSource(data=buffer.getvalue(), name="two.zip", **XY))
    chosen = LayerSource(data=buffer.getvalue(), name="two.zip", layer="b.csv", **XY)
    assert "read b.csv from the zip" in read_layer(chosen).report.note


def test_a_zipped_csv_is_decompressed_once_per_read(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("points.csv", CSV_TEXT)
    reads = []
    real = zipfile.ZipFile.read
    monkeypatch.setattr(
        zipfile.ZipFile, "read", lambda self, name, pwd=None: reads.append(name) or real(self, name)
    )
    layer = read_layer(LayerSource(data=buffer.getvalue(), name="points.zip", **XY))
    assert len(layer.frame) == 2 and reads == ["points.csv"]  # was 3: two kind checks, one read


def test_semicolon_csv_with_decimal_commas_is_read():
    text = (
        "name;x;y;score\n"
        "A;440010,25;4630020,5;12,5\n"
        "B;440030;4630040;1.234,75\n"
        "C;440050,5;4630060,25;\n"
    )
    layer = read_layer(_csv(text, "eu.csv", **XY))
    assert _xy(layer.frame).tolist() == [
        [440010.25, 4630020.5],
        [440030.0, 4630040.0],
        [440050.5, 4630060.25],
    ]
    assert layer.frame["score"].iloc[:2].tolist() == [12.5, 1234.75]
    assert layer.frame["score"].isna().iloc[2]
    assert layer.frame["name"].tolist() == ["A", "B", "C"]
    assert "semicolon-separated with decimal commas (x, y, score converted)" in layer.report.note


def test_semicolon_csv_with_garbage_numbers_is_refused():
    text = "x;y\n1,2,3;4\n5,6,7;8\n"
    with pytest.raises(
        InputError, match=r"eu\.csv \[x\]: is not numeric \(e\.g\. '1,2,3'\)\. Fix: remove"
    ):
        read_layer(_csv(text, "eu.csv", x="x", y="y", crs=WORK_CRS))


def test_comma_csv_is_read_as_before():
    table, notes = read_table(_csv("a,b\n1.5,x\n2,y\n", "plain.csv"))
    assert table["a"].tolist() == [1.5, 2.0] and notes == []


@pytest.mark.parametrize("from_bytes", [False, True], ids=["path", "bytes"])
def test_excel_sheets_are_read(tmp_path, from_bytes):
    path = tmp_path / "points.xlsx"
    first = pd.DataFrame({"x": [X0 + 1.0], "y": [Y0 + 2.0]})
    second = pd.DataFrame({"x": [X0 + 5.0, X0 + 6.0], "y": [Y0 + 5.0, Y0 + 6.0]})
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        first.to_excel(writer, sheet_name="first", index=False)
        second.to_excel(writer, sheet_name="second", index=False)
    data = {"data": path.read_bytes()} if from_bytes else {"path": path}
    layer = read_layer(LayerSource(name=path.name, **data, **XY))
    assert len(layer.frame) == 1 and "read from the Excel sheet 'first'" in layer.report.note
    named = read_layer(LayerSource(name=path.name, layer="second", **data, **XY))
    assert len(named.frame) == 2
    with pytest.raises(
        InputError,
        match=r"points\.xlsx:third \[layer\]: no sheet named 'third' \(sheets: first, second\)",
    ):
        read_layer(LayerSource(name=path.name, layer="third", **data, **XY))


def test_broken_excel_is_refused():
    with pytest.raises(InputError, match=r"x\.xlsx \[file\]: is not a readable Excel workbook"):
        read_layer(LayerSource(data=b"PK\x03\x04 not a workbook", name="x.xlsx", **XY))


def test_parse_dates_keeps_local_wall_time():
    values = pd.Series(
        [
            "2021-03-04T10:00:00-06:00",  # CST
            "2021-07-04T23:30:00-05:00",  # CDT: a mixed offset in one column
            "2021-12-31 23:59Z",
            "2021-01-02",
            "not a date",
            None,
        ]
    )
    out = parse_dates(values)
    assert out.tolist()[:4] == [
        pd.Timestamp("2021-03-04 10:00"),
        pd.Timestamp("2021-07-04 23:30"),
        pd.Timestamp("2021-12-31 23:59"),
        pd.Timestamp("2021-01-02"),
    ]
    assert out.iloc[4:].isna().all()
    aware = pd.Series(pd.to_datetime(["2021-03-04 10:00"]).tz_localize("America/Chicago"))
    assert parse_dates(aware).tolist() == [pd.Timestamp("2021-03-04 10:00")]
    assert parse_dates(pd.Series([11500000, 11500001])).isna().all()  # ids are not dates


def test_parse_dates_finds_offsets_the_sample_missed():
    values = pd.Series(["2021-01-01 10:00"] * 3000 + ["2021-01-02 11:00-06:00"])
    out = parse_dates(values)
    assert out.iloc[-1] == pd.Timestamp("2021-01-02 11:00") and out.notna().all()


def test_offset_note_counts_every_offset_row_and_names_the_first():
    values = pd.Series(
        ["2021-01-01 10:00"] * 3000
        + ["2021-01-02 11:00\u00a0-06:00", "x 1:00Z", "2021-01-02 11:00 UTC", "2021-01-02", None]
    )
    assert offset_note(values) == (
        "1 dates carry a UTC offset (e.g. -06:00); their local time is used; "
        "2 dates are in UTC (e.g. Z): the UTC clock time is kept, not converted to local "
        "time, so a crime near midnight may count on the neighbouring day"
    )
    assert offset_note(pd.Series(["2021-01-01 10:00", "2021-01-02"])) == ""
    assert offset_note(pd.Series([1.0, 2.0])) == ""


def test_utc_dates_keep_their_utc_clock_time_as_the_note_says():
    values = pd.Series(["2021-03-04T23:30:00Z", "2021-03-05T01:15:00+00:00"])
    assert parse_dates(values).tolist() == [
        pd.Timestamp("2021-03-04 23:30"),
        pd.Timestamp("2021-03-05 01:15"),  # not moved to any local clock
    ]
    assert "the UTC clock time is kept, not converted" in offset_note(values)
    assert "local time is used" not in offset_note(values)
    aware = pd.Series(pd.to_datetime(["2021-03-04T23:30:00Z"]))
    assert parse_dates(aware).iloc[0] == pd.Timestamp("2021-03-04 23:30")
    assert offset_note(aware).startswith("dates in UTC: the UTC clock time is kept")


def test_day_first_dates_are_read_day_first_as_a_column_and_said():
    # read one by one, 06/12 would be June 12 while 13/12 is December 13
    values = pd.Series(["06/12/2026", "13/12/2026 10:30", None, "31.01.2025", "2026-12-07"])
    assert day_first(values)
    assert parse_dates(values).tolist()[:2] == [
        pd.Timestamp("2026-12-06"),
        pd.Timestamp("2026-12-13 10:30"),
    ]
    assert parse_dates(values).iloc[3:].tolist() == [
        pd.Timestamp("2025-01-31"),
        pd.Timestamp("2026-12-07"),  # an ISO date stays year-month-day
    ]
    assert date_note(values) == "dates like 06/12/2026 read day first (day/month/year)"
    offsets = pd.Series(["06/12/2026 10:00-05:00", "13/12/2026 11:00-05:00"])
    assert parse_dates(offsets).tolist() == [
        pd.Timestamp("2026-12-06 10:00"),
        pd.Timestamp("2026-12-13 11:00"),
    ]


def test_month_first_dates_stay_month_first_and_an_undecided_column_is_said():
    us = pd.Series(["01/05/2025", "01/25/2025"])
    assert not day_first(us)
    assert parse_dates(us).tolist() == [pd.Timestamp("2025-01-05"), pd.Timestamp("2025-01-25")]
    assert date_note(us) == ""
    undecided = pd.Series(["01/05/2025", "03/02/2025"])
    assert parse_dates(undecided).iloc[1] == pd.Timestamp("2025-03-02")
    assert date_note(undecided).startswith(
        "dates like 01/05/2025 read month first (month/day/year): no date in the column has a "
        "day above 12 to tell"
    )
    assert date_note(pd.Series(["2025-01-05", "2025-03-02"])) == ""
    both = pd.Series(["13/01/2025", "01/13/2025"])
    assert date_note(both).startswith("dates are written in both orders")


@settings(max_examples=examples(60), deadline=None)
@given(
    days=st.lists(st.integers(0, 3 * 365), min_size=1, max_size=40),
    order=st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%y", "%d-%m-%Y %H:%M"]),
)
@example(days=[339, 346], order="%d/%m/%Y")  # 2021-12-06 and 2021-12-13
def test_numeric_dates_in_either_order_read_back_when_a_day_tells(days, order):
    when = pd.Timestamp("2021-01-01") + pd.to_timedelta(sorted(days), unit="D")
    when = when.append(pd.DatetimeIndex([pd.Timestamp("2021-01-13")]))  # a day above 12
    text = pd.Series(when.strftime(order))
    assert day_first(text) == order.startswith("%d")
    assert parse_dates(text).tolist() == list(when)


def test_the_offset_pattern_spells_out_every_space_python_matches():
    spaces = {chr(c) for c in range(0x3001) if re.fullmatch(r"\s", chr(c))}
    spelled = {chr(c) for c in range(0x3001) if re.fullmatch(f"[{_SPACE}]", chr(c))}
    assert spelled == spaces


@settings(max_examples=examples(60), deadline=None)
@given(
    when=st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2080, 12, 31)).map(
        lambda t: t.replace(microsecond=0)
    ),
    minutes=st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
)
def test_parse_dates_drops_any_offset_and_keeps_the_wall_time(when, minutes):
    tz = dt.timezone(dt.timedelta(minutes=minutes))
    text = when.replace(tzinfo=tz).isoformat()
    assert parse_dates(pd.Series([text])).iloc[0] == pd.Timestamp(when), text


# ----------------------------------------------------------- issue 9: the working CRS


def _feet_anchor(epsg: int = 3435) -> gpd.GeoDataFrame:
    metres = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=WORK_CRS)
    return metres.to_crs(f"EPSG:{epsg}")


@pytest.mark.parametrize(
    ("feet", "metres"),
    [(3435, 26971), (2263, 32118), (6455, 6454), (2227, 26943), (3361, 3360)],
)
def test_a_feet_crs_has_its_metre_counterpart(feet, metres):
    assert metre_counterpart(CRS.from_epsg(feet)).to_epsg() == metres


def test_metre_and_unknown_crs_have_no_counterpart():
    assert metre_counterpart(CRS.from_epsg(26971)) is None
    custom = CRS.from_proj4("+proj=tmerc +lat_0=41 +lon_0=-87.5 +k=1 +datum=NAD83 +units=us-ft")
    assert metre_counterpart(custom) is None


def test_feet_boundary_gets_the_same_zone_in_metres():
    crs, note = working_crs(None, _feet_anchor(), source="b")
    assert crs.to_epsg() == 26971
    assert note == (
        "boundary is in EPSG:3435 (US survey foot); working CRS EPSG:26971 (metres), the same zone"
    )
    assert choose_crs(None, _feet_anchor(), source="b").to_epsg() == 26971


def test_feet_boundary_without_counterpart_gets_the_utm_zone():
    custom = CRS.from_proj4("+proj=tmerc +lat_0=41 +lon_0=-87.5 +k=1 +datum=NAD83 +units=us-ft")
    anchor = _feet_anchor().to_crs(custom)
    crs, note = working_crs(None, anchor, source="b", role="units layer")
    assert crs.to_epsg() == 32616
    assert note.startswith("units layer is in ") and note.endswith(
        "working CRS EPSG:32616 (metres), the estimated UTM zone"
    )


def test_metre_boundary_keeps_its_crs_without_a_note():
    anchor = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 10, Y0 + 10)], crs=WORK_CRS)
    assert working_crs(None, anchor, source="b") == (WORKING, "")


def test_bare_xy_in_the_boundary_crs_is_suggested():
    anchor = _feet_anchor()
    bounds = tuple(anchor.total_bounds)
    inside = (bounds[0] + 100, bounds[1] + 100, bounds[2] - 100, bounds[3] - 100)
    assert suggest_crs(inside, anchor.crs, bounds).to_epsg() == 3435
    # the same numbers read as metres of another CRS would be a different city: not suggested
    far = (bounds[0] * 3, bounds[1] * 3, bounds[2] * 3, bounds[3] * 3)
    assert suggest_crs(far, anchor.crs, bounds) is None
    assert suggest_crs(inside, CRS.from_epsg(4326), bounds) is None
    assert suggest_crs(None, anchor.crs, bounds) is None


@settings(max_examples=examples(80), deadline=None)
@given(
    fx=st.floats(-0.5, 1.5),
    fy=st.floats(-0.5, 1.5),
    size=st.floats(0.01, 0.5),
)
def test_suggest_crs_only_for_ranges_overlapping_the_boundary(fx, fy, size):
    bounds = (1_000_000.0, 1_800_000.0, 1_010_000.0, 1_812_000.0)
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    ranges = (
        bounds[0] + fx * w,
        bounds[1] + fy * h,
        bounds[0] + (fx + size) * w,
        bounds[1] + (fy + size) * h,
    )
    got = suggest_crs(ranges, CRS.from_epsg(3435), bounds)
    overlaps = ranges[0] <= bounds[2] and ranges[2] >= bounds[0]
    overlaps = overlaps and ranges[1] <= bounds[3] and ranges[3] >= bounds[1]
    assert (got is not None) == overlaps


def test_xy_ranges_ignore_outliers_and_gaps():
    x = np.r_[np.linspace(0, 100, 500), 1e9, np.nan]
    y = np.r_[np.linspace(0, 50, 500), 0.0, 3.0]
    x0, y0, x1, y1 = xy_ranges(x, y)
    assert x1 < 100 and y1 < 50 and x0 >= 0
    assert xy_ranges(np.array([np.nan]), np.array([1.0])) is None


# --------------------------------------------------------------------------- one thread in GDAL


def lock_checked(monkeypatch, module, names: tuple[str, ...], calls: list) -> None:
    """Wrap ``module.<name>`` so each call appends to ``calls`` its name and whether its
    thread held ``GDAL_LOCK``.

    Another thread tries to take the lock during the call: it fails exactly when the calling
    thread holds it.
    """
    from rtm_core.io.gdal import GDAL_LOCK

    def probe() -> bool:
        got: list[bool] = []

        def try_lock() -> None:
            got.append(GDAL_LOCK.acquire(blocking=False))
            if got[0]:
                GDAL_LOCK.release()

        helper = threading.Thread(target=try_lock)
        helper.start()
        helper.join()
        return not got[0]

    for name in names:
        real = getattr(module, name)

        def checked(*args, _real=real, _name=name, **kwargs):
            calls.append((_name, probe()))
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, checked)


def test_every_gdal_call_of_the_package_holds_the_gdal_lock(monkeypatch, tmp_path, places_run_dir):
    """pyogrio releases the GIL inside GDAL and takes it back in callbacks: two threads in
    GDAL can freeze the server (rtm_core/io/gdal.py), so reads, writes and layer listings of
    the package, on any thread (a run folder writes units.gpkg on a second one), hold the lock."""
    import dataclasses

    import pyogrio
    import rasterio

    from rtm_core.record.folder import load_run
    from rtm_core.results import export
    from rtm_core.runs.outputs import write_run

    calls: list[tuple[str, bool]] = []
    names = ("read_dataframe", "write_dataframe", "read_info", "list_layers")
    lock_checked(monkeypatch, pyogrio, names, calls)
    lock_checked(monkeypatch, rasterio, ("MemoryFile",), calls)
    run = load_run(places_run_dir)
    (tmp_path / "copy").mkdir()
    write_run(dataclasses.replace(run, path=tmp_path / "copy"))
    export.units_geopackage(run)
    export.units_geojson(run)
    export.risk_geotiff(run)
    gpkg = write_table(run.units, tmp_path / "units.gpkg")
    for source in (source_for(gpkg, False), source_for(gpkg, True)):
        assert list_layers(source) == ["units"]
        assert len(read_layer(source).frame) == len(run.units)
    names = {name for name, _ in calls}
    assert {"read_dataframe", "write_dataframe", "list_layers", "MemoryFile"} <= names, names
    assert [name for name, held in calls if not held] == []
