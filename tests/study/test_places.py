"""Place names: the name column guessed in several languages and by its values, each unit
named by the area holding its point (or the nearest within reach), and ``[places]`` read from
the TOML into the study."""

from __future__ import annotations

import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from rtm_core.config import LayerSource, PlacesConfig, load_config, parse_config
from rtm_core.config.toml import config_to_toml, iter_sources
from rtm_core.errors import ConfigError, InputError
from rtm_core.study.load import load_study
from rtm_core.study.places import guess_name_column, place_names, places_from_frame, unit_places
from tests.brief_run import DISTRICTS, places_city, write_districts


def _frame(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=[box(i, 0, i + 1, 1) for i in range(n)], crs=3857)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        # a municipal export: the name beside an id and an area (the district)
        (
            {
                "OBJECTID": [1, 2, 3],
                "SHAPE__Area": [5.5, 6.1, 7.2],
                "NOMBRE": ["Centro", "Sur", "Norte"],
            },
            "NOMBRE",
        ),
        ({"name": ["Austin", "Loop", "Uptown"], "area_km2": [1.0, 2.0, 3.0]}, "name"),
        ({"Bezirk": ["Mitte", "Pankow", "Neukölln"], "BEZ_ID": ["01", "03", "08"]}, "Bezirk"),
        (
            {"code_insee": ["75101", "75102", "75103"], "quartier": ["Halles", "Bourse", "Temple"]},
            "quartier",
        ),
        ({"bairro": ["Centro", "Lapa", "Glória"], "cod_bairro": ["1", "2", "3"]}, "bairro"),
        ({"NomBarrio": ["El Raval", "Gràcia", "Sants"], "NUM_BARRI": [1, 2, 3]}, "NomBarrio"),
        ({"wijk": ["Centrum", "Noord", "Oost"]}, "wijk"),
        (
            {"alcaldía": ["Coyoacán", "Tlalpan", "Iztapalapa"], "CVE_ALC": ["003", "012", "007"]},
            "alcaldía",
        ),
        # a name word beats an area word, which beats a column named as neither
        ({"district": ["North", "South", "East"], "DIST_NAME": ["N1", "S2", "E3"]}, "DIST_NAME"),
        ({"DESCRIPCIO": ["Parque Lindo", "Villa Real", "Los Pinos"]}, "DESCRIPCIO"),
        # numbers, ids, dates, one repeated value and free text are not names
        ({"District": ["17", "20", "31"]}, None),
        ({"BEAT_NUM": ["1111", "1112", "1113"]}, None),
        ({"fecha": ["2021-01-01", "2021-02-01", "2021-03-01"]}, None),
        ({"name": ["city", "city", "city"]}, None),
        ({"notes": ["x" * 80 + " a", "y" * 80 + " b", "z" * 80 + " c"]}, None),
    ],
)
def test_the_name_column_is_guessed_by_name_and_values(columns, expected):
    assert guess_name_column(_frame(**columns)) == expected


def test_number_like_names_read_with_their_column():
    names = place_names(pd.Series([17, "20", None, " Loop "]), "DISTRICT")
    assert names.tolist() == ["District 17", "District 20", "", "Loop"]


def test_units_take_the_area_holding_their_point_else_the_nearest_within_reach():
    areas = gpd.GeoDataFrame(
        {"place": ["West", "East", "Overlap"]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(5, 0, 15, 10)],
    )
    points = np.array([[2, 5], [18, 5], [7, 5], [25, 5], [21, 5], [-3, 5]])
    assert unit_places(points, areas, reach=2.0).tolist() == [
        "West",
        "East",
        "West",  # in two areas: the first in the layer's order
        "",  # 5 m beyond the last area: too far
        "East",  # 1 m outside: the nearest within reach
        "",
    ]
    assert unit_places(points, areas.iloc[:0], reach=2.0).tolist() == [""] * 6


def test_parts_of_one_name_are_merged_and_a_wrong_column_is_named():
    frame = gpd.GeoDataFrame(
        {"barrio": ["Norte", "Sur", "Norte"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(3, 0, 4, 1)],
    )
    areas, column, guessed = places_from_frame(frame, None, "barrios.gpkg")
    assert (column, guessed) == ("barrio", True)
    assert areas["place"].tolist() == ["Norte", "Sur"]
    assert areas.geometry.iloc[0].area == pytest.approx(2.0)
    with pytest.raises(
        InputError,
        match=r"barrios\.gpkg \[places\.name\]: column 'NAME' not found "
        r"\(columns: barrio\)\. Fix: name the column",
    ):
        places_from_frame(frame, "NAME", "barrios.gpkg")
    points = frame.set_geometry([Point(0, 0)] * 3)
    with pytest.raises(InputError, match=r"a places layer must hold polygons, got points"):
        places_from_frame(points, None, "barrios.gpkg")


# --------------------------------------------------------------------------- config


def _config(places: dict, base) -> dict:
    return {
        "units": {"boundary": "b.gpkg"},
        "crimes": {"train_file": "a.csv", "test_file": "b.csv"},
        "generators": [{"name": "bars", "file": "bars.csv"}],
        "places": places,
    }


def test_places_section_reads_file_layer_and_name(tmp_path):
    cfg = parse_config(
        _config({"file": "beats.gpkg", "layer": "beats", "name": " BEAT "}, tmp_path), base=tmp_path
    )
    assert cfg.places.source.path == tmp_path / "beats.gpkg"
    assert (cfg.places.source.layer, cfg.places.name) == ("beats", "BEAT")
    assert parse_config(_config({}, tmp_path), base=tmp_path).places == PlacesConfig()
    off = parse_config(_config({"name": ""}, tmp_path), base=tmp_path)
    assert off.places == PlacesConfig(name="")


@pytest.mark.parametrize(
    ("places", "message"),
    [
        (
            {"file": "b.gpkg", "x": "X"},
            r"\[places\.x\]: unknown key\. Fix: remove it or use one of crs, file, layer, name",
        ),
        (
            {"layer": "beats"},
            r"\[places\.layer\]: needs a file\. Fix: add `file = \.\.\.` or remove `layer`",
        ),
        ({"name": 3}, r"\[places\.name\]: must be a string, got int 3"),
    ],
)
def test_bad_places_settings_are_one_line_each(tmp_path, places, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(_config(places, tmp_path), file="config.toml", base=tmp_path)


def test_places_round_trip_through_toml_and_are_kept_as_inputs(tmp_path):
    config = load_config(places_city(tmp_path / "city"))
    assert config.places.source.path.name == "districts.gpkg" and config.places.name is None
    assert config.places.source in list(iter_sources(config))  # rtm_core.runs.rerun keeps it
    named = config.replace(places=PlacesConfig(source=config.places.source, name="NOMBRE"))
    text = config_to_toml(named, base=tmp_path / "city")
    assert tomllib.loads(text)["places"] == {"file": "districts.gpkg", "name": "NOMBRE"}
    back = parse_config(tomllib.loads(text), base=tmp_path / "city")
    assert back.places == named.places


# --------------------------------------------------------------------------- study


def test_the_study_names_units_from_the_places_layer(tmp_path):
    config = load_config(places_city(tmp_path / "city"))
    study = load_study(config)
    places = study.places
    assert (places.column, places.guessed) == ("NOMBRE", True)
    assert set(places.frame["place"]) == set(DISTRICTS)
    assert len(places.units) == len(study.units) and (places.units != "").all()
    # a cell centre in the south-west quadrant is in San José
    west = np.argmin(study.units.points.sum(axis=1))
    assert places.units[west] == "San José"
    assert (
        "place names from column 'NOMBRE' (guessed): 4 places" in study.summary()["note"].str.cat()
    )


def test_a_boundary_of_several_areas_names_units_and_one_polygon_does_not(tmp_path):
    config = load_config(places_city(tmp_path / "city"))
    districts = tmp_path / "districts.gpkg"
    write_districts(districts)
    units = config.units.__class__(
        kind="grid", boundary=LayerSource(path=districts), cell_size=config.units.cell_size
    )
    several = load_study(config.replace(units=units, places=PlacesConfig()))
    assert several.places is not None and set(several.places.units) == set(DISTRICTS)
    one = load_study(config.replace(places=PlacesConfig()))  # the city's single polygon
    assert one.places is None
    off = load_study(config.replace(places=PlacesConfig(name="")))
    assert off.places is None
    wrong = config.replace(places=PlacesConfig(source=config.places.source, name="NAME"))
    with pytest.raises(
        InputError,
        match=r"districts\.gpkg \[places\.name\]: column 'NAME' not found \(columns: OBJECTID, "
        r"NOMBRE, SHAPE__Area\)\. Fix: name the column that holds the places' names",
    ):
        load_study(wrong)


def test_rtm_check_checks_the_places_layer(tmp_path):
    from rtm_core.study.checks import check_layer

    points = tmp_path / "beats.geojson"
    gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[Point(0, 0), Point(1, 1)], crs=4326).to_file(
        points, driver="GeoJSON", engine="pyogrio"
    )
    [problem] = check_layer(LayerSource(path=points, name=points.name), "places")
    assert str(problem) == (
        "beats.geojson [geometry]: a places layer must hold polygons, got points. "
        "Fix: upload the places as polygons"
    )
