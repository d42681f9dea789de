"""Did the intervention work? IRR ratios of two fits with their interval and p, and the change
in out-of-sample PAI with a bootstrap interval, on hand-made runs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from rtm_core.record.manifest import RunFiles
from rtm_core.results.run_change import IRR_CHANGE_COLUMNS, irr_changes, pai_changes


def coefficients(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["model", "variable", "set", "coef", "se"])
    frame["irr"] = np.exp(frame["coef"])
    return frame


def test_the_irr_ratio_has_a_wald_interval_and_p_from_both_fits():
    before = coefficients(
        [
            ("dl", "intercept", "", -2.0, 0.1),
            ("dl", "metro_dis_200", "metro", 0.04, 0.2),
            ("dl", "bars_dis_100", "bars", 0.9, 0.1),
            ("dl", "liquor_kde_300", "liquor", 0.5, 0.1),
        ]
    )
    after = coefficients(
        [
            ("dl", "intercept", "", -2.2, 0.1),
            ("dl", "bars_dis_100", "bars", 0.3, 0.1),
            ("dl", "metro_dis_200", "metro", 0.24, 0.25),
            ("dl", "parks_dis_400", "parks", 0.2, 0.1),
        ]
    )
    table = irr_changes(before, after)
    assert list(table.columns) == IRR_CHANGE_COLUMNS
    assert table["variable"].tolist() == ["bars_dis_100", "metro_dis_200"]  # in both, B's order
    bars = table.iloc[0]
    se = np.hypot(0.1, 0.1)
    assert bars["ratio"] == pytest.approx(np.exp(-0.6))
    z = norm.ppf(0.95)
    assert (bars["low"], bars["high"]) == pytest.approx(
        (np.exp(-0.6 - z * se), np.exp(-0.6 + z * se))
    )
    assert bars["p_value"] == pytest.approx(2 * norm.sf(0.6 / se))
    assert bars["change"] == "lower in B"
    assert table.iloc[1]["change"] == "level"  # 1.04 -> 1.27: the interval holds 1
    up = irr_changes(after, before)
    assert up.set_index("variable").loc["bars_dis_100", "change"] == "higher in B"
    missing = irr_changes(before.assign(se=np.nan), after)
    assert (missing["change"] == "").all()
    assert irr_changes(pd.DataFrame(), after).empty


def run_of(tmp: Path, risk: np.ndarray, y_test: np.ndarray, seed: int = 0) -> RunFiles:
    units = gpd.GeoDataFrame(
        {
            "unit_id": np.arange(risk.size),
            "y_test": y_test,
            "expected_dl": risk,
            "risk_kde": np.ones(risk.size),
        }
    )
    manifest = {"models": ["dl"], "unit_kind": "grid", "measure": "area", "seed_root": seed}
    empty = pd.DataFrame()
    return RunFiles(tmp, manifest, empty, {}, units, empty, empty, empty, empty, empty)


def test_the_pai_change_resamples_each_run_and_says_it_in_the_verdicts_words(tmp_path):
    rng = np.random.default_rng(4)
    rate = rng.gamma(0.4, 1.0, 3000)
    y_a = rng.multinomial(600, rate / rate.sum())
    y_b = rng.multinomial(600, rate / rate.sum())
    poor = rate * rng.lognormal(0, 2.5, rate.size)
    good = rate * rng.lognormal(0, 0.2, rate.size)
    change = pai_changes(run_of(tmp_path, poor, y_a), run_of(tmp_path, good, y_b))
    assert change.note == ""
    assert (change.table["verdict"] == "beats").all()
    assert change.table["area"].tolist() == ["0.01", "0.05", "0.10"]
    row = change.table.iloc[1]
    assert row["difference"] == pytest.approx(row["pai_b"] - row["pai_a"])
    assert change.sentences[0].startswith(
        f"The deep-learning RTM, out of sample: at 1 % run B beats run A: PAI "
        f"{change.table.iloc[0]['pai_b']:.2f} vs {change.table.iloc[0]['pai_a']:.2f}, difference"
    )
    same = pai_changes(run_of(tmp_path, good, y_a), run_of(tmp_path, good, y_a))
    assert (same.table["difference"] == 0).all() and (same.table["verdict"] == "level").all()


def test_a_run_without_its_test_rankings_has_no_pai_change(tmp_path):
    run = run_of(tmp_path, np.arange(10.0), np.ones(10))
    old = RunFiles(
        tmp_path,
        dict(run.manifest, history={"lags": 2}),
        *[run.coefficients, {}, run.units],
        *[pd.DataFrame()] * 5,
    )
    change = pai_changes(run, old)
    assert change.table.empty
    assert change.note.startswith("The change in PAI is not available: a run has no test crimes")
