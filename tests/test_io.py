"""rtm_core.io: every input format from a path and from bytes, CRS handling, bad input."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import Point, Polygon, box

from rtm_core.config import LayerSource
from rtm_core.errors import InputError
from rtm_core.io import (
    ReadReport,
    choose_crs,
    geometry_family,
    list_layers,
    parse_crs,
    read_layer,
    to_working_crs,
    write_table,
)
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
