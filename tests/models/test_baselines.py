"""Baselines: prior counts, KDE of past crimes, gradient-boosted trees."""

import numpy as np
import pandas as pd
import pytest

from rtm_core.errors import ConfigError, FitError, NotFittedError
from rtm_core.models.baselines import ForestBaseline, kde_risk, prior_counts_risk

UNITS = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 250.0], [5000.0, 5000.0]])
CRIMES = np.array([[10.0, 0.0], [10.0, 0.0], [120.0, 30.0], [0.0, 200.0], [-50.0, -60.0]])


def _dense(units, crimes, h, kernel):
    d2 = ((units[:, None, :] - crimes[None, :, :]) ** 2).sum(-1)
    if kernel == "gaussian":
        k = np.exp(-d2 / (2 * h * h)) / (2 * np.pi * h * h)
        k[d2 > (4 * h) ** 2] = 0.0
    else:
        k = np.where(d2 < h * h, 3 / (np.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0)
    return k.sum(axis=1)


@pytest.mark.parametrize(
    ("kernel", "h"), [("gaussian", 100.0), ("gaussian", 30.0), ("quartic", 150.0)]
)
def test_kde_matches_dense_hand_computation(kernel, h):
    got = kde_risk(UNITS, CRIMES, bandwidth=h, kernel=kernel)
    np.testing.assert_allclose(got, _dense(UNITS, CRIMES, h, kernel), rtol=1e-12, atol=1e-300)
    assert got[3] == 0.0  # far unit: no crime within reach


def test_kde_single_crime_value():
    # one crime 100 m away, gaussian h = 100: exp(-1/2) / (2 pi 100^2)
    got = kde_risk([[0.0, 0.0]], [[100.0, 0.0]], bandwidth=100.0)
    assert got[0] == pytest.approx(np.exp(-0.5) / (2 * np.pi * 1e4))


def test_kde_chunks_and_empty():
    rng = np.random.default_rng(1)
    units = rng.uniform(0, 3000, (5000, 2))  # more than one chunk of units
    crimes = rng.uniform(0, 3000, (300, 2))
    np.testing.assert_allclose(
        kde_risk(units, crimes, 200.0), _dense(units, crimes, 200.0, "gaussian"), rtol=1e-10
    )
    assert (kde_risk(units[:3], np.zeros((0, 2))) == 0).all()


def test_kde_errors():
    with pytest.raises(ConfigError, match="unknown kernel 'box'"):
        kde_risk(UNITS, CRIMES, kernel="box")
    with pytest.raises(ConfigError, match="bandwidth.*positive"):
        kde_risk(UNITS, CRIMES, bandwidth=0)
    with pytest.raises(ConfigError, match=r"unit_xy.*\(n, 2\)"):
        kde_risk(np.zeros((3, 3)), CRIMES)


def test_prior_counts_are_the_counts():
    out = prior_counts_risk([0, 3, 1])
    assert out.dtype == np.float64 and out.tolist() == [0.0, 3.0, 1.0]


def _features(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    feats = pd.DataFrame(
        {"bar_distance": rng.uniform(0, 2000, n), "shop_density": rng.gamma(2.0, 1.0, n)}
    )
    mu = np.exp(-1 + 1.2 * (feats["bar_distance"] < 300) + 0.2 * feats["shop_density"])
    return feats, rng.poisson(mu)


def test_forest_is_deterministic_and_sensible():
    feats, y = _features()
    a = ForestBaseline(random_state=3, max_iter=60).fit(feats, y).predict(feats)
    b = ForestBaseline(random_state=3, max_iter=60).fit(feats, y).predict(feats)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (len(feats),) and (a > 0).all()
    near = feats["bar_distance"] < 300
    assert a[near].mean() > 2 * a[~near].mean()


def test_forest_trees_do_not_depend_on_the_thread_budget(monkeypatch):
    feats, y = _features(n=4000, seed=5)
    monkeypatch.setattr("rtm_core.cluster._process_threads", 1)
    one = ForestBaseline(random_state=1, max_iter=40).fit(feats, y).predict(feats)
    monkeypatch.setattr("rtm_core.cluster._process_threads", 2)
    two = ForestBaseline(random_state=1, max_iter=40).fit(feats, y).predict(feats)
    np.testing.assert_array_equal(one, two)


def test_forest_errors():
    feats, y = _features(50)
    with pytest.raises(NotFittedError, match="call fit first"):
        ForestBaseline().predict(feats)
    with pytest.raises(FitError, match="no crimes"):
        ForestBaseline().fit(feats, np.zeros(50))
    with pytest.raises(ConfigError, match="has 3 counts for 50 feature rows"):
        ForestBaseline().fit(feats, [1, 2, 3])
    model = ForestBaseline(max_iter=5).fit(feats, y)
    with pytest.raises(ConfigError, match="columns differ"):
        model.predict(feats[["shop_density", "bar_distance"]])


def test_prior_counts_lags_sums_the_windows():
    from rtm_core.models.baselines import prior_counts_lags_risk

    counts = np.array([[1, 2], [0, 0], [3, 0]])
    np.testing.assert_array_equal(prior_counts_lags_risk(counts), [3.0, 0.0, 3.0])
    np.testing.assert_array_equal(prior_counts_lags_risk(np.array([4, 5])), [4.0, 5.0])


def test_history_only_recovers_a_planted_poisson_glm_and_applies_to_new_history():
    import pandas as pd

    from rtm_core.errors import ConfigError, FitError, NotFittedError
    from rtm_core.models.baselines import HistoryOnlyBaseline

    rng = np.random.default_rng(0)
    hist = pd.DataFrame({"hist1_unit": np.log1p(rng.poisson(2.0, 20_000))})
    y = rng.poisson(np.exp(-0.5 + 0.6 * hist["hist1_unit"]))
    model = HistoryOnlyBaseline().fit(hist, y)
    assert model.model_.coef_[0] == pytest.approx(0.6, abs=0.03)
    shifted = hist + 1.0  # more crime last period: more expected now
    assert (model.predict(shifted) > model.predict(hist)).all()
    with pytest.raises(ConfigError, match="columns differ"):
        model.predict(hist.rename(columns={"hist1_unit": "other"}))
    with pytest.raises(FitError):
        HistoryOnlyBaseline().fit(hist, np.zeros(len(hist)))
    with pytest.raises(NotFittedError):
        HistoryOnlyBaseline().predict(hist)
