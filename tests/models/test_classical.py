"""ClassicalRTM on synthetic designs with a planted truth."""

import threading

import numpy as np
import pytest
from scipy.spatial import cKDTree
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from rtm_core.errors import Cancelled, ConfigError, FitError, NotFittedError
from rtm_core.models.classical import ClassicalRTM
from rtm_core.models.design import Design

BANDWIDTHS = (100, 200, 300, 400, 500, 600)
# set -> (number of generator points, planted variable, planted IRR)
PLANTED = {
    "bar": (60, "bar_dis_200", 2.0),
    "shop": (40, "shop_dis_400", 1.5),
    "park": (40, None, None),
    "police": (40, "police_dis_300", 0.6),
}


def make_city(seed=0, side=70, cell=100.0, nb_alpha=None, base=1.0, corner_coef=-0.3):
    """Grid of side^2 units; per set, nested distance dummies to random generator points.

    "park" has no effect, "police" lowers risk (must never be selected), the fixed
    covariate "corner" (every 7th unit) has a negative effect.
    """
    rng = np.random.default_rng(seed)
    centres = (np.arange(side) + 0.5) * cell
    xx, yy = np.meshgrid(centres, centres)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    columns, names, sets = [], [], []
    for set_name, (n_points, _, _) in PLANTED.items():
        dist, _ = cKDTree(rng.uniform(0, side * cell, (n_points, 2))).query(points)
        for b in BANDWIDTHS:
            columns.append(dist <= b)
            names.append(f"{set_name}_dis_{b}")
            sets.append(set_name)
    X = np.column_stack(columns).astype(np.float32)
    corner = (np.arange(points.shape[0]) % 7 == 0).astype(float)[:, None]
    design = Design(
        X=X, names=tuple(names), sets=tuple(sets), covariates=corner, covariate_names=("corner",)
    )
    eta = np.log(base) + corner_coef * corner[:, 0]
    for _, var, irr in PLANTED.values():
        if var:
            eta = eta + np.log(irr) * X[:, names.index(var)]
    mu = np.exp(eta)
    if nb_alpha:
        mu = mu * rng.gamma(1.0 / nb_alpha, nb_alpha, mu.size)
    return design, rng.poisson(mu)


@pytest.fixture(scope="module")
def city():
    return make_city()


@pytest.fixture(scope="module")
def fitted(city):
    design, y = city
    calls = []
    model = ClassicalRTM(random_state=1).fit(design, y, progress=lambda *a: calls.append(a))
    return model, calls


def test_planted_truth_recovered(fitted):
    model, _ = fitted
    assert model.selected_ == {
        "bar": "bar_dis_200",
        "shop": "shop_dis_400",
        "park": None,
        "police": None,
    }
    irr = model.coefficients_.set_index("variable")["irr"]
    assert irr["bar_dis_200"] == pytest.approx(2.0, rel=0.10)
    assert irr["shop_dis_400"] == pytest.approx(1.5, rel=0.10)
    assert irr["corner"] < 1.0  # fixed covariates keep their (negative) sign
    assert model.family_ == "poisson"
    assert model.bic_["poisson"] < model.bic_["negbin"]
    assert model.dispersion_ is None


def test_structural_invariants(fitted, city):
    model, _ = fitted
    design, _ = city
    assert (model.coef_ >= 0).all()
    for set_name in design.set_names:
        assert (model.coef_[design.columns_of(set_name)] != 0).sum() <= 1
    assert not any(v.startswith("police") for v in model.survivors_)
    assert set(model.selected_.values()) - {None} <= set(model.survivors_)
    table = model.coefficients_
    assert list(table.columns) == [
        "variable",
        "set",
        "coef",
        "se",
        "irr",
        "irr_low",
        "irr_high",
        "p_value",
        "selected_share",
    ]
    assert table["variable"].tolist()[:2] == ["intercept", "corner"]
    assert table["set"].tolist()[:2] == ["", ""]
    assert (table["irr_low"] < table["irr"]).all() and (table["irr"] < table["irr_high"]).all()
    assert (table["selected_share"] == 1.0).all()
    assert model.steps_[0].action == "start"
    assert all(b.bic < a.bic for a, b in zip(model.steps_, model.steps_[1:], strict=False))
    assert model.alpha_ > 0 and model.fit_seconds_ > 0


def test_refit_without_collapsing_gives_same_estimates(fitted, city):
    model, _ = fitted
    design, y = city
    chosen = [v for v in model.selected_.values() if v]
    cols = [design.names.index(v) for v in chosen]
    exog = np.column_stack([np.ones(design.n_units), design.covariates, design.X[:, cols]])
    ref = GLM(y, exog, family=families.Poisson()).fit()
    table = model.coefficients_.set_index("variable")
    got = table.loc[["intercept", "corner", *chosen]]
    np.testing.assert_allclose(got["irr"], np.exp(ref.params), rtol=1e-3)
    np.testing.assert_allclose(got["se"], ref.bse, rtol=1e-3)
    bic = -2 * ref.llf + exog.shape[1] * np.log(design.n_units)  # full llf, k = params
    assert model.bic_["poisson"] == pytest.approx(bic, rel=1e-9)


def test_stepwise_keys_from_the_current_model_give_the_same_rows_in_the_same_order(
    city, monkeypatch
):
    """Trial keys built from the current model's group and order the units' rows exactly as
    the canonical keys do: every GLM of the search sees the same arrays."""
    import rtm_core.models.classical as classical

    design, y = city

    def fit_recording(seen):
        def recording_glm(endog, exog, **kwargs):
            seen.append((endog.copy(), exog.copy(), kwargs["freq_weights"].copy()))
            return GLM(endog, exog, **kwargs)

        monkeypatch.setattr(classical, "GLM", recording_glm)
        return ClassicalRTM(random_state=1).fit(design, y)

    incremental, canonical = [], []
    model = fit_recording(incremental)
    glm = ClassicalRTM._glm
    monkeypatch.setattr(
        ClassicalRTM, "_glm", lambda self, cols, *a, key=None, **k: glm(self, cols, *a, **k)
    )
    reference = fit_recording(canonical)
    assert len(incremental) == len(canonical) > 20
    for got, want in zip(incremental, canonical, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
    assert model.steps_ == reference.steps_


def test_predict_and_linear_predictor(fitted, city):
    model, _ = fitted
    design, _ = city
    eta = model.linear_predictor(design)
    sets_part = model.linear_predictor(design, part="sets")
    np.testing.assert_allclose(
        eta - sets_part, model.intercept_ + design.covariates @ model.covariate_coef_
    )
    np.testing.assert_allclose(model.predict(design), np.exp(eta))
    with pytest.raises(ConfigError, match="unknown part 'fixed'"):
        model.linear_predictor(design, part="fixed")
    with pytest.raises(ConfigError, match="variables differ"):
        model.predict(design.subset(design.names[:3]))


def test_progress_phases(fitted):
    _, calls = fitted
    phases = [c[0] for c in calls]
    assert phases[0] == "lasso" and phases[-1] == "final"
    assert "stepwise" in phases
    assert all(len(c) == 4 for c in calls)


def test_overdispersed_data_choose_negbin():
    design, y = make_city(seed=5, side=45, nb_alpha=1.0)
    model = ClassicalRTM(cv_folds=3).fit(design, y)
    assert model.family_ == "negbin"
    assert model.bic_["negbin"] < model.bic_["poisson"]
    assert model.dispersion_ == pytest.approx(1.0, rel=0.3)
    assert (model.coef_ >= 0).all()
    assert model.selected_["police"] is None


def test_no_signal_selects_nothing():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 2, (400, 4)).astype(np.float32)
    design = Design(X=X, names=("a_1", "a_2", "b_1", "b_2"), sets=("a", "a", "b", "b"))
    model = ClassicalRTM(cv_folds=3).fit(design, rng.poisson(1.0, 400))
    assert model.selected_ == {"a": None, "b": None}
    assert model.coefficients_["variable"].tolist() == ["intercept"]
    assert (model.coef_ == 0).all()


def test_max_variables_caps_the_model(city):
    design, y = city
    model = ClassicalRTM(max_variables=1).fit(design, y)
    assert sum(v is not None for v in model.selected_.values()) == 1


def test_errors(city):
    design, y = city
    with pytest.raises(ConfigError, match="has 3 counts but the design has 4900 units"):
        ClassicalRTM().fit(design, [1, 2, 3])
    with pytest.raises(FitError, match="no crimes in the training period"):
        ClassicalRTM().fit(design, np.zeros(design.n_units))
    with pytest.raises(ConfigError, match="negative or missing"):
        ClassicalRTM().fit(design, -np.ones(design.n_units))
    with pytest.raises(ConfigError, match=r"cv_folds.*integer >= 2, got 1"):
        ClassicalRTM(cv_folds=1).fit(design, y)
    with pytest.raises(ConfigError, match=r"l1_ratio.*\[0, 1\]"):
        ClassicalRTM(l1_ratio=2).fit(design, y)
    with pytest.raises(ConfigError, match="max_variables"):
        ClassicalRTM(max_variables=0).fit(design, y)
    with pytest.raises(NotFittedError, match="call fit"):
        ClassicalRTM().predict(design)


def test_cancel(city):
    design, y = city
    token = threading.Event()
    token.set()
    with pytest.raises(Cancelled):
        ClassicalRTM().fit(design, y, cancel=token)


def test_negbin_keeps_the_ml_dispersion_with_poisson_means_and_robust_intervals():
    """NB2 is the spread BIC keeps (its ML dispersion and BIC); the means are the Poisson
    quasi-likelihood ones, calibrated in the large, with sandwich (HC0) standard errors."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    design, y = make_city(seed=6, side=40, nb_alpha=0.8)
    model = ClassicalRTM(cv_folds=3).fit(design, y)
    assert model.family_ == "negbin"
    chosen = [v for v in model.selected_.values() if v]
    exog = np.column_stack(
        [
            np.ones(design.n_units),
            design.covariates,
            design.X[:, [design.names.index(v) for v in chosen]],
        ]
    )
    ref = NegativeBinomial(y, exog, loglike_method="nb2").fit(disp=0, maxiter=200)
    assert model.dispersion_ == pytest.approx(ref.params[-1], rel=1e-3)
    poisson = GLM(y, exog, family=families.Poisson()).fit(cov_type="HC0")
    table = model.coefficients_
    np.testing.assert_allclose(table["coef"], poisson.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(table["se"], poisson.bse, rtol=1e-6)
    np.testing.assert_allclose(table["p_value"], poisson.pvalues, rtol=1e-5, atol=1e-12)
    assert model.predict(design).sum() == pytest.approx(y.sum(), rel=1e-8)
    assert model.calibration_ == "poisson quasi-likelihood"
    k = exog.shape[1] + 1
    assert model.bic_["negbin"] == pytest.approx(
        -2 * ref.llf + k * np.log(design.n_units), rel=1e-6
    )


def test_collapsed_lasso_matches_unit_level_lasso():
    from glum import GeneralizedLinearRegressorCV
    from sklearn.model_selection import KFold

    design, y = make_city(seed=3, side=30)
    mask, alpha = ClassicalRTM(cv_folds=4, random_state=7)._lasso(design, y.astype(float))
    folds = list(KFold(4, shuffle=True, random_state=7).split(design.X))
    p = design.X.shape[1]
    penalty = np.r_[np.ones(p), 0.0]
    ref = GeneralizedLinearRegressorCV(
        family="poisson",
        l1_ratio=1.0,
        P1=penalty,
        P2=penalty,
        n_alphas=40,
        min_alpha_ratio=1e-4,
        lower_bounds=np.r_[np.zeros(p), -np.inf],
        cv=folds,
    ).fit(np.hstack([design.X, design.covariates]), y.astype(float))
    assert alpha == pytest.approx(ref.alpha_, rel=1e-9)
    np.testing.assert_array_equal(mask, ref.coef_[:p] > 0)


def test_a_fold_without_crimes_is_a_fit_error_with_a_fix():
    # one crime among 50 units: some CV training folds hold no crime at all
    X = np.zeros((50, 2), np.float32)
    X[:10, 0] = 1
    X[5:20, 1] = 1
    y = np.zeros(50)
    y[3] = 1
    design = Design(X, ("a_dis_1", "a_dis_2"), ("a", "a"))
    with pytest.raises(FitError, match=r"lasso cannot be fitted .*Fix: use more crimes"):
        ClassicalRTM(cv_folds=5).fit(design, y)
