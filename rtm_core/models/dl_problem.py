"""The training problem of the deep-learning RTM: device, trained columns, start values.

Everything here is a pure function of the design, the counts and the model settings, so a
Dask worker that builds the problem again from the same inputs trains on the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import gammaln

from rtm_core.errors import ConfigError, InputError
from rtm_core.models.design import Design
from rtm_core.models.dl_module import GATE_START, Layout, Problem, Rows
from rtm_core.models.rows import CollapsedRows

__all__ = ["START_WEIGHT", "build_problem", "layout_of", "resolve_device", "varying_columns"]

START_WEIGHT = 0.01  # every set weight at the start, all seeds alike


def resolve_device(option: str) -> str:
    """``"cpu"`` or ``"cuda"`` for a device option (``"auto"``: CUDA when available)."""
    if option == "cpu":
        return "cpu"
    available = torch.cuda.is_available()
    if option == "cuda" and not available:
        raise ConfigError(
            "DeepRTM",
            "device",
            "CUDA was asked for but torch.cuda.is_available() is False",
            'use device="auto" or "cpu", or install a CUDA build of torch '
            "on a machine with an NVIDIA GPU",
        )
    return "cuda" if available else "cpu"


def varying_columns(design: Design) -> np.ndarray:
    """Columns that vary over units: a constant dummy is never selected nor trained (all-0
    adds nothing, all-1 duplicates the intercept)."""
    sums = design.X.sum(axis=0, dtype=np.float64)
    varying = np.flatnonzero((sums > 0) & (sums < design.n_units))
    if varying.size == 0:
        raise InputError(
            "DeepRTM.fit",
            "design",
            "no risk-factor dummy varies over the units",
            "check the generator layers and bandwidths (every dummy is all 0 or all 1)",
        )
    return varying


def layout_of(design: Design, loss: str, cancel_gate: bool) -> Layout:
    """Where each parameter of one seed lives, for the trained design.

    Parameters
    ----------
    design : Design
        The trained (varying) columns.
    loss : {"poisson", "negbin"}
    cancel_gate : bool

    Returns
    -------
    Layout
    """
    return Layout(
        design.covariates.shape[1],
        design.X.shape[1],
        len(design.set_names),
        bool(cancel_gate),
        loss == "negbin",
    )


def build_problem(
    design: Design, y: np.ndarray, rows: CollapsedRows, loss: str, cancel_gate: bool, device
) -> Problem:
    """Everything :func:`~rtm_core.models.dl_train.train` needs, on ``device``.

    Parameters
    ----------
    design : Design
        The trained (varying) columns.
    y : ndarray of shape (n_units,)
        Checked crime counts.
    rows : CollapsedRows
        The design's collapsed rows.
    loss : {"poisson", "negbin"}
    cancel_gate : bool
    device : str or torch.device

    Returns
    -------
    Problem
    """
    n = design.n_units
    layout = layout_of(design, loss, cancel_gate)
    set_cols = [design.columns_of(s) for s in design.set_names]
    sizes = np.array([c.size for c in set_cols])
    table = np.full((sizes.size, sizes.max()), -1, dtype=np.int64)
    for g, cols in enumerate(set_cols):
        table[g, : cols.size] = cols
    start = np.zeros(layout.size)
    start[0] = math.log(y.mean())
    start[layout.weights] = START_WEIGHT
    start[layout.gates] = GATE_START
    if layout.dispersion:
        moment = (y.var() - y.mean()) / y.mean() ** 2
        start[layout.log_dispersion] = math.log(min(max(moment, 0.01), 10.0))
    dtype = torch.float64 if loss == "negbin" else torch.float32
    crimes = rows.count if loss == "negbin" else rows.crimes / n
    return Problem(
        family=loss,
        columns=torch.as_tensor(np.ascontiguousarray(rows.X.T, dtype=np.uint8), device=device),
        rows=Rows(
            share=torch.as_tensor(rows.units[None] / n, dtype=dtype, device=device),
            crimes=torch.as_tensor(crimes[None], dtype=dtype, device=device),
            covariates=torch.as_tensor(rows.covariates.T[None], dtype=torch.float32, device=device),
        ),
        set_columns=table,
        set_sizes=sizes,
        rest_id=rows.rest_id,
        rest_covariates=rows.rest_covariates,
        rest_count=rows.rest_count,
        start=start,
        loss_constant=float(gammaln(y + 1).sum() / n),
        gate_penalty=math.log(n) / (2 * n) if cancel_gate else 0.0,
        layout=layout,
    )
