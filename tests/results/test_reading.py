"""How a model reads: reliable IRRs, the factors it kept, what its map is, how sure we are; and
top places that say their ties. Hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rtm_core.results.bootstrap import COMPARISON_COLUMNS
from rtm_core.results.places import offered_places, tie_note
from rtm_core.results.reading import (
    certainty,
    coefficient_reading,
    model_character,
    reliable,
    risk_factors_kept,
)

COEFFICIENTS = pd.DataFrame(
    {
        "model": ["dl", "dl", "dl", "dl", "classical", "classical", "classical"],
        "variable": [
            "intercept",
            "hist1_unit",
            "metro_dis_200",
            "bars_kde_300",
            "intercept",
            "hist1_unit",
            "hist2_300m",
        ],
        "set": ["", "", "metro", "bars", "", "", ""],
        "irr": [0.1, 1.3, 1.04, 1.8, 0.1, 1.2, 1.1],
        "irr_low": [0.08, 1.1, 0.71, 1.4, 0.08, 1.05, 0.9],
        "irr_high": [0.12, 1.5, 1.53, 2.3, 0.12, 1.4, 1.3],
    }
)


def comparison(model: str, verdicts: dict) -> pd.DataFrame:
    rows = [
        [model, "best", "pai", area, 2.0, 1.0, 1.0, 0.1, 1.9, word]
        for area, word in verdicts.items()
    ]
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def test_an_interval_that_includes_one_is_not_reliable():
    assert reliable(COEFFICIENTS).tolist() == [True, True, False, True, True, True, False]
    frame = COEFFICIENTS.assign(irr_low=np.nan)
    assert not reliable(frame).any()
    assert reliable(pd.DataFrame()).empty
    reading = coefficient_reading(COEFFICIENTS)["reading"].tolist()
    assert reading == ["", "", "no reliable effect", "", "", "", "no reliable effect"]


def test_the_factors_kept_and_what_a_model_without_one_is():
    assert risk_factors_kept(COEFFICIENTS, "dl") == ["metro_dis_200", "bars_kde_300"]
    assert risk_factors_kept(COEFFICIENTS, "classical") == []
    assert model_character(COEFFICIENTS, "dl") == ""
    assert model_character(COEFFICIENTS, "classical") == (
        "kept no risk factor: its map is crime history alone"
    )
    flat = COEFFICIENTS[COEFFICIENTS["variable"] == "intercept"]
    assert model_character(flat, "classical") == "kept no risk factor: its map is flat"
    corner = pd.DataFrame({"model": ["dl"] * 2, "variable": ["intercept", "corner"], "set": ""})
    assert model_character(corner, "dl") == (
        "kept no risk factor: its map is its fixed covariates alone"
    )
    assert model_character(COEFFICIENTS, "absent") == ""


def test_certainty_from_the_comparison_with_the_best_baseline():
    every = {"0.01": "beats", "0.05": "beats", "0.10": "beats"}
    assert certainty(comparison("dl", every), "dl") == (
        3,
        "beats the best baseline at 1, 5 and 10 % of the area",
    )
    some = {"0.01": "level", "0.05": "beats", "0.10": "beats"}
    assert certainty(comparison("dl", some), "dl") == (
        2,
        "beats the best baseline at 5 and 10 % of the area, level at 1 %",
    )
    mixed = {"0.01": "below", "0.05": "beats", "0.10": "level"}
    assert certainty(comparison("dl", mixed), "dl") == (
        1,
        "below the best baseline at 1 % of the area",
    )
    level = dict.fromkeys(("0.01", "0.05", "0.10"), "level")
    assert certainty(comparison("dl", level), "dl") == (
        1,
        "level with the best baseline at every share of the area",
    )
    assert certainty(None, "dl") == (1, "no comparison in this run")
    assert certainty(comparison("dl", every), "classical") == (1, "no comparison in this run")
    # a model that kept no risk factor is never sure to beat, whatever its map did
    assert certainty(comparison("classical", every), "classical", COEFFICIENTS) == (
        1,
        "kept no risk factor",
    )


def test_a_top_list_that_cuts_through_a_tie_says_so():
    scores = np.r_[5.0, 4.0, 3.0, np.full(40, 2.1), np.ones(100)]
    assert tie_note(scores, scores[:5]) == (
        "Places 4-5 share the score 2.10 with 38 units not listed: the list cuts through a "
        "tie, so which of them appear is arbitrary (unit order)."
    )
    assert tie_note(scores, scores[:4]).startswith("Place 4 shares the score 2.10 with 39 units")
    assert tie_note(scores, scores[:3]) == ""  # the list ends above the tie
    assert tie_note(scores, scores[:43]) == ""  # the whole tied level is listed


def test_a_flat_map_offers_no_top_places():
    places = pd.DataFrame({"rank": [1, 2], "unit_id": [7, 8], "score": [1.0, 1.0]})
    shown, note = offered_places(places, np.ones(50), "kept no risk factor: its map is flat")
    assert shown.empty
    assert note == (
        "It kept no risk factor: every unit scores the same, so it offers no top places."
    )
    scores = np.r_[3.0, 2.0, np.ones(10)]
    places = pd.DataFrame({"rank": [1, 2, 3], "unit_id": [1, 2, 3], "score": scores[:3]})
    shown, note = offered_places(places, scores)
    assert len(shown) == 3 and note.startswith("Place 3 shares the score 1.00 with 9 units")
