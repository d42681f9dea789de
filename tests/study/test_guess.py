"""rtm_core.study.guess: coordinate columns, the date column and period presets, as an analyst's
table has them (ids first, x/y complete, lat/lon with gaps, ISO datetimes with offsets)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rtm_core.config import LayerSource
from rtm_core.io import read_table
from rtm_core.study.guess import (
    CoordinateCandidate,
    StudyExtent,
    guess_coordinates,
    guess_date_column,
    period_presets,
)
from tests.hypothesis_profiles import examples
from tests.new_city import N_CRIMES, N_LATLON_GAPS, write_new_city


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_new_city(tmp_path_factory.mktemp("guess") / "city")


@pytest.fixture(scope="module")
def crimes(city) -> pd.DataFrame:
    table, _ = read_table(LayerSource(path=city["crimes"], name="crimes.csv"))
    return table


def test_complete_projected_xy_beat_lonlat_with_gaps_and_both_are_offered(crimes):
    guess = guess_coordinates(crimes)
    assert guess.best == CoordinateCandidate(
        "X Coordinate", "Y Coordinate", "projected", N_CRIMES, N_CRIMES
    )
    assert guess.ask
    (lonlat,) = [c for c in guess.candidates if c.kind == "lonlat"]
    assert (lonlat.x, lonlat.y) == ("Longitude", "Latitude")
    assert lonlat.n_missing == N_LATLON_GAPS


def test_lonlat_wins_when_it_keeps_more_rows():
    frame = pd.DataFrame(
        {
            "x": [440000.0, np.nan, np.nan],
            "y": [4630000.0, np.nan, np.nan],
            "lon": [-87.7, -87.6, -87.5],
            "lat": [41.8, 41.9, 42.0],
        }
    )
    guess = guess_coordinates(frame)
    assert (guess.best.x, guess.best.kind, guess.best.n_complete) == ("lon", "lonlat", 3)


def test_xy_columns_holding_degrees_count_as_lonlat():
    frame = pd.DataFrame({"X": [-87.7, -87.6], "Y": [41.8, 41.9]})
    guess = guess_coordinates(frame)
    assert guess.best.kind == "lonlat" and not guess.ask


def test_ties_go_to_projected_and_no_columns_give_none():
    frame = pd.DataFrame(
        {"lat": [41.8], "lon": [-87.7], "easting": [440000.0], "northing": [4630000.0]}
    )
    assert guess_coordinates(frame).best.x == "easting"
    empty = guess_coordinates(pd.DataFrame({"a": [1]}))
    assert empty.best is None and empty.candidates == () and not empty.ask


def test_decimal_comma_table_gives_numbers(city):
    table, _ = read_table(LayerSource(path=city["bars"], name="bars.csv"))
    best = guess_coordinates(table).best
    assert (best.x, best.y, best.kind, best.n_missing) == ("longitude", "latitude", "lonlat", 0)


def test_date_column_is_found_by_parsing_not_position(crimes):
    assert list(crimes.columns)[0] == "ID"  # an integer id column comes first
    assert guess_date_column(crimes) == "Date"


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"id": [11500000, 11500001], "when": ["2021-01-05", "2021-02-06"]}, "when"),
        ({"id": ["11500000", "11500001"], "reported": ["05/01/2021", "06/02/2021"]}, "reported"),
        ({"year": [2021, 2022], "note": ["a", "b"]}, None),
        ({"a": ["2021-01-05", "x"], "occurred_on": ["2021-01-05", "2021-01-06"]}, "occurred_on"),
        ({"a": ["2021-01-05", "2021-01-06"], "b": ["2021-01-05", "2021-01-06"]}, "a"),
        ({"a": ["1850-01-01", "1850-01-02"]}, None),  # outside 1900-2100
    ],
)
def test_guess_date_column(columns, expected):
    assert guess_date_column(pd.DataFrame(columns)) == expected


def test_presets_of_the_new_city(crimes):
    presets = period_presets(crimes["Date"])
    assert [p.name for p in presets] == [
        "last full year (2023) after 2022",
        "last full quarter (2023Q4) after 2023Q3",
        "last full month (2023-11) after 2023-10",
    ]
    year = presets[0]
    assert year.train == ("2022-01-01", "2022-12-31") and year.test == ("2023-01-01", "2023-12-31")
    local = pd.to_datetime(crimes["Date"].str[:10])
    assert year.n_train == int((local.dt.year == 2022).sum())
    assert year.n_test == int((local.dt.year == 2023).sum())


def test_presets_leave_out_what_the_data_does_not_cover():
    dates = pd.Series(pd.date_range("2023-01-03", "2023-08-20", freq="D"))
    names = [p.name for p in period_presets(dates)]  # no full year; Q3 and August not full
    assert names == [
        "last full quarter (2023Q2) after 2023Q1",
        "last full month (2023-07) after 2023-06",
    ]
    assert period_presets(pd.Series(["not a date", None])) == []


@settings(max_examples=examples(60), deadline=None)
@given(
    start=st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)),
    days=st.integers(1, 1500),
    n=st.integers(1, 300),
    seed=st.integers(0, 2**16),
)
# found by Hypothesis (a clean clone's CI): data from 2000-01-04 05:xx got a "full" Q1 2000
@example(start=dt.date(2000, 1, 4), days=200, n=40, seed=0)
@example(start=dt.date(2000, 1, 1), days=61, n=33, seed=1)  # first crime on day 2, 16:20
def test_presets_are_adjacent_periods_with_exact_counts(start, days, n, seed):
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, days * 24 * 60, n)
    when = pd.Timestamp(start) + pd.to_timedelta(offsets, unit="min")
    dates = pd.Series(when.strftime("%Y-%m-%dT%H:%M:00-06:00"))
    for preset in period_presets(dates):
        s0, e0 = map(pd.Timestamp, preset.train)
        s1, e1 = map(pd.Timestamp, preset.test)
        assert s0 <= e0 < s1 <= e1 and s1 == e0 + pd.Timedelta(days=1)
        day = pd.Series(when.normalize())
        assert preset.n_train == int(((day >= s0) & (day <= e0)).sum())
        assert preset.n_test == int(((day >= s1) & (day <= e1)).sum())
        assert when.min() <= s0 + (e0 - s0) / 29 and when.max() >= e1 - (e1 - s1) / 29


# --------------------------------------------------------------------------- any language


LON_NAMES = ["longitud", "Longitud", "LONGITUD", "lon", "lng", "Longitude", "long", "x_lon"]
LAT_NAMES = ["latitud", "Latitud", "LATITUD", "lat", "Latitude", "latitudine", "y_lat"]
DATE_NAMES = ["fecha", "fecha_hecho", "datum", "Datum", "data", "date", "dt", "FECHA HORA"]
OTHER_NAMES = ["id", "tipo", "barrio", "cantidad", "edad", "codigo"]


def _analyst_table(names: dict, n: int, seed: int, centre: tuple[float, float]) -> pd.DataFrame:
    """A crimes table: lon/lat around ``centre``, dates, an id, a count, a category; columns
    named by ``names`` (role -> column name) and ordered by ``names``' order."""
    rng = np.random.default_rng(seed)
    lon0, lat0 = centre
    values = {
        "lon": np.round(lon0 + rng.normal(0, 0.03, n), 6),
        "lat": np.round(lat0 + rng.normal(0, 0.03, n), 6),
        "date": (
            pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
        ).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "id": np.arange(1000, 1000 + n),
        "count": rng.integers(0, 5, n),
        "kind": rng.choice(["HOMICIDIO", "HURTO"], n),
    }
    return pd.DataFrame({names[role]: values[role] for role in names})


def _extent(table: pd.DataFrame, lon: str, lat: str) -> StudyExtent:
    """A boundary box around the points (as a loaded boundary gives it)."""
    return StudyExtent((table[lon].min(), table[lat].min(), table[lon].max(), table[lat].max()))


@settings(max_examples=60, deadline=None)
@given(
    lon=st.sampled_from(LON_NAMES),
    lat=st.sampled_from(LAT_NAMES),
    date=st.sampled_from(DATE_NAMES),
    others=st.lists(st.sampled_from(OTHER_NAMES), min_size=3, max_size=3, unique=True),
    order=st.permutations(range(6)),
    centre=st.tuples(st.floats(-170, 170), st.floats(-60, 70)),
    with_extent=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(  # the analyst's city (issue 17): the date first, then longitud, latitud
    lon="longitud",
    lat="latitud",
    date="fecha_hecho",
    others=["id", "tipo", "barrio"],
    order=[2, 0, 1, 3, 4, 5],
    centre=(-74.08, 4.61),
    with_extent=False,
    seed=0,
)
@example(
    lon="longitud",
    lat="latitud",
    date="fecha_hecho",
    others=["id", "tipo", "barrio"],
    order=[2, 0, 1, 3, 4, 5],
    centre=(-74.08, 4.61),
    with_extent=True,
    seed=0,
)
def test_lonlat_and_dates_are_found_in_any_language_and_order(
    lon, lat, date, others, order, centre, with_extent, seed
):
    roles = [("lon", lon), ("lat", lat), ("date", date)] + list(
        zip(("id", "count", "kind"), others, strict=True)
    )
    names = dict(roles[i] for i in order)
    table = _analyst_table(names, 60, seed, centre)
    extent = _extent(table, lon, lat) if with_extent else None
    guess = guess_coordinates(table, extent)
    assert (guess.best.x, guess.best.y, guess.best.kind) == (lon, lat, "lonlat")
    assert date not in {c.x for c in guess.candidates} | {c.y for c in guess.candidates}
    assert guess_date_column(table) == date


@settings(max_examples=40, deadline=None)
@given(
    order=st.permutations(range(6)),
    centre=st.tuples(st.floats(-170, 170), st.floats(-60, 70)),
    seed=st.integers(0, 2**16),
)
@example(order=[0, 1, 2, 3, 4, 5], centre=(-74.08, 4.61), seed=0)
def test_with_a_boundary_unnamed_columns_are_judged_by_their_values(order, centre, seed):
    # where the area's longitudes and latitudes overlap (near lon = lat) values cannot tell
    assume(abs(centre[0] - centre[1]) > 1.0)
    neutral = ["c1", "c2", "c3", "c4", "c5", "c6"]
    roles = ["lon", "lat", "date", "id", "count", "kind"]
    names = {roles[i]: neutral[k] for k, i in enumerate(order)}
    table = _analyst_table(names, 60, seed, centre)
    extent = _extent(table, names["lon"], names["lat"])
    best = guess_coordinates(table, extent).best
    assert (best.x, best.y, best.kind) == (names["lon"], names["lat"], "lonlat")
    assert guess_coordinates(table).best is None  # no names and no boundary: nothing to say


def test_a_longitude_is_never_taken_as_y():
    table = _analyst_table({"lat": "a", "lon": "b", "date": "c"}, 40, 1, (-74.08, 4.61))
    swapped = table.rename(columns={"a": "longitud", "b": "latitud"})  # names lie
    best = guess_coordinates(swapped, _extent(table, "b", "a")).best
    assert (best.x, best.y) == ("latitud", "longitud")  # the values decide
    far_west = _analyst_table({"lat": "lat", "lon": "lon"}, 40, 2, (-120.0, 40.0))
    swapped = far_west.rename(columns={"lat": "lon", "lon": "lat"})
    best = guess_coordinates(swapped).best  # no boundary: beyond +-90 is a longitude
    assert (best.x, best.y) == ("lat", "lon")


def test_projected_xy_fit_the_boundary_whatever_their_names():
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        {
            "fecha": ["2021-01-05"] * 50,
            "este_m": rng.uniform(440_000, 444_000, 50),
            "norte_m": rng.uniform(4_630_000, 4_634_000, 50),
            "id": np.arange(50),
        }
    )
    extent = StudyExtent((-87.7, 41.8, -87.6, 41.9), (440_000, 4_630_000, 444_000, 4_634_000))
    best = guess_coordinates(table, extent).best
    assert (best.x, best.y, best.kind) == ("este_m", "norte_m", "projected")


def test_the_study_extent_of_a_boundary_in_degrees_or_metres():
    import geopandas as gpd
    from shapely.geometry import box

    degrees = gpd.GeoDataFrame(geometry=[box(-74.2, 4.5, -74.0, 4.7)], crs="EPSG:4326")
    extent = StudyExtent.of(degrees)
    assert extent.lonlat == pytest.approx((-74.2, 4.5, -74.0, 4.7)) and extent.bounds is None
    metres = degrees.to_crs("EPSG:32618")
    assert StudyExtent.of(metres).bounds == pytest.approx(tuple(metres.total_bounds))
    assert StudyExtent.of(None) is None
