"""The training loop of the deep-learning RTM: burn-in with random one-per-set masks, prune,
then training with the masks fixed (the engine's pieces are in :mod:`rtm_core.models.dl_module`).
"""

from __future__ import annotations

import numpy as np
import torch

from rtm_core.cluster import torch_threads
from rtm_core.errors import check_cancel
from rtm_core.models.dl_masks import draw_burn_in_masks, kept_bits, prune_columns, prune_rows
from rtm_core.models.dl_module import (
    _MASK_CHUNK,
    CANCEL_EVERY,
    HISTORY_EVERY,
    Adam,
    Problem,
    TrainResult,
    TrainSpec,
    gradient,
)

__all__ = ["train"]

# One intra-op thread on CPU during the fit: the tensors are small, and parallel regions inside
# ops cost more than they give (measured on 2-core VMs: steps 2-50x slower with 2 threads).
# Worker threads sharing out the seeds gave nothing either (a burn-in step is memory-bound), so
# the fit runs in the caller's thread; seeds run in parallel as Dask tasks (dl_seeds.py).
_FIT_THREADS = 1


class _Recorder:
    """Loss history, progress calls (about every 1 % of a phase) and cancel checks."""

    def __init__(self, progress, cancel, loss_constant: float):
        self.progress, self.cancel, self.constant = progress, cancel, loss_constant
        self.history: list[np.ndarray] = []
        self.done = 0

    def _reports(self, step: int, total: int) -> bool:
        every = max(1, total // 100)
        return self.progress is not None and ((step + 1) % every == 0 or step + 1 == total)

    def wants_loss(self, step: int, total: int) -> bool:
        return self._reports(step, total) or (self.done + 1) % HISTORY_EVERY == 0

    def after_step(self, phase, step, total, loss) -> None:
        self.done += 1
        if self.done % CANCEL_EVERY == 0:
            check_cancel(self.cancel)
        if loss is None:
            return
        loss = loss.double().cpu().numpy() + self.constant
        if self.done % HISTORY_EVERY == 0:
            self.history.append(loss)
        if self._reports(step, total):
            self.progress(phase, step + 1, total, float(loss.mean()))


def _run_phase(
    theta,
    adam,
    problem,
    recorder,
    phase,
    n_steps,
    masks,
    fixed_bits=None,
    rows=None,
    train_gates=False,
):
    rows = problem.rows if rows is None else rows
    for start in range(0, n_steps, _MASK_CHUNK):
        chunk = masks(min(_MASK_CHUNK, n_steps - start))
        for i in range(chunk.shape[0]):
            kept = chunk[i]
            bits = kept_bits(problem.columns, kept) if fixed_bits is None else fixed_bits
            step = start + i
            need = recorder.wants_loss(step, n_steps)
            grad, loss = gradient(
                theta,
                kept,
                bits,
                rows,
                problem.family,
                problem.layout,
                train_gates=train_gates,
                gate_penalty=problem.gate_penalty,
                need_loss=need,
            )
            adam.step(theta, grad)
            recorder.after_step(phase, step, n_steps, loss)


def train(
    problem: Problem, rngs, spec: TrainSpec, device, *, progress=None, cancel=None
) -> TrainResult:
    """Burn-in with random one-per-set masks, prune to the largest weight, train on.

    Parameters
    ----------
    problem : Problem
    rngs : list of numpy.random.Generator
        One per seed; seed k's burn-in masks come from ``rngs[k]`` only.
    spec : TrainSpec
    device : str or torch.device
    progress : callable, optional
        ``progress(phase, step, total, loss)`` about every 1 % of each phase, ``loss`` the
        mean NLL over the seeds.
    cancel : object with ``is_set()``, optional
        Checked every 50 steps.

    Returns
    -------
    TrainResult
    """
    k, layout = len(rngs), problem.layout
    theta = torch.as_tensor(np.tile(problem.start, (k, 1)), dtype=torch.float32, device=device)
    adam = Adam(theta, spec.learning_rate)
    recorder = _Recorder(progress, cancel, problem.loss_constant)
    with torch_threads(_FIT_THREADS, device):

        def burn_in_masks(n):
            return torch.as_tensor(draw_burn_in_masks(rngs, problem, n), device=device)

        _run_phase(theta, adam, problem, recorder, "burn-in", spec.burn_in_steps, burn_in_masks)
        kept = prune_columns(theta[:, layout.weights].double().cpu().numpy(), problem)
        rows, bits = prune_rows(problem, kept, spec.collapse_rows, device)
        kept_t = torch.as_tensor(kept, device=device)
        _run_phase(
            theta,
            adam,
            problem,
            recorder,
            "prune",
            spec.prune_steps,
            lambda n: kept_t.expand(n, *kept_t.shape),
            fixed_bits=bits,
            rows=rows,
            train_gates=layout.gate,
        )
        _, loss = gradient(theta, kept_t, bits, rows, problem.family, layout, need_loss=True)
    seed_loss = loss.double().cpu().numpy() + problem.loss_constant
    theta_np = theta.double().cpu().numpy()
    if layout.gate:
        coef = np.maximum(np.take_along_axis(theta_np[:, layout.weights], kept, axis=1), 0.0)
        n_on = ((theta_np[:, layout.gates] > 0) & (coef > 0)).sum(1)
        seed_loss = seed_loss + problem.gate_penalty * n_on
    history = np.array(recorder.history).reshape(-1, k)
    return TrainResult(theta_np, kept, seed_loss, history, spec.burn_in_steps + spec.prune_steps)
