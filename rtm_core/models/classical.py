"""Classical RTM, as RTMDx does it: lasso screen, stepwise BIC, Poisson or negative binomial.

The fit runs in three phases (names used in progress reports):

``"lasso"``
    Penalised Poisson regression (glum) with set coefficients bounded below by 0, fixed
    covariates and intercept unpenalised, penalty chosen by k-fold cross-validation. Set
    variables with a positive coefficient at the chosen penalty are the *survivors*.
``"stepwise"``
    Bidirectional stepwise selection over the survivors minimising BIC (statsmodels GLM
    Poisson), starting from intercept + fixed covariates, at most one variable per set. Each
    step tries adding a survivor of a set not yet in the model, removing a variable, and
    swapping a variable for another survivor of its set, and takes the move that lowers BIC
    most. A candidate model in which any set coefficient is negative (in particular the
    entering one) is rejected, so every model on the path keeps set coefficients >= 0.
``"final"``
    The selected model refitted as Poisson and as negative binomial (NB2, Var = mu +
    alpha mu^2, alpha by maximum profile likelihood); the family with the lower BIC is kept as
    the model of the counts' *spread* (``family_``, ``dispersion_``). NB is only eligible if
    its set coefficients stay >= 0.

Calibration: the means are always Poisson quasi-likelihood means. The coefficients reported and
predicted from are those of the Poisson fit of the selected variables, whichever family BIC
keeps; when NB2 is kept its standard errors, IRR intervals and p-values are the robust
(sandwich, HC0) ones of those means, valid under any variance. Why: with an intercept the
Poisson score equations make the expected total equal the observed total in sample, and the
expected count equal the observed count over the units where each selected factor is present,
whatever the variance, so the expected counts and the forecasts are calibrated in the large.
The NB2 maximum-likelihood means are not: NB2 weights units by ``1 / (1 + alpha mu)``, so
under a misspecified mean (always, to some degree) the fitted total drifts from the observed
one (a real city: 797 expected against 634 observed, a cell forecast at 13.5 crimes where no
cell ever had more than 5). The Poisson means are consistent for the same log-linear mean as
NB2's when the model is right, and the robust intervals keep the overdispersion that made BIC
choose NB2 (``calibration_ = "poisson quasi-likelihood"``).

Throughout, BIC = -2 llf + k log(n) with llf the *full* log-likelihood (constants such as
log(y!) included), k the number of estimated parameters (intercept, fixed covariates,
selected variables, plus the dispersion for NB) and n the number of units.

Rows are collapsed wherever this is exact: the lasso fits on distinct dummy patterns with
the mean count as response and the unit count as weight, one fold at a time
(:mod:`rtm_core.models.lasso_cv`: the coefficient path and the CV choice of glum's CV on the
unit-level rows); every GLM fits on rows grouped by (pattern, count) with frequency weights, which
gives the unit-level log-likelihood, estimates and standard errors exactly.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from threadpoolctl import threadpool_limits

from rtm_core.config import ModelConfig, validate
from rtm_core.errors import ConfigError, FitError, check_cancel
from rtm_core.models.base import RTMEstimator, coefficient_table, require_crimes
from rtm_core.models.design import Design
from rtm_core.models.lasso_cv import lasso_cv, unit_folds
from rtm_core.models.rows import collapse, collapse_ints, row_keys

__all__ = ["ClassicalRTM", "StepwiseMove"]

#: the run config's model defaults, which the estimator's own defaults are
DEFAULTS = ModelConfig()

#: how the expected counts are calibrated in the large (the manifest's ``calibration``)
CALIBRATION = "poisson quasi-likelihood"
_BIC_TOL = 1e-7  # a move must lower BIC by more than this
_LOG_ALPHA_BOUNDS = (-12.0, 5.0)  # search range of log(NB dispersion)


@dataclass(frozen=True)
class StepwiseMove:
    """One accepted move of the stepwise search.

    Attributes
    ----------
    step : int
        0 for the start model, then 1, 2, ...
    action : str
        ``"start"``, ``"add"``, ``"remove"`` or ``"swap"``.
    variable : str or None
        The variable entering (add, swap) or leaving (remove); None for the start.
    replaced : str or None
        For a swap, the variable of the same set that left.
    bic : float
        BIC of the model after the move.
    """

    step: int
    action: str
    variable: str | None
    replaced: str | None
    bic: float


@dataclass(frozen=True)
class _GLMFit:
    params: np.ndarray  # intercept, fixed..., set variables...
    bse: np.ndarray
    pvalues: np.ndarray
    llf: float
    bic: float
    dispersion: float | None


class ClassicalRTM(RTMEstimator):
    """Classical Risk Terrain Model (lasso screen + stepwise BIC + Poisson/NB choice).

    Parameters
    ----------
    cv_folds : int, default 5
        Folds of the cross-validation that chooses the lasso penalty.
    l1_ratio : float, default 1.0
        Elastic-net mixing of the screen (1.0 = lasso).
    alphas : array-like or None
        Penalty path to cross-validate; None lets glum build one (40 values).
    max_variables : int or None
        Most set variables the final model may hold (stepwise stops adding there).
    random_state : int, default 0
        Seeds the fold assignment; the fit is otherwise deterministic.

    Attributes
    ----------
    coefficients_ : DataFrame
        One row per intercept, fixed covariate and selected variable; columns ``variable,
        set, coef, se, irr, irr_low, irr_high, p_value, selected_share`` (95 % Wald intervals).
    selected_ : dict
        Set name -> selected variable name, or None, for every set.
    coef_ : ndarray of shape (n_vars,)
        Set coefficients of the Poisson quasi-likelihood fit (zeros for unselected variables).
    intercept_ : float
    covariate_coef_ : ndarray of shape (n_covariates,)
    family_ : str
        ``"poisson"`` or ``"negbin"``: the model of the counts' spread BIC keeps (the means are
        Poisson quasi-likelihood means either way).
    bic_ : dict
        ``{"poisson": float, "negbin": float}`` for the final variables.
    dispersion_ : float or None
        NB2 dispersion alpha (Var = mu + alpha mu^2) when ``family_ == "negbin"``.
    calibration_ : str
        How the means are calibrated: ``"poisson quasi-likelihood"`` (module docstring).
    survivors_ : list of str
        Set variables with a positive lasso coefficient at the CV-chosen penalty.
    alpha_ : float
        CV-chosen lasso penalty (nan when the design has no set variables).
    steps_ : list of StepwiseMove
        Accepted stepwise moves, starting with the start model.
    fit_seconds_ : float
    """

    def __init__(
        self,
        *,
        cv_folds=DEFAULTS.cv_folds,
        l1_ratio=1.0,
        alphas=None,
        max_variables=None,
        random_state=DEFAULTS.random_state,
    ):
        self.cv_folds = cv_folds
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.max_variables = max_variables
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _validate_params(self, n_units: int) -> None:
        src = "ClassicalRTM"  # the rules of rtm_core.config.validate, as [model] applies them
        validate.integer(self.cv_folds, src, "cv_folds", minimum=2, fix="use 5 or 10 folds")
        if self.cv_folds > n_units:
            raise ConfigError(
                src,
                "cv_folds",
                f"{self.cv_folds} folds for {n_units} units",
                "use fewer folds than units",
            )
        validate.number(self.l1_ratio, src, "l1_ratio", low=0, high=1, fix="use 1.0 for the lasso")
        if self.alphas is not None:
            a = np.asarray(self.alphas, dtype=float)
            if a.ndim != 1 or a.size == 0 or (a <= 0).any():
                raise ConfigError(
                    src,
                    "alphas",
                    "must be a 1-D list of positive penalties",
                    "pass e.g. [1.0, 0.1, 0.01] or leave it unset",
                )
        if self.max_variables is not None:
            fix = "leave it unset for no limit"
            validate.integer(self.max_variables, src, "max_variables", minimum=1, fix=fix)
        validate.integer(self.random_state, src, "random_state", minimum=0, fix="use e.g. 0")

    @staticmethod
    def _check_y(design: Design, y) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64).ravel()
        if y.shape[0] != design.n_units:
            raise ConfigError(
                "ClassicalRTM.fit",
                "y",
                f"has {y.shape[0]} counts but the design has {design.n_units} units",
                "pass one crime count per unit, in the design's row order",
            )
        if not np.isfinite(y).all() or (y < 0).any():
            raise ConfigError(
                "ClassicalRTM.fit",
                "y",
                "holds negative or missing counts",
                "pass non-negative crime counts per unit",
            )
        require_crimes(y, "ClassicalRTM")
        return y

    # ------------------------------------------------------------------ phases
    def _lasso(self, design: Design, y: np.ndarray) -> tuple[np.ndarray, float]:
        """Survivor mask and CV penalty of the bounded, penalised Poisson screen."""
        folds = unit_folds(design.n_units, self.cv_folds, self.random_state)
        # One thread for OpenMP and BLAS: glum's loops and its small matrix-vector products
        # slow down 2-10x whenever the cores are shared (the app's server thread, other
        # jobs); one thread is steady.
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            try:
                ratio, alphas = float(self.l1_ratio), self.alphas
                fit = lasso_cv(design.X, design.covariates, y, folds, l1_ratio=ratio, alphas=alphas)
            except ValueError as exc:  # e.g. glum's "No variation in `y`" in a CV fold
                raise FitError(
                    f"classical RTM: the cross-validated lasso cannot be fitted ({exc}). "
                    "Fix: use more crimes or larger units, or lower model.cv_folds"
                ) from None
        return fit.coef[: design.X.shape[1]] > 0, fit.alpha

    def _key(self, cols: list[int], units=slice(None)) -> np.ndarray:
        """Integer key per unit (of ``units``): base group id, one bit per column (<= 32)."""
        key = np.left_shift(self._base_id[units], len(cols))
        for i, c in enumerate(cols):  # one contiguous 1-byte column at a time
            key += np.left_shift(self._bits[units, self._pos[c]], i, dtype=np.int64)
        return key

    def _glm(
        self, cols: list[int], family: str = "poisson", start=None, key=None
    ) -> _GLMFit | None:
        """Fit intercept + fixed + set columns ``cols`` on rows collapsed on (pattern, y).

        ``key`` (at most 32 columns): any integer key per unit that groups units as
        :meth:`_key` does (the stepwise search builds them from the current model's); the
        groups are put back in :meth:`_key`'s order, so the fit is the same bit for bit.
        """
        exog, endog, counts = self._rows(cols, key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if family == "poisson":
                    res = GLM(endog, exog, family=families.Poisson(), freq_weights=counts).fit(
                        start_params=start
                    )
                    dispersion, extra = None, 0
                else:
                    res, dispersion = self._negbin(endog, exog, counts, start)
                    extra = 1
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                return None
        if not np.isfinite(res.llf) or not np.isfinite(res.params).all():
            return None
        k = exog.shape[1] + extra
        bic = -2.0 * res.llf + k * np.log(self._y.size)
        return _GLMFit(
            np.asarray(res.params),
            np.asarray(res.bse),
            np.asarray(res.pvalues),
            float(res.llf),
            float(bic),
            dispersion,
        )

    def _rows(self, cols: list[int], key=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model matrix, count and number of units of each (pattern, count) row."""
        pos = [self._pos[c] for c in cols]  # columns of the survivor-only arrays
        if len(cols) > 32:
            first, counts = collapse(row_keys(self._base_id, self._bits[:, pos]))[::2]
        elif key is None:
            first, counts = collapse_ints(self._key(cols))
        else:
            first, counts = collapse_ints(key)
            order = np.argsort(self._key(cols, first))
            first, counts = first[order], counts[order]
        sets = self._bits[np.ix_(first, pos)].astype(np.float64)  # 0/1, exact
        return np.hstack([self._base_exog[first], sets]), self._y[first], counts

    def _robust(self, cols: list[int], fit: _GLMFit) -> _GLMFit:
        """``fit`` (Poisson) with robust sandwich (HC0) standard errors and p-values.

        Bread ``Z' diag(mu) Z``, meat ``Z' diag((y - mu)^2) Z``, summed over units (the rows
        are grouped on pattern and count, so each row stands for identical units).
        """
        exog, endog, counts = self._rows(cols)
        mu = np.exp(exog @ fit.params)
        bread = exog.T @ (exog * (counts * mu)[:, None])
        meat = exog.T @ (exog * (counts * (endog - mu) ** 2)[:, None])
        try:
            inverse = np.linalg.inv(bread)
        except np.linalg.LinAlgError:
            return fit
        se = np.sqrt(np.clip(np.diag(inverse @ meat @ inverse), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            pvalues = 2.0 * norm.sf(np.abs(fit.params / se))
        return _GLMFit(fit.params, se, pvalues, fit.llf, fit.bic, fit.dispersion)

    @staticmethod
    def _negbin(endog, exog, counts, start):
        """NB2 GLM with the dispersion at its maximum (profile) likelihood."""

        def fit(log_alpha):
            fam = families.NegativeBinomial(alpha=float(np.exp(log_alpha)))
            return GLM(endog, exog, family=fam, freq_weights=counts).fit(start_params=start)

        best = minimize_scalar(
            lambda a: -fit(a).llf,
            bounds=_LOG_ALPHA_BOUNDS,
            method="bounded",
            options={"xatol": 1e-5},
        )
        return fit(best.x), float(np.exp(best.x))

    def _stepwise(self, survivors: np.ndarray, design: Design, progress, cancel):
        """Bidirectional stepwise BIC over the survivor columns; returns {set: column}."""
        n_base = 1 + design.covariates.shape[1]
        set_of = np.asarray(design.sets)
        current: dict[str, int] = {}
        fit = self._glm([])
        steps = [StepwiseMove(0, "start", None, None, fit.bic)]
        limit = self.max_variables or len(design.set_names)
        total = max(1, len(set(set_of[survivors])))
        while True:
            check_cancel(cancel)
            moves = []
            for j in survivors:
                s = set_of[j]
                if s not in current and len(current) < limit:
                    moves.append(("add", s, j, None))
                elif s in current and current[s] != j:
                    moves.append(("swap", s, j, current[s]))
            moves += [("remove", s, None, j) for s, j in current.items()]
            best, best_move = None, None
            bases: dict = {}  # keys of the current model less one column (None: less none)
            for action, s, enter, leave in moves:
                trial = dict(current)
                if enter is None:
                    del trial[s]
                else:
                    trial[s] = enter
                cols = sorted(trial.values())
                start = self._start_params(fit, current, cols, n_base)
                key = None
                if len(cols) <= 32:  # the trial's key from the current model's: one pass
                    if leave not in bases:
                        bases[leave] = self._key(sorted(c for c in current.values() if c != leave))
                    key = bases[leave]
                    if enter is not None:
                        key = np.left_shift(key, 1)
                        key += self._bits[:, self._pos[enter]]
                cand = self._glm(cols, start=start, key=key)
                if cand is None or (cand.params[n_base:] < 0).any():
                    continue  # negative set coefficient: RTM never says a factor lowers risk
                if cand.bic < (best.bic if best else fit.bic - _BIC_TOL):
                    best, best_move = cand, (action, s, enter, leave, trial)
            if best is None:
                break
            action, s, enter, leave, current = best_move
            fit = best
            name = design.names[enter if enter is not None else leave]
            replaced = design.names[leave] if action == "swap" else None
            steps.append(StepwiseMove(len(steps), action, name, replaced, fit.bic))
            total = max(total, len(steps) - 1)
            if progress is not None:
                progress("stepwise", len(steps) - 1, total, fit.bic)
        return current, steps

    @staticmethod
    def _start_params(fit: _GLMFit, current: dict, cols: list[int], n_base: int):
        """Warm start: current estimates, 0 for an entering variable."""
        old = dict(zip(sorted(current.values()), fit.params[n_base:], strict=True))
        return np.r_[fit.params[:n_base], [old.get(c, 0.0) for c in cols]]

    # ------------------------------------------------------------------ API
    def fit(self, design: Design, y, *, progress=None, cancel=None) -> ClassicalRTM:
        """Fit the classical RTM on one period's counts.

        Parameters
        ----------
        design : Design
            Set dummies and fixed covariates, one row per unit.
        y : array-like of shape (n_units,)
            Crime counts of the training period.
        progress : callable or None
            Called as ``progress(phase, step, total, loss)``; phases ``"lasso"``,
            ``"stepwise"`` (loss = BIC), ``"final"`` (loss = BIC of each family).
        cancel : object with ``is_set()`` or None
            Checked between steps; raises :class:`~rtm_core.errors.Cancelled` when set.

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        y = self._check_y(design, y)
        self._validate_params(design.n_units)
        check_cancel(cancel)
        p, q = design.X.shape[1], design.covariates.shape[1]
        if progress is not None:
            progress("lasso", 0, 1, float("nan"))
        if p:
            survivors_mask, self.alpha_ = self._lasso(design, y)
        else:
            survivors_mask, self.alpha_ = np.zeros(0, bool), float("nan")
        survivors = np.flatnonzero(survivors_mask)
        self.survivors_ = [design.names[j] for j in survivors]
        if progress is not None:
            progress("lasso", 1, 1, float(len(survivors)))
        check_cancel(cancel)

        # shared arrays of the GLM fits; the base id groups rows on (fixed, y). Only the
        # survivors can enter a model: their 0/1 columns are kept as uint8 (1 byte per cell
        # instead of 16 for float64 + int64 copies of the whole design)
        self._y = y
        self._pos = {int(c): k for k, c in enumerate(survivors)}
        self._bits = np.asfortranarray(design.X[:, survivors] != 0, dtype=np.uint8)
        self._base_exog = np.hstack([np.ones((design.n_units, 1)), design.covariates])
        self._base_id = collapse(row_keys(design.covariates, y))[1].astype(np.int64)
        try:
            chosen, self.steps_ = self._stepwise(survivors, design, progress, cancel)
            cols = sorted(chosen.values())
            check_cancel(cancel)
            pois = self._glm(cols)
            if pois is None:
                raise FitError(
                    "ClassicalRTM: the final Poisson model did not converge. Fix: "
                    "check for risk factors that are constant over all units"
                )
            if progress is not None:
                progress("final", 1, 2, pois.bic)
            check_cancel(cancel)
            nb = self._glm(cols, family="negbin", start=pois.params)
            if progress is not None:
                progress("final", 2, 2, nb.bic if nb else float("nan"))
            nb_ok = nb is not None and (nb.params[1 + q :] >= 0).all()
            negbin = bool(nb_ok and nb.bic < pois.bic)
            # the Poisson quasi-likelihood means, robust intervals when the spread is NB2's
            final = self._robust(cols, pois) if negbin else pois
        finally:
            for attr in ("_y", "_pos", "_bits", "_base_exog", "_base_id"):
                delattr(self, attr)
        self.family_ = "negbin" if negbin else "poisson"
        self.bic_ = {"poisson": pois.bic, "negbin": nb.bic if nb else float("nan")}
        self.dispersion_ = nb.dispersion if negbin else None
        self.calibration_ = CALIBRATION
        self._store(design, cols, final)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _store(self, design: Design, cols: list[int], final: _GLMFit) -> None:
        q = design.covariates.shape[1]
        self.names_, self.covariate_names_ = tuple(design.names), tuple(design.covariate_names)
        self.intercept_ = float(final.params[0])
        self.covariate_coef_ = final.params[1 : 1 + q].copy()
        self.coef_ = np.zeros(design.X.shape[1])
        self.coef_[cols] = final.params[1 + q :]
        self.selected_ = {s: None for s in design.set_names}
        for c in cols:
            self.selected_[design.sets[c]] = design.names[c]
        self.coefficients_ = coefficient_table(
            ["intercept", *design.covariate_names, *(design.names[c] for c in cols)],
            ["", *([""] * q), *(design.sets[c] for c in cols)],
            final.params,
            final.bse,
            1.0,
            p_value=final.pvalues,
        )
