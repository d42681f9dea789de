"""Burn-in masks and pruning of the deep-learning RTM: which column of each set a seed uses.

During burn-in each seed draws one column per set and step from its own generator; at pruning
each keeps the column with the largest weight, and its rows collapse again on the kept columns
(at most ``2**G`` patterns per covariate pattern), so the prune phase costs next to nothing.
"""

from __future__ import annotations

import numpy as np
import torch

from rtm_core.models.dl_module import Problem, Rows

__all__ = ["draw_burn_in_masks", "kept_bits", "prune_columns", "prune_rows"]


def draw_burn_in_masks(rngs, problem: Problem, n_steps: int) -> np.ndarray:
    """Kept column per (step, seed, set): one uniform pick per set from each seed's generator.

    Parameters
    ----------
    rngs : list of numpy.random.Generator
        One per seed; seed k's picks come from ``rngs[k]`` only.
    problem : Problem
    n_steps : int

    Returns
    -------
    ndarray of shape (n_steps, K, G)
        Column positions.
    """
    picks = [
        rng.integers(0, problem.set_sizes, size=(n_steps, problem.set_sizes.size)) for rng in rngs
    ]
    choice = np.stack(picks, axis=1)  # (steps, K, G)
    return problem.set_columns[np.arange(problem.set_sizes.size), choice]


def prune_columns(weights: np.ndarray, problem: Problem) -> np.ndarray:
    """Per seed and set, the column with the largest relu(w) (ties: the lowest column).

    Parameters
    ----------
    weights : ndarray of shape (K, p)
        Set weights of every seed.
    problem : Problem

    Returns
    -------
    ndarray of shape (K, G)
        The kept column of each set.
    """
    score = np.maximum(weights, 0.0)
    kept = np.empty((weights.shape[0], problem.set_sizes.size), dtype=np.int64)
    for g, size in enumerate(problem.set_sizes):
        cols = problem.set_columns[g, :size]
        kept[:, g] = cols[np.argmax(score[:, cols], axis=1)]
    return kept


def kept_bits(columns: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """The kept columns of each seed over the rows.

    Parameters
    ----------
    columns : Tensor of shape (p, m)
        Set dummies of the collapsed rows (:attr:`Problem.columns`).
    kept : Tensor of shape (K, G)

    Returns
    -------
    Tensor of shape (K, G, m), float32
    """
    return columns.index_select(0, kept.reshape(-1)).view(*kept.shape, -1).to(torch.float32)


def _code_bits(n_sets: int) -> np.ndarray:
    codes = np.arange(2**n_sets)
    return ((codes[None, :] >> np.arange(n_sets)[:, None]) & 1).astype(np.float32)


def prune_rows(problem: Problem, kept: np.ndarray, collapse: bool, device):
    """Rows and kept bits of the prune phase.

    With ``collapse`` (and when it pays), every seed's rows collapse on (rest pattern, kept
    columns) into a fixed grid of ``n_rest * 2**G`` rows, most of them empty (weight 0); the
    grid is the same for every seed. Otherwise the rows stay the collapsed rows of the design.

    Parameters
    ----------
    problem : Problem
    kept : ndarray of shape (K, G)
        The pruned column of each seed and set.
    collapse : bool
        Collapse the rows again on the kept columns.
    device : str or torch.device

    Returns
    -------
    (Rows, Tensor of shape (K, G, M))
        The rows and the kept bits over them.
    """
    n_sets, n_rows = kept.shape[1], problem.columns.shape[1]
    n_rest = problem.rest_covariates.shape[1]
    bits = kept_bits(problem.columns, torch.as_tensor(kept, device=device))
    if not collapse or n_sets > 20 or n_rest * 2**n_sets >= n_rows:
        return problem.rows, bits
    powers = (2 ** np.arange(n_sets, dtype=np.int64))[:, None]
    codes = (bits.cpu().numpy().astype(np.int64) * powers).sum(1)  # (K, m)
    keys = problem.rest_id[None, :] * 2**n_sets + codes.astype(np.int64)  # (K, m)
    n_grid = n_rest * 2**n_sets
    share_rows = problem.rows.share[0].double().cpu().numpy()
    share = np.stack([np.bincount(k, weights=share_rows, minlength=n_grid) for k in keys])
    grid_covariates = np.repeat(problem.rest_covariates, 2**n_sets, axis=1)
    if problem.family == "poisson":
        crime_rows = problem.rows.crimes[0].double().cpu().numpy()
        crimes = np.stack([np.bincount(k, weights=crime_rows, minlength=n_grid) for k in keys])
    else:
        crimes = np.repeat(problem.rest_count, 2**n_sets)[None, :]
    dtype = problem.rows.share.dtype
    rows = Rows(
        share=torch.as_tensor(share, dtype=dtype, device=device),
        crimes=torch.as_tensor(crimes, dtype=dtype, device=device),
        covariates=torch.as_tensor(grid_covariates[None], dtype=torch.float32, device=device),
    )
    grid_bits = np.tile(_code_bits(n_sets), (1, n_rest))
    grid_bits = torch.as_tensor(grid_bits, device=device).expand(kept.shape[0], -1, -1)
    return rows, grid_bits
