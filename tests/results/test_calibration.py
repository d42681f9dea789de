"""Calibration: observed against expected by decile, the sentences, and the warnings on a
forecast out of line with the data (the issue's case: 846 forecast against 593, a unit at
13.5 where no unit ever had more than 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtm_core.results.calibration import (
    CALIBRATION_COLUMNS,
    calibration_sentence,
    calibration_table,
    deciles,
    forecast_warnings,
    highest_count,
)


def test_deciles_are_equal_groups_by_rank_even_when_tied():
    group = deciles(np.r_[np.ones(95), np.arange(5.0) + 2])
    assert np.bincount(group)[1:].tolist() == [10] * 10
    assert (group[95:] == 10).all()  # the riskiest units are decile 10
    assert set(deciles(np.arange(13.0))) == set(range(1, 11))


def test_the_table_holds_totals_then_deciles_per_model_and_period():
    rng = np.random.default_rng(0)
    expected = rng.gamma(1.0, 1.0, 200)
    y_train, y_test = rng.poisson(expected), rng.poisson(expected * 0.9)
    table = calibration_table(
        {"dl": {"train": expected, "test": expected}, "history_only": {"train": expected}},
        {"train": y_train, "test": y_test},
    )
    assert list(table.columns) == CALIBRATION_COLUMNS
    assert table[["model", "period"]].drop_duplicates().values.tolist() == [
        ["dl", "train"],
        ["dl", "test"],
        ["history_only", "train"],
    ]
    part = table[(table["model"] == "dl") & (table["period"] == "test")]
    assert part["group"].tolist() == ["all", *[f"decile {k}" for k in range(1, 11)]]
    total = part.iloc[0]
    assert (total["units"], total["observed"]) == (200, y_test.sum())
    assert total["expected"] == pytest.approx(expected.sum())
    assert part["observed"].iloc[1:].sum() == y_test.sum()
    assert part["expected"].iloc[1:].is_monotonic_increasing


def test_the_sentence_gives_both_periods_with_the_gap():
    table = pd.DataFrame(
        [
            ["classical", "train", "all", 100, 634.0, 634.0],
            ["classical", "test", "all", 100, 593.0, 612.3],
        ],
        columns=CALIBRATION_COLUMNS,
    )
    assert calibration_sentence(table, "classical") == (
        "The classical RTM expects 634.0 in the training period against 634 observed (+0.0 %), "
        "and 612.3 in the test period against 593 observed (+3.3 %)."
    )
    assert calibration_sentence(table, "dl") == "" and calibration_sentence(None, "dl") == ""


def test_a_forecast_out_of_line_with_the_data_is_warned():
    forecast = np.r_[13.5, np.full(832, 1.0), 0.5]
    found = forecast_warnings({"classical": forecast, "dl": np.full(600, 1.0)}, 593, 5)
    assert found["classical"] == [
        "The classical RTM's forecast totals 846 crimes, 43 % more than the 593 of the last "
        "observed period.",
        "The classical RTM forecasts 13.5 crimes in one unit, more than any unit ever had (5).",
    ]
    assert found["dl"] == []
    fewer = forecast_warnings({"dl": np.full(100, 1.0)}, 200, None)["dl"]
    assert fewer == [
        "The deep-learning RTM's forecast totals 100 crimes, 50 % fewer than the 200 of the "
        "last observed period."
    ]


def test_the_highest_count_reads_periods_and_history_windows():
    assert highest_count(np.array([0, 3]), np.array([1, 2]), np.array([[0, 7], [1, 1]])) == 7
    assert highest_count() == 0
