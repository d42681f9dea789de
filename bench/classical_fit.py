"""Benchmark: the classical RTM on the Chicago demo (25,043 cells x 108 dummies).

Baseline in the same process: the same stepwise-BIC search with statsmodels on the full,
uncollapsed rows (what a straightforward implementation does), timed on the survivors.
Run: ``.venv/bin/python bench/classical_fit.py``. Target: classical fit <= 60 s on 2 cores.
"""

from __future__ import annotations

import time

import numpy as np
import statsmodels.api as sm

from rtm_core.config import demo_config
from rtm_core.models.classical import ClassicalRTM
from rtm_core.study import build_features, load_study


def main() -> None:
    config = demo_config()
    study = load_study(config)
    design = build_features(study, config.features).design(study.fixed)
    y = study.y_train
    start = time.perf_counter()
    model = ClassicalRTM(random_state=0).fit(design, y)
    ours = time.perf_counter() - start
    selected = [v for v in model.selected_.values() if v]
    # baseline: one uncollapsed statsmodels Poisson fit per candidate at the first stepwise step
    survivors = list(model.survivors_)
    start = time.perf_counter()
    base = np.ones((len(y), 1))
    for name in survivors:
        column = design.X[:, design.names.index(name)].astype(float)[:, None]
        sm.GLM(y, np.hstack([base, column]), family=sm.families.Poisson()).fit()
    first_step = time.perf_counter() - start
    print(f"units x dummies        : {design.X.shape[0]:,} x {design.X.shape[1]}")
    print(f"survivors of the lasso : {len(survivors)}; selected: {', '.join(selected)}")
    print(f"family chosen by BIC   : {model.family_}")
    print(f"classical fit (ours)   : {ours:.1f} s  (target <= 60 s)")
    print(f"baseline, first stepwise step alone (uncollapsed statsmodels): {first_step:.1f} s")
    print(f"ratio baseline-first-step / ours-whole-fit: {first_step / ours:.2f}")


if __name__ == "__main__":
    main()
