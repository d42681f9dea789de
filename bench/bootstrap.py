"""Benchmark: the paired bootstrap of PAI differences (comparison.csv) at a million units.

Run as ``.venv/bin/python bench/bootstrap.py [--units 1000000] [--crimes 100000]``. A
synthetic city (gamma-distributed true risk, test crimes drawn from it) scored by seven maps
(two models, five baselines, some with large tied blocks like prior counts): it times the
evaluation the run already does (``evaluate_models``: read-outs and curves of every map in
both periods) and, in the same process, the comparison (grouping the crimes by flagged shares,
then 1,000 resamples), and prints their ratio. Target: the comparison costs about what the
evaluation beside it costs (a few seconds at a million units): its resamples cost the groups
of crime units with the same flagged shares, not the units.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rtm_core.results.bootstrap import compare_maps, scored_crimes  # noqa: E402
from rtm_core.results.evaluate import evaluate_models  # noqa: E402


def maps_of(rng: np.random.Generator, rate: np.ndarray, y_train: np.ndarray) -> dict:
    """Seven rankings of the units, from close to the truth to mostly noise or tied."""
    noisy = lambda sd: rate * rng.lognormal(0.0, sd, rate.size)  # noqa: E731
    return {
        "dl": noisy(0.5),
        "classical": np.round(noisy(0.4), 1),
        "prior_counts": y_train.astype(float),
        "prior_counts_lags": y_train + rng.poisson(rate),
        "kde": noisy(1.0),
        "forest": noisy(0.7),
        "history_only": np.round(np.log1p(y_train) * 3 + rate, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--crimes", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rate = rng.gamma(0.3, 1.0, args.units)
    p = rate / rate.sum()
    y_train, y_test = rng.multinomial(args.crimes, p), rng.multinomial(args.crimes, p)
    maps = maps_of(rng, rate, y_train)

    start = time.perf_counter()
    evaluate_models(maps, y_train, y_test)
    evaluation = time.perf_counter() - start

    start = time.perf_counter()
    scored = scored_crimes(maps, y_test)
    grouped = time.perf_counter() - start
    table = compare_maps([scored], ["dl", "classical"], random_state=0)
    comparison = time.perf_counter() - start

    print(f"{args.units:,} units, {args.crimes:,} test crimes, {len(maps)} maps")
    print(f"evaluation (read-outs and curves, both periods): {evaluation:.2f} s")
    print(
        f"comparison: {comparison:.2f} s ({grouped:.2f} s grouping "
        f"{int((y_test > 0).sum()):,} crime units into {scored.crimes.size:,} groups, "
        f"{comparison - grouped:.2f} s for 1,000 resamples)"
    )
    print(f"ratio comparison / evaluation: {comparison / evaluation:.2f}")
    best = table[table["baseline"] == "best"]
    print(best[["model", "area", "difference", "low", "high", "verdict"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
