"""Issue 17's walk frictions on the Data page and in the pieces behind other pages: columns
guessed in Spanish, errors that name the on-screen control, the period radio, the map's new
layers, chart domains, the stability legend's count. The Train page's are in
``test_train_page.py``; the browser walk in ``tests/browser/test_spanish_city_browser.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rtm_app import controls
from rtm_app.charts import irr_forest, log_domain
from rtm_app.controls import FACTOR_FORM, LAYER_FORM, STUDY_CHECK, TRAIN_FORM, on_screen
from rtm_app.data_choices import map_layers_shown
from rtm_core.config import LayerSource
from rtm_core.errors import ConfigError, FitError, InputError
from rtm_core.io.delimited import coordinate_roles, read_csv
from rtm_core.results.stability import tie_shared_units, top_share_by_unit
from rtm_core.study.checks import Problem
from tests.spanish_city import CITY_CRS, write_spanish_city

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> dict[str, Path]:
    return write_spanish_city(tmp_path_factory.mktemp("ciudad"))


# --------------------------------------------------------------------------- errors


def test_a_problem_in_a_chosen_column_names_its_control():
    error = InputError(
        "delitos.csv",
        "latitud",
        "no date in the column could be read",
        "use dates like 2021-03-01 (YYYY-MM-DD), or set crimes.date to the date column",
    )
    line = on_screen(error, LAYER_FORM, {"latitud": "date"})
    assert line == (
        "delitos.csv, column 'latitud': no date in the column could be read. Fix: pick the "
        "column that holds the dates (e.g. 2021-03-01) in 'Date column' above"
    )
    assert "crimes.date" not in line


@pytest.mark.parametrize(
    ("field", "columns", "expected"),
    [
        ("x", {}, "Fix: pick the longitude (or projected x) column in 'x / longitude column'"),
        ("crs", {}, "in 'CRS of the coordinates' above"),
        ("periods", {}, "Fix: pick a preset, or both custom periods in 'Training (t) and test"),
        ("crimes.train", {}, "Fix: pick other training dates in 'Training (t) and test"),
        ("name", {}, "in 'Set name' above"),
        ("fecha_hecho", {"fecha_hecho": "x"}, "column 'fecha_hecho': is not numeric (e.g. '2"),
    ],
)
def test_each_layer_field_points_at_its_control(field, columns, expected):
    error = InputError("delitos.csv", field, "is not numeric (e.g. '2021-03-04')", "set x")
    line = on_screen(error, LAYER_FORM, columns)
    assert expected in line and "\n" not in line and line.startswith("delitos.csv")


def test_a_numeric_problem_keeps_the_data_fix_and_a_swap_names_both_columns():
    error = InputError("d.csv", "lon", "is not numeric (e.g. '1.234,5')", "use . for decimals")
    line = on_screen(error, LAYER_FORM, {"lon": "x", "lat": "y"})
    assert line.endswith("in 'x / longitude column' above, or use . for decimals")
    swapped = InputError("d.csv", "lat/lon", "longitude and latitude look swapped", "swap x and y")
    assert on_screen(swapped, LAYER_FORM, {"lat": "x", "lon": "y"}) == (
        "d.csv: longitude and latitude look swapped. Fix: pick the longitude in "
        "'x / longitude column' and the latitude in 'y / latitude column' above"
    )


def test_unmatched_messages_stay_as_the_library_words_them():
    error = InputError("boundary.gpkg", "geometry", "a boundary must be polygons", "upload one")
    assert on_screen(error, LAYER_FORM) == str(error)
    assert on_screen(FitError("no crimes"), LAYER_FORM) == "no crimes"
    assert on_screen(ValueError("boom"), LAYER_FORM) == "Unexpected error: boom"
    problem = Problem("crimes.csv", "crimes.test", "no crimes in the test period", "check")
    assert "add the crimes file again and pick other test dates" in on_screen(problem, STUDY_CHECK)
    seeds = ConfigError("model settings", "seeds", "must be >= 1, got 0", "use e.g. 20")
    assert on_screen(seeds, TRAIN_FORM).endswith("in 'Seeds' above")
    bandwidth = ConfigError("bars", "bandwidths", "'lots' is not a number", "type metres")
    assert on_screen(bandwidth, FACTOR_FORM) == (
        "bars: 'lots' is not a number. Fix: type whole metres such as 100 200 400 in "
        "'Bandwidths (m)' in the layer's row of the generator table above"
    )
    history = ConfigError("crime history", "bandwidths", "none given", "type metres")
    assert on_screen(history, FACTOR_FORM).endswith("in 'History distances (m)' above")
    measures = InputError("bars", "measures", "none chosen", "choose distance and/or density")
    assert "tick 'Distance dummies' and/or 'Density dummies'" in on_screen(measures, FACTOR_FORM)
    missing = controls.missing("d.csv", "date", LAYER_FORM, "no date column chosen")
    assert missing.startswith("d.csv: no date column chosen. Fix: pick the column")


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "roles"),
    [
        ("longitud", {"lon"}),
        ("LATITUD", {"lat"}),
        ("lng", {"lon"}),
        ("Latitude (WGS84)", {"lat"}),
        ("coord_x", {"x"}),
        ("X Coordinate", {"x"}),
        ("pointY", {"y"}),
        ("Längengrad", {"lon"}),
        ("fecha_hecho", set()),
        ("Datum", set()),
        ("id", set()),
    ],
)
def test_coordinate_roles_by_name_in_any_language(name, roles):
    assert coordinate_roles(name) == roles


def test_the_command_finds_spanish_lonlat_columns_without_x_and_y(city):
    frame, note = read_csv(LayerSource(path=city["crimes"]))  # no x, y, crs: detected
    assert "lon/lat columns detected (longitud, latitud)" in note
    assert str(frame.crs) == "EPSG:4326" and len(frame) > 1000


# --------------------------------------------------------------------------- Data page


def empty_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    next(b for b in at.button if b.label == "Start empty").click().run()
    return at


def form_id(at: AppTest) -> int:
    return at.session_state["rtm_upload_form"]


def upload(at: AppTest, role: str, path: Path, data: bytes | None = None) -> AppTest:
    at.radio(key=f"role_{form_id(at)}").set_value(role).run()
    payload = path.read_bytes() if data is None else data
    at.file_uploader[0].set_value((path.name, payload, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def press_add(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def test_spanish_crimes_are_guessed_before_and_after_the_boundary(runs_dir, city):
    at = upload(empty_app(), "crimes", city["crimes"])  # no boundary yet: by names
    fid = form_id(at)
    assert at.selectbox(key=f"x_{fid}").value == "longitud"
    assert at.selectbox(key=f"y_{fid}").value == "latitud"
    assert at.selectbox(key=f"date_{fid}").value == "fecha_hecho"
    assert at.radio(key=f"periods_{fid}").value.startswith("last full year (2022) after 2021")
    assert "No coordinate columns recognised" not in warnings(at)
    at.file_uploader[0].set_value(None).run()
    upload(at, "boundary", city["boundary"])
    press_add(at)
    added = " ".join(s.value for s in at.success)
    assert f"NOMBRE '{'La Candelaria'}'" in added and "SHAPE__Area" not in added
    assert at.session_state["rtm_data"].units.crs == CITY_CRS
    upload(at, "crimes", city["crimes"])
    fid = form_id(at)
    assert at.radio(key=f"xy_{fid}").value.startswith("longitud / latitud: lon/lat")
    press_add(at)
    crimes = at.session_state["rtm_data"].crimes
    assert (crimes.source.x, crimes.source.y, crimes.date) == ("longitud", "latitud", "fecha_hecho")
    assert crimes.train == ("2021-01-01", "2021-12-31")
    assert "the UTC clock time is kept" in " ".join(s.value for s in at.success)


def test_unrecognised_columns_are_asked_for_and_the_warning_goes_once_chosen(runs_dir, tmp_path):
    table = tmp_path / "puntos.csv"
    table.write_text("a;b;c\n-74,08;4,61;x\n-74,09;4,62;y\n", encoding="utf-8")
    at = upload(empty_app(), "generator", table)
    fid = form_id(at)
    assert "No coordinate columns recognised" in warnings(at)
    assert at.selectbox(key=f"x_{fid}").value is None  # no guess by position
    press_add(at)
    errors = [e.value for e in at.error]
    assert errors == [
        "puntos.csv: no x column chosen. Fix: pick the longitude (or projected x) column in "
        "'x / longitude column' above",
        "puntos.csv: no y column chosen. Fix: pick the latitude (or projected y) column in "
        "'y / latitude column' above",
    ]
    assert at.session_state["rtm_data"].generators == ()
    at.selectbox(key=f"x_{fid}").set_value("a").run()
    assert "No coordinate columns recognised" in warnings(at)  # y still missing
    at.selectbox(key=f"y_{fid}").set_value("b").run()
    assert "No coordinate columns recognised" not in warnings(at)
    assert next(t for t in at.text_input if t.label == "CRS of the coordinates").value == (
        "EPSG:4326"
    )
    at.selectbox(key=f"y_{fid}").set_value(None).run()  # emptied by the analyst: stays so
    assert at.selectbox(key=f"y_{fid}").value is None
    assert "No coordinate columns recognised" in warnings(at)
    at.selectbox(key=f"y_{fid}").set_value("b").run()
    press_add(at)
    assert not at.error and at.session_state["rtm_data"].generators[0].source.x == "a"


def _dated_table(tmp_path: Path) -> Path:
    """Crimes whose second date-like column holds text, to pick the wrong date column."""
    rng = np.random.default_rng(0)
    when = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 730, 400)), "D")
    path = tmp_path / "hechos.csv"
    pd.DataFrame(
        {
            "lon": np.round(-74.08 + rng.normal(0, 0.01, 400), 6),
            "lat": np.round(4.61 + rng.normal(0, 0.01, 400), 6),
            "fecha": when.strftime("%Y-%m-%d"),
            "nota": rng.choice(["a", "b"], 400),
        }
    ).to_csv(path, index=False)
    return path


def test_the_period_radio_leaves_custom_dates_when_presets_appear(runs_dir, tmp_path):
    at = upload(empty_app(), "crimes", _dated_table(tmp_path))
    fid = form_id(at)
    at.selectbox(key=f"date_{fid}").set_value("nota").run()  # a column without dates
    assert at.radio(key=f"periods_{fid}").options == ["Custom dates"]
    press_add(at)  # an empty custom period is never submitted
    errors = " ".join(e.value for e in at.error)
    assert "Training period (t) is not complete" in errors
    assert "in 'Training period (t)' above" in errors and "[periods]" not in errors
    at.selectbox(key=f"date_{fid}").set_value("fecha").run()  # presets appear
    radio = at.radio(key=f"periods_{fid}")
    assert radio.value == radio.options[0] and radio.value.startswith("last full year (2022)")
    press_add(at)
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["rtm_data"].crimes.train == ("2021-01-01", "2021-12-31")


def test_custom_dates_picked_while_presets_are_offered_stay_picked(runs_dir, tmp_path):
    at = upload(empty_app(), "crimes", _dated_table(tmp_path))
    fid = form_id(at)
    at.radio(key=f"periods_{fid}").set_value("Custom dates").run()
    train = next(d for d in at.date_input if d.label == "Training period (t)")
    assert len(train.value) == 2  # pre-filled with the halves of the data, never empty
    at.selectbox(key=f"date_{fid}").set_value("fecha").run()
    assert at.radio(key=f"periods_{fid}").value == "Custom dates"
    press_add(at)
    assert not at.error, [e.value for e in at.error]
    crimes = at.session_state["rtm_data"].crimes
    assert crimes.train[0].startswith("2021-01") and crimes.test[1] < "2023-01-01"


# --------------------------------------------------------------------------- map, charts


def test_a_layer_just_added_is_drawn_and_one_taken_off_stays_off():
    names = ["boundary", "crimes", "bars", "stops"]
    default = ["boundary", "crimes", "bars"]
    assert map_layers_shown(names, default, None, None) == default  # a first map
    assert map_layers_shown(names, default, ["boundary", "bars"], names[:3]) == [
        "boundary",
        "bars",
        "stops",  # added since: drawn without being picked
    ]
    assert map_layers_shown(names, default, ["boundary"], names) == ["boundary"]
    assert map_layers_shown(names, default, ["x"], ["x", "y"]) == default  # another data set


def test_log_domains_hold_every_whisker_with_room():
    low, high = log_domain([0.71, 1.04, 1.53, 1.27, 2.22])
    assert low < 0.71 and high > 2.22
    assert log_domain([1.2, 1.3])[0] < 1.0 < log_domain([1.2, 1.3])[1]  # IRR 1 kept
    assert log_domain([np.nan, -1.0]) == pytest.approx([1 / 1.05, 1.05])
    coefficients = pd.DataFrame(
        {
            "model": ["classical", "classical"],
            "variable": ["metro_dis_100", "metro_dis_200"],
            "set": ["metro", "metro"],
            "coef": [0.04, 0.24],
            "irr": [1.04, 1.27],
            "irr_low": [0.71, 0.73],
            "irr_high": [1.53, 2.22],
        }
    )
    spec = irr_forest(coefficients).to_dict()
    domains = [
        layer["encoding"]["x"]["scale"]["domain"]
        for layer in spec["layer"]
        if "scale" in layer.get("encoding", {}).get("x", {})
    ]
    assert domains and all(d[0] < 0.71 and d[1] > 2.22 for d in domains)


def test_units_that_only_tie_at_a_seeds_cut_off_are_counted():
    risks = np.array([[3.0, 2.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 9.0]])
    shares = top_share_by_unit(risks, share=1 / 3)  # 2 slots per seed
    assert shares.tolist() == pytest.approx([0.6, 0.6, 0.1, 0.1, 0.1, 0.5])
    assert tie_shared_units(shares, n_seeds=2) == 3  # in no top 2 outright, only tied
    assert tie_shared_units(shares, n_seeds=0) == 0
