"""Benchmark: our risk-factor build against a straightforward scikit-learn baseline.

Run as ``.venv/bin/python bench/features.py``. In one process: load the Chicago demo study (not
timed), then time

- ours: ``build_features(study, demo_config().features)`` (best of 3): 6 layers x 9 bandwidths,
  distance + quartic density + dummies;
- baseline: per layer a ``scipy.spatial.cKDTree`` for the distance to the nearest unique point,
  and per layer and bandwidth a ``sklearn.neighbors.KernelDensity(kernel="epanechnikov",
  bandwidth=d)`` (the closest scikit-learn kernel to the quartic) fitted on the layer's points
  and scored at the unit points (``exp(log density) * n`` -> points per km^2), then the same
  z > 2 dummies.

Prints both times and the ratio baseline / ours. Targets: ours <= 3 s and >= 10x the baseline.
If the baseline would take more than 3 minutes, it runs on a fixed subset of bandwidths and is
extrapolated linearly (the output says so).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree
from sklearn.neighbors import KernelDensity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtm_core.config import demo_config
from rtm_core.factors.designs import build_features
from rtm_core.factors.features import zscore_dummy
from rtm_core.study.load import load_study

BASELINE_BUDGET_S = 180.0
TARGET_OURS_S = 3.0
TARGET_RATIO = 10.0


def baseline_layer(units: np.ndarray, points: np.ndarray, bandwidths, threshold: float) -> dict:
    """Distance, densities and dummies of one layer the straightforward way."""
    out = {}
    distance, _ = cKDTree(np.unique(points, axis=0)).query(units, k=1)
    out["dist"] = distance
    for d in bandwidths:
        out[f"dis_{d}"] = (distance <= d).astype(np.int8)
    for d in bandwidths:
        kde = KernelDensity(kernel="epanechnikov", bandwidth=float(d)).fit(points)
        density = np.exp(kde.score_samples(units)) * len(points) * 1e6  # points per km^2
        out[f"density_{d}"] = density
        out[f"kde_{d}"] = zscore_dummy(density, threshold)
    return out


def main() -> int:
    config = demo_config()
    t0 = time.perf_counter()
    study = load_study(config)
    load_s = time.perf_counter() - t0
    units = study.units.points
    layers = study.generators
    bandwidths = layers[0].bandwidths
    n_pairs = len(layers) * len(bandwidths)

    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        factors = build_features(study, config.features)
        times.append(time.perf_counter() - t0)
    ours_s = min(times)

    # Time one pass of the largest layer at the smallest and largest bandwidths to decide
    # whether the full baseline fits the budget.
    largest = max(layers, key=lambda g: len(g.points))
    t0 = time.perf_counter()
    baseline_layer(units, largest.points, (min(bandwidths), max(bandwidths)), 2.0)
    probe_s = time.perf_counter() - t0
    estimate_s = probe_s / 2 * n_pairs
    if estimate_s <= BASELINE_BUDGET_S:
        subset = bandwidths
        note = "full baseline"
    else:
        subset = bandwidths[:: max(1, len(bandwidths) // 3)]
        note = (
            f"baseline timed on bandwidths {list(subset)} of {list(bandwidths)} for every layer "
            f"and extrapolated linearly to all {len(bandwidths)} (estimated {estimate_s:.0f} s)"
        )
    t0 = time.perf_counter()
    baseline = {
        layer.name: baseline_layer(units, layer.points, subset, config.features.threshold)
        for layer in layers
    }
    baseline_s = (time.perf_counter() - t0) * len(bandwidths) / len(subset)

    # sanity: the same distances, and densities that agree in ranking (kernels differ)
    table = factors.table
    worst_distance = max(
        float(np.abs(baseline[g.name]["dist"] - table[f"{g.name}_dist"]).max()) for g in layers
    )
    d = subset[len(subset) // 2]
    correlations = [
        float(np.corrcoef(baseline[g.name][f"density_{d}"], table[f"{g.name}_density_{d}"])[0, 1])
        for g in layers
    ]

    ratio = baseline_s / ours_s
    n_dummies = len(factors.dummy_names)
    print("Risk factors on the Chicago demo (150 m grid)")
    print(f"  units                 {len(units):,}")
    print(f"  generator layers      {len(layers)} ({sum(len(g.points) for g in layers):,} points)")
    print(f"  (layer, bandwidth)    {n_pairs} pairs")
    print(f"  dummies               {n_dummies}")
    print(f"  load study (untimed)  {load_s:.2f} s")
    print(f"  ours (best of 3)      {ours_s:.2f} s   runs: {', '.join(f'{t:.2f}' for t in times)}")
    print(f"  baseline              {baseline_s:.2f} s   ({note})")
    print(f"  ratio baseline/ours   {ratio:.1f}x")
    print(f"  max |distance diff|   {worst_distance:.2e} m")
    print(f"  density corr at {d} m  {min(correlations):.3f} (min over layers; quartic vs epan.)")
    ok_time = ours_s <= TARGET_OURS_S
    ok_ratio = ratio >= TARGET_RATIO
    print(
        f"  targets               ours <= {TARGET_OURS_S:g} s: {'met' if ok_time else 'MISSED'}; "
        f">= {TARGET_RATIO:g}x baseline: {'met' if ok_ratio else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
