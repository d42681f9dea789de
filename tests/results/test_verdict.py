"""The verdict: each model beside the best baseline at 1/5/10 %, from the comparison table,
in beats / level / below words with the 90 % interval; a model that kept no risk factor named
so; the ties note. Hand-made tables whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtm_core.results.bootstrap import COMPARISON_COLUMNS
from rtm_core.results.evaluate import readouts
from rtm_core.results.summary import split_history, verdict_table
from rtm_core.results.verdict import best_of, comparisons, ties_note, verdicts


def row(model, baseline, area, value, other, low, high):
    verdict = "beats" if low > 0 else ("below" if high < 0 else "level")
    return [model, baseline, "pai", area, value, other, value - other, low, high, verdict]


def table(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COMPARISON_COLUMNS)


def with_best(rows) -> pd.DataFrame:
    """The rows, then the best baseline's rows per model and area (as compare_maps adds)."""
    frame = table(*rows)
    best = []
    for _, group in frame.groupby(["model", "area"], sort=False):
        top = group.loc[group["baseline_value"].idxmax()].copy()
        top["baseline"] = "best"
        best.append(top)
    return pd.concat([frame, pd.DataFrame(best)], ignore_index=True)


#: the issue's case: PAI 7.76 vs 7.69 at 5 %, about two homicides of 593
LEVEL = with_best(
    [
        row("dl", "prior_counts", "0.05", 7.76, 7.69, -0.41, 0.55),
        row("dl", "kde", "0.05", 7.76, 6.00, 0.90, 2.60),
    ]
)


def test_a_difference_within_noise_is_level_with_its_interval():
    [verdict] = verdicts(LEVEL)
    assert verdict.sentence == (
        "The deep-learning RTM is level with the best baseline (prior counts) at 5 %: PAI 7.76 "
        "vs 7.69, difference +0.07, 90 % interval -0.41 to +0.55."
    )
    assert (verdict.flag, verdict.headline) == ("level", "Level with the best baseline")


def test_beats_below_and_mixed_name_each_best_baseline():
    rows = with_best(
        [
            row("dl", "prior_counts", "0.01", 9.0, 6.0, 1.2, 4.9),
            row("dl", "kde", "0.01", 9.0, 5.0, 2.0, 6.0),
            row("dl", "prior_counts", "0.05", 4.0, 5.0, -1.8, -0.2),
            row("dl", "kde", "0.05", 4.0, 4.5, -1.0, 0.1),
            row("dl", "prior_counts", "0.10", 3.0, 2.9, -0.3, 0.5),
            row("dl", "kde", "0.10", 3.0, 3.1, -0.5, 0.3),
        ]
    )
    [verdict] = verdicts(rows)
    assert verdict.flag == "mixed"
    assert verdict.headline == "Beats the best baseline at 1 % only"
    assert verdict.sentence == (
        "The deep-learning RTM beats the best baseline (prior counts) at 1 %: PAI 9.00 vs 6.00, "
        "difference +3.00, 90 % interval +1.20 to +4.90; it is below the best baseline (prior "
        "counts) at 5 %: PAI 4.00 vs 5.00, difference -1.00, 90 % interval -1.80 to -0.20; it "
        "is level with the best baseline (KDE of prior crimes) at 10 %: PAI 3.00 vs 3.10, "
        "difference -0.10, 90 % interval -0.50 to +0.30."
    )
    assert [c.baseline for c in verdict.comparisons] == ["prior_counts", "prior_counts", "kde"]
    below = with_best([row("classical", "forest", a, 1.0, 3.0, -2.5, -1.5) for a in ("0.05",)])
    assert verdicts(below)[0].headline == "Below the best baseline"


def test_a_model_that_kept_no_risk_factor_is_named_so_and_never_wins():
    coefficients = pd.DataFrame(
        {
            "model": ["classical"] * 3 + ["dl"] * 2,
            "variable": ["intercept", "hist1_unit", "hist1_300m", "intercept", "bars_dis_100"],
            "set": ["", "", "", "", "bars"],
        }
    )
    rows = with_best(
        [
            row("classical", "prior_counts", "0.05", 7.0, 5.0, 0.5, 3.5),
            row("dl", "prior_counts", "0.05", 6.0, 5.0, 0.1, 1.9),
        ]
    )
    classical, dl = verdicts(rows, coefficients, models=("classical", "dl"))
    assert classical.sentence == (
        "The classical RTM kept no risk factor: its map is crime history alone; crime history "
        "alone beats the best baseline (prior counts) at 5 %: PAI 7.00 vs 5.00, difference "
        "+2.00, 90 % interval +0.50 to +3.50."
    )
    assert (classical.flag, classical.headline) == ("none", "Kept no risk factor")
    assert classical.tone == "neutral" and dl.tone == "beats"  # never shown as a win
    assert dl.flag == "beats" and not dl.character
    flat = coefficients[coefficients["variable"] == "intercept"]
    assert verdicts(None, flat, models=("classical",))[0].sentence == (
        "The classical RTM kept no risk factor: its map is flat."
    )
    shown = verdict_table([classical, dl])
    assert shown["model"].tolist() == [
        "Classical RTM (kept no risk factor)",
        "Deep-learning RTM",
    ]
    assert shown["result"].tolist() == ["beats", "beats"]


def test_the_best_rows_name_their_baseline_ties_in_registry_order():
    rows = with_best(
        [
            row("dl", "history_only", "0.10", 2.0, 3.0, -1.5, -0.5),
            row("dl", "kde", "0.10", 2.0, 3.0, -1.5, -0.5),
        ]
    )
    assert best_of(rows, "dl", "0.10") == "kde"
    assert [c.baseline for c in comparisons(rows, "dl")] == ["kde"]


def test_no_comparison_says_so():
    [verdict] = verdicts(None, pd.DataFrame({"model": ["dl"], "variable": ["a_1"], "set": ["a"]}))
    assert verdict.sentence == (
        "The deep-learning RTM has no out-of-sample comparison with a baseline in this run."
    )
    assert (verdict.flag, verdict.headline) == ("n/a", "No comparison")
    assert verdicts(None) == [] and verdicts(LEVEL.iloc[0:0]) == []


def test_the_verdict_table_carries_the_interval():
    shown = verdict_table(verdicts(LEVEL))
    assert shown.columns.tolist() == [
        "model",
        "area",
        "model PAI",
        "best baseline",
        "baseline PAI",
        "difference",
        "90 % low",
        "90 % high",
        "result",
    ]
    assert shown.iloc[0].tolist() == [
        "Deep-learning RTM",
        "5 %",
        7.76,
        "prior counts",
        7.69,
        pytest.approx(0.07),
        -0.41,
        0.55,
        "level",
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
    rows = with_best([row("classical", "kde", "0.05", 1.0, 2.0, -1.5, -0.5)])
    [verdict] = verdicts(rows, risks={"classical": np.repeat([1.0, 2.0], 50)})
    assert "only 2 distinct risk levels" in verdict.ties


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


def test_level_and_below_without_a_win_says_where_it_is_below():
    rows = with_best(
        [
            row("classical", "kde", "0.01", 4.39, 4.38, -0.54, 0.54),
            row("classical", "kde", "0.05", 2.61, 2.74, -0.25, -0.01),
        ]
    )
    [verdict] = verdicts(rows)
    assert (verdict.flag, verdict.headline) == (
        "mixed",
        "Below the best baseline at 5 %, level elsewhere",
    )
    assert verdict.tone == "below"  # shown as a warning
