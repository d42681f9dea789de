"""Deep-learning seed batches as Dask tasks on a 2-worker LocalCluster equal the in-process fit.

A seed's numbers depend on the size of its batch at float rounding, so the comparison is with
the in-process fit with the same batches (``seed_batch``); short fits on a small design.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch
from dask.distributed import get_task_stream

from rtm_core.cluster import dask_client
from rtm_core.errors import Cancelled, ConfigError
from rtm_core.models.design import Design
from rtm_core.models.dl import DeepRTM
from rtm_core.models.dl_seeds import DASK_SEED_BATCH, seed_batches

SHORT = {"burn_in_steps": 300, "prune_steps": 300, "learning_rate": 1e-2, "random_state": 4}


def small_design(n=1200, seed=1):
    """3 sets x 4 nested distance dummies, one fixed covariate, Poisson crimes."""
    rng = np.random.default_rng(seed)
    columns, names, sets = [], [], []
    for set_name in ("bars", "liquor", "parks"):
        distance = rng.exponential(400, n)
        for bw in (100, 200, 400, 800):
            columns.append(distance <= bw)
            names.append(f"{set_name}_dis_{bw}")
            sets.append(set_name)
    X = np.column_stack(columns).astype(np.float32)
    corner = (rng.random(n) < 0.3).astype(float)
    eta = np.log(0.5) + np.log(2.0) * X[:, 0] + np.log(0.7) * corner
    y = rng.poisson(np.exp(eta)).astype(float)
    return Design(
        X=X, names=names, sets=sets, covariates=corner[:, None], covariate_names=("corner",)
    ), y


@pytest.fixture(scope="module")
def data():
    return small_design()


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


def assert_same_fit(remote: DeepRTM, local: DeepRTM) -> None:
    for name in ("seed_coef_", "seed_intercept_", "seed_covariate_coef_", "seed_loss_"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name), err_msg=name)
    np.testing.assert_array_equal(remote.loss_history_, local.loss_history_)
    assert remote.seed_selected_ == local.seed_selected_
    assert remote.selected_ == local.selected_ and remote.best_seed_ == local.best_seed_
    pd.testing.assert_frame_equal(remote.coefficients_, local.coefficients_, check_exact=True)


def test_seed_batches_on_two_workers_equal_the_same_batches_in_process(data, client):
    design, y = data
    params = {"n_seeds": 7, **SHORT}
    local = DeepRTM(seed_batch=DASK_SEED_BATCH, **params).fit(design, y)
    seen = []
    with get_task_stream(client) as stream:
        remote = DeepRTM(**params).fit(design, y, client=client, progress=lambda *a: seen.append(a))
    assert len(client.scheduler_info()["workers"]) == 2
    tasks = {t["key"] for t in stream.data if "rtm-dl-seeds" in str(t["key"])}
    assert len(tasks) == 2  # seeds 0-4 and 5-6, each an independent task
    assert_same_fit(remote, local)
    np.testing.assert_array_equal(remote.predict(design), local.predict(design))
    assert remote.device_ == "cpu" and remote.n_iter_ == 600
    assert seen[-1][:3] == ("prune", 300, 300)  # one report per finished batch


def test_negbin_gate_batches_of_two_equal_in_process(data, client):
    design, y = data
    params = {"n_seeds": 3, "seed_batch": 2, "loss": "negbin", "cancel_gate": True, **SHORT}
    local = DeepRTM(**params).fit(design, y)
    remote = DeepRTM(**params).fit(design, y, client=client)
    assert_same_fit(remote, local)
    np.testing.assert_array_equal(remote.seed_gate_, local.seed_gate_)
    assert remote.dispersion_ == local.dispersion_


@pytest.mark.timing
def test_a_cancel_stops_the_dask_batches(data, client):
    design, y = data
    token = threading.Event()
    token.set()
    start = time.perf_counter()
    with pytest.raises(Cancelled):
        DeepRTM(n_seeds=4, burn_in_steps=200_000, prune_steps=10).fit(
            design, y, client=client, cancel=token
        )
    assert time.perf_counter() - start < 10.0
    while any(client.processing().values()):  # a started batch stops at its next check
        assert time.perf_counter() - start < 30.0, "a cancelled seed batch kept running"
        time.sleep(0.2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the workers have a GPU")
def test_a_workers_config_error_reaches_the_caller_as_itself(data, client):
    design, y = data  # the device is resolved on the worker, which has no GPU
    with pytest.raises(ConfigError, match=r"DeepRTM \[device\]: CUDA was asked for"):
        DeepRTM(device="cuda", **SHORT).fit(design, y, client=client)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, 20, None, False), [(0, 20)]),
        ((0, 20, None, True), [(0, 5), (5, 10), (10, 15), (15, 20)]),
        ((3, 7, 3, False), [(3, 6), (6, 9), (9, 10)]),
        ((0, 2, 5, True), [(0, 2)]),
    ],
)
def test_seed_batch_rule(args, expected):
    assert [(r.start, r.stop) for r in seed_batches(*args)] == expected


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "5"])
def test_bad_seed_batch_names_the_fix(bad):
    with pytest.raises(ConfigError, match=r"DeepRTM \[seed_batch\]: must be a positive integer"):
        seed_batches(0, 4, bad, False)
