"""rtm_core.study.repair: invalid polygons repaired and named, refused only when no area is left."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from rtm_core.errors import InputError
from rtm_core.study.repair import (
    feature_names,
    name_column,
    repair_note,
    repair_polygons,
    unrepairable_features,
)
from tests.hypothesis_profiles import examples

CRS = "EPSG:26971"
# a square whose ring visits (0, 50) twice: an "inverted hole", valid for ESRI, not for GEOS
SELF_TOUCHING = Polygon(
    [(0, 0), (100, 0), (100, 100), (0, 100), (0, 50), (40, 60), (40, 40), (0, 50), (0, 0)]
)
BOWTIE = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
FLAT = Polygon([(0, 0), (50, 0), (100, 0), (0, 0)])


def _frame(geometries, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns or None, geometry=list(geometries), crs=CRS)


def test_valid_layer_is_returned_untouched():
    frame = _frame([box(0, 0, 1, 1), box(2, 2, 3, 3)])
    out, repairs = repair_polygons(frame, source="b.gpkg")
    assert out is frame and repairs == [] and repair_note(repairs) == ""


def test_self_touching_polygon_is_repaired_and_named_by_its_name_column():
    frame = _frame(
        [box(200, 0, 300, 100), SELF_TOUCHING],
        district_id=[1, 2],
        district=["North", "Riverside"],
    )
    out, repairs = repair_polygons(frame, source="b.gpkg")
    assert out.is_valid.all() and out.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert out.geometry.iloc[0].equals(frame.geometry.iloc[0])  # valid ones untouched
    assert out.geometry.iloc[1].area == pytest.approx(100 * 100 - 0.5 * 20 * 40)
    (repair,) = repairs
    assert repair.feature == "district 'Riverside'" and repair.reason == "Ring Self-intersection"
    assert repair_note(repairs) == (
        "repaired 1 invalid polygon (district 'Riverside': Ring Self-intersection, area unchanged)"
    )
    assert frame.is_valid.tolist() == [True, False]  # the input is not modified


def test_bowtie_becomes_two_triangles_with_the_area_said():
    frame = _frame([BOWTIE])
    out, repairs = repair_polygons(frame, source="b.gpkg")
    assert out.geometry.iloc[0].area == pytest.approx(5000.0)
    assert repairs[0].change_pct is None  # its two halves cancel out as drawn
    assert repair_note(repairs) == (
        "repaired 1 invalid polygon (row 1: Self-intersection, area as drawn 0, now 5,000)"
    )


def test_area_change_is_reported_in_percent():
    # a square with a spike that folds back over itself: repair drops the spike's overlap
    spiky = Polygon([(0, 0), (100, 0), (100, 100), (50, 100), (50, 150), (60, 90), (0, 100)])
    out, repairs = repair_polygons(_frame([spiky], name=["spiky"]), source="u.gpkg")
    pct = repairs[0].change_pct
    expected = 100 * (out.geometry.iloc[0].area - spiky.area) / spiky.area
    assert pct == pytest.approx(expected) and abs(pct) > 0.05
    assert f"area {pct:+.1f}%" in repair_note(repairs)


def test_polygon_left_with_no_area_is_refused_naming_the_feature():
    frame = _frame([box(0, 0, 1, 1), FLAT, FLAT], name=["ok", "flat one", "flat two"])
    assert unrepairable_features(frame) == ["name 'flat one'", "name 'flat two'"]
    with pytest.raises(
        InputError,
        match=r"^b\.gpkg \[geometry\]: name 'flat one' is not a valid polygon "
        r"\(Self-intersection\) and repairing it leaves no area\. Fix: redraw that feature",
    ):
        repair_polygons(frame, source="b.gpkg")


def test_points_and_lines_pass_through():
    frame = _frame([Point(0, 0), Point(1, 1)])
    assert repair_polygons(frame, source="p")[0] is frame


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"district_id": [1, 2], "district": ["a", "b"]}, "district"),
        ({"OBJECTID": [1, 2], "NAME": ["a", "b"]}, "NAME"),
        ({"beat_id": [7, 8], "pop": [1, 1]}, "beat_id"),
        ({"name": ["a", "a"], "id": [1, 2]}, "id"),  # a name that repeats names nothing
        ({"pop": [1, 2], "park": ["a", "b"]}, "park"),  # else the first text column
        ({"pop": [1, 2]}, None),
        # an ArcGIS export: measurements first, the name in Spanish (issue 17)
        ({"SHAPE__Area": [55676803.57, 1.5], "NOMBRE": ["Chapinero", "Usme"]}, "NOMBRE"),
        ({"OBJECTID": [1, 2], "Shape_Length": [3.5, 4.5], "nombre": ["a", "b"]}, "nombre"),
        ({"SHAPE__Area": [5.5, 1.5], "CODIGO": [11, 12]}, "CODIGO"),
        ({"SHAPE__Area": [5.5, 1.5]}, None),
        ({"code": [11, 12], "barrio": ["a", "b"]}, "barrio"),  # text before numbers
        ({"Name": ["a", "b"], "district": ["c", "d"]}, "Name"),
    ],
)
def test_name_column(columns, expected):
    frame = _frame([box(0, 0, 1, 1), box(1, 1, 2, 2)], **columns)
    assert name_column(frame) == expected


def test_feature_names_fall_back_to_row_numbers_counted_from_one():
    frame = _frame([box(0, 0, 1, 1)] * 3, pop=[1, 2, 3])
    assert feature_names(frame, np.array([0, 2])) == ["row 1", "row 3"]


coordinate = st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 1))


@settings(max_examples=examples(120), deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=9))
def test_any_ring_is_repaired_to_valid_polygons_or_refused(points):
    polygon = Polygon(points)
    frame = _frame([polygon], name=["p"])
    try:
        out, repairs = repair_polygons(frame, source="any.gpkg")
    except InputError as exc:
        assert "name 'p' is not a valid polygon" in str(exc)
        assert unrepairable_features(frame) == ["name 'p'"]
        return
    geometry = out.geometry.iloc[0]
    assert geometry.is_valid and geometry.area > 0
    assert shapely.get_type_id(geometry) in (3, 6)
    assert len(repairs) == (0 if polygon.is_valid else 1)


def test_polygon_generators_are_repaired_in_the_study(tmp_path):
    """load_study repairs a generator layer's invalid polygons and says so."""
    from rtm_core.config import load_config
    from rtm_core.study.load import load_study
    from tests.new_city import FEET_CRS, write_new_city

    paths = write_new_city(tmp_path / "city")
    boundary = gpd.read_file(paths["boundary"])
    x0, y0, x1, y1 = boundary.total_bounds
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, 600.0  # feet
    bowtie = Polygon([(cx, cy), (cx + side, cy + side), (cx + side, cy), (cx, cy + side)])
    parks = gpd.GeoDataFrame(
        {"park": ["Lincoln", "Bowtie"]}, geometry=[box(x0, y0, x0 + side, y0 + side), bowtie]
    )
    parks.set_crs(FEET_CRS).to_file(tmp_path / "city" / "parks.gpkg", engine="pyogrio")
    with open(paths["config"], "a", encoding="utf-8") as handle:
        handle.write(
            '\n[[generators]]\nname = "parks"\nfile = "parks.gpkg"\nmeasures = ["distance"]\n'
            "bandwidths = [100, 200]\n"
        )
    study = load_study(load_config(paths["config"]))
    (report,) = [r for r in study.reads if r.source == "parks.gpkg"]
    assert report.note.startswith(
        "repaired 1 invalid polygon (park 'Bowtie': Self-intersection, area as drawn 0, now "
    )
    (parks_layer,) = [g for g in study.generators if g.name == "parks"]
    assert shapely.is_valid(parks_layer.geometry).all()
