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
    highest = manifest["forecast"].pop("highest_count")
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
    # the highest count of any unit, history windows included, for the forecast's warning
    assert highest >= max(units["y_train"].max(), units["y_test"].max())
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


def test_a_history_run_keeps_its_comparison_calibration_and_test_rankings(history_run):
    """comparison.csv, calibration.csv and the test-period rankings of the maps with crime
    history; the comparison's values are metrics.json's, and scoring the units table again
    gives the same table (what a run written before comparison.csv gets)."""
    from rtm_core.record.folder import load_run
    from rtm_core.results.bootstrap import COMPARISON_COLUMNS, compare_maps
    from rtm_core.results.comparison import run_scored_crimes

    run = load_run(history_run)
    metrics = json.loads((history_run / "metrics.json").read_text())
    table = run.comparison
    assert list(table.columns) == COMPARISON_COLUMNS
    assert set(table["baseline"]) == {*metrics} - {"classical"} | {"best"}
    assert list(table["area"].unique()) == ["0.01", "0.05", "0.10"]
    assert set(table["verdict"]) <= {"beats", "level", "below"}
    for _, row in table.iterrows():
        assert row["model_value"] == pytest.approx(metrics["classical"]["test"]["pai"][row["area"]])
        if row["baseline"] != "best":
            expect = metrics[row["baseline"]]["test"]["pai"][row["area"]]
            assert row["baseline_value"] == pytest.approx(expect)
        assert row["low"] <= row["difference"] + 1e-9 or row["verdict"] == "beats"
    best = table[table["baseline"] == "best"].set_index("area")["baseline_value"]
    for area in ("0.01", "0.05", "0.10"):
        others = [v["test"]["pai"][area] for k, v in metrics.items() if k != "classical"]
        assert best[area] == pytest.approx(max(others))
    units = run.units
    assert {"test_risk_classical", "test_risk_forest", "test_risk_history_only"} <= set(units)
    assert "test_risk_kde" not in units  # the same in both periods
    again = compare_maps([run_scored_crimes(run)], ["classical"], random_state=0)
    pd.testing.assert_frame_equal(again, table, check_dtype=False)

    calibration = run.calibration
    assert set(calibration["model"]) == {"classical", "forest", "history_only"}
    totals = calibration[calibration["group"] == "all"].set_index(["model", "period"])
    for model in ("classical", "forest", "history_only"):
        seen, expected = totals.loc[(model, "train"), ["observed", "expected"]]
        assert expected == pytest.approx(seen, rel=1e-6)  # calibrated in the large
    assert totals.loc[("classical", "test"), "observed"] == units["y_test"].sum()
    deciles = calibration[(calibration["model"] == "classical") & (calibration["period"] == "test")]
    assert deciles["group"].tolist() == ["all", *[f"decile {k}" for k in range(1, 11)]]
    assert deciles["units"].iloc[1:].sum() == len(units)

    manifest = json.loads((history_run / "manifest.json").read_text())
    assert manifest["models"] == list(manifest["model_fits"])  # the list of keys, as before
    fit = manifest["model_fits"]["classical"]
    assert fit["family"] in ("poisson", "negbin")
    assert fit["calibration"] == "poisson quasi-likelihood"
    assert (fit["dispersion"] is None) == (fit["family"] == "poisson")
    coefs = pd.read_csv(history_run / "coefficients.csv")
    assert {"reliable", "family", "dispersion", "calibration"} <= set(coefs.columns)
    assert (coefs["family"] == fit["family"]).all()
    assert (coefs["calibration"] == "poisson quasi-likelihood").all()
    expect = (coefs["irr_low"] > 1) | (coefs["irr_high"] < 1)
    assert coefs["reliable"].tolist() == expect.tolist()
