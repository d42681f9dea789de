"""rtm_core.study.units: grids over a boundary, units from point/line/polygon layers, counts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from rtm_core.errors import InputError
from rtm_core.study.units import CountReport, GridSpec, count_crimes, grid_units, units_from_layer

CRS = "EPSG:26971"

# An L: a 260 x 130 foot with a 130 x 260 leg; 100 m cells over its 260 x 260 bounds make a
# 3 x 3 grid with centres at 50, 150, 250 on each axis.
#   centre inside: (50,50) (150,50) (250,50) (50,150) (50,250)         -> 5 cells
#   overlapping:   the 5 above + (150,150) (250,150) (150,250)         -> 8 cells, not (250,250)
L_SHAPE = Polygon([(0, 0), (260, 0), (260, 130), (130, 130), (130, 260), (0, 260)])


def _frame(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


def _l_units(keep="centre"):
    return grid_units(_frame([L_SHAPE]), 100, keep=keep)


# ---------------------------------------------------------------------------- grids


def test_grid_keeps_cells_whose_centre_is_inside():
    units = _l_units("centre")
    assert units.kind == "grid"
    assert units.grid == GridSpec(0.0, 0.0, 100.0, 3, 3)
    assert units.unit_ids.tolist() == [0, 1, 2, 3, 6]  # row * 3 + col
    assert units.frame["row"].tolist() == [0, 0, 0, 1, 2]
    assert units.frame["col"].tolist() == [0, 1, 2, 0, 0]
    np.testing.assert_array_equal(
        units.points, [[50, 50], [150, 50], [250, 50], [50, 150], [50, 250]]
    )
    np.testing.assert_array_equal(units.measure, np.full(5, 10_000.0))
    assert units.measure_name == "area"
    assert len(units) == 5
    assert units.crs.to_epsg() == 26971
    # cells are squares around their centres
    assert units.frame.geometry.iloc[3].equals(box(0, 100, 100, 200))


def test_grid_centre_on_the_boundary_is_not_inside():
    # 100 m cells over a 250 m square: the centres at 250 lie on the edge and are dropped
    units = grid_units(_frame([box(0, 0, 250, 250)]), 100)
    assert units.unit_ids.tolist() == [0, 1, 3, 4]


def test_grid_intersect_keeps_every_overlapping_cell():
    units = _l_units("intersect")
    assert units.unit_ids.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]


def test_grid_over_two_polygons_and_offset_origin():
    boundary = _frame([box(1000, 2000, 1200, 2100), box(1300, 2000, 1400, 2100)])
    units = grid_units(boundary, 100)
    assert units.grid == GridSpec(1000.0, 2000.0, 100.0, 1, 4)
    assert units.unit_ids.tolist() == [0, 1, 3]  # the gap cell (1250, 2050) is dropped


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cell_size": 0}, r"b\.gpkg \[cell_size\]: must be > 0 metres, got 0\. Fix:"),
        ({"cell_size": -5}, r"b\.gpkg \[cell_size\]: must be > 0 metres, got -5\. Fix:"),
        ({"cell_size": float("nan")}, r"b\.gpkg \[cell_size\]: must be > 0 metres.*Fix:"),
        (
            {"cell_size": 300},
            r"b\.gpkg \[cell_size\]: 300 m is larger than the study area \(260 x 260 m\)\. Fix:",
        ),
        (
            {"cell_size": 1, "max_cells": 1000},
            r"b\.gpkg \[cell_size\]: 1 m cells make a 260 x 260 grid \(> 1,000 cells\)\. Fix:",
        ),
        (
            {"cell_size": 100, "keep": "touch"},
            r"b\.gpkg \[keep\]: unknown value 'touch'\. Fix: use \"centre\" or \"intersect\"",
        ),
    ],
    ids=["zero", "negative", "nan", "larger-than-area", "over-max-cells", "bad-keep"],
)
def test_grid_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        grid_units(_frame([L_SHAPE]), source="b.gpkg", **kwargs)


def test_grid_boundary_without_polygon_is_refused():
    with pytest.raises(InputError, match=r"b \[geometry\]: holds no polygon\. Fix:"):
        grid_units(_frame([Point(0, 0)]), 100, source="b")


def test_grid_with_no_centre_inside_is_refused():
    # a 10 m strip: the cell centres (y = 50) lie above it
    sliver = box(0, 0, 300, 10)
    with pytest.raises(InputError, match=r"no cell centre falls inside the boundary\. Fix:"):
        grid_units(_frame([sliver]), 100, source="b")


# ------------------------------------------------------------------- layer units


def test_point_units():
    units = units_from_layer(_frame([Point(5, 6), Point(50, 60)], name=["a", "b"]), source="u")
    assert units.kind == "point"
    assert units.unit_ids.tolist() == [0, 1]
    np.testing.assert_array_equal(units.points, [[5, 6], [50, 60]])
    np.testing.assert_array_equal(units.measure, [1.0, 1.0])
    assert units.measure_name == "count"
    assert units.grid is None


def test_line_units_use_the_midpoint_along_the_line_and_length():
    lines = [LineString([(0, 0), (100, 0), (100, 100)]), LineString([(0, 10), (0, 40)])]
    units = units_from_layer(_frame(lines, SEG_ID=["s1", "s2"]), id_column="SEG_ID")
    assert units.kind == "line"
    assert units.unit_ids.tolist() == ["s1", "s2"]
    np.testing.assert_allclose(units.points, [[100, 0], [0, 25]])  # half of 200 m, of 30 m
    np.testing.assert_allclose(units.measure, [200.0, 30.0])
    assert units.measure_name == "length"


def test_polygon_units_use_a_point_on_surface_and_area():
    # a U shape: its centroid (not on the surface) would be in the gap
    u_shape = Polygon([(0, 0), (300, 0), (300, 200), (200, 200), (200, 100), (100, 100)])
    u_shape = u_shape.union(box(0, 0, 100, 200))
    units = units_from_layer(_frame([box(0, 0, 100, 50), u_shape]))
    assert units.kind == "polygon"
    np.testing.assert_allclose(units.measure, [5000.0, 30_000.0 + 10_000 + 10_000])
    for point, polygon in zip(units.points, units.frame.geometry, strict=True):
        assert polygon.contains(Point(point))
    assert units.measure_name == "area"


def test_fixed_covariates_are_kept_as_floats():
    frame = _frame([Point(0, 0), Point(1, 1)], intersection=[1, 0], lanes=["2", "4"])
    units = units_from_layer(frame, fixed_columns=("intersection", "lanes"))
    assert units.frame["intersection"].tolist() == [1.0, 0.0]
    assert units.frame["lanes"].tolist() == [2.0, 4.0]


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (
            _frame([Point(0, 0), Point(1, 1)], sid=[7, 7]),
            {"id_column": "sid"},
            r"u \[sid\]: id 7 repeats\. Fix: use a unique id column",
        ),
        (
            _frame([Point(0, 0)]),
            {"id_column": "sid"},
            r"u \[sid\]: id column not found\. Fix:",
        ),
        (
            _frame([Point(0, 0)]),
            {"fixed_columns": ("lanes",)},
            r"u \[lanes\]: fixed covariate column not found\. Fix:",
        ),
        (
            _frame([Point(0, 0), Point(1, 1)], lanes=["2", "two"]),
            {"fixed_columns": ("lanes",)},
            r"u \[lanes\]: fixed covariate has missing or non-numeric values\. Fix:",
        ),
        (
            _frame([LineString([(0, 0), (0, 0)]), LineString([(0, 0), (1, 0)])]),
            {},
            r"u \[geometry\]: has units of zero area or length\. Fix:",
        ),
        (
            _frame([Point(0, 0), box(0, 0, 1, 1)]),
            {},
            r"u \[geometry\]: mixes geometry types \(Point, Polygon\)\. Fix:",
        ),
    ],
    ids=["duplicate-ids", "missing-id", "missing-fixed", "bad-fixed", "zero-length", "mixed"],
)
def test_layer_unit_errors(frame, kwargs, match):
    with pytest.raises(InputError, match=match):
        units_from_layer(frame, source="u", **kwargs)


# -------------------------------------------------------------------------- counts


def test_count_crimes_on_a_grid():
    units = _l_units("centre")  # ids 0, 1, 2, 3, 6
    crimes = np.array(
        [
            [10, 10],  # cell 0
            [99.9, 10],  # cell 0
            [100, 10],  # on the edge x = 100: cell 1 (cells are [x0, x0 + size))
            [250, 50],  # cell 2
            [50, 299],  # cell 6
            [150, 150],  # cell 4: in the grid's bounds but its centre is outside the L
            [-1, 50],  # left of the grid
            [50, 400],  # above the grid
        ]
    )
    counts, report = count_crimes(units, crimes, period="train")
    assert counts.tolist() == [2, 1, 1, 0, 1]
    assert counts.dtype == np.int64
    assert report == CountReport("train", 8, 5, 3)


def test_count_crimes_in_polygons():
    units = units_from_layer(_frame([box(0, 0, 100, 100), box(100, 0, 200, 100)]))
    crimes = np.array([[50, 50], [150, 50], [160, 60], [100, 50], [500, 500]])
    counts, report = count_crimes(units, crimes, period="test")
    # the crime on the shared edge is counted once, in the first unit
    assert counts.tolist() == [2, 2]
    assert report == CountReport("test", 5, 4, 1)
    flipped = units_from_layer(_frame([box(100, 0, 200, 100), box(0, 0, 100, 100)]))
    assert count_crimes(flipped, crimes)[0].tolist() == [3, 1]


def test_count_crimes_snaps_to_nearest_point_unit():
    units = units_from_layer(_frame([Point(0, 0), Point(100, 0)]))
    crimes = np.array([[10, 0], [60, 0], [0, 49], [200, 0], [0, 51]])
    counts, report = count_crimes(units, crimes, snap_distance=50)
    assert counts.tolist() == [2, 1]
    assert report == CountReport("train", 5, 3, 2)
    wide, wide_report = count_crimes(units, crimes, snap_distance=150)
    assert wide.tolist() == [3, 2]
    assert wide_report.n_outside == 0


def test_count_crimes_snaps_to_nearest_line_unit():
    streets = [LineString([(0, 0), (200, 0)]), LineString([(0, 100), (200, 100)])]
    units = units_from_layer(_frame(streets))
    crimes = np.array([[50, 10], [150, 45], [150, 55], [100, 90], [300, 0], [100, 200]])
    counts, report = count_crimes(units, crimes, snap_distance=50)
    # (300, 0) is 100 m past the end of the first street; (100, 200) is 100 m above the second
    assert counts.tolist() == [2, 2]
    assert report == CountReport("train", 6, 4, 2)


def test_count_crimes_with_no_crimes():
    counts, report = count_crimes(_l_units(), np.empty((0, 2)))
    assert counts.tolist() == [0] * 5
    assert report == CountReport("train", 0, 0, 0)


def test_representative_points_match_shapely():
    lines = [LineString([(0, 0), (30, 40)])]
    units = units_from_layer(_frame(lines))
    expected = shapely.get_coordinates(shapely.line_interpolate_point(lines[0], 25))
    np.testing.assert_allclose(units.points, expected)
    np.testing.assert_allclose(units.points, [[15, 20]])
