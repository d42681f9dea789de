"""Benchmark: the classical RTM on the Chicago demo (25,043 cells x 108 dummies).

Ours: ``ClassicalRTM`` (the lasso CV of :mod:`rtm_core.models.lasso_cv` on distinct dummy
patterns, and statsmodels stepwise BIC, both on exactly collapsed rows).
Baseline, in the same process: the straightforward version on the unit-level rows, i.e. the
same glum lasso-CV path (40 penalties, 5 folds, bounds) and a forward stepwise BIC search over
the same survivors with one statsmodels Poisson GLM per candidate (no removal or swap moves,
so the baseline does less work than ours). Prints both times and the ratio.
Run: ``.venv/bin/python bench/classical_fit.py``. Target: our classical fit <= 60 s on 2 cores.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import statsmodels.api as sm
from glum import GeneralizedLinearRegressorCV
from threadpoolctl import threadpool_limits

from rtm_core.config import demo_config
from rtm_core.factors.designs import build_features
from rtm_core.models.classical import ClassicalRTM
from rtm_core.study.load import load_study


def baseline(design, y) -> tuple[float, list[str]]:
    """Lasso-CV plus forward stepwise BIC on the unit-level rows; returns (seconds, picks)."""
    start = time.perf_counter()
    p = design.X.shape[1]
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="openmp"):
        warnings.simplefilter("ignore")
        lasso = GeneralizedLinearRegressorCV(
            family="poisson",
            l1_ratio=1.0,
            lower_bounds=np.zeros(p),
            n_alphas=40,
            min_alpha_ratio=1e-4,
            cv=5,
            fit_intercept=True,
        ).fit(design.X.astype(np.float64), y)
    survivors = [n for n, c in zip(design.names, lasso.coef_, strict=True) if c > 0]
    chosen: list[str] = []
    best_bic = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Poisson()).fit().bic_llf
    while True:
        used = {design.sets[design.names.index(n)] for n in chosen}
        best = None
        for name in survivors:
            if name in chosen or design.sets[design.names.index(name)] in used:
                continue
            cols = [design.names.index(n) for n in [*chosen, name]]
            exog = sm.add_constant(design.X[:, cols].astype(np.float64), has_constant="add")
            fit = sm.GLM(y, exog, family=sm.families.Poisson()).fit()
            if (fit.params[1:] >= 0).all() and fit.bic_llf < best_bic:
                best_bic, best = fit.bic_llf, name
        if best is None:
            return time.perf_counter() - start, chosen
        chosen.append(best)


def main() -> None:
    config = demo_config()
    study = load_study(config)
    design = build_features(study, config.features).design(study.covariates)
    y = study.y_train
    start = time.perf_counter()
    model = ClassicalRTM(random_state=0).fit(design, y)
    ours = time.perf_counter() - start
    selected = [v for v in model.selected_.values() if v]
    base, picks = baseline(design, y)
    print(f"units x dummies          : {design.X.shape[0]:,} x {design.X.shape[1]}")
    print(f"survivors of the lasso   : {len(model.survivors_)}; family by BIC: {model.family_}")
    print(f"selected (ours)          : {', '.join(selected)}")
    print(f"selected (baseline)      : {', '.join(picks)}")
    print(f"classical fit, ours      : {ours:.1f} s  (target <= 60 s)")
    print(f"baseline, unit-level rows: {base:.1f} s")
    print(f"ratio baseline / ours    : {base / ours:.1f}x")


if __name__ == "__main__":
    main()
