"""The synthetic city: planted truth, reproducibility, and files the tool reads back."""

import json

import numpy as np
import pytest

from rtm_core.config import load_config
from rtm_core.factors.designs import build_features
from rtm_core.study.load import load_study
from rtm_core.synth import DEFAULT_PLAN, make_city, write_city


@pytest.fixture(scope="module")
def city():
    return make_city(3, size=6_000.0)


def test_same_seed_same_city():
    a, b = make_city(5, size=4_000.0), make_city(5, size=4_000.0)
    assert np.array_equal(a.y_train, b.y_train)
    assert a.crimes.equals(b.crimes)
    c = make_city(6, size=4_000.0)
    assert not np.array_equal(a.y_train, c.y_train)


def test_truth_names_planted_variables_and_null_sets(city):
    sets = city.truth["sets"]
    assert set(sets) == {p.name for p in DEFAULT_PLAN}
    assert sets["bars"] == {"variable": "bars_dis_100", "irr": 2.0}
    assert sets["transit"] is None and sets["graffiti"] is None
    assert city.truth["intercept"] == pytest.approx(np.log(0.8))


def test_written_city_reads_back_with_the_same_counts(city, tmp_path):
    config_path = write_city(city, tmp_path)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth == city.truth
    config = load_config(config_path)
    study = load_study(config)
    # crimes placed inside their cells, through CSV + date split, count back exactly
    assert np.array_equal(study.y_train, city.y_train)
    assert np.array_equal(study.y_test, city.y_test)
    kinds = {r.source.split(":")[0].rsplit(".", 1)[-1] for r in study.reads}
    assert {"csv", "geojson", "zip", "gpkg"} <= kinds


def test_planted_effect_is_visible_in_raw_rates(city, tmp_path):
    study = load_study(load_config(write_city(city, tmp_path)))
    factors = build_features(study, load_config(tmp_path / "config.toml").features)
    dummy = factors.table["bars_dis_100"].to_numpy() == 1
    y = study.y_train + study.y_test
    ratio = y[dummy].mean() / y[~dummy].mean()
    assert 1.5 < ratio < 2.6  # planted IRR 2.0, diluted by the other factors


def test_two_periods_keep_the_original_city_exactly():
    import hashlib

    crimes = make_city(4, size=3_000.0).crimes.drop(columns="geometry").to_csv(index=False)
    # digest of the city written before `--periods` existed (same seed, same size)
    digest = "dddb2f6e93fe6c8611e6cc1797f08b118c9fcc855bd3ab48c3d2f2c403ec1a43"
    assert hashlib.sha256(crimes.encode()).hexdigest() == digest
    assert "history" not in make_city(4, size=3_000.0).truth


def test_several_periods_plant_a_history_effect_the_config_uses(tmp_path):
    city = make_city(5, size=3_000.0, periods=4, history_effect=0.5)
    assert city.truth["history"]["coefficients"] == {"hist1_unit": 0.5}
    years = sorted(city.crimes["OCCUR_DATE"].str[:4].unique())
    assert years == ["2019", "2020", "2021", "2022"]
    config = load_config(write_city(city, tmp_path))
    assert config.history.lags == 2
    study = load_study(config)
    assert np.array_equal(study.y_train, city.y_train)
    assert np.array_equal(study.y_test, city.y_test)
    # the planted autoregression: cells busy last year are busier this year
    last = study.history.lag_points("train", 1)[0]
    from rtm_core.factors.history import lag_counts

    before = lag_counts(study.units, [last])[:, 0]
    assert city.y_train[before >= 3].mean() > 1.5 * city.y_train[before == 0].mean()


def test_cli_synth_periods(tmp_path):
    from rtm_core.cli import main

    assert main(["synth", "--out", str(tmp_path / "c"), "--periods", "3"]) == 0
    assert "lags = 1" in (tmp_path / "c" / "config.toml").read_text()
    assert main(["synth", "--out", str(tmp_path / "d"), "--periods", "1"]) == 2
