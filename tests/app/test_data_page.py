"""The Data page with a new city (tests/new_city.py): guessed columns, CRS, dates and periods,
the working CRS control, every problem at upload, choices kept when a layer is re-added."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_
from streamlit.testing.v1 import AppTest

from rtm_app import data_choices
from rtm_core.errors import InputError
from rtm_core.io import parse_dates
from tests.hypothesis_profiles import examples
from tests.new_city import (
    FEET_CRS,
    INVALID_DISTRICT,
    METRE_CRS,
    N_CRIMES,
    N_LATLON_GAPS,
    write_new_city,
)

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def runs_folder(tmp_path, monkeypatch):
    """A runs folder of the test's own (the caches are conftest's ``fresh_caches``)."""
    monkeypatch.setenv("RTM_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> dict[str, Path]:
    return write_new_city(tmp_path_factory.mktemp("new_city"))


def empty_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    next(b for b in at.button if b.label == "Start empty").click().run()
    assert not at.exception
    return at


def add(at: AppTest, role: str, path: Path, **before) -> AppTest:
    """Choose the role, upload the file, then press Add layer."""
    upload(at, role, path)
    for key, value in before.items():
        at.radio(key=f"{key}_{form_id(at)}").set_value(value).run()
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, role: str, path: Path) -> None:
    at.radio(key=f"role_{form_id(at)}").set_value(role).run()
    at.file_uploader[0].set_value((path.name, path.read_bytes(), "application/octet-stream"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def form_id(at: AppTest) -> int:
    return at.session_state["rtm_upload_form"]


def text_input(at: AppTest, label: str):
    return next(t for t in at.text_input if t.label == label)


# --------------------------------------------------------------------------- working CRS


def test_a_feet_boundary_gets_its_metre_zone_and_the_repair_is_said(city):
    at = add(empty_app(), "boundary", city["boundary"])
    assert not at.error, [e.value for e in at.error]
    data = at.session_state["rtm_data"]
    assert data.units.crs == METRE_CRS  # flows into UnitsConfig.crs of the config
    box = text_input(at, "Working CRS (projected, metres)")
    assert box.value == METRE_CRS
    reason = " ".join(c.value for c in at.caption)
    assert f"Working CRS {METRE_CRS}, chosen for you: boundary is in {FEET_CRS}" in reason
    assert "same zone" in reason
    added = " ".join(s.value for s in at.success)
    assert "boundary.gpkg" in added and INVALID_DISTRICT in added and "area" in added


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (FEET_CRS, f"measures in US survey foot, bandwidths are metres. Fix: use {METRE_CRS}"),
        ("EPSG:4326", "is in degrees"),
        ("EPSG:99999999", "unknown CRS"),
    ],
)
def test_a_bad_working_crs_gets_one_line_with_the_fix_and_changes_nothing(city, typed, message):
    at = add(empty_app(), "boundary", city["boundary"])
    text_input(at, "Working CRS (projected, metres)").input(typed).run()
    assert not at.exception
    (error,) = at.error
    assert message in error.value and "Fix:" in error.value and "\n" not in error.value
    assert at.session_state["rtm_data"].units.crs == METRE_CRS


def test_a_typed_working_crs_goes_into_the_config(city):
    at = add(empty_app(), "boundary", city["boundary"])
    text_input(at, "Working CRS (projected, metres)").input("EPSG:32616").run()
    assert not at.error
    assert at.session_state["rtm_data"].units.crs == "EPSG:32616"
    assert any("typed on this page" in c.value for c in at.caption)


def test_check_working_crs_messages_are_pinned():
    assert data_choices.check_working_crs(" 26971 ") == "EPSG:26971"
    with pytest.raises(InputError, match=r"EPSG:2263 measures in US survey foot.*EPSG:32118"):
        data_choices.check_working_crs("EPSG:2263")
    with pytest.raises(InputError, match="no CRS given"):
        data_choices.check_working_crs("  ")


# --------------------------------------------------------------------------- columns, dates


def test_crimes_columns_crs_date_and_presets_are_guessed(city):
    at = add(empty_app(), "boundary", city["boundary"])
    upload(at, "crimes", city["crimes"])
    fid = form_id(at)
    pairs = at.radio(key=f"xy_{fid}")
    # complete projected x/y first, lon/lat with its gaps second; both counts shown
    assert pairs.value.startswith("X Coordinate / Y Coordinate: projected x/y")
    assert f"{N_CRIMES:,} of {N_CRIMES:,} rows complete" in pairs.value
    (lonlat,) = [o for o in pairs.options if o.startswith("Longitude / Latitude")]
    assert f"{N_CRIMES - N_LATLON_GAPS:,} of {N_CRIMES:,}" in lonlat
    assert f"({N_LATLON_GAPS} without coordinates)" in lonlat
    assert at.selectbox(key=f"x_{fid}").value == "X Coordinate"
    crs = text_input(at, "CRS of the coordinates")
    assert crs.value == FEET_CRS
    assert any(f"same as the boundary: {FEET_CRS}" == c.value for c in at.caption)
    assert at.selectbox(key=f"date_{fid}").value == "Date"  # not ID, the first column
    # presets with counts computed here from the file
    when = parse_dates(pd.read_csv(city["crimes"])["Date"])
    n2022 = int((when.dt.year == 2022).sum())
    n2023 = int((when.dt.year == 2023).sum())
    periods = at.radio(key=f"periods_{fid}")
    assert periods.value.startswith("last full year (2023) after 2022")
    assert f"({n2022:,} crimes)" in periods.value and f"({n2023:,} crimes)" in periods.value
    assert any(o.startswith("last full quarter") for o in periods.options)
    assert any(o.startswith("last full month") for o in periods.options)
    assert periods.options[-1] == "Custom dates"
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    crimes = at.session_state["rtm_data"].crimes
    assert (crimes.source.x, crimes.source.y, crimes.source.crs) == (
        "X Coordinate",
        "Y Coordinate",
        FEET_CRS,
    )
    assert (crimes.date, crimes.train, crimes.test) == (
        "Date",
        ("2022-01-01", "2022-12-31"),
        ("2023-01-01", "2023-12-31"),
    )


def test_switching_to_lon_lat_follows_in_the_columns_and_crs(city):
    at = add(empty_app(), "boundary", city["boundary"])
    upload(at, "crimes", city["crimes"])
    fid = form_id(at)
    pairs = at.radio(key=f"xy_{fid}")
    pairs.set_value(next(o for o in pairs.options if o.startswith("Longitude"))).run()
    assert (at.selectbox(key=f"x_{fid}").value, at.selectbox(key=f"y_{fid}").value) == (
        "Longitude",
        "Latitude",
    )
    assert text_input(at, "CRS of the coordinates").value == "EPSG:4326"


def test_choices_are_kept_when_the_layer_is_added_again(city):
    at = add(empty_app(), "boundary", city["boundary"])
    upload(at, "crimes", city["crimes"])
    fid = form_id(at)
    pairs = at.radio(key=f"xy_{fid}")
    pairs.set_value(next(o for o in pairs.options if o.startswith("Longitude"))).run()
    periods = at.radio(key=f"periods_{fid}")
    month = next(o for o in periods.options if o.startswith("last full month"))
    periods.set_value(month).run()
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.error, [e.value for e in at.error]
    first = at.session_state["rtm_data"].crimes
    # the same file again: the previous columns, CRS and periods come back
    upload(at, "crimes", city["crimes"])
    fid = form_id(at)
    assert at.radio(key=f"xy_{fid}").value.startswith("Longitude / Latitude")
    assert at.selectbox(key=f"x_{fid}").value == "Longitude"
    assert text_input(at, "CRS of the coordinates").value == "EPSG:4326"
    assert at.radio(key=f"periods_{fid}").value == month
    next(b for b in at.button if b.label == "Add layer").click().run()
    again = at.session_state["rtm_data"].crimes
    assert (again.source.x, again.train, again.test) == ("Longitude", first.train, first.test)


def test_semicolon_and_gzip_layers_are_added_with_their_crs(city):
    at = add(empty_app(), "boundary", city["boundary"])
    add(at, "generator", city["bars"])
    assert not at.error, [e.value for e in at.error]
    upload(at, "generator", city["bus_stops"])
    assert text_input(at, "CRS of the coordinates").value == FEET_CRS  # fits the boundary
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert not at.error, [e.value for e in at.error]
    bars, stops = at.session_state["rtm_data"].generators
    assert (bars.name, bars.source.x, bars.source.crs) == ("bars", "longitude", "EPSG:4326")
    assert (stops.name, stops.source.x, stops.source.crs) == ("bus_stops", "X", FEET_CRS)


def test_an_excel_sheet_is_read_through_the_uploader(city):
    at = add(empty_app(), "boundary", city["boundary"])
    add(at, "generator", city["bars_xlsx"])
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["rtm_data"].generators[-1].source.x == "longitude"


def test_every_problem_of_a_layer_is_listed_and_nothing_changes(city, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("X,Y,when\nabc,def,2021-01-01\nghi,jkl,2021-02-01\n")
    at = add(empty_app(), "boundary", city["boundary"])
    before = at.session_state["rtm_data"]
    add(at, "generator", bad)
    errors = [e.value for e in at.error]
    assert len(errors) == 2, errors  # x and y, both at once
    assert all("bad.csv" in e and "Fix:" in e and "\n" not in e for e in errors)
    assert at.session_state["rtm_data"] == before


def test_the_new_city_passes_the_study_check(city):
    at = add(empty_app(), "boundary", city["boundary"])
    add(at, "crimes", city["crimes"])
    add(at, "generator", city["bars"])
    add(at, "generator", city["bus_stops"])
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Working CRS"] == METRE_CRS
    assert int(metrics["Crimes in period t"].replace(",", "")) > 0
    notes = " ".join(c.value for c in at.caption)
    assert INVALID_DISTRICT in notes


def test_a_zip_holding_one_csv_is_read_through_the_uploader(city, tmp_path):
    import zipfile

    archive = tmp_path / "bars_export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(city["bars"], "bars.csv")
    at = add(empty_app(), "boundary", city["boundary"])
    add(at, "generator", archive)
    assert not at.error, [e.value for e in at.error]
    added = at.session_state["rtm_data"].generators[-1]
    assert (added.name, added.source.x, added.source.crs) == (
        "bars_export",
        "longitude",
        "EPSG:4326",
    )


def test_the_study_check_lists_every_problem_together(city, tmp_path):
    from rtm_app.dataset import DataSet
    from rtm_core.config import CrimesConfig, GeneratorConfig, LayerSource, UnitsConfig

    (tmp_path / "shops.csv").write_text("X,Y\nabc,def\nghi,jkl\n")
    (tmp_path / "clubs.csv").write_text("name,size\na,1\n")
    crimes = LayerSource(path=city["crimes"], x="X Coordinate", y="Y Coordinate", crs=FEET_CRS)
    data = DataSet(
        "broken",
        units=UnitsConfig(boundary=LayerSource(path=city["boundary"]), crs=METRE_CRS),
        crimes=CrimesConfig(
            source=crimes,
            date="Date",
            train=("2022-01-01", "2022-12-31"),
            test=("2023-01-01", "2023-12-31"),
        ),
        generators=(
            GeneratorConfig("shops", LayerSource(path=tmp_path / "shops.csv", x="X", y="Y")),
            GeneratorConfig("clubs", LayerSource(path=tmp_path / "clubs.csv")),
        ),
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["rtm_data"] = data
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    # the shops' x and y and the clubs' missing coordinates, all three at once, one line each
    assert sum("shops.csv" in e for e in errors) == 2, errors
    assert sum("clubs.csv" in e for e in errors) == 1, errors
    assert all("Fix:" in e and "\n" not in e for e in errors)
    assert not at.metric


# --------------------------------------------------------------------------- pure helpers


def test_period_options_count_the_crimes_of_each_period():
    dates = pd.Series(
        ["2021-01-01T10:00:00-06:00"] * 3
        + ["2021-12-31T23:00:00-06:00"]
        + ["2022-06-01"] * 5
        + ["2022-12-31"]
    )
    table = pd.DataFrame({"when": dates, "id": range(len(dates))})
    assert data_choices.date_column(table) == "when"
    (year, *_) = data_choices.period_options(table, "when")
    assert (year.train, year.test) == (("2021-01-01", "2021-12-31"), ("2022-01-01", "2022-12-31"))
    assert (year.n_train, year.n_test) == (4, 6)
    assert "(4 crimes)" in year.label and "(6 crimes)" in year.label
    assert data_choices.saved_preset([year], {"train": list(year.train), "test": ["x", "y"]}) == (
        "Custom dates"
    )
    assert data_choices.saved_preset([year], {}) is None


def test_coordinate_options_put_complete_projected_xy_first():
    table = pd.DataFrame(
        {
            "lat": [41.8, None, 41.9, 41.85],
            "lon": [-87.6, None, -87.7, -87.65],
            "X": [1_160_000.0, 1_161_000.0, 1_162_000.0, 1_163_000.0],
            "Y": [1_900_000.0, 1_901_000.0, 1_902_000.0, 1_903_000.0],
        }
    )
    first, second = data_choices.coordinate_options(table)
    assert (first.x, first.y, second.x, second.y) == ("X", "Y", "lon", "lat")
    assert "4 of 4 rows complete" in first.label and "(1 without coordinates)" in second.label
    assert data_choices.saved_index([first, second], {"x": "lon", "y": "lat"}) == 1
    assert data_choices.crs_for_columns(table, "lon", "lat", None)[0] == "EPSG:4326"
    assert data_choices.crs_for_columns(table, "X", "Y", None)[0] == ""  # no boundary yet


def test_another_file_in_the_same_form_gets_its_own_guesses(city):
    at = add(empty_app(), "boundary", city["boundary"])
    upload(at, "crimes", city["crimes"])
    fid = form_id(at)
    pairs = at.radio(key=f"xy_{fid}")
    pairs.set_value(pairs.options[1]).run()  # lon/lat of the crimes
    upload(at, "generator", city["bus_stops"])  # replaces the file before adding it
    assert at.radio(key=f"xy_{fid}").value.startswith("X / Y: projected x/y")
    assert (at.selectbox(key=f"x_{fid}").value, at.selectbox(key=f"y_{fid}").value) == ("X", "Y")
    assert text_input(at, "CRS of the coordinates").value == FEET_CRS


@settings(max_examples=examples(60), deadline=None)
@given(
    days=st_.lists(st_.integers(0, 3 * 366), min_size=1, max_size=200),
    pick=st_.integers(0, 5),
)
def test_a_saved_preset_is_found_again_and_counts_match_the_dates(days, pick):
    """Property: every preset's counts are the dates inside its periods, and saving any preset's
    periods restores that preset (what re-adding a layer does)."""
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")
    table = pd.DataFrame({"when": when.strftime("%Y-%m-%d")})
    options = data_choices.period_options(table, "when")
    for option in options:
        for (start, end), n in ((option.train, option.n_train), (option.test, option.n_test)):
            inside = (when >= pd.Timestamp(start)) & (when <= pd.Timestamp(end))
            assert int(inside.sum()) == n
    if options:
        chosen = options[pick % len(options)]
        saved = {"train": list(chosen.train), "test": list(chosen.test)}
        assert data_choices.saved_preset(options, saved) == chosen.label


def test_a_boundary_crs_without_an_epsg_code_gives_a_working_crs_that_reads_back():
    """A .prj with no authority code (Chicago's boundary: a custom "Transverse_Mercator") is
    proposed as text that the Working CRS box and units.crs accept, not as its bare name."""
    import geopandas as gpd
    from pyproj import CRS
    from shapely.geometry import box

    custom = CRS.from_proj4(
        "+proj=tmerc +lat_0=36.5 +lon_0=-88.1 +k=0.99991 +x_0=310000 +y_0=0 +ellps=GRS80 "
        "+units=m +no_defs"
    )
    assert custom.to_epsg(min_confidence=70) is None
    frame = gpd.GeoDataFrame(geometry=[box(350_000, 570_000, 352_000, 572_000)], crs=custom)
    suggested = data_choices.suggest_working_crs(frame)
    assert CRS.from_user_input(suggested.crs) == custom
    assert data_choices.check_working_crs(suggested.crs) == suggested.crs
    reason = data_choices.crs_reason(suggested.crs, suggested)
    assert "chosen for you" in reason and "PROJ" not in reason  # a name, not the WKT
