"""The paired bootstrap of PAI differences: its flagged shares are the evaluation's, two maps
that rank alike are level, a map planted better beats, and the 90 % interval covers a known
difference about 90 % of the time. Arrays only (no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rtm_core.errors import ConfigError
from rtm_core.results.bootstrap import (
    COMPARISON_COLUMNS,
    ScoredCrimes,
    best_baseline,
    bootstrap_rng,
    compare_maps,
    flagged_shares,
    scored_crimes,
    verdict_of,
)
from rtm_core.results.evaluate import readouts

AREAS = ("0.01", "0.05", "0.10")


def city(seed: int, n: int = 4000, crimes: int = 800):
    """True risk per unit (gamma), and test crimes drawn from it."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.4, 1.0, n)
    y = rng.multinomial(crimes, rate / rate.sum())
    return rng, rate, y


def test_verdict_words():
    assert verdict_of(0.1, 0.5) == "beats"
    assert verdict_of(-0.5, -0.1) == "below"
    assert verdict_of(-0.1, 0.1) == verdict_of(0.0, 0.0) == verdict_of(0.0, 1.0) == "level"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=5, max_size=80),
    st.lists(st.integers(0, 4), min_size=5, max_size=80),
    st.booleans(),
)
@example(risk=[1, 1, 1, 1, 1], counts=[0, 3, 0, 1, 2], weighted=False)  # one tied block
@example(risk=[3, 2, 2, 2, 1], counts=[1, 0, 0, 0, 0], weighted=True)
def test_the_observed_pai_is_the_evaluations(risk, counts, weighted):
    n = min(len(risk), len(counts))
    risk, counts = np.array(risk[:n], float), np.array(counts[:n], float)
    if counts.sum() == 0:
        counts[0] = 1
    measure = np.linspace(1.0, 3.0, n) if weighted else None
    scored = scored_crimes({"dl": risk, "kde": -risk}, counts, measure)
    expect = readouts(risk, counts, measure)["pai"]
    np.testing.assert_allclose(scored.pai()[0], [expect[a] for a in AREAS], rtol=1e-9)
    shares = flagged_shares(risk, measure)
    assert ((shares >= 0) & (shares <= 1)).all()
    area = np.ones(n) if measure is None else measure
    np.testing.assert_allclose(area @ shares, np.array([0.01, 0.05, 0.10]) * area.sum())


def test_maps_that_rank_alike_are_level_in_every_seed():
    """Two maps that are the same map (one a monotone transform of the other, e.g. a model
    that kept no risk factor beside crime history alone): level, with an interval of 0."""
    level = 0
    for seed in range(20):
        rng, rate, y = city(seed)
        noisy = rate * rng.lognormal(0.0, 0.5, rate.size)
        scored = scored_crimes({"dl": noisy, "history_only": np.log(noisy) * 3 + 1}, y)
        table = compare_maps([scored], ["dl"], random_state=seed)
        best = table[table["baseline"] == "best"]
        level += (best["verdict"] == "level").all()
        assert (best["low"] == 0).all() and (best["high"] == 0).all()
    assert level >= 19  # >= 95 % of 20 seeds


def test_a_map_planted_better_by_a_clear_margin_beats():
    for seed in range(5):
        rng, rate, y = city(seed)
        good = rate * rng.lognormal(0.0, 0.2, rate.size)  # close to the truth
        poor = rate * rng.lognormal(0.0, 2.0, rate.size)  # mostly noise
        table = compare_maps([scored_crimes({"dl": good, "kde": poor}, y)], ["dl"])
        best = table[table["baseline"] == "best"]
        assert (best["verdict"] == "beats").all(), best
        assert (best["low"] > 0).all() and (best["difference"] > best["low"]).all()
        flipped = compare_maps([scored_crimes({"dl": poor, "kde": good}, y)], ["dl"])
        assert (flipped[flipped["baseline"] == "best"]["verdict"] == "below").all()


def test_the_interval_covers_a_known_difference_about_90_percent_of_the_time():
    """Crimes drawn from known unit probabilities; two fixed maps; the true PAI difference is
    sum(p * (flagged_a - flagged_b)) / share. Its 90 % interval, over 200 draws of the test
    crimes, covers it 84-96 % of the time (a 90 % binomial band of +-3 sd)."""
    rng = np.random.default_rng(11)
    n = 300
    p = rng.gamma(0.8, 1.0, n)
    p /= p.sum()
    a = p * rng.lognormal(0, 0.6, n)
    b = p * rng.lognormal(0, 0.9, n)
    shares = np.array([0.01, 0.05, 0.10])
    truth = (p @ (flagged_shares(a) - flagged_shares(b))) / shares
    covered = np.zeros(3)
    draws = 200
    for k in range(draws):
        y = rng.multinomial(600, p)
        scored = scored_crimes({"dl": a, "kde": b}, y)
        table = compare_maps([scored], ["dl"], n_resamples=400, random_state=k)
        best = table[table["baseline"] == "kde"].set_index("area")
        low, high = best.loc[list(AREAS), "low"], best.loc[list(AREAS), "high"]
        covered += (low.to_numpy() <= truth) & (truth <= high.to_numpy())
    coverage = covered / draws
    assert ((coverage >= 0.84) & (coverage <= 0.96)).all(), coverage


def test_the_table_has_every_baseline_then_the_best_and_is_seeded():
    rng, rate, y = city(3)
    maps = {
        "classical": rate * rng.lognormal(0, 0.5, rate.size),
        "kde": rate * rng.lognormal(0, 0.8, rate.size),
        "prior_counts": rate * rng.lognormal(0, 0.3, rate.size),
        "dl": rate * rng.lognormal(0, 0.4, rate.size),
    }
    scored = scored_crimes(maps, y)
    assert scored.maps == ("dl", "classical", "prior_counts", "kde")  # registry order
    table = compare_maps([scored], ["dl", "classical"], random_state=5)
    assert list(table.columns) == COMPARISON_COLUMNS
    assert table[["model", "baseline"]].drop_duplicates().values.tolist() == [
        ["dl", "prior_counts"],
        ["dl", "kde"],
        ["dl", "best"],
        ["classical", "prior_counts"],
        ["classical", "kde"],
        ["classical", "best"],
    ]
    assert table["area"].unique().tolist() == list(AREAS) and (table["measure"] == "pai").all()
    np.testing.assert_allclose(table["difference"], table["model_value"] - table["baseline_value"])
    again = compare_maps([scored], ["dl", "classical"], random_state=5)
    pd.testing.assert_frame_equal(table, again)
    other = compare_maps([scored], ["dl", "classical"], random_state=6)
    assert not np.allclose(other["low"], table["low"])
    assert (other["model_value"] == table["model_value"]).all()


def test_the_best_baseline_is_the_highest_ties_in_registry_order():
    assert best_baseline({"kde": 2.0, "prior_counts": 3.0, "forest": np.nan}) == "prior_counts"
    assert best_baseline({"history_only": 3.0, "kde": 3.0, "prior_counts_lags": 3.0}) == (
        "prior_counts_lags"
    )
    assert best_baseline({"forest": None}) is None


def test_origins_are_averaged_and_resampled_each_on_their_own():
    origins = []
    for seed in (1, 2, 3):
        rng, rate, y = city(seed, n=1500, crimes=300)
        maps = {"dl": rate * rng.lognormal(0, 0.4, rate.size), "kde": rng.random(rate.size)}
        origins.append(scored_crimes(maps, y))
    empty = scored_crimes({"dl": np.arange(5.0), "kde": np.ones(5)}, np.zeros(5))
    table = compare_maps([*origins, empty], ["dl"], random_state=0)
    best = table[table["baseline"] == "best"].set_index("area")
    mean = np.mean([o.pai() for o in origins], axis=0)
    np.testing.assert_allclose(best["model_value"], mean[0])
    np.testing.assert_allclose(best["baseline_value"], mean[1])
    one = compare_maps(origins[:1], ["dl"], random_state=0)
    width = lambda t: (t["high"] - t["low"]).to_numpy()  # noqa: E731
    assert (width(table[table["baseline"] == "best"]) < width(one[one["baseline"] == "best"])).all()
    assert compare_maps([empty], ["dl"]).empty


def test_resamples_keep_the_number_of_crimes_and_draw_from_the_run_stream():
    scored = ScoredCrimes(
        maps=("dl",),
        areas=("0.50",),
        crimes=np.array([3.0, 1.0]),
        shares=np.array([[[1.0]], [[0.0]]]),
        total=4,
    )
    draws = scored.resample(bootstrap_rng(0), 1000)
    assert draws.shape == (1000, 1, 1)
    # PAI = 2 * share of the 4 crimes drawn in the flagged group: 0, 0.5, ... 2
    assert set(np.round(draws.ravel() * 2, 9)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert draws.mean() == pytest.approx(1.5, abs=0.05)
    again = scored.resample(bootstrap_rng(0), 1000)
    np.testing.assert_array_equal(draws, again)


def test_a_ranking_of_the_wrong_length_is_refused():
    wrong = r"bootstrap \[kde\]: needs one finite risk per unit \(3\), got 2 values"
    with pytest.raises(ConfigError, match=wrong):
        scored_crimes({"kde": np.ones(2)}, np.ones(3))
    with pytest.raises(ConfigError, match="negative or missing counts"):
        scored_crimes({"kde": np.ones(3)}, np.array([1.0, -1.0, 0.0]))
