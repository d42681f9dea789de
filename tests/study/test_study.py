"""rtm_core.study.load: the Chicago demo's reference numbers, a tiny city end to end, bad input."""

from __future__ import annotations

import dataclasses
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from rtm_core.config import GeneratorConfig, LayerSource, demo_config, load_config
from rtm_core.errors import InputError
from rtm_core.factors.designs import build_features, features_frame
from rtm_core.io import write_table
from rtm_core.study.load import load_study, split_periods
from rtm_core.study.units import CountReport
from tests.conftest import CITY_BARS, CITY_LIQUOR, WORK_CRS, X0, Y0, points_frame

DEMO_LAYERS = [
    "liquor_retail",
    "abandoned_buildings",
    "abandoned_cars",
    "graffiti",
    "sanitation",
    "street_light_outages",
]
DUMMY = re.compile(r"^(?P<set>[a-z_]+)_(?P<measure>dis|kde)_(?P<bandwidth>\d+)$")


# ------------------------------------------------------------------ the Chicago demo


@pytest.fixture(scope="module")
def demo():
    config = demo_config()
    study = load_study(config)
    return study, build_features(study, config.features)


def test_demo_reference_numbers(demo):
    # shared/data/chicago_burglary_2017_2018/PROVENANCE.md: 150 m grid, centres inside:
    # 25,043 cells, 6,855 burglaries in 2017 and 6,098 in 2018; 5,044 cells with a 2017 one
    study, _ = demo
    assert len(study.units) == 25_043
    assert study.units.kind == "grid"
    assert study.crs.to_epsg() == 26971
    assert int(study.y_train.sum()) == 6_855
    assert int(study.y_test.sum()) == 6_098
    assert int((study.y_train > 0).sum()) == 5_044
    assert study.counts == (
        CountReport("train", 6_876, 6_855, 21),
        CountReport("test", 6_125, 6_098, 27),
    )
    assert [g.name for g in study.generators] == DEMO_LAYERS
    # every point kept for densities (duplicates included): PROVENANCE row counts
    assert [len(g.points) for g in study.generators] == [905, 3653, 31390, 54177, 19733, 14587]
    summary = study.summary()
    assert summary["n_dropped"].sum() == 0
    assert len(summary) == 3 + 6 + 1  # boundary, crimes, generators, the neighbourhoods
    assert study.places.column == "name" and len(study.places.frame) == 98


def test_demo_features_frame(demo):
    study, factors = demo
    frame = features_frame(study, factors)
    assert isinstance(frame, gpd.GeoDataFrame)
    assert len(frame) == 25_043
    assert list(frame.columns[:3]) == ["unit_id", "y_train", "y_test"]
    assert frame["unit_id"].is_unique
    dummies = [c for c in frame.columns if DUMMY.match(c)]
    assert len(dummies) == 108 == len(factors.dummy_names)
    assert dummies == factors.dummy_names
    counts = pd.Series([DUMMY.match(c)["set"] for c in dummies]).value_counts()
    assert counts.to_dict() == {name: 18 for name in DEMO_LAYERS}
    assert set(frame[dummies].stack().unique()) <= {0, 1}
    assert not frame.drop(columns="geometry").isna().any().any()
    assert int(frame["y_train"].sum()) == 6_855 and int(frame["y_test"].sum()) == 6_098
    # 1 distance + 9 densities per layer
    assert len(factors.continuous_names) == 60
    assert frame.crs.to_epsg() == 26971


def test_demo_dummies_are_nested_and_plausible(demo):
    _, factors = demo
    table = factors.table
    for name in DEMO_LAYERS:
        for small, large in zip((50, 100, 200), (100, 200, 300), strict=True):
            assert (table[f"{name}_dis_{small}"] <= table[f"{name}_dis_{large}"]).all()
        prevalence = factors.variables.set_index("name")["prevalence"]
        # z > 2 flags a small share of cells; nearly every cell is within 800 m of a 311 call
        assert 0 < prevalence[f"{name}_kde_400"] < 0.1
    assert factors.variables.set_index("name").loc["graffiti_dis_800", "prevalence"] > 0.9


# ---------------------------------------------------------------------- a tiny city


def test_tiny_city_end_to_end(tiny_city, tmp_path):
    config = load_config(tiny_city.config)
    study = load_study(config)

    assert len(study.units) == 9
    assert study.units.unit_ids.tolist() == list(range(9))
    assert study.y_train.tolist() == list(tiny_city.y_train)
    assert study.y_test.tolist() == list(tiny_city.y_test)
    # the crime left of the area is counted as outside, not lost
    assert study.counts == (CountReport("train", 4, 3, 1), CountReport("test", 3, 3, 0))
    assert study.crs.to_epsg() == 26971  # the boundary's projected CRS

    reads = study.summary().set_index("source")
    assert reads.loc["crimes.csv", ["n_read", "n_dropped", "n_kept"]].tolist() == [9, 1, 8]
    assert "1 rows without a readable date dropped" in reads.loc["crimes.csv", "note"]
    assert reads.loc["liquor.csv", "crs"] == "EPSG:4326"
    assert reads.loc["bars.geojson", "crs"] == "EPSG:3435"

    liquor, bars, streets = study.generators
    np.testing.assert_allclose(liquor.points, CITY_LIQUOR, atol=1e-3)  # lon/lat -> metres
    np.testing.assert_allclose(bars.points, CITY_BARS, atol=1e-3)  # US feet -> metres
    assert streets.geometry is not None

    factors = build_features(study, config.features)
    frame = features_frame(study, factors)
    assert list(frame.columns[:3]) == ["unit_id", "y_train", "y_test"]
    assert factors.dummy_names == [
        "liquor_dis_100",
        "liquor_dis_250",
        "liquor_kde_100",
        "liquor_kde_250",
        "bars_dis_100",
        "bars_dis_250",
        "bars_kde_100",
        "bars_kde_250",
        "streets_dis_100",
        "streets_dis_250",
    ]
    # centres at X0 + 100/300/500: liquor at (100, 100) twice and (420, 100)
    centres = [(x, y) for y in (100, 300, 500) for x in (100, 300, 500)]
    liquor_dist = [
        min(math.hypot(x - 100, y - 100), math.hypot(x - 420, y - 100)) for x, y in centres
    ]
    np.testing.assert_allclose(frame["liquor_dist"], liquor_dist, atol=1e-3)
    assert frame["liquor_dis_100"].tolist() == [1, 0, 1, 0, 0, 0, 0, 0, 0]
    bars_dist = [math.hypot(x - 500, y - 500) for x, y in centres]
    np.testing.assert_allclose(frame["bars_dist"], bars_dist, atol=1e-3)
    # the street runs along Y0 + 300: the middle row is on it
    np.testing.assert_allclose(frame["streets_dist"], [200, 200, 200, 0, 0, 0, 200, 200, 200])
    assert "streets_density_100" not in frame.columns  # measures = ["distance"]
    # the cell on the duplicated store: 2 points at ~0 m -> 2 * 3 / (pi 100^2) per m^2
    assert frame["liquor_density_100"].iloc[0] == pytest.approx(2 * 3 / (math.pi * 1e4) * 1e6)

    out = write_table(frame, tmp_path / "features.gpkg")
    back = gpd.read_file(out, engine="pyogrio")
    assert back["y_test"].tolist() == list(tiny_city.y_test)


def test_tiny_city_with_two_crime_files(tiny_city):
    crimes = pd.read_csv(tiny_city.crimes)
    year = crimes["when"].str[:4]
    crimes[year == "2021"].to_csv(tiny_city.folder / "data" / "t0.csv", index=False)
    crimes[year == "2022"].to_csv(tiny_city.folder / "data" / "t1.csv", index=False)
    text = tiny_city.config.read_text().replace(
        'file = "data/crimes.csv"', 'train_file = "data/t0.csv"\ntest_file = "data/t1.csv"'
    )
    text = re.sub(r"date = .*\ntrain = .*\ntest = .*\n", "", text)
    tiny_city.config.write_text(text)
    study = load_study(load_config(tiny_city.config))
    assert study.y_train.tolist() == list(tiny_city.y_train)
    assert study.y_test.tolist() == list(tiny_city.y_test)


def test_street_units_with_snap_distance(tiny_city):
    streets = gpd.GeoDataFrame(
        {"SEG": ["south", "north"], "lit": [1, 0]},
        geometry=gpd.GeoSeries.from_wkt(
            [
                f"LINESTRING ({X0} {Y0 + 50}, {X0 + 600} {Y0 + 50})",
                f"LINESTRING ({X0} {Y0 + 550}, {X0 + 600} {Y0 + 550})",
            ]
        ),
        crs=WORK_CRS,
    )
    path = tiny_city.folder / "data" / "streets_units.gpkg"
    streets.to_file(path, engine="pyogrio")
    config = load_config(tiny_city.config)
    config = config.replace(
        units=dataclasses.replace(
            config.units,
            kind="file",
            boundary=None,
            source=LayerSource(path=path, name=path.name),
            id_column="SEG",
            fixed_columns=("lit",),
            snap_distance=20,
        )
    )
    study = load_study(config)
    assert study.units.kind == "line"
    assert study.units.unit_ids.tolist() == ["south", "north"]
    np.testing.assert_allclose(study.units.measure, [600, 600])
    # train: (50, 50) and (60, 40) snap to the south street; (310, 290) and (-500, 100) do not
    assert study.y_train.tolist() == [2, 0]
    assert study.y_test.tolist() == [0, 2]
    assert study.counts[0] == CountReport("train", 4, 2, 2)
    assert study.covariates.columns.tolist() == ["lit"]
    frame = features_frame(study, build_features(study, config.features))
    assert frame["lit"].tolist() == [1.0, 0.0]
    assert frame["unit_id"].tolist() == ["south", "north"]


# ---------------------------------------------------------------------------- periods


def test_split_periods_is_inclusive_of_the_end_date():
    frame = points_frame(
        np.zeros((5, 2)),
        when=["2021-01-01", "2021-12-31 23:59", "2022-01-01 00:00", "2022-12-31", "bad"],
    )
    train, test, undated = split_periods(
        frame, "when", ("2021-01-01", "2021-12-31"), ("2022-01-01", "2022-12-31"), source="c.csv"
    )
    assert (len(train), len(test), undated) == (2, 2, 1)


@pytest.mark.parametrize(
    ("train", "test", "match"),
    [
        (
            ("2022-01-01", "2022-12-31"),
            ("2021-01-01", "2021-12-31"),
            r"c\.csv \[crimes\.test\]: the test period starts before the training period ends\. "
            r"Fix: make the test period",
        ),
        (
            ("2021-01-01", "2021-12-31"),
            ("2021-06-01", "2022-06-01"),
            r"c\.csv \[crimes\.test\]: the test period starts before the training period ends",
        ),
        (
            ("2021-12-31", "2021-01-01"),
            ("2022-01-01", "2022-12-31"),
            r"c\.csv \[crimes\.train\]: ends \(2021-01-01\) before it starts \(2021-12-31\)\. Fix:",
        ),
        (
            ("someday", "2021-01-01"),
            ("2022-01-01", "2022-12-31"),
            r"c\.csv \[crimes\.train\]: cannot read dates \['someday', '2021-01-01'\]\. Fix:",
        ),
    ],
    ids=["test-before-train", "overlap", "reversed", "unreadable"],
)
def test_bad_periods(train, test, match):
    frame = points_frame(np.zeros((1, 2)), when=["2021-05-05"])
    with pytest.raises(InputError, match=match):
        split_periods(frame, "when", train, test, source="c.csv")


def test_missing_date_column():
    frame = points_frame(np.zeros((1, 2)), day=["2021-05-05"])
    with pytest.raises(
        InputError, match=r"c\.csv \[when\]: date column not found \(columns: day\)"
    ):
        split_periods(
            frame,
            "when",
            ("2021-01-01", "2021-12-31"),
            ("2022-01-01", "2022-12-31"),
            source="c.csv",
        )


# ------------------------------------------------------------------------ bad studies


def test_test_period_before_training(tiny_city):
    config = load_config(tiny_city.config)
    crimes = dataclasses.replace(
        config.crimes, train=("2022-01-01", "2022-12-31"), test=("2021-01-01", "2021-12-31")
    )
    with pytest.raises(InputError, match=r"crimes\.csv \[crimes\.test\]: the test period starts"):
        load_study(config.replace(crimes=crimes))


def test_no_crimes_in_the_training_period(tiny_city):
    config = load_config(tiny_city.config)
    crimes = dataclasses.replace(config.crimes, train=("2019-01-01", "2019-12-31"))
    with pytest.raises(
        InputError, match=r"crimes\.csv \[crimes\.train\]: no crimes in the training period\. Fix:"
    ):
        load_study(config.replace(crimes=crimes))


def test_no_crime_inside_the_area(tiny_city):
    config = load_config(tiny_city.config)
    pd.DataFrame(
        [(X0 - 500, Y0, "2021-03-03"), (X0 + 5000, Y0, "2022-03-03")], columns=["x", "y", "when"]
    ).to_csv(tiny_city.crimes, index=False)
    with pytest.raises(
        InputError,
        match=r"crimes\.csv \[geometry\]: no training crime falls inside the study area\. Fix: "
        r"check the crimes' CRS",
    ):
        load_study(config)


def test_crimes_declared_in_the_wrong_crs_fall_outside(tiny_city):
    # metres read as US feet land about 3 km away, outside the 600 m area
    config = load_config(tiny_city.config)
    crimes = dataclasses.replace(
        config.crimes, source=dataclasses.replace(config.crimes.source, crs="EPSG:3435")
    )
    with pytest.raises(InputError, match=r"no training crime falls inside the study area"):
        load_study(config.replace(crimes=crimes))


def _add_generator(config, name, path, **source):
    extra = GeneratorConfig(
        name, LayerSource(path=path, name=path.name, **source), bandwidths=(100,)
    )
    return config.replace(generators=config.generators + (extra,))


def test_generator_layer_entirely_outside_the_area(tiny_city):
    path = tiny_city.folder / "data" / "far.csv"
    pd.DataFrame({"x": [X0 + 50_000], "y": [Y0]}).to_csv(path, index=False)
    config = _add_generator(load_config(tiny_city.config), "far", path, x="x", y="y", crs=WORK_CRS)
    with pytest.raises(
        InputError,
        match=r"far\.csv \[geometry\]: no feature lies within reach of the study area\. Fix: "
        r"check the layer's CRS",
    ):
        load_study(config)


def test_long_line_generator_crossing_the_area_is_kept(tiny_city):
    # the line crosses the area, but its midpoint (and its vertices) lie kilometres away
    path = tiny_city.folder / "data" / "rail.gpkg"
    rail = LineString([(X0 + 300, Y0 - 9000), (X0 + 300, Y0 + 9000), (X0 + 30000, Y0 + 9000)])
    gpd.GeoDataFrame(geometry=[rail], crs=WORK_CRS).to_file(path, engine="pyogrio")
    study = load_study(_add_generator(load_config(tiny_city.config), "rail", path))
    rail = study.generators[-1]
    factors = build_features(study, load_config(tiny_city.config).features)
    np.testing.assert_allclose(factors.table["rail_dist"], [200, 0, 200] * 3)
    assert rail.points[0, 0] > X0 + 5000


def test_generator_with_lat_lon_swapped_is_caught(tiny_city):
    # Chicago's swapped values are still valid degrees (lat -87.7, lon 41.8): only the
    # study area gives them away (swapped back, they land on it)
    swapped = pd.read_csv(tiny_city.liquor).rename(columns={"lon": "lat", "lat": "lon"})
    path = tiny_city.folder / "data" / "swapped.csv"
    swapped.to_csv(path, index=False)
    config = _add_generator(load_config(tiny_city.config), "swapped", path)
    with pytest.raises(
        InputError,
        match=r"swapped\.csv \[lon/lat\]: longitude and latitude look swapped .*Fix: swap x and y",
    ):
        load_study(config)


def _boundary(tiny_city, geometry):
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[geometry], crs=WORK_CRS).to_file(
        tiny_city.boundary, layer="area", engine="pyogrio"
    )
    return load_config(tiny_city.config)


def test_self_intersecting_boundary_is_repaired_with_a_note(tiny_city):
    # issue 9: repaired (make_valid, polygon parts kept) and said, not refused
    notch = [(X0, Y0 + 300), (X0 + 100, Y0 + 350), (X0 + 100, Y0 + 250), (X0, Y0 + 300)]
    ring = [(X0, Y0), (X0 + 600, Y0), (X0 + 600, Y0 + 600), (X0, Y0 + 600), *notch, (X0, Y0)]
    study = load_study(_boundary(tiny_city, Polygon(ring)))  # self-touching: an inverted hole
    note = study.reads[0].note
    assert "repaired 1 invalid polygon (name 'x': Ring Self-intersection, area" in note, note
    assert study.boundary.is_valid.all() and len(study.units) > 0


def test_boundary_left_without_area_by_repair_is_refused(tiny_city):
    flat = Polygon([(X0, Y0), (X0 + 300, Y0), (X0 + 600, Y0), (X0, Y0)])
    with pytest.raises(
        InputError,
        match=r"boundary\.gpkg \[geometry\]: name 'x' is not a valid polygon "
        r"\(Self-intersection\) and repairing it leaves no area\. Fix: redraw that feature",
    ):
        load_study(_boundary(tiny_city, flat))


def test_boundary_must_be_a_polygon(tiny_city):
    config = _boundary(tiny_city, Point(X0, Y0))
    with pytest.raises(
        InputError, match=r"boundary\.gpkg \[geometry\]: the boundary must be a polygon\. Fix:"
    ):
        load_study(config)


def test_cell_size_larger_than_the_area(tiny_city):
    config = load_config(tiny_city.config)
    config = config.replace(units=dataclasses.replace(config.units, cell_size=1000))
    with pytest.raises(
        InputError, match=r"boundary\.gpkg \[cell_size\]: 1000 m is larger than the study area"
    ):
        load_study(config)


def test_grid_over_max_cells(tiny_city):
    config = load_config(tiny_city.config)
    with pytest.raises(
        InputError, match=r"boundary\.gpkg \[cell_size\]: 200 m cells make a 3 x 3 grid"
    ):
        load_study(config, max_cells=8)


def test_working_crs_in_degrees(tiny_city):
    config = load_config(tiny_city.config)
    config = config.replace(units=dataclasses.replace(config.units, crs="EPSG:4326"))
    with pytest.raises(InputError, match=r"boundary\.gpkg \[units\.crs\]: EPSG:4326 is in degrees"):
        load_study(config)


def test_lonlat_boundary_gets_a_utm_zone(tiny_city):
    lonlat = gpd.read_file(tiny_city.boundary, engine="pyogrio").to_crs("EPSG:4326")
    lonlat.to_file(tiny_city.boundary, layer="area", engine="pyogrio")
    study = load_study(load_config(tiny_city.config))
    assert study.crs.to_epsg() == 32616
    assert study.y_train.sum() == 3  # the crimes still land in the (slightly rotated) cells


def test_crimes_must_be_points(tiny_city):
    path = tiny_city.folder / "data" / "areas.gpkg"
    gpd.GeoDataFrame(
        {"when": ["2021-05-05"]}, geometry=[box(X0, Y0, X0 + 10, Y0 + 10)], crs=WORK_CRS
    ).to_file(path, engine="pyogrio")
    config = load_config(tiny_city.config)
    crimes = dataclasses.replace(config.crimes, source=LayerSource(path=path, name=path.name))
    with pytest.raises(
        InputError, match=r"areas\.gpkg \[geometry\]: crimes must be points, got polygons\. Fix:"
    ):
        load_study(config.replace(crimes=crimes))


def test_generator_with_mixed_geometry(tiny_city):
    path = tiny_city.folder / "data" / "mixed.geojson"
    gpd.GeoDataFrame(geometry=[Point(X0, Y0), box(X0, Y0, X0 + 10, Y0 + 10)], crs=WORK_CRS).to_file(
        path, driver="GeoJSON", engine="pyogrio"
    )
    config = _add_generator(load_config(tiny_city.config), "mixed", path)
    with pytest.raises(InputError, match=r"mixed\.geojson \[geometry\]: mixes geometry types"):
        load_study(config)


def test_progress_messages(tiny_city):
    messages = []
    load_study(load_config(tiny_city.config), progress=messages.append)
    assert messages == [
        "reading units",
        "reading crimes",
        "reading liquor",
        "reading bars",
        "reading streets",
    ]
