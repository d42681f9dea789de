"""The pipeline's evaluation settings: share of area by unit measure or by unit count."""

import json

import numpy as np
import pandas as pd
import pytest

from rtm_core.config import EvaluationConfig, load_config
from rtm_core.errors import ConfigError
from rtm_core.runs.pipeline import run_pipeline
from rtm_core.synth import make_city, write_city


@pytest.fixture(scope="module")
def city_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("city")
    config = load_config(write_city(make_city(7, size=3_000.0), folder))
    model = config.model.__class__(kinds=("classical",))
    return config.replace(model=model)


def test_area_by_unit_count_is_recorded_and_equal_for_equal_cells(city_config, tmp_path):
    by_area = run_pipeline(city_config, tmp_path / "area")
    by_count = run_pipeline(
        city_config.replace(evaluation=EvaluationConfig(area="count")), tmp_path / "count"
    )
    area_manifest = json.loads((by_area / "manifest.json").read_text())
    count_manifest = json.loads((by_count / "manifest.json").read_text())
    assert (area_manifest["measure"], count_manifest["measure"]) == ("area", "count")
    # grid cells all have the same area, so both ways give the same PAI
    area_metrics = json.loads((by_area / "metrics.json").read_text())
    count_metrics = json.loads((by_count / "metrics.json").read_text())
    assert area_metrics["classical"]["test"]["pai"] == pytest.approx(
        count_metrics["classical"]["test"]["pai"]
    )


def test_evaluation_area_is_validated(tmp_path):
    from rtm_core.config import parse_config

    data = {
        "units": {"boundary": "b.gpkg"},
        "crimes": {"train_file": "a.csv", "test_file": "b.csv"},
        "generators": [{"name": "bars", "file": "bars.csv"}],
        "evaluation": {"area": "hectares"},
    }
    with pytest.raises(ConfigError, match=r"\[evaluation\.area\]: unknown value 'hectares'"):
        parse_config(data, file="config.toml", base=tmp_path)
    data["evaluation"] = {"area": "count"}
    assert parse_config(data, base=tmp_path).evaluation.area == "count"


@pytest.fixture(scope="module")
def history_run(tmp_path_factory):
    """A classical run of a 4-year synthetic city with [history] lags = 2."""
    folder = tmp_path_factory.mktemp("history_city")
    config = load_config(write_city(make_city(2, size=3_000.0, periods=4), folder))
    assert config.history.lags == 2
    config = config.replace(model=config.model.__class__(kinds=("classical",), cv_folds=3))
    return run_pipeline(config, folder / "run")


def test_history_run_scores_history_baselines_and_writes_the_forecast(history_run):
    import geopandas as gpd
    import pandas as pd

    metrics = json.loads((history_run / "metrics.json").read_text())
    assert {"prior_counts_lags", "history_only", "forest", "kde"} <= set(metrics)
    manifest = json.loads((history_run / "manifest.json").read_text())
    assert manifest["forecast"] == {
        "start": "2023-01-01",
        "end": "2023-12-31",
        "method": "applied with shifted history",
    }
    windows = manifest["history"]["windows"]
    assert windows["train"] == [["2020-01-01", "2020-12-31"], ["2019-01-01", "2019-12-31"]]
    assert windows["test"][0] == ["2021-01-01", "2021-12-31"]
    assert windows["forecast"][0] == ["2022-01-01", "2022-12-31"]
    units = gpd.read_file(history_run / "units.gpkg")
    assert {"forecast_classical", "risk_classical", "risk_prior_counts_lags"} <= set(units)
    # applied with the forecast's history (2022, 2021): not the in-sample expected counts
    assert not np.allclose(units["forecast_classical"], units["expected_classical"])
    coefs = pd.read_csv(history_run / "coefficients.csv", keep_default_na=False)
    hist = coefs[coefs["variable"].str.startswith("hist")]
    assert {"hist1_unit", "hist2_unit", "hist1_150m"} <= set(hist["variable"])
    assert (hist["set"] == "").all()
    # out of sample the model sees the test period's history, so its score differs in-sample
    curves = pd.read_csv(history_run / "curves.csv")
    lags = curves[curves["model"] == "prior_counts_lags"]
    train = lags[lags["period"] == "train"]["hit_rate"].to_numpy()
    assert not np.allclose(train, lags[lags["period"] == "test"]["hit_rate"].to_numpy())


def test_dated_run_without_history_forecasts_the_unchanged_risk(city_config, tmp_path):
    import geopandas as gpd

    run = run_pipeline(city_config, tmp_path / "plain")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["forecast"]["start"] == "2023-01-01" and "history" not in manifest
    units = gpd.read_file(run / "units.gpkg")
    np.testing.assert_allclose(units["forecast_classical"], units["expected_classical"])
    assert "prior_counts_lags" not in json.loads((run / "metrics.json").read_text())


def test_the_factors_column_by_hand_and_one_string_per_combination():
    from rtm_core.runs.outputs import _factors_present

    d = pd.DataFrame({"a": [1, 0, 1, 0, 1], "b": [1, 1, 0, 0, 1]}, dtype="int8")
    out = _factors_present(d, {"a": "bar"})
    assert out.tolist() == ["bar; b", "b", "bar", "", "bar; b"]
    assert out[0] is out[4]  # shared, not one string per unit
    assert _factors_present(d[[]], {}).tolist() == [""] * 5
