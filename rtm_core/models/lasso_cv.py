"""Cross-validated, bounded Poisson lasso of the classical RTM, fitted on dummy patterns.

The classical RTM screens its risk-factor dummies with a penalised Poisson regression whose
penalty is chosen by k-fold cross-validation over units. This module gives the same choice
and the same coefficients as glum's ``GeneralizedLinearRegressorCV`` on the unit-level rows,
with far fewer rows and one training matrix for every fold.

Definitions
-----------
unit
    One row of the design (a grid cell or street segment) with its crime count ``y``.
pattern
    A distinct row of (set dummies, fixed covariates). Units of one pattern share their
    linear predictor, so a Poisson log-likelihood summed over them equals that of one row
    with the pattern's mean count as response and its unit count as weight (up to a constant
    that does not depend on the coefficients).
fold
    Each unit is held out in exactly one of ``k`` folds (scikit-learn's shuffled ``KFold``,
    as before). For fold ``f`` the *training rows* are all patterns, weighted by their number
    of units outside ``f`` with response (crimes outside ``f``) / (units outside ``f``); a
    pattern whose units all lie in ``f`` gets weight 0, which adds exact zeros to every sum,
    so one pattern matrix serves every fold and no per-fold copy is made.
complemented dummy
    A 0/1 dummy that is 1 in more than half of the patterns is stored as ``1 - x``, which
    is sparse (a risk factor "within 800 m of a bus stop" covers most of a city; its
    complement few units). With ``eta = b0 + b x = (b0 + b) - b (1 - x)`` the fit on the
    complement has coefficient ``-b``, bound ``-b <= 0`` for ``b >= 0``, the same L1 and L2
    penalty, and intercept ``b0 + b``; glum centres every column, so the solver sees the
    same problem with the column's sign reversed. The path is mapped back before it is
    used, so nothing outside this module sees a complement. At a million units this
    halves the fit time (the Hessian products run on sparse columns).
penalty path
    ``n_alphas`` penalties from ``alpha_max`` down to ``alpha_max * min_alpha_ratio``, evenly
    spaced on the log scale, where ``alpha_max = max_j |sum_i w_i (y_i - ybar) (x_ij -
    xbar_j)| / (l1_ratio P1_j)`` over the penalised columns (weights ``w`` summing to 1 over
    all units, ``ybar`` and ``xbar`` weighted means): the smallest penalty at which every
    penalised coefficient is zero. This is how glum builds the path of its CV estimator (on
    all data, before the folds); with ``l1_ratio = 0`` glum divides the largest gradient by
    0.001 instead. Given ``alphas`` are used sorted from largest to smallest.
held-out deviance
    For fold ``f`` and penalty ``a``, the unit-level Poisson deviance of the held-out units
    under the coefficients fitted without them, divided by their number:
    ``2 / n_f * sum_u (y_u log(y_u / mu_u) - y_u + mu_u)``. Per pattern only the held-out
    crime sum ``S`` and unit count ``c`` are needed, since
    ``sum_u y_u log mu_u = S eta`` and ``sum_u mu_u = c exp(eta)``; ``sum_u y_u log y_u``
    is summed over the held-out units directly.
chosen penalty
    The penalty with the smallest held-out deviance averaged over folds (unweighted), the
    first one on ties, as in glum. The returned coefficients are a fit on all units along
    the path from ``alpha_max`` down to the chosen penalty (warm starts), which is the refit
    glum does, stopped where it is read.

Each fit is glum's ``GeneralizedLinearRegressor`` with ``alpha_search=True`` (the solver,
tolerances, standardisation and warm starts of the CV estimator), so the chosen penalty and
the coefficients agree with glum's CV up to the solver's tolerance. From
``PARALLEL_PATTERNS`` patterns on, when the process may use two threads or more
(:func:`rtm_core.cluster.process_threads`), the fold fits and the fit on all units are shared
between the calling thread and ``threads - 1`` helper processes (at most ``MAX_HELPERS``)
(:func:`rtm_core.cluster.share_with_helpers`; each helper builds the same pattern matrix from
the patterns' 1-byte rows). Processes, not threads: glum's solver holds the GIL in its
Python steps; on 2 cores the six fits of the million-unit bench took 40-45 s on two threads
and 31-35 s on this thread plus one helper. Every fit runs on one thread per library, so the
numbers are the same either way, and the same as one fit after the other.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import tabmat
from glum import GeneralizedLinearRegressor
from scipy import sparse
from scipy.special import xlogy
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from rtm_core.cluster import process_threads, share_with_helpers
from rtm_core.models.rows import collapse, row_keys

__all__ = ["LassoCV", "lasso_cv", "pattern_rows", "penalty_path", "unit_folds"]

N_ALPHAS = 40  # path length when no penalties are given
MIN_ALPHA_RATIO = 1e-4  # smallest / largest penalty of the path
SPARSE_DENSITY = 0.15  # columns with fewer nonzeros than this share are stored sparse
PARALLEL_PATTERNS = 50_000  # from this many patterns, fits are shared with helper processes
MAX_HELPERS = 2  # 3 runners fit the 6 paths in 2 rounds; each helper holds ~0.6 GB at 1M units
_CHUNK = 16_384  # held-out patterns scored per block (bounds the float64 copies)


@dataclass(frozen=True)
class LassoCV:
    """A cross-validated lasso fit.

    Attributes
    ----------
    coef : ndarray of shape (p + q,)
        Coefficients of the set dummies then the fixed covariates at the chosen penalty.
    intercept : float
    alpha : float
        The chosen penalty.
    alphas : ndarray of shape (n_alphas,)
        The penalty path, largest first.
    deviance : ndarray of shape (n_folds, n_alphas)
        Held-out deviance per fold and penalty (see the module's definitions).
    n_patterns : int
        Rows of the pattern matrix the fits ran on.
    """

    coef: np.ndarray
    intercept: float
    alpha: float
    alphas: np.ndarray
    deviance: np.ndarray
    n_patterns: int


def unit_folds(n_units: int, n_folds: int, random_state: int) -> np.ndarray:
    """Fold of each unit: scikit-learn's shuffled ``KFold`` test sets, numbered 0, 1, ...

    Parameters
    ----------
    n_units : int
    n_folds : int
    random_state : int
        Seeds the shuffle.

    Returns
    -------
    ndarray of int64, shape (n_units,)
    """
    folds = np.empty(n_units, dtype=np.int64)
    splitter = KFold(n_folds, shuffle=True, random_state=random_state)
    for k, (_, test) in enumerate(splitter.split(np.zeros((n_units, 1)))):
        folds[test] = k
    return folds


def _bit_words(X: np.ndarray) -> list[np.ndarray]:
    """0/1 columns packed into uint64 words, 64 columns per word, one word array per block."""
    n, p = X.shape
    words = []
    for start in range(0, p, 64):
        word = np.zeros(n, dtype=np.uint64)
        for j in range(start, min(start + 64, p)):
            word |= X[:, j].astype(np.uint64) << np.uint64(j - start)
        words.append(word)
    return words


def pattern_rows(X: np.ndarray, covariates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group units into patterns: the pattern of each unit and one unit of each pattern.

    0/1 dummies are packed 64 to a word and the words (and the bits of the fixed covariates)
    are numbered by hashing (pandas), which is several times faster than sorting byte
    strings at a million units; other values fall back to sorting.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Set dummies (uint8 0/1, or float values).
    covariates : ndarray of shape (n, q)
        Fixed covariates.

    Returns
    -------
    pattern : ndarray of int64, shape (n,)
        Pattern number of each unit, 0 .. n_patterns - 1.
    first : ndarray of int64, shape (n_patterns,)
        One unit of each pattern (its first).
    """
    n = X.shape[0]
    if X.dtype != np.uint8 or (X.size and int(X.max()) > 1):
        first, pattern, _ = collapse(row_keys(X, covariates))
        return pattern.astype(np.int64), first.astype(np.int64)
    covariates64 = np.ascontiguousarray(covariates, dtype=np.float64).reshape(n, -1)
    words = _bit_words(X) + list(covariates64.view(np.uint64).T)
    pattern = np.zeros(n, dtype=np.int64)
    for word in words:  # number the pairs (patterns so far, next word)
        codes, uniques = pd.factorize(word, sort=False)
        pattern, _ = pd.factorize(pattern * len(uniques) + codes, sort=False)
    # factorize numbers in order of first appearance: a unit opens a pattern when its
    # number exceeds every number before it
    opens = np.r_[True, pattern[1:] > np.maximum.accumulate(pattern)[:-1]] if n else []
    return pattern.astype(np.int64), np.flatnonzero(opens)


def _pattern_matrix(rows: np.ndarray, covariate_rows: np.ndarray):
    """The patterns' rows as a tabmat matrix, mostly-one dummies complemented; and which.

    ``rows`` and ``covariate_rows`` hold one unit of each pattern (``X[first]``,
    ``covariates[first]``); the caller and its helper processes build their matrix from the same
    arrays, so bit for bit the same.

    A 0/1 dummy that is 1 in more than half of the patterns is stored as its complement
    (1 - x, see the module's definitions), so it is sparse. Then columns with more than
    ``SPARSE_DENSITY`` nonzeros are dense, the others CSC: the split of
    ``tabmat.from_csc(csc, threshold=SPARSE_DENSITY)``, built straight from the 1-byte dummies
    (no CSC copy of the dense columns and no C-ordered copy of the dense block).

    Returns
    -------
    matrix : tabmat.SplitMatrix of shape (n_patterns, p + q)
    flipped : ndarray of bool, shape (p + q,)
        The complemented columns (never a fixed covariate, nor a dummy that is not 0/1).
    """
    n, p = rows.shape
    flipped = np.zeros(p + covariate_rows.shape[1], dtype=bool)
    if rows.dtype == np.uint8 and (rows.size == 0 or int(rows.max()) <= 1):
        flipped[:p] = np.count_nonzero(rows, axis=0) > n / 2
        rows = np.where(flipped[:p], rows ^ 1, rows)  # the caller's rows stay as they are
    blocks = [rows, covariate_rows] if covariate_rows.shape[1] else [rows]
    nonzero = np.concatenate([np.count_nonzero(b, axis=0) for b in blocks])
    dense_idx = np.flatnonzero(nonzero / n > SPARSE_DENSITY)
    sparse_idx = np.setdiff1d(np.arange(nonzero.size), dense_idx)

    def columns(idx):
        parts = [rows[:, idx[idx < p]].astype(np.float64)]
        if len(blocks) > 1:
            parts.append(blocks[1][:, idx[idx >= p] - p].astype(np.float64))
        return parts

    dense = np.empty((n, dense_idx.size), dtype=np.float64, order="F")
    start = 0
    for part in columns(dense_idx):
        dense[:, start : start + part.shape[1]] = part
        start += part.shape[1]
    csc = sparse.hstack([sparse.csc_matrix(part) for part in columns(sparse_idx)], format="csc")
    matrix = tabmat.SplitMatrix(
        [tabmat.DenseMatrix(dense), tabmat.SparseMatrix(csc)], [dense_idx, sparse_idx]
    )
    return matrix, flipped


def penalty_path(
    Xp,
    y_mean: np.ndarray,
    weight: np.ndarray,
    P1: np.ndarray,
    l1_ratio: float,
    n_alphas: int,
    min_alpha_ratio: float,
) -> np.ndarray:
    """The penalty path glum's CV estimator builds from all data (see the definitions).

    Parameters
    ----------
    Xp : tabmat matrix of shape (m, p + q)
        Pattern rows.
    y_mean : ndarray of shape (m,)
        Mean count per pattern.
    weight : ndarray of shape (m,)
        Units per pattern.
    P1 : ndarray of shape (p + q,)
        L1 penalty factor per column (0 = unpenalised).
    l1_ratio : float
    n_alphas : int
    min_alpha_ratio : float

    Returns
    -------
    ndarray of shape (n_alphas,), largest first
    """
    w = weight / weight.sum()
    mu = np.exp(np.log(np.average(y_mean, weights=w)))  # glum's start: intercept only
    resid = w * (y_mean - mu)
    col_means = Xp.transpose_matvec(w)
    gradient = np.abs(Xp.transpose_matvec(resid) - col_means * resid.sum())
    p1 = l1_ratio * P1
    if np.all(p1 == 0):
        alpha_max = float(np.max(gradient)) / 0.001
    else:
        alpha_max = float(np.max(gradient[p1 > 0] / p1[p1 > 0]))
    if alpha_max == 0:
        alpha_max = 10.0
    return np.logspace(np.log(alpha_max), np.log(alpha_max * min_alpha_ratio), n_alphas, base=np.e)


def _fit_path(Xp, y_mean, weight, alphas, *, flipped, l1_ratio, P1, lower_bounds):
    """glum's regularisation path (warm starts); intercepts and coefficients per penalty.

    ``Xp`` holds the ``flipped`` columns complemented: glum fits ``-b`` for them with the
    bounds mirrored (``b >= l`` becomes ``-b <= -l``), and the path is mapped back to the
    coefficients of the columns as given (the intercept takes ``sum(-b)`` of the flipped).
    """
    seen = y_mean[weight > 0]
    if seen.size == 0 or np.all(seen == seen[0]):
        raise ValueError("No variation in `y`. Coefficients can't be estimated.")
    model = GeneralizedLinearRegressor(
        family="poisson",
        alpha=alphas,
        alpha_search=True,
        l1_ratio=l1_ratio,
        P1=P1,
        P2=P1,
        lower_bounds=np.where(flipped, -np.inf, lower_bounds),
        upper_bounds=np.where(flipped, -lower_bounds, np.inf),
        fit_intercept=True,
    )
    model.fit(Xp, y_mean, sample_weight=weight)
    coefs = np.array(model.coef_path_, dtype=np.float64)
    intercepts = np.asarray(model.intercept_path_, dtype=np.float64) + coefs[:, flipped].sum(axis=1)
    coefs[:, flipped] *= -1
    return intercepts, coefs


_HELPER: dict = {}  # a helper process's own fit function (see _helper_setup)


def _helper_setup(rows, covariate_rows, P1, lower, l1_ratio) -> None:
    """Start of a helper process: its own pattern matrix, the caller's very same one.

    ``rows`` and ``covariate_rows`` are the arrays the caller built its matrix from
    (:func:`_pattern_matrix`). One thread per library, as the caller's fits.
    """
    threadpool_limits(limits=1)  # kept for the life of the process
    Xp, flipped = _pattern_matrix(rows, covariate_rows)
    _HELPER["fit"] = functools.partial(
        _fit_path, Xp, flipped=flipped, l1_ratio=l1_ratio, P1=P1, lower_bounds=lower
    )


def _helper_fit(y_mean, weight, alphas):
    """One path in a helper process (:func:`_fit_path` on its matrix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _HELPER["fit"](y_mean, weight, alphas)


def _held_out_deviance(
    pattern_X, pattern_covariates, rows, crimes, units, ylogy, intercepts, coefs
):
    """Mean unit-level Poisson deviance of one fold's held-out units, per penalty."""
    total = np.full(intercepts.size, 2.0 * ylogy)
    for start in range(0, rows.size, _CHUNK):
        take = rows[start : start + _CHUNK]
        block = np.hstack([pattern_X[take].astype(np.float64), pattern_covariates[take]])
        eta = block @ coefs.T + intercepts  # (rows, penalties)
        s = crimes[rows[start : start + _CHUNK]]
        c = units[rows[start : start + _CHUNK]]
        total += 2.0 * (c @ np.exp(eta) - s @ eta - s.sum())
    return total / units[rows].sum()


def lasso_cv(
    X: np.ndarray,
    covariates: np.ndarray,
    y: np.ndarray,
    folds: np.ndarray,
    *,
    l1_ratio: float = 1.0,
    alphas=None,
    n_alphas: int = N_ALPHAS,
    min_alpha_ratio: float = MIN_ALPHA_RATIO,
) -> LassoCV:
    """Poisson lasso with set coefficients >= 0, penalty chosen by k-fold CV over units.

    Set dummies are penalised and bounded below by 0; fixed covariates and the intercept are
    unpenalised and unbounded. See the module's definitions for the rows, the path, the
    held-out deviance and the choice.

    Parameters
    ----------
    X : ndarray of shape (n_units, p)
        Set dummies.
    covariates : ndarray of shape (n_units, q)
        Fixed covariates.
    y : ndarray of shape (n_units,)
        Crime counts.
    folds : ndarray of int, shape (n_units,)
        Fold of each unit, 0 .. k - 1 (:func:`unit_folds`).
    l1_ratio : float, default 1.0
        Elastic-net mixing (1.0 = lasso).
    alphas : array-like or None
        Penalties to cross-validate; None builds the path.
    n_alphas : int, default 40
    min_alpha_ratio : float, default 1e-4

    Returns
    -------
    LassoCV

    Raises
    ------
    ValueError
        When the counts of the training units of a fold (or of all units) do not vary
        (glum's "No variation in `y`").
    """
    p, q = X.shape[1], covariates.shape[1]
    n_folds = int(folds.max()) + 1
    pattern, first = pattern_rows(X, covariates)
    m = first.size
    cell = pattern * n_folds + folds
    units_pf = np.bincount(cell, minlength=m * n_folds).reshape(m, n_folds).astype(np.float64)
    crimes_pf = np.bincount(cell, weights=y, minlength=m * n_folds).reshape(m, n_folds)
    del cell
    ylogy = np.bincount(folds, weights=xlogy(y, y), minlength=n_folds)
    units, crimes = units_pf.sum(axis=1), crimes_pf.sum(axis=1)
    pattern_X, pattern_covariates = X[first], covariates[first]
    Xp, flipped = _pattern_matrix(pattern_X, pattern_covariates)
    P1 = np.r_[np.ones(p), np.zeros(q)]
    lower = np.r_[np.zeros(p), np.full(q, -np.inf)]
    if alphas is None:
        path = penalty_path(Xp, crimes / units, units, P1, l1_ratio, n_alphas, min_alpha_ratio)
    else:
        path = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
    fit = functools.partial(
        _fit_path, Xp, flipped=flipped, l1_ratio=l1_ratio, P1=P1, lower_bounds=lower
    )
    fold_fits = []
    for f in range(n_folds):
        w = units - units_pf[:, f]
        y_mean = np.divide(crimes - crimes_pf[:, f], w, out=np.zeros(m), where=w > 0)
        fold_fits.append((y_mean, w, path))
    # Large problems: the fold fits and the fit on all units (along the whole path; its
    # coefficients at the chosen penalty are those of the path stopped there) are shared
    # between this thread and helper processes. Small ones: one after the other, the last
    # path stopped at the chosen penalty. One thread per library in every fit, so both ways
    # give the same numbers.
    helpers = min(process_threads() - 1, MAX_HELPERS) if m >= PARALLEL_PATTERNS else 0
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        if helpers >= 1:
            # the longest fit first: this thread starts it while a helper starts up (~4 s)
            paths = share_with_helpers(
                [(crimes / units, units, path), *fold_fits],
                fit,
                _helper_fit,
                helpers=helpers,
                initializer=_helper_setup,
                initargs=(pattern_X, pattern_covariates, P1, lower, l1_ratio),
            )
            full = paths.pop(0)
        else:
            paths = [fit(*task) for task in fold_fits]
        del fold_fits
        deviance = np.array(
            [
                _held_out_deviance(
                    pattern_X,
                    pattern_covariates,
                    np.flatnonzero(units_pf[:, f] > 0),
                    crimes_pf[:, f],
                    units_pf[:, f],
                    ylogy[f],
                    *paths[f],
                )
                for f in range(n_folds)
            ]
        )
        best = int(np.argmin(deviance.mean(axis=0)))
        if helpers < 1:
            full = fit(crimes / units, units, path[: best + 1])
    intercepts, coefs = full
    return LassoCV(
        coefs[best].copy(), float(intercepts[best]), float(path[best]), path, deviance, m
    )
