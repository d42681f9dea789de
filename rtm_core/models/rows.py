"""Units grouped into rows: equal rows of a design fitted once, weighted by their count.

Shared by the classical RTM (GLMs on (pattern, count) rows) and the deep-learning RTM (its loss
over collapsed rows). Grouping is exact: a model fitted on the grouped rows has the likelihood
of the unit-level model.
"""

from __future__ import annotations

import numpy as np

from rtm_core.models.design import Design

__all__ = ["row_keys", "collapse", "collapse_ints", "CollapsedRows", "standard_errors"]


def row_keys(*blocks: np.ndarray) -> np.ndarray:
    """One hashable byte string per row of the given (n, .) blocks (0/1 blocks are packed)."""
    n_rows = np.asarray(blocks[0]).shape[0]
    parts = []
    for block in blocks:
        block = np.asarray(block)
        if block.ndim == 1:
            block = block[:, None]
        if block.shape[1] == 0:
            continue
        # 0/1 test without np.isin, whose wide temporary took 1.4 GB at 1M units x 108 dummies
        if block.dtype.kind in "ub":
            zero_one = block.size == 0 or block.max() <= 1
        else:
            zero_one = bool(((block == 0) | (block == 1)).all())
        if zero_one:
            parts.append(np.packbits(block.astype(bool), axis=1))
        else:
            parts.append(np.ascontiguousarray(block, dtype=np.float64).view(np.uint8))
    if not parts:
        return np.zeros(n_rows, dtype=np.int64)
    raw = np.ascontiguousarray(np.hstack(parts))
    return raw.view(np.dtype((np.void, raw.shape[1]))).ravel()


def collapse(keys: np.ndarray):
    """First row index, inverse map and size of each group of equal keys."""
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return first, inverse.ravel(), counts


def collapse_ints(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`collapse` for small non-negative integer keys: groups in key order, one
    member row of each (rows of a group are identical) and the group sizes, by counting
    instead of sorting."""
    if key.size == 0 or int(key.max()) > 4 * key.size:
        first, _, counts = collapse(key)
        return first, counts
    counts = np.bincount(key)
    member = np.empty(counts.size, dtype=np.int64)
    member[key] = np.arange(key.size)
    groups = np.flatnonzero(counts)
    return member[groups], counts[groups]


class CollapsedRows:
    """Units grouped into rows with equal dummies and covariates (NB2: and equal count)."""

    def __init__(self, design: Design, y: np.ndarray, family: str, grouped: bool):
        blocks = [design.X, design.covariates] + ([y[:, None]] if family == "negbin" else [])
        if grouped:
            first, inverse, counts = collapse(row_keys(*blocks))
        else:
            first = inverse = np.arange(design.n_units)
            counts = np.ones(design.n_units, dtype=np.int64)
        self.X = design.X[first]
        self.covariates = design.covariates[first]
        self.units = counts.astype(np.float64)
        self.crimes = np.bincount(inverse, weights=y, minlength=first.size)  # summed over units
        self.count = y[first]  # the count of each unit of the row (NB2 rows only)
        rest = [self.covariates] + ([self.count[:, None]] if family == "negbin" else [])
        rest_first, self.rest_id, _ = collapse(row_keys(*rest))
        self.rest_covariates = self.covariates[rest_first].T
        self.rest_count = self.count[rest_first] if family == "negbin" else None


def standard_errors(rows: CollapsedRows, cols, params, dispersion) -> np.ndarray:
    """Square roots of the diagonal of the inverse observed information (nan if singular).

    Parameters
    ----------
    rows : CollapsedRows
        Units grouped by covariates (``units`` per row, ``count`` crimes per row).
    cols : sequence of int
        The design columns in the model (after the intercept and fixed covariates).
    params : ndarray
        Intercept, fixed-covariate and ``cols`` coefficients (log scale).
    dispersion : float or None
        NB2 dispersion ``alpha``; None for Poisson.

    Returns
    -------
    ndarray
        One standard error per parameter (all nan when the information is singular).
    """
    design = np.column_stack([np.ones(len(rows.units)), rows.covariates, rows.X[:, cols]])
    mu = np.exp(design @ params)
    if dispersion is None:
        weight = rows.units * mu
    else:
        size = 1.0 / dispersion
        weight = rows.units * size * mu * (size + rows.count) / (size + mu) ** 2
    info = design.T @ (design * weight[:, None])
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full(params.size, np.nan)
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))
