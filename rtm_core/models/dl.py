"""Deep-learning RTM: the seed's burn-in / prune training, K seeds at once, fast on a CPU.

Model of one seed (sets ``g``, one kept column ``j_g`` per set)::

    eta = b0 + fixed @ b + sum_g gate_g * relu(w[j_g]) * X[:, j_g]

Training (Adam, learning rate ``learning_rate``):

``"burn-in"`` (``burn_in_steps``)
    At every step each set keeps ONE of its variables, drawn uniformly, independently per set,
    per step and per seed; only those columns enter the step.
``"prune"`` (``prune_steps``)
    Each set keeps the variable with the largest ``relu(w)`` (ties: the lowest column);
    training goes on with that mask fixed.

Dummies that do not vary over units (all 0: no information; all 1: the intercept again) are
left out of training and never selected; a set with only such dummies has no variable.
A set whose pruned coefficient is 0 (``relu`` clipped it) has no selected variable. With the
cancel gate, each set also has a gate ``sigmoid(s_g)`` (``s_g`` starts at 2, gate 0.88): during
pruning the model uses the set iff its gate is >= 0.5, and the gate learns from the exact loss
change of switching the set off, penalised by ``log(n) / (2 n)`` per set: the BIC price of one
parameter, on the scale of the mean NLL. A set ends switched off (no variable) when its gain in
log-likelihood is below ``log(n) / 2``, the rule BIC applies.

Initial values: intercept ``log(mean(y))``, fixed covariates 0, set weights 0.01 (all seeds
alike: seeds differ only by their burn-in masks), NB2 log-dispersion the log of the moment
estimate ``(var(y) - mean(y)) / mean(y)**2`` clipped to [0.01, 10].

Loss: mean Poisson NLL over units (log link), or the full NB2 NLL (``lgamma`` terms included)
with a learnt log-dispersion; ``Var = mu + alpha mu**2``.

Seeds: seed k draws its masks from ``numpy.random.default_rng(SeedSequence(random_state,
spawn_key=(k,)))``, the k-th child of ``SeedSequence(random_state).spawn``. A fit with
``n_seeds=K, seed_offset=o`` trains seeds ``o, ..., o + K - 1`` together; each equals the same
seed trained alone (``n_seeds=1, seed_offset=k``) up to float rounding (bit for bit on CPU
with the Poisson loss).

Seed batches (:mod:`rtm_core.models.dl_seeds`): ``seed_batch=b`` trains the seeds in batches
of ``b`` consecutive seeds, one after another; ``fit(..., client=...)`` runs the batches as
independent Dask tasks (``b`` default :data:`~rtm_core.models.dl_seeds.DASK_SEED_BATCH`), with
results bit for bit those of the in-process fit with the same batches. Without either, all
seeds form one batch.

Speed (see :mod:`rtm_core.models.dl_module` and ``bench/dl_fit.py``): the loss runs over
distinct rows weighted by their units, burn-in gathers only the kept columns, each seed's rows
collapse to at most ``2**G`` patterns after pruning, gradients and Adam are written by hand.

Calibration (``calibration_ = "intercept recalibration"``): after training, each seed's
intercept is moved by ``log(observed total / expected total)`` over the training units, so
every seed's in-sample expected total equals the observed total. For given set and covariate
coefficients this is the exact maximum-likelihood intercept of the Poisson model (its score
equation is ``sum(y - mu) = 0``): with the Poisson loss it finishes what Adam left a little
short after a finite number of steps; with the NB2 loss, whose intercept weights units by
``1 / (1 + alpha mu)`` and so drifts from the observed total when the mean is misspecified,
it is the Poisson quasi-likelihood intercept. It multiplies every unit's expected count by
the same factor: the ranking, PAI, relative risk scores and IRRs of the factors are unchanged,
only the expected counts (and forecasts) become calibrated in the large. ``seed_loss_`` is
the loss of the trained, not yet recalibrated, seeds.

Standard errors, IRR intervals and p-values come from the observed Fisher information of the
reported model at the deep-learning solution (Poisson: ``Z' diag(mu) Z``; NB2: the observed
information of the coefficients at the fitted dispersion), with ``Z`` the intercept, fixed
covariates and selected variables. They are conditional on the selection: they ignore that the
variables were chosen on the same data, so they are too narrow as tests of selection.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from rtm_core.config import DEVICES, LOSSES, ModelConfig, validate
from rtm_core.errors import ConfigError, InputError
from rtm_core.models.base import RTMEstimator, coefficient_table, require_crimes
from rtm_core.models.design import Design
from rtm_core.models.dl_module import Layout, TrainResult, TrainSpec
from rtm_core.models.dl_problem import layout_of, varying_columns
from rtm_core.models.dl_seeds import SeedPlan, seed_batches, train_seeds
from rtm_core.models.rows import CollapsedRows, standard_errors

__all__ = ["DeepRTM"]

#: the run config's model defaults, which the estimator's own defaults are
DEFAULTS = ModelConfig()
#: how the expected counts are calibrated in the large (the manifest's ``calibration``)
CALIBRATION = "intercept recalibration"


class DeepRTM(RTMEstimator):
    """Deep-learning Risk Terrain Model (burn-in with random masks, prune, optional gate).

    Parameters
    ----------
    loss : {"poisson", "negbin"}, default "poisson"
        Poisson NLL, or NB2 NLL with a learnt dispersion.
    burn_in_steps : int, default 10000
        Adam steps with one random variable per set and step.
    prune_steps : int, default 10000
        Adam steps after pruning to one variable per set.
    learning_rate : float, default 1e-3
    cancel_gate : bool, default False
        Learn a per-set gate that can switch a whole set off (see the module docstring).
    n_seeds : int, default 1
        Seeds trained together; the reported model is the one with the lowest final loss.
    random_state : int, default 0
        Root of every seed's generator; same value, data and device, same result.
    device : {"auto", "cpu", "cuda"}, default "auto"
        "auto" uses CUDA when ``torch.cuda.is_available()``.
    seed_offset : int, default 0
        Index of the first seed: ``n_seeds=1, seed_offset=k`` trains seed k of a batch alone.
    seed_batch : int or None, default None
        Seeds per batch (batches run one after another, or as Dask tasks with ``fit(...,
        client=...)``); None: one batch in process, ``DASK_SEED_BATCH`` (5) on Dask.

    Attributes
    ----------
    coef_ : ndarray of shape (n_vars,)
        Set coefficients (``relu(w)`` >= 0) of the reported model, 0 for unselected variables.
    intercept_ : float
    covariate_coef_ : ndarray of shape (n_covariates,)
    selected_ : dict
        Set name -> selected variable name, or None, for every set.
    dispersion_ : float or None
        NB2 alpha (``Var = mu + alpha mu**2``), None for Poisson.
    family_ : str
        The loss's family, ``"poisson"`` or ``"negbin"``.
    calibration_ : str
        ``"intercept recalibration"`` (see the module docstring).
    seed_coef_ : ndarray of shape (K, n_vars)
        Each seed's set coefficients (0 outside its pruned mask and for switched-off sets).
    seed_intercept_ : ndarray of shape (K,)
        Each seed's intercept, recalibrated (see the module docstring).
    seed_covariate_coef_ : ndarray of shape (K, n_covariates)
    seed_selected_ : list of dict
    seed_gate_ : ndarray of shape (K, n_sets) or None
        Final gate values (cancel gate only).
    selection_share_ : dict
        Variable name -> share of seeds selecting it (every variable).
    seed_loss_ : ndarray of shape (K,)
        Final mean NLL of each seed's model (plus the gate penalty of its selected sets when
        the cancel gate is on).
    best_seed_ : int
        Index in ``0..K-1`` of the lowest ``seed_loss_``; the reported model is that seed.
    loss_history_ : ndarray
        Mean NLL of the reported seed every 100 steps.
    coefficients_ : DataFrame
        One row per intercept, fixed covariate and selected variable: ``variable, set, coef,
        se, irr, irr_low, irr_high, p_value, selected_share`` (95 % Wald intervals).
    n_iter_ : int
    device_ : str
        ``"cpu"`` or ``"cuda"``.
    fit_seconds_ : float
    """

    _collapse_rows = True  # tests switch this off to compare with the uncollapsed fit

    def __init__(
        self,
        *,
        loss=DEFAULTS.loss,
        burn_in_steps=DEFAULTS.burn_in_steps,
        prune_steps=DEFAULTS.prune_steps,
        learning_rate=DEFAULTS.learning_rate,
        cancel_gate=DEFAULTS.cancel_gate,
        n_seeds=1,
        random_state=DEFAULTS.random_state,
        device=DEFAULTS.device,
        seed_offset=0,
        seed_batch=None,
    ):
        self.loss = loss
        self.burn_in_steps = burn_in_steps
        self.prune_steps = prune_steps
        self.learning_rate = learning_rate
        self.cancel_gate = cancel_gate
        self.n_seeds = n_seeds
        self.random_state = random_state
        self.device = device
        self.seed_offset = seed_offset
        self.seed_batch = seed_batch

    # ------------------------------------------------------------------ checks
    def _validate_params(self) -> None:
        src = "DeepRTM"  # the rules of rtm_core.config.validate, as [model] applies them
        validate.choice(
            self.loss, LOSSES, src, "loss", noun="loss", fix='use "poisson" or "negbin"'
        )
        steps = (("burn_in_steps", DEFAULTS.burn_in_steps), ("prune_steps", DEFAULTS.prune_steps))
        for field, default in (*steps, ("n_seeds", 1)):
            fix = f"use e.g. {default} (the default)"
            validate.integer(getattr(self, field), src, field, minimum=1, fix=fix)
        for field in ("random_state", "seed_offset"):
            validate.integer(getattr(self, field), src, field, minimum=0, fix="use e.g. 0")
        validate.number(
            self.learning_rate,
            src,
            "learning_rate",
            low=0,
            low_open=True,
            fix=f"use e.g. {DEFAULTS.learning_rate:g} (the default)",
        )
        validate.flag(self.cancel_gate, src, "cancel_gate")
        validate.choice(
            self.device, DEVICES, src, "device", noun="device", fix='use "auto", "cpu" or "cuda"'
        )

    @staticmethod
    def _check_inputs(design: Design, y) -> np.ndarray:
        src = "DeepRTM.fit"
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1 or y.shape[0] != design.n_units:
            raise ConfigError(
                src,
                "y",
                f"has shape {y.shape} but the design has {design.n_units} units",
                "pass one crime count per unit, in the design's row order",
            )
        if not np.isfinite(y).all():
            raise ConfigError(
                src,
                "y",
                "holds missing (NaN) or infinite counts",
                "pass a count (0 or more) for every unit",
            )
        if (y < 0).any():
            raise ConfigError(
                src, "y", f"holds negative counts (min {y.min():g})", "pass crime counts, 0 or more"
            )
        if (y != np.round(y)).any():
            raise ConfigError(
                src, "y", "holds non-integer counts", "pass whole crime counts per unit"
            )
        if design.X.shape[1] == 0:
            raise InputError(
                src,
                "design",
                "has no set variables (risk-factor dummies)",
                "add at least one generator layer",
            )
        if not ((design.X == 0) | (design.X == 1)).all():
            raise InputError(
                src,
                "design.X",
                "holds values other than 0 and 1",
                "pass risk-factor dummies (0/1); continuous covariates go in design.covariates",
            )
        if not np.isfinite(design.covariates).all():
            raise InputError(
                src,
                "design.covariates",
                "holds missing or infinite values",
                "fill or drop the missing covariate values",
            )
        require_crimes(y, "DeepRTM")
        return y

    # ------------------------------------------------------------------ fit
    def fit(self, design: Design, y, *, progress=None, cancel=None, client=None) -> DeepRTM:
        """Train ``n_seeds`` seeds and report the one with the lowest final loss.

        Parameters
        ----------
        design : Design
        y : array-like of shape (n_units,)
            Crime counts of the training period.
        progress : callable, optional
            ``progress(phase, step, total, loss)`` with phase ``"burn-in"`` or ``"prune"``,
            about every 1 % of each phase; ``loss`` is the mean NLL over seeds. On Dask, one
            report as each seed batch finishes.
        cancel : object with ``is_set()``, optional
            Checked every 50 steps; raises :class:`~rtm_core.errors.Cancelled`.
        client : dask.distributed.Client, optional
            Train the seed batches as independent Dask tasks (see ``seed_batch``).

        Returns
        -------
        self
        """
        start_time = time.perf_counter()
        self._validate_params()
        y = self._check_inputs(design, y)
        batches = seed_batches(self.seed_offset, self.n_seeds, self.seed_batch, client is not None)
        varying = varying_columns(design)
        trained = design.subset([design.names[j] for j in varying])
        rows = CollapsedRows(trained, y, self.loss, self._collapse_rows)
        spec = TrainSpec(
            self.burn_in_steps, self.prune_steps, float(self.learning_rate), self._collapse_rows
        )
        plan = SeedPlan(self.loss, bool(self.cancel_gate), self.device, self.random_state, spec)
        result, self.device_ = train_seeds(
            trained, y, rows, plan, batches, client=client, progress=progress, cancel=cancel
        )
        layout = layout_of(trained, self.loss, self.cancel_gate)
        self._store(design, trained, varying, layout, result, rows)
        self.fit_seconds_ = time.perf_counter() - start_time
        return self

    # ------------------------------------------------------------------ results
    def _store(
        self,
        design: Design,
        trained: Design,
        varying: np.ndarray,
        layout: Layout,
        result: TrainResult,
        rows: CollapsedRows,
    ) -> None:
        """Fitted attributes on the full design (``trained`` holds its varying columns)."""
        theta, kept = result.theta, result.kept
        k = theta.shape[0]
        coef = np.maximum(np.take_along_axis(theta[:, layout.weights], kept, axis=1), 0.0)
        active = coef > 0
        self.seed_gate_ = None
        if layout.gate:
            gates = 1.0 / (1.0 + np.exp(-theta[:, layout.gates]))
            active &= theta[:, layout.gates] > 0
            self.seed_gate_ = np.full((k, len(design.set_names)), np.nan)
            self.seed_gate_[:, _set_positions(design, trained)] = gates
        self.seed_coef_ = np.zeros((k, design.X.shape[1]))
        np.put_along_axis(self.seed_coef_, varying[kept], np.where(active, coef, 0.0), axis=1)
        self.seed_covariate_coef_ = theta[:, layout.covariates].copy()
        self.seed_intercept_ = theta[:, 0] + _calibration_shift(
            rows, theta[:, 0], self.seed_covariate_coef_, self.seed_coef_[:, varying]
        )
        self.calibration_ = CALIBRATION
        self.seed_selected_ = []
        for i in range(k):
            chosen = {s: None for s in design.set_names}
            for g, set_name in enumerate(trained.set_names):
                if active[i, g]:
                    chosen[set_name] = trained.names[kept[i, g]]
            self.seed_selected_.append(chosen)
        picks = [v for sel in self.seed_selected_ for v in sel.values() if v is not None]
        self.selection_share_ = {name: picks.count(name) / k for name in design.names}
        self.seed_loss_ = result.seed_loss
        self.best_seed_ = best = int(np.argmin(result.seed_loss))
        self.coef_ = self.seed_coef_[best].copy()
        self.intercept_ = float(self.seed_intercept_[best])
        self.covariate_coef_ = self.seed_covariate_coef_[best].copy()
        self.selected_ = dict(self.seed_selected_[best])
        self.dispersion_ = (
            float(np.exp(theta[best, layout.log_dispersion])) if layout.dispersion else None
        )
        self.family_ = str(self.loss)
        self.loss_history_ = result.history[:, best].copy()
        self.n_iter_ = result.n_iter
        self.names_, self.covariate_names_ = tuple(design.names), tuple(design.covariate_names)
        self.coefficients_ = self._coefficient_table(trained, rows)

    def _coefficient_table(self, trained: Design, rows: CollapsedRows) -> pd.DataFrame:
        """Intercept, fixed and selected variables with Wald inference (``rows``: trained)."""
        chosen = [v for v in self.selected_.values() if v is not None]
        cols = [trained.names.index(v) for v in chosen]
        coef = [self.coef_[self.names_.index(v)] for v in chosen]
        params = np.concatenate([[self.intercept_], self.covariate_coef_, coef])
        se = standard_errors(rows, cols, params, self.dispersion_)
        covariates = list(trained.covariate_names)
        return coefficient_table(
            ["intercept", *covariates, *chosen],
            ["", *([""] * len(covariates)), *(trained.sets[c] for c in cols)],
            params,
            se,
            [1.0] * (1 + len(covariates)) + [self.selection_share_[v] for v in chosen],
        )


def _calibration_shift(rows: CollapsedRows, intercept, covariate_coef, coef) -> np.ndarray:
    """Per seed, what the intercept must move so that the in-sample expected total equals
    the observed total (``rows``: the trained design's rows; ``coef`` on its columns)."""
    eta = rows.covariates @ covariate_coef.T + rows.X @ coef.T  # (rows, seeds), no intercept
    expected = rows.units @ np.exp(eta + np.asarray(intercept)[None, :])
    return np.log(rows.crimes.sum()) - np.log(expected)


def _set_positions(design: Design, trained: Design) -> np.ndarray:
    return np.array([design.set_names.index(s) for s in trained.set_names], dtype=np.int64)
