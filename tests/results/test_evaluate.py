"""Accuracy metrics and read-outs, checked by hand."""

import json

import numpy as np
import pytest

from rtm_core.errors import ConfigError
from rtm_core.results.evaluate import (
    accuracy_curve,
    evaluate_models,
    flag_z2,
    readouts,
    relative_risk_score,
)

# Five equal-area units. Ranked by risk: u0 (3 crimes), u2 (1), u1 (0), u4 (4), u3 (2).
# Model cumulative crimes after 1..5 units: 3, 4, 4, 8, 10 (N = 10).
# Oracle (counts sorted): 4, 3, 2, 1, 0 -> cumulative 4, 7, 9, 10, 10.
RISK = np.array([0.9, 0.5, 0.7, 0.1, 0.3])
OBS = np.array([3, 0, 1, 2, 4])


def test_hand_computed_equal_areas():
    curve = accuracy_curve(RISK, OBS, shares=[0.1, 0.2, 0.4, 0.6, 1.0]).set_index("share")
    # 0.1 = half of u0 (fractional boundary unit): n = 1.5, oracle n* = half of 4 = 2
    assert curve.loc[0.1, "hit_rate"] == pytest.approx(0.15)
    assert curve.loc[0.1, "pai"] == pytest.approx(0.15 / 0.1)
    assert curve.loc[0.1, "pei_star"] == pytest.approx(1.5 / 2)
    # 0.2 = u0: n = 3, PAI = 0.3 / 0.2, n* = 4
    assert curve.loc[0.2, "hit_rate"] == pytest.approx(0.3)
    assert curve.loc[0.2, "pai"] == pytest.approx(1.5)
    assert curve.loc[0.2, "pei_star"] == pytest.approx(0.75)
    # 0.4 = u0, u2: n = 4, PAI = 0.4 / 0.4, n* = 7
    assert curve.loc[0.4, "pai"] == pytest.approx(1.0)
    assert curve.loc[0.4, "pei_star"] == pytest.approx(4 / 7)
    # 0.6: n = 4, PAI = 0.4 / 0.6, n* = 9
    assert curve.loc[0.6, "pai"] == pytest.approx(0.4 / 0.6)
    assert curve.loc[0.6, "pei_star"] == pytest.approx(4 / 9)
    # equal areas: PEI (same number of units) equals PEI* (same area)
    np.testing.assert_allclose(curve["pei"], curve["pei_star"])
    assert curve.loc[1.0, "pai"] == pytest.approx(1.0)
    assert curve.loc[1.0, "hit_rate"] == pytest.approx(1.0)


def test_share_zero_is_the_limit_of_the_top_block():
    curve = accuracy_curve(RISK, OBS, shares=[0.0])
    assert curve["hit_rate"].iloc[0] == 0.0
    assert curve["pai"].iloc[0] == pytest.approx((3 / 10) / (1 / 5))
    assert curve["pei_star"].iloc[0] == pytest.approx(3 / 4)


def test_rri_is_predicted_over_observed():
    expected = np.array([2.0, 1.0, 1.0, 1.0, 1.0])
    curve = accuracy_curve(RISK, OBS, shares=[0.4, 1.0], expected=expected)
    # flagged u0, u2: predicted 2 + 1 = 3, observed 3 + 1 = 4
    assert curve["rri"].iloc[0] == pytest.approx(0.75)
    assert curve["rri"].iloc[1] == pytest.approx(6 / 10)


def test_unequal_measures_hand_computed():
    # measures 1, 2, 1 (A = 4), crimes 2, 2, 0 (N = 4); model order u1, u2, u0;
    # oracle (count per measure 2, 1, 0) order u0, u1, u2.
    measure = np.array([1.0, 2.0, 1.0])
    obs = np.array([2, 2, 0])
    risk = np.array([0.1, 0.9, 0.5])
    curve = accuracy_curve(risk, obs, measure, shares=[0.25, 0.5, 0.75]).set_index("share")
    # a = 2: u1 -> n = 2, PAI = 0.5 / 0.5 = 1; best area-2 selection: u0 + half u1 = 3
    assert curve.loc[0.5, "pai"] == pytest.approx(1.0)
    assert curve.loc[0.5, "pei_star"] == pytest.approx(2 / 3)
    # PEI compares with the oracle's first unit (k = 1): u0, PAI = (2/4) / (1/4) = 2
    assert curve.loc[0.5, "pei"] == pytest.approx(0.5)
    # a = 1: half of u1 -> n = 1, k = 0.5; oracle half of u0: PAI 2; best area 1 = u0 = 2
    assert curve.loc[0.25, "pai"] == pytest.approx(1.0)
    assert curve.loc[0.25, "pei"] == pytest.approx(0.5)
    assert curve.loc[0.25, "pei_star"] == pytest.approx(0.5)
    # a = 3: u1 + u2 -> n = 2, PAI = 0.5 / 0.75; best area 3 = u0 + u1 = 4
    assert curve.loc[0.75, "pai"] == pytest.approx(2 / 3)
    assert curve.loc[0.75, "pei_star"] == pytest.approx(0.5)
    assert curve.loc[0.75, "pei"] == pytest.approx((2 / 3) / (1 / 0.75))


def test_perfect_ranking_gives_pei_one_and_whole_area_pai_one():
    rng = np.random.default_rng(3)
    obs = rng.poisson(1.0, 200)
    measure = rng.uniform(0.5, 2.0, 200)
    curve = accuracy_curve(obs / measure, obs, measure)
    np.testing.assert_allclose(curve["pei"], 1.0)
    np.testing.assert_allclose(curve["pei_star"], 1.0)
    assert curve["pai"].iloc[-1] == pytest.approx(1.0)
    assert (np.diff(curve["hit_rate"]) >= -1e-12).all()


def test_ties_are_fractional_and_deterministic():
    curve = accuracy_curve(np.ones(4), [4, 0, 0, 0], shares=[0.25, 0.5])
    # one block of four tied units: crimes accrue in proportion to area
    np.testing.assert_allclose(curve["hit_rate"], [0.25, 0.5])
    np.testing.assert_allclose(curve["pai"], 1.0)


def test_readouts_keys_and_z2_rule():
    # risk 10 has z = (10 - 1.9) / 2.7 = 3 > 2; the nine units at 1 have z = -1/3
    risk = np.array([10.0] + [1.0] * 9)
    obs = np.array([2, 1, 0, 0, 0, 0, 0, 0, 0, 2])
    assert flag_z2(risk).tolist() == [True] + [False] * 9
    out = readouts(risk, obs)
    assert set(out) == {"hit_rate", "pai", "pei", "pei_star"}
    assert list(out["pai"]) == ["0.01", "0.05", "0.10", "z2"]
    # z2 flags u0 (area 0.1): n = 2 of 5, PAI = 0.4 / 0.1 = 4, best single unit holds 2
    assert out["hit_rate"]["z2"] == pytest.approx(0.4)
    assert out["pai"]["z2"] == pytest.approx(4.0)
    assert out["pei_star"]["z2"] == pytest.approx(1.0)
    # 0.01 of the area is a tenth of u0: n = 0.2, hit 0.04, PAI 4
    assert out["hit_rate"]["0.01"] == pytest.approx(0.04)
    assert out["pai"]["0.10"] == pytest.approx(4.0)
    json.dumps(out, allow_nan=False)


def test_readouts_undefined_values_are_none():
    out = readouts(np.ones(10), np.zeros(10))
    assert out["pai"]["0.05"] is None and out["pai"]["z2"] is None
    out = readouts(np.ones(10), np.arange(10))  # constant risk: nothing has z > 2
    assert out["pai"]["z2"] is None
    assert out["pai"]["0.10"] == pytest.approx(1.0)


def test_evaluate_models_shapes():
    rng = np.random.default_rng(0)
    y_train, y_test = rng.poisson(1, 50), rng.poisson(1, 50)
    risks = {"classical": rng.uniform(size=50), "prior_counts": y_train.astype(float)}
    ev = evaluate_models(
        risks, y_train, y_test, shares=[0.0, 0.5, 1.0], expected={"classical": np.ones(50)}
    )
    assert set(ev.metrics) == {"classical", "prior_counts"}
    assert set(ev.metrics["classical"]) == {"train", "test"}
    assert "rri" in ev.metrics["classical"]["test"]
    assert "rri" not in ev.metrics["prior_counts"]["test"]
    assert len(ev.curves) == 2 * 2 * 3
    assert list(ev.curves.columns[:3]) == ["model", "period", "share"]
    json.dumps(ev.metrics, allow_nan=False)


def test_input_errors():
    with pytest.raises(ConfigError, match=r"observed.*has 2 values for 5 units"):
        accuracy_curve(RISK, [1, 2])
    with pytest.raises(ConfigError, match="measure.*zero, negative"):
        accuracy_curve(RISK, OBS, np.zeros(5))
    with pytest.raises(ConfigError, match=r"shares.*\[0, 1\]"):
        readouts(RISK, OBS, shares=[1.5])


def test_relative_risk_score_lowest_is_one():
    score = relative_risk_score([0.0, np.log(2), np.log(6), -1.0])
    assert score.min() == 1.0
    np.testing.assert_allclose(score, np.exp([1.0, np.log(2) + 1, np.log(6) + 1, 0.0]))


def test_a_test_period_risk_replaces_the_in_sample_one_out_of_sample():
    from rtm_core.results.evaluate import evaluate_models

    y_train, y_test = np.array([5, 0, 0, 0]), np.array([0, 0, 0, 5])
    in_sample, out_of_sample = np.array([4.0, 3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0, 4.0])
    result = evaluate_models(
        {"m": in_sample},
        y_train,
        y_test,
        risks_test={"m": out_of_sample},
        expected={"m": in_sample},
        expected_test={"m": out_of_sample},
        readout_shares=(0.25,),
    )
    assert result.metrics["m"]["train"]["hit_rate"]["0.25"] == 1.0  # in-sample ranking
    assert result.metrics["m"]["test"]["hit_rate"]["0.25"] == 1.0  # test-period ranking
    assert result.metrics["m"]["test"]["rri"]["0.25"] == pytest.approx(4.0 / 5.0)
    plain = evaluate_models({"m": in_sample}, y_train, y_test, readout_shares=(0.25,))
    assert plain.metrics["m"]["test"]["hit_rate"]["0.25"] == 0.0
