"""The pattern-level lasso CV equals glum's CV estimator on the unit-level rows."""

import time

import numpy as np
import pytest
from glum import GeneralizedLinearRegressor, GeneralizedLinearRegressorCV
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold

from rtm_core.models.lasso_cv import lasso_cv, pattern_rows, unit_folds
from rtm_core.models.rows import collapse, row_keys
from tests.hypothesis_profiles import examples


def synthetic(seed=0, n=3000, p=12, q=1):
    """Nested 0/1 dummies (few distinct patterns), q fixed covariates, planted effects."""
    rng = np.random.default_rng(seed)
    score = rng.random((n, p // 3))
    X = np.column_stack([score[:, j // 3] < (0.2, 0.4, 0.6)[j % 3] for j in range(p)])
    X = X.astype(np.uint8)
    fixed = (rng.random((n, q)) < 0.3).astype(np.float64)
    eta = -0.5 + 0.7 * X[:, 0] + 0.4 * X[:, 4] - 0.3 * X[:, 8] - 0.2 * fixed.sum(axis=1)
    return X, fixed, rng.poisson(np.exp(eta)).astype(np.float64)


def glum_cv(X, fixed, y, folds, **kwargs):
    """glum's CV on the unit-level rows with the classical RTM's penalties and bounds."""
    p, q = X.shape[1], fixed.shape[1]
    penalty = np.r_[np.ones(p), np.zeros(q)]
    splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(5)]
    kwargs.setdefault("l1_ratio", 1.0)
    return GeneralizedLinearRegressorCV(
        family="poisson",
        P1=penalty,
        P2=penalty,
        lower_bounds=np.r_[np.zeros(p), np.full(q, -np.inf)],
        cv=splits,
        fit_intercept=True,
        **kwargs,
    ).fit(np.hstack([X.astype(np.float64), fixed]), y)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_equals_glum_cv_on_unit_rows(l1_ratio):
    X, fixed, y = synthetic()
    folds = unit_folds(len(y), 5, 3)
    ours = lasso_cv(X, fixed, y, folds, l1_ratio=l1_ratio, n_alphas=40, min_alpha_ratio=1e-4)
    ref = glum_cv(X, fixed, y, folds, l1_ratio=l1_ratio, n_alphas=40, min_alpha_ratio=1e-4)
    np.testing.assert_allclose(ours.alphas, ref.alphas_, rtol=1e-12)
    assert ours.alpha == ref.alpha_
    np.testing.assert_allclose(ours.coef, ref.coef_, atol=1e-6)
    assert ours.intercept == pytest.approx(ref.intercept_, abs=1e-6)
    np.testing.assert_array_equal(ours.coef > 0, ref.coef_ > 0)
    # glum's fold scores use the rows' mean deviance; ours the units': a constant per fold
    shift = ours.deviance - ref.deviance_path_[:, 0, :]
    np.testing.assert_allclose(shift, shift[:, :1] + 0 * shift, atol=1e-9)
    assert ours.n_patterns < len(y) / 5


def test_given_penalties_are_sorted_and_used():
    X, fixed, y = synthetic(seed=1)
    folds = unit_folds(len(y), 5, 0)
    alphas = [1e-3, 1e-1, 1e-2]
    ours = lasso_cv(X, fixed, y, folds, alphas=alphas)
    ref = glum_cv(X, fixed, y, folds, alphas=alphas)
    np.testing.assert_array_equal(ours.alphas, [1e-1, 1e-2, 1e-3])
    assert ours.alpha == ref.alpha_
    np.testing.assert_allclose(ours.coef, ref.coef_, atol=1e-6)


def test_held_out_deviance_is_the_unit_level_deviance():
    X, fixed, y = synthetic(seed=2, n=600)
    folds = unit_folds(len(y), 5, 0)
    fit = lasso_cv(X, fixed, y, folds, alphas=[0.05])  # fold k's fit: one penalty, no path
    k = 2
    train, test = folds != k, folds == k
    p = X.shape[1]
    model = GeneralizedLinearRegressor(
        family="poisson",
        alpha=0.05,
        l1_ratio=1.0,
        P1=np.r_[np.ones(p), 0.0],
        P2=np.r_[np.ones(p), 0.0],
        lower_bounds=np.r_[np.zeros(p), -np.inf],
    ).fit(np.hstack([X[train].astype(float), fixed[train]]), y[train])
    mu = model.predict(np.hstack([X[test].astype(float), fixed[test]]))
    yt = y[test]
    unit = 2 * (np.where(yt > 0, yt * np.log(np.where(yt > 0, yt, 1) / mu), 0) - yt + mu)
    assert fit.deviance[k, 0] == pytest.approx(unit.mean(), rel=1e-6)


@given(st.integers(0, 2**32 - 1), st.integers(1, 70), st.integers(0, 2), st.integers(1, 300))
@settings(max_examples=examples(30), deadline=None)
def test_patterns_are_the_groups_of_equal_rows(seed, p, q, n):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < rng.random()).astype(np.uint8)
    X[n // 2 :] = X[: n - n // 2]  # repeats
    fixed = rng.integers(0, 3, (n, q)).astype(np.float64) / 2
    pattern, first = pattern_rows(X, fixed)
    ref_first, ref_inverse, _ = collapse(row_keys(X, fixed))
    assert first.size == ref_first.size
    assert np.array_equal(first, np.sort(first)) and (pattern[first] == np.arange(first.size)).all()
    # same partition: equal rows <=> equal pattern number
    np.testing.assert_array_equal(ref_inverse[first][pattern], ref_inverse)
    np.testing.assert_array_equal(X[first][pattern], X)
    np.testing.assert_array_equal(fixed[first][pattern], fixed)


def test_non_binary_dummies_fall_back_to_sorting():
    X = np.array([[0.5, 1], [0.5, 1], [2.0, 0]], dtype=np.float32)
    pattern, first = pattern_rows(X, np.zeros((3, 0)))
    assert first.size == 2 and pattern[0] == pattern[1] != pattern[2]


def test_a_fold_whose_training_counts_do_not_vary_is_a_value_error():
    X = np.zeros((50, 2), np.uint8)
    X[:10, 0] = 1
    X[5:20, 1] = 1
    y = np.zeros(50)
    y[3] = 1
    with pytest.raises(ValueError, match="No variation in `y`"):
        lasso_cv(X, np.zeros((50, 0)), y, unit_folds(50, 5, 0))


def test_unit_folds_are_kfold_test_sets():
    folds = unit_folds(23, 4, 9)
    for k, (_, test) in enumerate(KFold(4, shuffle=True, random_state=9).split(np.zeros(23))):
        assert np.array_equal(np.flatnonzero(folds == k), test)


@pytest.mark.timing
def test_fits_shared_with_a_helper_process_give_the_one_after_another_result(monkeypatch):
    import rtm_core.models.lasso_cv as module

    X, fixed, y = synthetic(seed=4)
    X[:, 0] ^= 1  # a complemented column: the helper must flip it too
    folds = unit_folds(len(y), 5, 1)
    monkeypatch.setattr(module, "process_threads", lambda: 1)
    alone = lasso_cv(X, fixed, y, folds)
    calls = []
    share = module.share_with_helpers

    def recorded(tasks, local, remote, **kwargs):
        calls.append((len(tasks), kwargs["helpers"]))
        return share(tasks, local, remote, **kwargs)

    fit_path, here = module._fit_path, []

    def slow_first(*args, **kwargs):  # this thread's fits; the first waits for the helper
        here.append(1)
        if len(here) == 1:
            time.sleep(8)  # a helper starts in about 4 s (importing glum takes 3)
        return fit_path(*args, **kwargs)

    monkeypatch.setattr(module, "PARALLEL_PATTERNS", 0)
    monkeypatch.setattr(module, "process_threads", lambda: 2)
    monkeypatch.setattr(module, "share_with_helpers", recorded)
    monkeypatch.setattr(module, "_fit_path", slow_first)
    shared = lasso_cv(X, fixed, y, folds)
    assert calls == [(6, 1)]  # 5 folds + the fit on all units, one helper
    assert len(here) < 6  # the helper fitted some
    assert shared.alpha == alone.alpha
    np.testing.assert_array_equal(shared.deviance, alone.deviance)
    np.testing.assert_array_equal(shared.coef, alone.coef)
    assert shared.intercept == alone.intercept


def test_pattern_matrix_complements_mostly_one_dummies_then_is_tabmats_split():
    import tabmat
    from scipy import sparse

    from rtm_core.models.lasso_cv import SPARSE_DENSITY, _pattern_matrix

    X, _, _ = synthetic(seed=5, p=15)
    X[:, 3] = 1 - X[:, 3]  # mostly ones
    rng = np.random.default_rng(5)
    fixed = np.column_stack([rng.random(len(X)) < 0.98, rng.normal(size=len(X))])
    _, first = pattern_rows(X, fixed)
    ours, flipped = _pattern_matrix(X[first], fixed[first])
    share = X[first].mean(axis=0)
    np.testing.assert_array_equal(flipped, np.r_[share > 0.5, False, False])
    assert flipped[3] and 0 < flipped.sum() < 15  # the fixed 0/1 column is mostly one: kept
    stored = np.hstack([np.where(flipped[:15], 1 - X[first], X[first]), fixed[first]])
    ref = tabmat.from_csc(sparse.csc_matrix(stored.astype(np.float64)), threshold=SPARSE_DENSITY)
    for got, want in zip(ours.indices, ref.indices, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ours.toarray(), ref.toarray())


def test_complemented_dummies_give_the_path_of_the_dummies_as_given():
    """The bounded path on complemented columns, mapped back, is glum's on the columns."""
    from rtm_core.models.lasso_cv import _fit_path, _pattern_matrix, penalty_path

    X, fixed, y = synthetic(seed=6)
    X[:, [0, 3, 6]] ^= 1  # now mostly one, like columns 2, 5, 8 and 11
    pattern, first = pattern_rows(X, fixed)
    Xp, flipped = _pattern_matrix(X[first], fixed[first])
    np.testing.assert_array_equal(np.flatnonzero(flipped), [0, 2, 3, 5, 6, 8, 11])
    units = np.bincount(pattern).astype(float)
    y_mean = np.bincount(pattern, weights=y) / units
    P1 = np.r_[np.ones(12), 0.0]
    lower = np.r_[np.zeros(12), -np.inf]
    alphas = penalty_path(Xp, y_mean, units, P1, 1.0, 20, 1e-3)
    intercepts, coefs = _fit_path(
        Xp, y_mean, units, alphas, flipped=flipped, l1_ratio=1.0, P1=P1, lower_bounds=lower
    )
    ref = GeneralizedLinearRegressor(
        family="poisson",
        alpha=alphas,
        alpha_search=True,
        l1_ratio=1.0,
        P1=P1,
        P2=P1,
        lower_bounds=lower,
    ).fit(np.hstack([X, fixed]).astype(float), y)
    np.testing.assert_allclose(coefs, ref.coef_path_, atol=1e-6)
    np.testing.assert_allclose(intercepts, ref.intercept_path_, atol=1e-6)
    np.testing.assert_array_equal(coefs[:, :12] > 0, np.asarray(ref.coef_path_)[:, :12] > 0)
    assert (coefs[:, :12] >= 0).all() and (coefs[:, flipped] > 0).any()
