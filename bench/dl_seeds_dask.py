"""Benchmark: the deep-learning RTM's seeds in process against seed batches on a Dask cluster.

On the embedded Chicago demo design, times ``--seeds`` seeds (default 20, 10,000 + 10,000
steps): in process in one batch (the default fit), in process in batches of
``DASK_SEED_BATCH`` one after another, and on a ``LocalCluster`` of ``--workers`` workers
(batches as tasks; the cluster's start-up timed apart). Checks that the Dask fit equals the
in-process fit with the same batches bit for bit, and prints the load average beside the times.

Run: ``.venv/bin/python bench/dl_seeds_dask.py`` (``--steps 2000`` for a quick look).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from rtm_core.cluster import dask_client
from rtm_core.models.dl import DeepRTM
from rtm_core.models.dl_seeds import DASK_SEED_BATCH


def demo_design():
    """The Chicago demo's design and training counts."""
    from rtm_core.config import demo_config
    from rtm_core.factors.designs import build_features
    from rtm_core.study.load import load_study

    config = demo_config()
    study = load_study(config)
    return build_features(study, config.features).design(study.covariates), study.y_train


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed(label: str, fit) -> DeepRTM:
    before = load()
    start = time.perf_counter()
    model = fit()
    print(f"{label:<46} {time.perf_counter() - start:8.1f} s   ({before} -> {load()})", flush=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10_000, help="burn-in and prune steps each")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    design, y = demo_design()
    params = {"n_seeds": args.seeds, "burn_in_steps": args.steps, "prune_steps": args.steps}
    shape = f"{design.n_units} units x {design.X.shape[1]} dummies"
    print(f"demo: {shape}; {params}; {os.cpu_count()} cores")
    DeepRTM(burn_in_steps=50, prune_steps=50).fit(design, y)  # warm-up
    timed("in process, one batch (default)", lambda: DeepRTM(**params).fit(design, y))
    local = timed(
        f"in process, batches of {DASK_SEED_BATCH}",
        lambda: DeepRTM(seed_batch=DASK_SEED_BATCH, **params).fit(design, y),
    )
    start = time.perf_counter()
    with dask_client(workers=args.workers) as client:
        print(f"{args.workers}-worker LocalCluster start: {time.perf_counter() - start:.1f} s")
        warm = DeepRTM(burn_in_steps=50, prune_steps=50, n_seeds=args.workers, seed_batch=1)
        warm.fit(design, y, client=client)  # every worker imports torch before the timing
        remote = timed(
            f"{args.workers}-worker LocalCluster, batches of {DASK_SEED_BATCH}",
            lambda: DeepRTM(**params).fit(design, y, client=client),
        )
    same = (
        np.array_equal(remote.seed_coef_, local.seed_coef_) and remote.selected_ == local.selected_
    )
    print(f"Dask fit == in-process fit with the same batches, bit for bit: {same}")


if __name__ == "__main__":
    main()
