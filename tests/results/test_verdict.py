"""The verdict: each model beside the best baseline at 1/5/10 %, in one plain sentence, and the
ties note, on hand-made metrics and risks whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtm_core.results.evaluate import readouts
from rtm_core.results.summary import split_history
from rtm_core.results.verdict import (
    best_baselines,
    compare,
    sentence,
    ties_note,
    verdicts,
)
from tests.hypothesis_profiles import examples


def pai(v01, v05, v10, z2=None) -> dict:
    return {"test": {"pai": {"0.01": v01, "0.05": v05, "0.10": v10, "z2": z2}}}


def test_best_baseline_is_taken_per_area_over_every_baseline_present():
    metrics = {
        "dl": pai(7.0, 6.6, 4.0),
        "prior_counts": pai(8.0, 6.3, 3.0),
        "prior_counts_lags": pai(9.5, 6.0, 3.1),
        "kde": pai(5.0, 5.0, 4.5),
        "history_only": pai(None, 6.1, 2.0),
    }
    best = best_baselines(metrics)
    assert best == {
        "0.01": ("prior_counts_lags", 9.5),
        "0.05": ("prior_counts", 6.3),
        "0.10": ("kde", 4.5),
    }
    # the model itself is never its own baseline
    assert all(key != "dl" for key, _ in best.values())


def test_the_sentence_says_beats_with_the_figures():
    metrics = {"dl": pai(6.6, 6.6, 6.6), "prior_counts": pai(6.3, 6.3, 6.3), "kde": pai(5, 5, 5)}
    comparisons = compare(metrics, "dl", areas=("0.05",))
    assert sentence("dl", comparisons) == (
        "The deep-learning RTM beats the best baseline (prior counts) at 5 % of the area: "
        "PAI 6.60 vs 6.30."
    )


def test_the_sentence_says_below_at_every_area_with_one_baseline():
    metrics = {"classical": pai(2.0, 2.0, 1.5), "kde": pai(5.0, 4.0, 3.0), "forest": pai(1, 1, 1)}
    [verdict] = verdicts(metrics)
    assert verdict.flag == "below"
    assert verdict.headline == "Below the best baseline"
    assert verdict.sentence == (
        "The classical RTM is below the best baseline (KDE of prior crimes) at 1 %, 5 % and "
        "10 % of the area: PAI 2.00 vs 5.00 at 1 %, 2.00 vs 4.00 at 5 % and 1.50 vs 3.00 at 10 %."
    )


def test_a_mixed_result_names_both_sides_and_each_baseline():
    metrics = {
        "dl": pai(8.0, 6.6, 4.0),
        "prior_counts": pai(9.0, 6.3, 3.0),
        "kde": pai(5.0, 5.0, 4.2),
    }
    [verdict] = verdicts(metrics)
    assert verdict.flag == "mixed"
    assert verdict.headline == "Beats the best baseline at 5 % only"
    assert verdict.sentence == (
        "The deep-learning RTM beats the best baseline (prior counts) at 5 % of the area: "
        "PAI 6.60 vs 6.30; it is below the best baseline at 1 % and 10 % of the area: "
        "PAI 8.00 vs 9.00 (prior counts) at 1 % and 4.00 vs 4.20 (KDE of prior crimes) at 10 %."
    )


def test_equal_to_two_decimals_is_a_match_not_a_win():
    metrics = {"dl": pai(3.001, 3.001, 3.001), "kde": pai(2.999, 2.999, 2.999)}
    [verdict] = verdicts(metrics)
    assert {c.outcome for c in verdict.comparisons} == {"matches"}
    assert verdict.flag == "matches"
    assert verdict.sentence.startswith("The deep-learning RTM matches the best baseline (KDE")


def test_no_baseline_and_no_crimes_say_so():
    assert verdicts({"dl": pai(2, 2, 2)})[0].sentence == (
        "The deep-learning RTM has no baseline to be compared with in this run."
    )
    [verdict] = verdicts({"dl": pai(None, None, None), "kde": pai(1, 1, 1)})
    assert verdict.flag == "n/a"
    assert "no out-of-sample PAI" in verdict.sentence


def test_models_missing_from_the_metrics_get_no_verdict():
    assert [v.model for v in verdicts({"classical": pai(1, 1, 1), "kde": pai(2, 2, 2)})] == [
        "classical"
    ]


# --------------------------------------------------------------------------- ties


def test_few_levels_in_the_top_level_make_pai_flat_and_z2_flag_nothing():
    # 1000 units, 150 of them share the highest level: the 1, 5 and 10 % cuts all fall in it
    rng = np.random.default_rng(0)
    risk = np.r_[np.full(150, 3.0), np.full(350, 2.0), np.full(500, 1.0)]
    observed = rng.poisson(risk)
    read = readouts(risk, observed)["pai"]
    assert read["0.01"] == pytest.approx(read["0.05"]) == pytest.approx(read["0.10"])
    assert read["z2"] is None
    note = ties_note(risk, model="classical")
    assert note == (
        "Ties: the classical RTM has only 3 distinct risk levels, so the top 1 %, 5 % and 10 % "
        "of the area all fall in the highest tied level and hold the same mix of units (PAI is "
        "the same at each); no unit's risk has a z-score above 2, so z > 2 flags nothing (None)."
    )


def test_many_distinct_levels_earn_no_note():
    risk = np.random.default_rng(1).gamma(1.0, size=2000)
    assert ties_note(risk, model="dl") == ""


def test_a_lower_tied_level_is_named_without_claiming_equal_pai():
    risk = np.r_[np.linspace(10, 9, 20), np.full(200, 2.0), np.linspace(1.0, 0.1, 780)]
    note = ties_note(risk, model="dl")
    assert "the top 5 % and 10 % of the area cut through the same tied level" in note
    assert "same mix" not in note
    assert "z > 2" not in note  # the twenty high units do have z > 2


def test_the_note_is_counted_from_the_unit_risks_given():
    [verdict] = verdicts(
        {"classical": pai(1, 1, 1, None), "kde": pai(2, 2, 2)},
        {"classical": np.repeat([1.0, 2.0], 50)},
    )
    assert "only 2 distinct risk levels" in verdict.ties


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(st.floats(0, 50, allow_nan=False), min_size=3, max_size=3),
    st.lists(st.floats(0, 50, allow_nan=False), min_size=3, max_size=3),
    st.lists(st.floats(0, 50, allow_nan=False), min_size=3, max_size=3),
)
def test_flags_agree_with_the_numbers(model, prior, kde):
    metrics = {"dl": pai(*model), "prior_counts": pai(*prior), "kde": pai(*kde)}
    for c in compare(metrics, "dl"):
        best = max(
            metrics["prior_counts"]["test"]["pai"][c.area],
            kde[["0.01", "0.05", "0.10"].index(c.area)],
        )
        assert c.baseline_value == best
        if round(c.model_value, 2) == round(best, 2):
            assert c.outcome == "matches"
        else:
            assert c.outcome == ("beats" if c.model_value > best else "below")
    text = verdicts(metrics)[0].sentence
    assert text.startswith("The deep-learning RTM ") and text.endswith(".")


def test_history_rows_are_split_from_the_environment():
    coef = pd.DataFrame(
        {
            "model": ["dl"] * 5,
            "variable": ["intercept", "bars_dis_100", "hist1_unit", "hist2_300m", "history_x"],
            "set": [None, "bars", None, None, None],
        }
    )
    environment, history = split_history(coef)
    assert history["variable"].tolist() == ["hist1_unit", "hist2_300m"]
    assert environment["variable"].tolist() == ["intercept", "bars_dis_100", "history_x"]


def test_one_readable_name_per_key_in_sentences_tables_and_backtests():
    from rtm_core.config import MODEL_KINDS
    from rtm_core.models.registry import BASELINES, MODELS, display_name, sentence_name

    assert tuple(MODELS) == MODEL_KINDS
    for key in (*MODELS, *BASELINES):
        name = display_name(key)
        assert name.lower().startswith(sentence_name(key).lower())  # the sentences' words agree
        assert name.endswith("(baseline)") == (key in BASELINES)
