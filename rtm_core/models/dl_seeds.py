"""Seeds of the deep-learning RTM in batches: one after another in process, or as Dask tasks.

A fit trains seeds ``o, ..., o + K - 1``. They are split into batches of consecutive seeds;
each batch is one call of :func:`~rtm_core.models.dl_train.train` (one tensor program) and the
per-seed results of the batches are put back in seed order. Seed k's burn-in masks always come
from ``SeedSequence(random_state, spawn_key=(k,))``, whatever batch it trains in.

Batch size (``DeepRTM(seed_batch=...)``):

* ``None`` in process (the default): all seeds in one batch, as before batches existed;
* ``None`` with a Dask client: batches of :data:`DASK_SEED_BATCH` seeds, each an independent
  task (20 seeds: 4 tasks);
* ``b``: batches of ``b`` seeds, in process and on Dask alike.

A seed's numbers depend on the size of the batch it trains in, at float rounding (about 1e-7
on the coefficients: torch's batched kernels group their arithmetic by the batch's shape), but
never on where the batch runs. A fit on Dask therefore equals, bit for bit, the in-process fit
with the same batches (``seed_batch=DASK_SEED_BATCH``), and the in-process default is the
one-batch fit of before.
"""

from __future__ import annotations

import numbers
import time
import uuid
from dataclasses import dataclass

import numpy as np

from rtm_core.cluster import Throttled, roomy_malloc
from rtm_core.errors import ConfigError, check_cancel
from rtm_core.models.design import Design
from rtm_core.models.dl_module import TrainResult, TrainSpec
from rtm_core.models.dl_problem import build_problem, resolve_device
from rtm_core.models.dl_train import train
from rtm_core.models.rows import CollapsedRows

__all__ = ["DASK_SEED_BATCH", "SeedPlan", "fit_seed_batch", "seed_batches", "train_seeds"]

#: seeds per Dask task when ``seed_batch`` is not given (fixed, so that a result does not
#: depend on the size of the cluster)
DASK_SEED_BATCH = 5
_WAIT_S = 0.1  # how often the caller looks at finished tasks and its cancel token


@dataclass(frozen=True)
class SeedPlan:
    """What every batch of one fit shares: model settings, device option, root seed, steps."""

    loss: str
    cancel_gate: bool
    device: str
    random_state: int
    spec: TrainSpec


def seed_batches(first: int, n_seeds: int, seed_batch, on_dask: bool) -> list[range]:
    """Consecutive seed indices in batches (see the module docstring for the size).

    Parameters
    ----------
    first : int
        Index of the first seed (``seed_offset``).
    n_seeds : int
    seed_batch : int or None
        Seeds per batch; None: one batch in process, :data:`DASK_SEED_BATCH` on Dask.
    on_dask : bool
        A Dask client runs the batches.

    Returns
    -------
    list of range
    """
    valid = isinstance(seed_batch, numbers.Integral) and not isinstance(seed_batch, bool)
    if seed_batch is not None and (not valid or seed_batch < 1):
        raise ConfigError(
            "DeepRTM",
            "seed_batch",
            f"must be a positive integer or None, got {seed_batch!r}",
            f"use e.g. {DASK_SEED_BATCH}, or None (one batch in process)",
        )
    size = seed_batch or (DASK_SEED_BATCH if on_dask else n_seeds)
    stop = first + n_seeds
    return [range(start, min(start + size, stop)) for start in range(first, stop, size)]


def seed_generators(random_state: int, seeds: range) -> list[np.random.Generator]:
    """Seed k's generator: the k-th child of ``SeedSequence(random_state)``.

    Parameters
    ----------
    random_state : int
        Root of every seed's generator.
    seeds : range
        Seed indices.

    Returns
    -------
    list of numpy.random.Generator
        One per seed, in order.
    """
    return [
        np.random.default_rng(np.random.SeedSequence(random_state, spawn_key=(k,))) for k in seeds
    ]


def merge_results(parts: list[TrainResult]) -> TrainResult:
    """The batches' per-seed results, in seed order, as one result."""
    return TrainResult(
        np.concatenate([p.theta for p in parts]),
        np.concatenate([p.kept for p in parts]),
        np.concatenate([p.seed_loss for p in parts]),
        np.concatenate([p.history for p in parts], axis=1),
        parts[0].n_iter,
    )


def fit_seed_batch(
    design: Design, y: np.ndarray, plan: SeedPlan, seeds: range, stop=None
) -> tuple[TrainResult, str]:
    """Train one batch of seeds from the design alone: the Dask task.

    Parameters
    ----------
    design : Design
        The trained (varying) columns.
    y : ndarray of shape (n_units,)
        Checked crime counts.
    plan : SeedPlan
    seeds : range
        Seed indices of the batch.
    stop : object with ``is_set()``, optional
        The caller's cancel flag (a Dask ``Event``), asked at most every half second.

    Returns
    -------
    (TrainResult, str)
        The batch's per-seed results and the device it ran on.
    """
    device = resolve_device(plan.device)
    rows = CollapsedRows(design, y, plan.loss, plan.spec.collapse_rows)
    problem = build_problem(design, y, rows, plan.loss, plan.cancel_gate, device)
    cancel = None if stop is None else Throttled(stop)
    rngs = seed_generators(plan.random_state, seeds)
    with roomy_malloc():  # a Dask worker's malloc settings cost 3-4x the CPU time otherwise
        return train(problem, rngs, plan.spec, device, cancel=cancel), device


def train_seeds(
    design: Design,
    y: np.ndarray,
    rows: CollapsedRows,
    plan: SeedPlan,
    batches: list[range],
    *,
    client=None,
    progress=None,
    cancel=None,
) -> tuple[TrainResult, str]:
    """Train every batch, in process one after another or as Dask tasks; merge in seed order.

    Parameters
    ----------
    design : Design
        The trained (varying) columns.
    y : ndarray of shape (n_units,)
        Checked crime counts.
    rows : CollapsedRows
        The design's collapsed rows (in process).
    plan : SeedPlan
    batches : list of range
        From :func:`seed_batches`.
    client : dask.distributed.Client, optional
        Run each batch as a task on it.
    progress : callable, optional
        ``progress(phase, step, total, loss)`` over the whole fit: with several batches the
        steps of every batch count, so the phases run once from 0 to their total (on Dask a
        report comes as each batch finishes, ``loss`` the mean final loss so far).
    cancel : object with ``is_set()``, optional

    Returns
    -------
    (TrainResult, str)
        The merged per-seed results and the device.
    """
    if client is not None:
        return _train_on_dask(client, design, y, plan, batches, progress, cancel)
    device = resolve_device(plan.device)
    problem = build_problem(design, y, rows, plan.loss, plan.cancel_gate, device)
    parts = []
    for index, seeds in enumerate(batches):
        report = _batch_progress(progress, plan.spec, index, len(batches))
        rngs = seed_generators(plan.random_state, seeds)
        parts.append(train(problem, rngs, plan.spec, device, progress=report, cancel=cancel))
    return merge_results(parts), device


def _report_overall(progress, spec: TrainSpec, done: int, loss: float) -> None:
    """Report ``done`` steps of a whole fit (burn-in, then prune) as a phase and step."""
    if done <= spec.burn_in_steps:
        progress("burn-in", done, spec.burn_in_steps, loss)
    else:
        progress("prune", done - spec.burn_in_steps, spec.prune_steps, loss)


def _batch_progress(progress, spec: TrainSpec, index: int, n_batches: int):
    """Batch ``index``'s reports as steps of the whole fit (one batch: ``progress`` itself)."""
    if progress is None or n_batches == 1:
        return progress
    total = spec.burn_in_steps + spec.prune_steps

    def report(phase, step, n_steps, loss):
        done = step + (spec.burn_in_steps if phase == "prune" else 0)
        _report_overall(progress, spec, (index * total + done) // n_batches, loss)

    return report


def _train_on_dask(client, design, y, plan, batches, progress, cancel):
    from dask.distributed import Event, as_completed

    tag = uuid.uuid4().hex[:12]
    stop = Event(f"rtm-dl-cancel-{tag}", client=client)
    design_f, y_f = client.scatter([design, y], broadcast=True, hash=False)  # fresh keys
    futures = [
        client.submit(
            fit_seed_batch,
            design_f,
            y_f,
            plan,
            seeds,
            stop,
            key=f"rtm-dl-seeds-{seeds.start}-{seeds.stop}-{tag}",
            pure=False,
        )
        for seeds in batches
    ]
    position = {future.key: i for i, future in enumerate(futures)}
    parts: list = [None] * len(futures)
    remaining = as_completed(futures)
    total = plan.spec.burn_in_steps + plan.spec.prune_steps
    try:
        while not remaining.is_empty():
            check_cancel(cancel)
            for future in remaining.next_batch(block=False):
                parts[position[future.key]] = future.result()
                done = [p[0] for p in parts if p is not None]
                if progress is not None:
                    loss = float(np.concatenate([p.seed_loss for p in done]).mean())
                    _report_overall(progress, plan.spec, total * len(done) // len(parts), loss)
            time.sleep(_WAIT_S)
    except BaseException:
        stop.set()  # running batches stop at their next cancel check
        client.cancel(futures)
        raise
    return merge_results([p[0] for p in parts]), parts[0][1]
