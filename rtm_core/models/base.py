"""What every RTM estimator shares: prediction from a fitted model, the fitted checks, and the
coefficient table (IRRs with Wald intervals) that ``coefficients.csv`` is made of.

:class:`RTMEstimator` is the base of :class:`~rtm_core.models.classical.ClassicalRTM` and
:class:`~rtm_core.models.dl.DeepRTM`: once fitted, each holds ``intercept_``, ``coef_`` (one per
set variable of the design, 0 where not selected), ``covariate_coef_``, ``names_`` and
``covariate_names_``, and predicts the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from rtm_core.errors import ConfigError, FitError, NotFittedError
from rtm_core.models.design import Design, set_terms

__all__ = [
    "RTMEstimator",
    "COEF_COLUMNS",
    "coefficient_table",
    "check_fitted_on",
    "require_crimes",
]

#: columns of every model's ``coefficients_`` table (and of coefficients.csv, after ``model``)
COEF_COLUMNS = [
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


def check_fitted_on(estimator, design: Design) -> None:
    """Refuse an unfitted estimator, or a design whose variables differ from the fit's.

    Parameters
    ----------
    estimator : object
        A fitted RTM (has ``coef_``, ``names_`` and ``covariate_names_``).
    design : Design
        The design about to be predicted on.

    Raises
    ------
    NotFittedError
        ``fit`` was not called.
    ConfigError
        The design's variables or fixed covariates differ from the fit's.
    """
    name = type(estimator).__name__
    if not hasattr(estimator, "coef_"):
        raise NotFittedError(f"{name} is not fitted yet. Fix: call fit(design, y) first")
    same = tuple(design.names) == estimator.names_
    if not same or tuple(design.covariate_names) != estimator.covariate_names_:
        raise ConfigError(
            name,
            "design",
            "variables differ from those the model was fitted on",
            "build the design with the same risk factors and covariates",
        )


def require_crimes(y: np.ndarray, estimator: str) -> None:
    """A model needs at least one crime in the training period.

    Parameters
    ----------
    y : ndarray
        Crimes per unit in the training period.
    estimator : str
        The model's name, for the message.

    Raises
    ------
    FitError
        ``y`` sums to zero.
    """
    if y.sum() == 0:
        raise FitError(
            f"{estimator}: no crimes in the training period, nothing to model. "
            "Fix: check the training dates and that the crimes fall inside the study area"
        )


def coefficient_table(variables, sets, coef, se, selected_share, p_value=None) -> pd.DataFrame:
    """The coefficient table of a fitted RTM: IRRs with 95 % Wald intervals and p-values.

    Parameters
    ----------
    variables, sets : sequence of str
        Row names (intercept, fixed covariates, selected variables) and their sets ("" for
        the intercept and fixed covariates).
    coef, se : array-like
        Coefficients and standard errors on the log scale.
    selected_share : float or array-like
        Share of seeds that selected each row's variable (1.0 for a single fit).
    p_value : array-like, optional
        Two-sided p-values; default from the normal distribution of ``coef / se``.

    Returns
    -------
    DataFrame
        Columns :data:`COEF_COLUMNS`.
    """
    coef, se = np.asarray(coef, dtype=float), np.asarray(se, dtype=float)
    z = norm.ppf(0.975)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if p_value is None:
            p_value = 2 * norm.sf(np.abs(coef / se))
        return pd.DataFrame(
            {
                "variable": list(variables),
                "set": list(sets),
                "coef": coef,
                "se": se,
                "irr": np.exp(coef),
                "irr_low": np.exp(coef - z * se),
                "irr_high": np.exp(coef + z * se),
                "p_value": p_value,
                "selected_share": selected_share,
            },
            columns=COEF_COLUMNS,
        )


class RTMEstimator:
    """Prediction shared by the fitted RTM estimators (a log-link count model).

    The linear predictor of a unit is ``intercept_ + covariates @ covariate_coef_ +
    X @ coef_``; the set part alone is the input of
    :func:`rtm_core.results.evaluate.relative_risk_score`.
    """

    def linear_predictor(self, design: Design, part: str = "all") -> np.ndarray:
        """Linear predictor per unit.

        Parameters
        ----------
        design : Design
            Same variables as at fit time.
        part : {"all", "sets"}
            ``"all"``: intercept + covariates + set terms; ``"sets"``: set terms only.

        Returns
        -------
        ndarray of shape (n_units,)

        Raises
        ------
        NotFittedError, ConfigError
            Not fitted, another design, or an unknown ``part``.
        """
        check_fitted_on(self, design)
        if part not in ("all", "sets"):
            raise ConfigError(
                f"{type(self).__name__}.linear_predictor",
                "part",
                f"unknown part {part!r}",
                "use 'all' or 'sets'",
            )
        eta_sets = set_terms(design.X, self.coef_)
        if part == "sets":
            return eta_sets
        return self.intercept_ + design.covariates @ self.covariate_coef_ + eta_sets

    def predict(self, design: Design) -> np.ndarray:
        """Expected crime count per unit (exp of the full linear predictor), shape (n_units,)."""
        return np.exp(self.linear_predictor(design, "all"))
