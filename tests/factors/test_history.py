"""Crime history: [history] parsing, history factors per lag, data that must reach back."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from rtm_core.config import HistoryConfig, parse_config
from rtm_core.errors import ConfigError, InputError
from rtm_core.factors.history import history_factors, lag_factors
from rtm_core.periods import Period, lag_windows, period_length
from rtm_core.study.crime_history import CrimeHistory, check_reaches_back
from rtm_core.study.units import grid_units

CRS = "EPSG:32616"
BASE = {
    "units": {"boundary": "b.gpkg"},
    "crimes": {
        "file": "c.csv",
        "date": "day",
        "train": ["2017-01-01", "2017-12-31"],
        "test": ["2018-01-01", "2018-12-31"],
    },
    "generators": [{"name": "bars", "file": "bars.csv"}],
}


def _parse(history=None, crimes=None, **top):
    data = copy.deepcopy(BASE) | top
    if history is not None:
        data["history"] = history
    if crimes is not None:
        data["crimes"] = crimes
    return parse_config(data, file="config.toml")


@pytest.fixture(scope="module")
def units():
    frame = gpd.GeoDataFrame(geometry=[box(0, 0, 400, 400)], crs=CRS)
    return grid_units(frame, 100.0)  # 16 cells of 100 m


def test_history_defaults_and_backtest_origins():
    config = _parse({"lags": 2}, backtest={"origins": 5})
    assert config.history == HistoryConfig(lags=2)
    assert config.history.bandwidths == (150, 300, 600) and config.history.transform == "log1p"
    assert config.backtest.origins == 5
    assert _parse().history.enabled is False and _parse().backtest.origins == 3
    assert _parse({"lags": 0}).history.enabled is False


@pytest.mark.parametrize("lags", [True, 1.5, -1, "2"])
def test_lags_must_be_a_positive_integer(lags):
    with pytest.raises(ConfigError, match=r"\[history\.lags\]: must be a positive integer"):
        _parse({"lags": lags})


@pytest.mark.parametrize(
    ("bandwidths", "problem"),
    [([0, 150], "must be > 0 metres"), ([150, 150], "repeats a value"), ([], "is empty")],
)
def test_history_bandwidths_are_checked_like_generator_bandwidths(bandwidths, problem):
    with pytest.raises(ConfigError, match=rf"\[history\.bandwidths\]: {problem}"):
        _parse({"lags": 1, "bandwidths": bandwidths})


def test_history_without_dates_names_both_fixes_and_files_must_match_lags():
    undated = {"train_file": "a.csv", "test_file": "b.csv"}
    with pytest.raises(ConfigError) as caught:
        _parse({"lags": 1}, crimes=undated)
    message = str(caught.value)
    assert "[history.lags]" in message and "date column" in message
    assert "one history file per lag" in message
    with pytest.raises(ConfigError, match=r"\[history\.files\]: lists 1 file\(s\) for 2 lag"):
        _parse({"lags": 2, "files": ["h1.csv"]}, crimes=undated)
    config = _parse({"lags": 2, "files": ["h1.csv", {"file": "h2.csv", "x": "X"}]}, crimes=undated)
    assert [f.name for f in config.history.files] == ["h1.csv", "h2.csv"]
    assert config.history.files[1].x == "X"


def test_unequal_periods_are_refused_with_history_only():
    crimes = copy.deepcopy(BASE["crimes"]) | {"test": ["2018-01-01", "2018-06-30"]}
    with pytest.raises(ConfigError) as caught:
        _parse({"lags": 1}, crimes=crimes)
    assert "training 2017-01-01 – 2017-12-31 lasts 12 months" in str(caught.value)
    assert "test 2018-01-01 – 2018-06-30 lasts 6 months" in str(caught.value)
    assert _parse(crimes=crimes).history.enabled is False  # no history: fine


def test_factors_count_in_the_unit_and_within_each_bandwidth(units):
    cfg = HistoryConfig(lags=2, bandwidths=(150, 300), transform="count")
    # unit points are cell centres (50, 50), (150, 50), ...; lag 1: two crimes in cell (0, 0)
    lag1 = np.array([[40.0, 60.0], [55.0, 45.0]])
    lag2 = np.array([[350.0, 350.0]])
    table = lag_factors(units, [lag1, lag2], cfg)
    assert list(table.columns) == [
        "hist1_unit",
        "hist1_150m",
        "hist1_300m",
        "hist2_unit",
        "hist2_150m",
        "hist2_300m",
    ]
    first = np.flatnonzero((units.points == [50.0, 50.0]).all(axis=1))[0]
    assert table.loc[first, "hist1_unit"] == 2 and table["hist1_unit"].sum() == 2
    assert table["hist2_unit"].sum() == 1
    # within 150 m of (150, 150): both lag-1 crimes (about 141 m and 134 m away)
    centre = np.flatnonzero((units.points == [150.0, 150.0]).all(axis=1))[0]
    assert table.loc[centre, "hist1_150m"] == 2
    assert (table["hist1_300m"] >= table["hist1_150m"]).all()
    logged = lag_factors(units, [lag1, lag2], HistoryConfig(lags=2, bandwidths=(150, 300)))
    np.testing.assert_allclose(logged, np.log1p(table))


def test_history_factors_use_only_the_windows(units):
    target = Period.from_config(("2018-01-01", "2018-12-31"))
    windows = lag_windows(target, 2, period_length(target))
    xy = np.array([[50.0, 50.0], [50.0, 50.0], [150.0, 50.0], [250.0, 50.0], [350.0, 50.0]])
    times = pd.to_datetime(
        ["2017-06-01", "2017-12-31 23:59", "2016-01-01", "2018-01-01", "2015-12-31"],
        format="mixed",
    )
    table = history_factors(units, xy, times, windows, HistoryConfig(lags=2, transform="count"))
    assert table["hist1_unit"].sum() == 2  # 2017 only (the 2018 crime is the target's own)
    assert table["hist2_unit"].sum() == 1  # 2016 only (2015 is older than lag 2)


def _dated(times, train=("2017-01-01", "2017-12-31"), test=("2018-01-01", "2018-12-31")):
    times = pd.to_datetime(times, format="mixed").to_numpy(dtype="datetime64[ns]")
    return CrimeHistory(
        np.zeros((len(times), 2)),
        times,
        Period.from_config(train),
        Period.from_config(test),
        "crimes.csv",
    )


def test_history_before_the_data_names_the_earliest_date_and_the_date_needed():
    history = _dated(["2016-03-05", "2017-02-01", "2018-02-01"])
    check_reaches_back(history, 0)
    with pytest.raises(InputError) as caught:
        check_reaches_back(history, 1)
    message = str(caught.value)
    assert message.startswith("crimes.csv [history.lags]: 1 lag(s) before the training period")
    assert "need crimes from 2016-01-01" in message and "earliest date is 2016-03-05" in message
    check_reaches_back(_dated(["2016-01-01 08:00", "2017-02-01"]), 1)  # the first day is enough


def test_forecast_and_windows_of_every_target():
    history = _dated(["2016-01-01"])
    assert history.forecast.as_config() == ("2019-01-01", "2019-12-31")
    assert [w.as_config() for w in history.windows("forecast", 2)] == [
        ("2018-01-01", "2018-12-31"),
        ("2017-01-01", "2017-12-31"),
    ]
    assert history.windows("test", 1)[0].as_config() == ("2017-01-01", "2017-12-31")


def test_without_dates_the_lags_come_from_the_files():
    blocks = tuple(np.full((n, 2), float(n)) for n in (1, 2, 3, 4))  # h2, h1, train, test
    history = CrimeHistory(
        np.zeros((0, 2)), None, None, None, "h1.csv", blocks, ("h2", "h1", "train", "test")
    )
    assert history.windows("train", 2) == ["h1", "h2"]
    assert history.windows("test", 2) == ["train", "h1"]
    assert history.windows("forecast", 2) == ["test", "train"]
    assert [len(p) for p in history.lag_points("test", 2)] == [3, 2]
    assert history.forecast is None


def test_history_files_give_the_same_factors_as_a_date_column(tmp_path):
    from rtm_core.config import load_config
    from rtm_core.factors.history import build_history
    from rtm_core.study.load import load_study
    from rtm_core.synth import make_city, write_city

    config_path = write_city(make_city(9, size=2_000.0, periods=4), tmp_path)
    dated = load_config(config_path)
    crimes = pd.read_csv(tmp_path / "crimes.csv")
    for year in ("2019", "2020", "2021", "2022"):
        crimes[crimes["OCCUR_DATE"].str.startswith(year)].to_csv(tmp_path / f"{year}.csv")
    text = config_path.read_text()
    head, tail = text.split("[crimes]", 1)
    tail = tail.split("\n\n", 1)[1].replace(
        "lags = 2", 'lags = 2\nfiles = ["2020.csv", "2019.csv"]'
    )
    crimes_table = '[crimes]\ntrain_file = "2021.csv"\ntest_file = "2022.csv"\nx = "X"\ny = "Y"\n'
    (tmp_path / "files.toml").write_text(
        head + crimes_table + f'crs = "{dated.crimes.source.crs}"\n\n' + tail
    )
    undated = load_config(tmp_path / "files.toml")
    assert undated.crimes.source is None and len(undated.history.files) == 2
    assert {(f.x, f.y, f.crs) for f in undated.history.files} == {("X", "Y", "EPSG:32616")}
    a, b = load_study(dated), load_study(undated)
    ta = build_history(a.units, a.history, dated.history)
    tb = build_history(b.units, b.history, undated.history)
    for target in ("train", "test", "forecast"):
        pd.testing.assert_frame_equal(ta.factors[target], tb.factors[target])
    assert tb.windows["test"] == ["2021.csv", "2020.csv"]
