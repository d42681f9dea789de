"""Results page under AppTest: the forecast first, each model's verdict against the best
baseline, the ties note, history coefficients in their own table; and the History control on
the Risk factors page flowing into the run's config."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rtm_app.dataset import DataSet
from rtm_app.history import history_settings, unavailable_reason
from rtm_core.config import demo_config, load_config
from rtm_core.errors import InputError
from rtm_core.runs.pipeline import run_pipeline
from tests.forecast_run import FORECAST, add_forecast, history_run

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
FACTORS, RESULTS = "views/2_risk_factors.py", "views/4_results.py"


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory) -> Path:
    """A complete demo run (deep-learning RTM, 2 seeds, 20 + 20 steps), no history."""
    config = demo_config(kinds=("dl",), seeds=2, burn_in_steps=20, prune_steps=20)
    return run_pipeline(config, tmp_path_factory.mktemp("plain") / "run", label="plain")


def open_results(runs_dir: Path) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(RESULTS).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames_with(at: AppTest, column: str) -> list[pd.DataFrame]:
    """The tables shown that have ``column``, in page order."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def verdict_table(at: AppTest) -> pd.DataFrame:
    """The static table of each model beside the best baseline."""
    [table] = [t.value for t in at.table if "best baseline" in t.value.columns]
    return table.reset_index(drop=True)


def subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def test_the_forecast_comes_first_with_its_map_and_top_places(runs_dir, plain_run):
    add_forecast(plain_run, runs_dir / "run-forecast")
    at = open_results(runs_dir)
    heads = subheaders(at)
    assert heads[0] == f"Forecast for {FORECAST['start']} – {FORECAST['end']}"
    assert "Risk map (evaluation: model of period t)" in heads
    assert heads.index("Risk map (evaluation: model of period t)") > 0
    assert any("the period after the data" in m.value for m in at.markdown)
    # the first map is the forecast: its tooltip and values are the forecast column's
    first = at.get("deck_gl_json_chart")[0].proto
    assert "Forecast (expected crimes)" in first.tooltip
    units = gpd.read_file(runs_dir / "run-forecast" / "units.gpkg", engine="pyogrio")
    top = units.sort_values("forecast_dl", ascending=False).iloc[0]
    assert f"{top['forecast_dl']:.3f}".rstrip("0") in first.json
    places = frames_with(at, "factors present")[0]
    assert places["unit_id"].iloc[0] == top["unit_id"]
    assert places["forecast"].is_monotonic_decreasing
    assert list(places.columns) == ["rank", "unit_id", "forecast", "factors present"]
    assert places["factors present"].iloc[0] == (top["factors_dl"] or "none")


def test_history_rows_have_their_own_table_and_irrs_read_given_history(runs_dir, plain_run):
    add_forecast(plain_run, runs_dir / "run-forecast")
    at = open_results(runs_dir)
    assert "Risk factors: incident rate ratios given crime history" in subheaders(at)
    irr, history = frames_with(at, "IRR")
    assert set(history["variable"]) == {
        f"hist{j}_{s}" for j in (1, 2) for s in ("unit", "150m", "300m")
    }
    assert not irr["variable"].str.startswith("hist").any()
    assert any(m.value == "**Crime history (fixed covariates)**" for m in at.markdown)


def test_each_model_is_flagged_against_the_best_baseline(runs_dir, plain_run):
    shutil.copytree(plain_run, runs_dir / "run-plain")
    comparison = pd.read_csv(plain_run / "comparison.csv", dtype={"area": str})
    at = open_results(runs_dir)
    assert "Does the RTM beat the simplest maps?" in subheaders(at)
    table = verdict_table(at)
    assert list(table["area"]) == ["1 %", "5 %", "10 %"]
    best = comparison[comparison["baseline"] == "best"].reset_index(drop=True)
    assert table["baseline PAI"].tolist() == pytest.approx(best["baseline_value"].tolist())
    assert table["90 % low"].tolist() == pytest.approx(best["low"].tolist())
    assert table["result"].tolist() == best["verdict"].tolist()
    boxes = [*at.warning, *at.success, *at.info]
    assert any("The deep-learning RTM" in b.value and "90 % interval" in b.value for b in boxes)
    assert not any("computed now" in b.value for b in boxes)


def test_a_below_verdict_is_a_warning_and_a_tied_model_gets_the_note(runs_dir, plain_run):
    run = runs_dir / "run-ties"
    shutil.copytree(plain_run, run)
    comparison = pd.read_csv(run / "comparison.csv", dtype={"area": str})
    comparison[["low", "high", "verdict"]] = [-4.5, -1.0, "below"]
    comparison.to_csv(run / "comparison.csv", index=False)
    units = gpd.read_file(run / "units.gpkg", engine="pyogrio")
    n = len(units)
    levels = np.where(np.arange(n) < n // 5, 3.0, np.where(np.arange(n) < n // 2, 2.0, 1.0))
    units["expected_dl"] = levels
    units.to_file(run / "units.gpkg", layer="units", driver="GPKG", engine="pyogrio")
    at = open_results(runs_dir)
    [below] = [w.value for w in at.warning if "Below the best baseline" in w.value]
    assert "is below the best baseline" in below and "90 % interval -4.50 to -1.00" in below
    notes = [i.value for i in at.info if i.value.startswith("Ties:")]
    assert notes == [
        "Ties: the deep-learning RTM has only 3 distinct risk levels, so the top 1 %, 5 % and "
        "10 % of the area all fall in the highest tied level and hold the same mix of units (PAI "
        "is the same at each); no unit's risk has a z-score above 2, so z > 2 flags nothing "
        "(None)."
    ]


def test_a_run_without_comparison_csv_gets_it_computed_from_its_units(runs_dir, plain_run):
    """A run written before comparison.csv (no crime history): the same table, computed now
    from units.gpkg and seeded by the run's random state, and said so."""
    run = runs_dir / "run-old"
    shutil.copytree(plain_run, run)
    kept = pd.read_csv(run / "comparison.csv", dtype={"area": str})
    for name in ("comparison.csv", "calibration.csv"):
        (run / name).unlink()
    at = open_results(runs_dir)
    assert any("comparison was computed now from its units table" in i.value for i in at.info)
    table = verdict_table(at)
    best = kept[kept["baseline"] == "best"].reset_index(drop=True)
    assert table["90 % high"].tolist() == pytest.approx(best["high"].tolist())
    assert any("Calibration is not available for this run" in i.value for i in at.info)


def test_calibration_irr_reading_and_forecast_warnings(runs_dir, plain_run):
    run = add_forecast(plain_run, runs_dir / "run-forecast")
    units = gpd.read_file(run / "units.gpkg", engine="pyogrio")
    units["forecast_dl"] *= 40  # far more crimes than the last period's, and a hot unit
    units.to_file(run / "units.gpkg", layer="units", driver="GPKG", engine="pyogrio")
    at = open_results(runs_dir)
    assert "Calibration: expected against observed crimes" in subheaders(at)
    assert any(m.value.startswith("The deep-learning RTM expects") for m in at.markdown)
    assert any(
        m.value.startswith("Counts modelled as Poisson; expected counts calibrated in the large")
        for m in at.markdown
    )
    warnings = [w.value for w in at.warning]
    assert any("forecast totals" in w and "% more than the" in w for w in warnings)
    assert any("more than any unit ever had" in w for w in warnings)
    irr = frames_with(at, "IRR")[0]
    assert "reading" in irr.columns
    expect = ((irr["95 % low"] <= 1) & (irr["95 % high"] >= 1)) & (irr["variable"] != "intercept")
    assert (irr["reading"] == "no reliable effect").tolist() == expect.tolist()


def test_a_model_that_kept_no_risk_factor_offers_no_top_places(runs_dir, plain_run):
    run = runs_dir / "run-flat"
    shutil.copytree(plain_run, run)
    coef = pd.read_csv(run / "coefficients.csv")
    coef[coef["variable"] == "intercept"].to_csv(run / "coefficients.csv", index=False)
    units = gpd.read_file(run / "units.gpkg", engine="pyogrio")
    units["risk_dl"] = 1.0
    units.to_file(run / "units.gpkg", layer="units", driver="GPKG", engine="pyogrio")
    at = open_results(runs_dir)
    boxes = [i.value for i in at.info]
    assert any(b.startswith("**Deep-learning RTM: Kept no risk factor.**") for b in boxes)
    assert any("its map is flat; its flat map is" in b for b in boxes)
    assert (
        "It kept no risk factor: every unit scores the same, so it offers no top places." in boxes
    )
    assert not frames_with(at, "score")  # no top places table


def test_a_run_without_forecast_shows_no_forecast_section(runs_dir, plain_run):
    shutil.copytree(plain_run, runs_dir / "run-plain")
    at = open_results(runs_dir)
    heads = subheaders(at)
    assert not any(h.startswith("Forecast") for h in heads)
    assert "Risk map" in heads
    assert "Risk factors: incident rate ratios" in heads
    assert len(frames_with(at, "IRR")) == 1  # no history table


def test_the_irr_chart_grows_with_its_rows_and_wraps_long_labels():
    from rtm_app.charts import CHART_FRAME, irr_forest

    def coefficients(n: int, models=("dl",)) -> pd.DataFrame:
        rows = [
            {"model": m, "variable": f"s{k}_dis_100", "set": f"s{k}", "coef": 0.1 + k / 50}
            for m in models
            for k in range(n)
        ]
        frame = pd.DataFrame(rows)
        frame["irr"] = np.exp(frame["coef"])
        return frame

    few = irr_forest(coefficients(2)).to_dict()["height"] - CHART_FRAME
    many = irr_forest(coefficients(15)).to_dict()["height"] - CHART_FRAME
    assert many == pytest.approx(few * 15 / 2)  # same room per factor
    assert few / 2 >= 30  # a readable band per factor, even with two
    both = irr_forest(coefficients(3, ("dl", "classical"))).to_dict()["height"] - CHART_FRAME
    assert both / 3 > few / 2  # two models share a band: it grows
    long = {"s0_dis_100": "abandoned buildings and vacant lots density high (800 m)"}
    chart = irr_forest(coefficients(2), long)
    data = chart.layer[1].data
    wrapped = data.loc[data["variable"] == "s0_dis_100", "factor"].iloc[0]
    assert "\n" in wrapped and all(len(line) <= 34 for line in wrapped.split("\n"))


def test_a_real_history_run_shows_its_forecast_history_and_verdict(runs_dir, tmp_path):
    made = history_run(tmp_path)
    shutil.copytree(made, runs_dir / made.name)
    manifest = json.loads((made / "manifest.json").read_text())
    at = open_results(runs_dir)
    heads = subheaders(at)
    start, end = manifest["forecast"]["start"], manifest["forecast"]["end"]
    assert heads[:2] == [f"Forecast for {start} – {end}", "Does the RTM beat the simplest maps?"]
    assert "Risk factors: incident rate ratios given crime history" in heads
    _, history = frames_with(at, "IRR")
    assert list(history["variable"]) == manifest["history"]["columns"]
    verdict = verdict_table(at)
    metrics = json.loads((made / "metrics.json").read_text())
    assert {"prior_counts_lags", "history_only"} <= set(metrics)
    for _, row in verdict.iterrows():
        key = {"1 %": "0.01", "5 %": "0.05", "10 %": "0.10"}[row["area"]]
        best = max(
            metrics[b]["test"]["pai"][key]
            for b in ("prior_counts", "prior_counts_lags", "kde", "forest", "history_only")
        )
        assert row["baseline PAI"] == pytest.approx(best)


# --------------------------------------------------------------------------- History control


def dated_city(tiny_city) -> DataSet:
    """The tiny city with crimes reaching back to 2020-01-01 (one lag of a year)."""
    crimes = pd.read_csv(tiny_city.crimes)
    extra = crimes.iloc[[0]].assign(when="2020-01-01")
    pd.concat([crimes, extra]).to_csv(tiny_city.crimes, index=False)
    config = load_config(tiny_city.config)
    return DataSet("tiny", config.units, config.crimes, config.generators, config.features)


def test_history_control_flows_into_the_run_config(runs_dir, tiny_city):
    data = dated_city(tiny_city)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["rtm_data"] = data
    at.run()
    at.switch_page(FACTORS).run()
    assert not at.exception
    assert at.number_input(key="history_lags").value == 0
    assert not at.number_input(key="history_lags").disabled
    at.number_input(key="history_lags").set_value(1)
    at.text_input(key="history_bandwidths").input("100, 250")
    at.radio(key="history_transform").set_value("count")
    next(b for b in at.button if b.label == "Build risk factors").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    history = at.session_state["rtm_data"].run_config().history
    assert (history.lags, history.bandwidths, history.transform) == (1, (100, 250), "count")
    at.switch_page("views/3_train.py").run()
    assert any(
        c.value.startswith("Crime history in the models: 1 lag(s)") and "100, 250 m" in c.value
        for c in at.caption
    )


def test_history_reaching_before_the_data_is_one_line(runs_dir, tiny_city):
    data = dated_city(tiny_city)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["rtm_data"] = data
    at.run()
    at.switch_page(FACTORS).run()
    at.number_input(key="history_lags").set_value(3)
    next(b for b in at.button if b.label == "Build risk factors").click().run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert "2018-01-01" in error and "2020-01-01" in error and "\n" not in error
    assert at.session_state["rtm_data"].history.lags == 0  # the data set kept its settings


def test_history_control_is_disabled_without_a_date_column(runs_dir):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(FACTORS).run()  # the demo: one crimes file per period
    assert at.number_input(key="history_lags").disabled
    assert any("one crimes file with a date column" in c.value for c in at.caption)


def test_history_settings_are_checked_with_the_fix(tiny_city):
    data = dated_city(tiny_city)
    assert history_settings(data, 2, "600 150 300", "log1p").bandwidths == (150, 300, 600)
    assert history_settings(data, 0, "150", "log1p").enabled is False
    with pytest.raises(InputError, match="lags.*from 0 to 5.*Fix:"):
        history_settings(data, 6, "150", "log1p")
    with pytest.raises(InputError, match="not a number.*Fix:"):
        history_settings(data, 1, "150 far", "log1p")
    unequal = data.replace(
        crimes=data.crimes.__class__(
            source=data.crimes.source,
            date="when",
            train=("2021-01-01", "2021-12-31"),
            test=("2022-01-01", "2022-06-30"),
        )
    )
    with pytest.raises(InputError, match="equally long.*12 months.*6 months.*Fix:"):
        history_settings(unequal, 1, "150", "log1p")
    demo = DataSet.demo()
    assert "date column" in unavailable_reason(demo)
    with pytest.raises(InputError, match="date column"):
        history_settings(demo, 1, "150", "log1p")


def test_a_run_of_the_earlier_format_shows_its_forecast_verdict_and_factor_rings(runs_dir):
    """tests/data/run_v1 was written before the manifest had a schema and before units.gpkg
    held present_<factor> columns: the factor rings come from its "; " lists."""
    shutil.copytree(ROOT / "tests" / "data" / "run_v1", runs_dir / "run_v1")
    at = open_results(runs_dir)
    heads = subheaders(at)
    assert heads[:2] == [
        "Forecast for 2023-01-01 – 2023-12-31",
        "Does the RTM beat the simplest maps?",
    ]
    # written before comparison.csv, with crime history but without its test rankings
    assert any("not available for this run" in w.value for w in at.warning)
    assert not [t for t in at.table if "best baseline" in t.value.columns]
    boxes = [i.value for i in at.info]
    assert sum("has no out-of-sample comparison" in b for b in boxes) == 2
    rings = next(m for m in at.multiselect if m.label.startswith("Ring the units"))
    assert len(rings.options) == 5

    def ring_layers() -> int:
        decks = at.get("deck_gl_json_chart")
        return sum(len(re.findall(r'"filled":\s*false', d.proto.json)) for d in decks)

    before = ring_layers()
    rings.set_value([rings.options[0]]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert ring_layers() == before + 1
