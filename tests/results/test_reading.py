"""How a run's models are read: reliable IRRs, the risk factors kept, what a model without
one is, and how sure we are (1-3) from comparison.csv (interfaces.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtm_core.results.reading import certainty, model_character, reliable, risk_factors_kept


def _coefficients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["dl", "dl", "dl", "dl", "classical", "classical", "flat"],
            "variable": ["intercept", "bars_dis_100", "metro_dis_200", "hist1_unit"]
            + ["intercept", "hist1_150m", "intercept"],
            "set": [np.nan, "bars", "metro", np.nan, np.nan, np.nan, np.nan],
            "irr": [0.5, 1.8, 1.04, 1.2, 0.6, 1.3, 0.7],
            "irr_low": [0.4, 1.3, 0.71, 1.1, 0.5, 0.99, 0.6],
            "irr_high": [0.6, 2.4, 1.53, 1.3, 0.7, 1.7, np.nan],
        }
    )


def test_reliable_means_the_95_interval_excludes_one():
    coef = _coefficients()
    assert reliable(coef).tolist() == [True, True, False, True, True, False, False]
    assert not reliable(coef.drop(columns="irr_low")).any()


def test_risk_factors_kept_and_what_a_model_without_one_is():
    coef = _coefficients()
    assert risk_factors_kept(coef, "dl") == ["bars_dis_100", "metro_dis_200"]
    assert risk_factors_kept(coef, "classical") == []
    assert risk_factors_kept(coef, "absent") == []
    assert model_character(coef, "dl") == ""
    assert model_character(coef, "classical") == (
        "kept no risk factor: its map is crime history alone"
    )
    assert model_character(coef, "flat") == "kept no risk factor: its map is flat"


def _comparison(verdicts: dict[str, str], model: str = "dl") -> pd.DataFrame:
    rows = [
        {"model": model, "baseline": "best", "measure": "pai", "area": area, "verdict": v}
        for area, v in verdicts.items()
    ]
    rows.append(  # a named baseline's rows do not count, only "best"
        {"model": model, "baseline": "kde", "measure": "pai", "area": "0.01", "verdict": "below"}
    )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("verdicts", "level", "words"),
    [
        ({"0.01": "beats", "0.05": "beats", "0.10": "beats"}, 3, "at 1, 5 and 10 %"),
        ({"0.01": "level", "0.05": "beats", "0.10": "beats"}, 2, "below it at none"),
        ({"0.01": "below", "0.05": "beats", "0.10": "beats"}, 1, "not shown to beat"),
        ({"0.01": "level", "0.05": "level", "0.10": "level"}, 1, "level with"),
        ({"0.01": "below", "0.05": "below", "0.10": "below"}, 1, "below the best"),
    ],
)
def test_certainty_from_the_best_baseline_rows(verdicts, level, words):
    found, text = certainty(_comparison(verdicts), "dl")
    assert found == level and words in text


def test_certainty_without_a_comparison_says_so():
    assert certainty(None, "dl") == (1, "no comparison in this run")
    assert certainty(pd.DataFrame(), "dl") == (1, "no comparison in this run")
    other = _comparison({"0.01": "beats", "0.05": "beats", "0.10": "beats"}, model="classical")
    assert certainty(other, "dl") == (1, "no comparison in this run")
    # areas read back from a CSV as numbers still match the metrics' keys
    as_read = _comparison({"0.01": "beats", "0.05": "beats", "0.10": "beats"})
    as_read["area"] = pd.to_numeric(as_read["area"])
    assert certainty(as_read, "dl")[0] == 3
