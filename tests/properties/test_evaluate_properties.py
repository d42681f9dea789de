"""Invariants of the accuracy metrics (Hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rtm_core.results.evaluate import accuracy_curve, relative_risk_score
from tests.hypothesis_profiles import examples

SHARES = np.linspace(0.0, 1.0, 21)


@st.composite
def scored_units(draw):
    n = draw(st.integers(1, 40))
    risk = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5, 7.0])))
    observed = draw(arrays(np.int64, n, elements=st.integers(0, 6)))
    equal = draw(st.booleans())
    measure = (
        np.ones(n)
        if equal
        else draw(arrays(np.float64, n, elements=st.floats(0.25, 4.0, width=32)))
    )
    if observed.sum() == 0:
        observed[draw(st.integers(0, n - 1))] = 1
    return risk, observed, measure


@settings(max_examples=examples(150), deadline=None)
@given(scored_units())
def test_curve_invariants(case):
    risk, observed, measure = case
    curve = accuracy_curve(risk, observed, measure, shares=SHARES)
    assert np.isclose(curve["pai"].iloc[-1], 1.0)  # the whole area
    assert np.isclose(curve["hit_rate"].iloc[-1], 1.0)
    assert (np.diff(curve["hit_rate"]) >= -1e-12).all()  # monotone in share
    assert ((curve["hit_rate"] >= -1e-12) & (curve["hit_rate"] <= 1 + 1e-12)).all()
    assert (curve["pei_star"] <= 1 + 1e-9).all() and (curve["pei_star"] >= 0).all()


@settings(max_examples=examples(100), deadline=None)
@given(scored_units())
def test_perfect_ranking_is_efficient(case):
    _, observed, measure = case
    curve = accuracy_curve(observed / measure, observed, measure, shares=SHARES)
    np.testing.assert_allclose(curve["pei"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(curve["pei_star"], 1.0, rtol=1e-9)


@settings(max_examples=examples(100), deadline=None)
@given(scored_units(), st.floats(0.1, 100.0))
def test_only_the_order_and_relative_measure_matter(case, scale):
    risk, observed, measure = case
    base = accuracy_curve(risk, observed, measure, shares=SHARES)
    other = accuracy_curve(np.exp(risk) * 3 - 1, observed, measure * scale, shares=SHARES)
    np.testing.assert_allclose(base.to_numpy(), other.to_numpy(), rtol=1e-7, atol=1e-12)


@settings(max_examples=examples(100), deadline=None)
@given(scored_units())
def test_equal_areas_pei_equals_pei_star(case):
    risk, observed, _ = case
    curve = accuracy_curve(risk, observed, None, shares=SHARES)
    np.testing.assert_allclose(curve["pei"], curve["pei_star"], rtol=1e-9)


@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-20, 20)))
def test_relative_risk_score_floor_is_one(eta):
    score = relative_risk_score(eta)
    assert score.min() == 1.0
    assert (score >= 1.0).all()
