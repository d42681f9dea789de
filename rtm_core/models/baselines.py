"""Baselines scored beside the RTM models: prior counts, KDE of past crimes, gradient boosting.

Every baseline is fitted on the training period (t) only and returns one predicted risk per
unit as a float64 array of shape ``(n_units,)`` (higher = riskier), so
:func:`rtm_core.results.evaluate.evaluate_models` can score them like the models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from rtm_core.cluster import process_threads
from rtm_core.config import validate
from rtm_core.errors import ConfigError, FitError, NotFittedError

__all__ = [
    "prior_counts_risk",
    "prior_counts_lags_risk",
    "kde_risk",
    "ForestBaseline",
    "HistoryOnlyBaseline",
    "score_baselines",
    "KERNELS",
]

KERNELS = ("gaussian", "quartic")
_GAUSS_CUTOFF = 4.0  # gaussian kernel truncated at 4 bandwidths (sigma)
_CHUNK = 4096  # units per neighbour query, bounds memory
_PREDICT_CHUNK = 100_000  # units per forest prediction


def prior_counts_risk(y_train) -> np.ndarray:
    """Naive forecast: the training-period counts themselves.

    Parameters
    ----------
    y_train : array-like of shape (n_units,)
        Crime counts of period t.

    Returns
    -------
    ndarray of shape (n_units,), float64
    """
    return np.asarray(y_train, dtype=np.float64).ravel().copy()


def prior_counts_lags_risk(lag_counts) -> np.ndarray:
    """Crimes summed over the k windows before the target period.

    Parameters
    ----------
    lag_counts : array-like of shape (n_units, k)
        Crimes per unit in each lag window of the target (for the test period: the k windows
        before the test period).

    Returns
    -------
    ndarray of shape (n_units,), float64
    """
    counts = np.asarray(lag_counts, dtype=np.float64)
    return counts.reshape(counts.shape[0], -1).sum(axis=1)


class HistoryOnlyBaseline:
    """Poisson GLM on the crime-history factors alone (unpenalised, with an intercept).

    Fitted on the training period with the history before it, applied to the test period with
    the history before the test period. Beside the RTM it shows what the environment adds
    beyond crime history. Uses ``glum.GeneralizedLinearRegressor(family="poisson", alpha=0)``;
    its intercept is then set to the exact maximum-likelihood one given the slopes (the solver
    stops at a tolerance), so the in-sample expected total equals the observed total.

    Attributes
    ----------
    model_ : glum.GeneralizedLinearRegressor
    feature_names_ : list of str
    n_fit_units_ : int
        Units the trees were fitted on.
    """

    def fit(self, features: pd.DataFrame, y) -> HistoryOnlyBaseline:
        """Fit on one row of history factors per unit and the training-period counts.

        Parameters
        ----------
        features : DataFrame
            History factors (``hist{j}_...`` columns), one row per unit.
        y : array-like of shape (n,)
            Crimes per unit in the training period.

        Returns
        -------
        HistoryOnlyBaseline
            ``self``, fitted.
        """
        from glum import GeneralizedLinearRegressor

        y = np.asarray(y, dtype=np.float64).ravel()
        if len(features) != y.shape[0]:
            raise ConfigError(
                "HistoryOnlyBaseline.fit",
                "y",
                f"has {y.shape[0]} counts for {len(features)} feature rows",
                "pass one count per unit",
            )
        if y.sum() <= 0:
            raise FitError(
                "HistoryOnlyBaseline: no crimes in the training period. "
                "Fix: check the training dates"
            )
        self.feature_names_ = [str(c) for c in features.columns]
        self.model_ = GeneralizedLinearRegressor(family="poisson", alpha=0.0)
        values = features.to_numpy(dtype=np.float64)
        self.model_.fit(values, y)
        expected = self.model_.predict(values).sum()
        self.model_.intercept_ = float(self.model_.intercept_ + np.log(y.sum() / expected))
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Expected counts per unit, shape (n_units,)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("HistoryOnlyBaseline is not fitted yet. Fix: call fit first")
        if [str(c) for c in features.columns] != self.feature_names_:
            raise ConfigError(
                "HistoryOnlyBaseline.predict",
                "features",
                "columns differ from those seen in fit",
                "pass the same history factors in the same order",
            )
        return np.asarray(self.model_.predict(features.to_numpy(dtype=np.float64)), dtype=float)


def _points(xy, source: str, field: str) -> np.ndarray:
    xy = np.asarray(xy, dtype=np.float64)
    if xy.size == 0:
        return np.zeros((0, 2))
    if xy.ndim != 2 or xy.shape[1] != 2 or not np.isfinite(xy).all():
        raise ConfigError(
            source,
            field,
            f"needs finite (n, 2) x/y coordinates, got {xy.shape}",
            "pass projected coordinates in metres, one row per point",
        )
    return xy


def kde_risk(unit_xy, crime_xy_train, bandwidth: float = 300.0, kernel: str = "gaussian"):
    """Kernel density of training-period crimes at each unit's representative point.

    Parameters
    ----------
    unit_xy : array-like of shape (n_units, 2)
        Unit points (projected, metres).
    crime_xy_train : array-like of shape (n_crimes, 2)
        Crime locations of period t.
    bandwidth : float, default 300
        Gaussian: the standard deviation (the kernel is truncated at 4 sigma); quartic: the
        radius.
    kernel : {"gaussian", "quartic"}
        ``gaussian``: ``exp(-d^2 / (2 h^2)) / (2 pi h^2)``; ``quartic`` (biweight):
        ``3 / (pi h^2) (1 - d^2/h^2)^2`` for ``d < h``.

    Returns
    -------
    ndarray of shape (n_units,)
        Crimes per square metre (sum of kernel weights); 0 where no crime is in reach.

    Notes
    -----
    Neighbour pairs come from k-d trees (``cKDTree.sparse_distance_matrix``) on chunks of
    units, never from a dense units x crimes matrix. Crimes at identical coordinates are merged
    with a weight first.
    """
    fix = f"use one of {', '.join(KERNELS)}"
    validate.choice(kernel, KERNELS, "kde_risk", "kernel", noun="kernel", fix=fix)
    fix = "use a bandwidth in metres such as 300"
    bandwidth = validate.number(bandwidth, "kde_risk", "bandwidth", low=0, low_open=True, fix=fix)
    units = _points(unit_xy, "kde_risk", "unit_xy")
    crimes = _points(crime_xy_train, "kde_risk", "crime_xy_train")
    out = np.zeros(units.shape[0])
    if crimes.shape[0] == 0 or units.shape[0] == 0:
        return out
    crimes, weight = np.unique(crimes, axis=0, return_counts=True)
    h = float(bandwidth)
    reach = _GAUSS_CUTOFF * h if kernel == "gaussian" else h
    crime_tree = cKDTree(crimes)
    for start in range(0, units.shape[0], _CHUNK):
        chunk = units[start : start + _CHUNK]
        pairs = cKDTree(chunk).sparse_distance_matrix(crime_tree, reach, output_type="ndarray")
        u2 = (pairs["v"] / h) ** 2
        if kernel == "gaussian":
            k = np.exp(-0.5 * u2) / (2.0 * np.pi * h * h)
        else:
            k = np.where(u2 < 1.0, 3.0 / (np.pi * h * h) * (1.0 - u2) ** 2, 0.0)
        out[start : start + chunk.shape[0]] = np.bincount(
            pairs["i"], weights=k * weight[pairs["j"]], minlength=chunk.shape[0]
        )
    return out


class ForestBaseline:
    """Gradient-boosted trees on the continuous distances and densities.

    Uses scikit-learn's ``HistGradientBoostingRegressor(loss="poisson")``: a tree ensemble
    (the "random forest / gradient boosting" baseline of the design) fitted with the
    Poisson deviance, so predictions are expected counts, it handles 10^5-10^6 units on two
    cores in seconds and needs no feature scaling.

    Parameters
    ----------
    random_state : int, default 0
        Seeds the early-stopping validation split; same data + seed = same predictions.
    max_iter : int, default 300
    learning_rate : float, default 0.05
    max_leaf_nodes : int, default 31
    min_samples_leaf : int, default 20
    max_fit_units : int or None, default 250_000
        Fit on a random sample of this many units (seeded by ``random_state``) when there are
        more: the trees are as good from a quarter of a million rows, and a 1M-unit grid
        fits in a quarter of the time and memory. None fits on every unit. Smaller studies
        are not sampled.

    Attributes
    ----------
    model_ : HistGradientBoostingRegressor
    feature_names_ : list of str
    n_fit_units_ : int
        Units the trees were fitted on.
    scale_ : float
        Factor applied to the trees' predictions (1 until :meth:`recalibrate`).
    """

    def __init__(
        self,
        *,
        random_state=0,
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        max_fit_units=250_000,
    ):
        self.random_state = random_state
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.max_fit_units = max_fit_units

    def fit(self, features: pd.DataFrame, y) -> ForestBaseline:
        """Fit on one row of continuous measures per unit and the period-t counts.

        Parameters
        ----------
        features : DataFrame of shape (n_units, n_features)
        y : array-like of shape (n_units,)

        Returns
        -------
        self
        """
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(features) != y.shape[0]:
            raise ConfigError(
                "ForestBaseline.fit",
                "y",
                f"has {y.shape[0]} counts for {len(features)} feature rows",
                "pass one count per unit",
            )
        if y.sum() <= 0:
            raise FitError(
                "ForestBaseline: no crimes in the training period. Fix: check the training dates"
            )
        self.feature_names_ = [str(c) for c in features.columns]
        self.model_ = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=20,
            random_state=self.random_state,
        )
        rows = np.arange(len(y))
        if self.max_fit_units is not None and len(y) > self.max_fit_units:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(len(y), size=int(self.max_fit_units), replace=False))
            if y[rows].sum() <= 0:  # keep every crime unit if the sample missed them all
                rows = np.union1d(rows, np.flatnonzero(y > 0))
        self.n_fit_units_ = len(rows)
        self.scale_ = 1.0
        sample = features if len(rows) == len(y) else features.iloc[rows]
        # the process's thread budget (rtm_core.cluster): a job in the app leaves a core to
        # the web server, since the trees' parallel loops slow down many times over on shared
        # cores; the trees are the same for any thread count
        with threadpool_limits(limits=process_threads(), user_api="openmp"):
            self.model_.fit(sample.to_numpy(dtype=np.float64), y[rows])
        return self

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Expected counts per unit, shape (n_units,)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("ForestBaseline is not fitted yet. Fix: call fit first")
        if [str(c) for c in features.columns] != self.feature_names_:
            raise ConfigError(
                "ForestBaseline.predict",
                "features",
                "columns differ from those seen in fit",
                "pass the same measures in the same order",
            )
        out = np.empty(len(features))
        for start in range(0, len(features), _PREDICT_CHUNK):  # no float64 copy of it all
            part = features.iloc[start : start + _PREDICT_CHUNK].to_numpy(dtype=np.float64)
            with threadpool_limits(limits=process_threads(), user_api="openmp"):
                out[start : start + len(part)] = self.model_.predict(part)
        return out * self.scale_

    def recalibrate(self, predicted, y) -> np.ndarray:
        """Scale the predictions so that their in-sample total equals the observed total.

        The trees fit on a sample of units with early stopping, so their training-period
        total misses the observed one by a few per cent; one factor for every unit keeps the
        ranking (and PAI) and makes the expected counts calibrated in the large.

        Parameters
        ----------
        predicted : array-like of shape (n_units,)
            :meth:`predict` on the training period's features (before this call).
        y : array-like of shape (n_units,)
            Crimes per unit in the training period.

        Returns
        -------
        ndarray
            ``predicted`` scaled; later :meth:`predict` calls apply the same factor.
        """
        predicted = np.asarray(predicted, dtype=np.float64)
        total = predicted.sum()
        factor = float(np.sum(y) / total) if total > 0 else 1.0
        self.scale_ *= factor
        return predicted * factor


def score_baselines(
    unit_xy,
    crime_xy_train,
    y_train,
    continuous: pd.DataFrame,
    history=None,
    *,
    kde_bandwidth: float = 300.0,
    random_state: int = 0,
    forest_class=None,
) -> tuple[dict, dict]:
    """Every baseline's risk for the training period and, where it differs, the test period.

    Parameters
    ----------
    unit_xy : ndarray of shape (n_units, 2)
    crime_xy_train : ndarray of shape (m, 2)
        Training-period crimes (for the KDE).
    y_train : ndarray of shape (n_units,)
    continuous : DataFrame
        The units' continuous distances and densities (for the forest).
    history : rtm_core.factors.history.HistoryTables or None
        With crime history: the forest also gets the history factors, and ``prior_counts_lags``
        and ``history_only`` are added.
    kde_bandwidth : float
    random_state : int
    forest_class : class, optional
        The forest's class (default :class:`ForestBaseline`; tests swap in a quick one).

    Returns
    -------
    risks : dict
        Name -> risk of the training period (``prior_counts``, ``kde``, ``forest``,
        ``prior_counts_lags``, ``history_only``).
    risks_test : dict
        Name -> out-of-sample risk where it differs (baselines that use history).
    """
    continuous = continuous.reset_index(drop=True)
    inputs = {"train": continuous, "test": continuous}
    if history is not None:  # the forest gets the history factors too
        inputs = {t: pd.concat([continuous, history.factors[t]], axis=1) for t in inputs}
    forest = (forest_class or ForestBaseline)(random_state=random_state)
    forest.fit(inputs["train"], y_train)
    risks = {
        "prior_counts": prior_counts_risk(y_train),
        "kde": kde_risk(unit_xy, crime_xy_train, bandwidth=kde_bandwidth),
        "forest": forest.recalibrate(forest.predict(inputs["train"]), y_train),
    }
    tests = {}  # without history the test-period inputs are the training ones
    if history is not None:
        tests["forest"] = forest.predict(inputs["test"])
        risks["prior_counts_lags"] = prior_counts_lags_risk(history.counts["train"])
        tests["prior_counts_lags"] = prior_counts_lags_risk(history.counts["test"])
        cols = history.columns
        glm = HistoryOnlyBaseline().fit(history.factors["train"][cols], y_train)
        risks["history_only"] = glm.predict(history.factors["train"][cols])
        tests["history_only"] = glm.predict(history.factors["test"][cols])
    return risks, tests
