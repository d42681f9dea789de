"""Seed stability: how often each variable is selected across K seeds, and how steady the map is.

Inputs are the per-seed results of any model that selects at most one variable per set (the
deep-learning RTM trained with K seeds, or the classical RTM on resampled data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.errors import ConfigError

__all__ = [
    "StabilitySummary",
    "selection_table",
    "top_share_by_unit",
    "tie_shared_units",
    "summarize_seeds",
    "NONE",
]

NONE = "none"  # the ``variable`` of the row counting seeds that selected nothing in a set
SELECTION_COLUMNS = [
    "set",
    "variable",
    "n_seeds",
    "share",
    "irr_median",
    "irr_min",
    "irr_max",
    "irr_p2_5",
    "irr_p97_5",
]


@dataclass(frozen=True)
class StabilitySummary:
    """Seed-stability results.

    Attributes
    ----------
    selection : DataFrame
        :func:`selection_table` output.
    top_share : ndarray of shape (n_units,)
        :func:`top_share_by_unit` output.
    share : float
        The top share used for ``top_share``.
    n_seeds : int
    """

    selection: pd.DataFrame
    top_share: np.ndarray
    share: float
    n_seeds: int


def selection_table(seed_selected, seed_coef, names, sets) -> pd.DataFrame:
    """Share of seeds selecting each variable (or none) per set, with the IRR spread.

    Parameters
    ----------
    seed_selected : list of dict
        One dict per seed: set name -> selected variable name or None. A set missing from a
        seed's dict counts as None.
    seed_coef : array-like of shape (K, n_vars)
        Set coefficients per seed (zeros for unselected variables), columns as ``names``.
    names, sets : sequence of str
        Variable names and their sets, one per column of ``seed_coef``.

    Returns
    -------
    DataFrame
        One row per (set, variable) selected by at least one seed, ``variable == "none"`` for
        seeds selecting nothing in that set. Columns ``set, variable, n_seeds, share`` (shares
        sum to 1 within each set) and ``irr_median, irr_min, irr_max, irr_p2_5, irr_p97_5``:
        IRR = exp(coef) over the seeds selecting that variable (linear-interpolated
        percentiles; NaN for "none"). Sets in order of first appearance in ``sets``; within a
        set by share descending, then variable name.
    """
    names, sets = list(names), list(sets)
    coef = np.asarray(seed_coef, dtype=np.float64)
    k = len(seed_selected)
    if coef.ndim != 2 or coef.shape != (k, len(names)) or len(sets) != len(names):
        raise ConfigError(
            "selection_table",
            "seed_coef",
            f"shape {coef.shape} does not match {k} seeds x {len(names)} variables",
            "pass one row per seed and one column per variable (names, sets)",
        )
    if k == 0:
        raise ConfigError(
            "selection_table", "seed_selected", "no seeds", "pass the results of at least one seed"
        )
    column = {nm: i for i, nm in enumerate(names)}
    rows = []
    for set_name in dict.fromkeys(sets):
        picks = [sel.get(set_name) for sel in seed_selected]
        unknown = {
            p for p in picks if p is not None and (p not in column or sets[column[p]] != set_name)
        }
        if unknown:
            raise ConfigError(
                "selection_table",
                "seed_selected",
                f"set {set_name!r} selects {sorted(unknown)} not in that set",
                "pass selections that use the design's variable names",
            )
        for var in dict.fromkeys(picks):
            chosen = np.array([p == var for p in picks])
            row = {
                "set": set_name,
                "variable": NONE if var is None else var,
                "n_seeds": int(chosen.sum()),
                "share": chosen.mean(),
            }
            if var is None:
                row.update(dict.fromkeys(SELECTION_COLUMNS[4:], np.nan))
            else:
                irr = np.exp(coef[chosen, column[var]])
                row.update(
                    irr_median=np.median(irr),
                    irr_min=irr.min(),
                    irr_max=irr.max(),
                    irr_p2_5=np.percentile(irr, 2.5),
                    irr_p97_5=np.percentile(irr, 97.5),
                )
            rows.append(row)
    table = pd.DataFrame(rows, columns=SELECTION_COLUMNS)
    order = {s: i for i, s in enumerate(dict.fromkeys(sets))}
    table["_set_order"] = table["set"].map(order)
    table = table.sort_values(
        ["_set_order", "share", "variable"], ascending=[True, False, True], kind="stable"
    )
    return table.drop(columns="_set_order").reset_index(drop=True)


def top_share_by_unit(seed_risks, share: float = 0.05) -> np.ndarray:
    """Per unit, the share of seeds that rank it among the top ``share`` of units.

    Parameters
    ----------
    seed_risks : array-like of shape (K, n_units)
        Predicted risk per seed and unit.
    share : float, default 0.05
        Top share of units (by count), in (0, 1].

    Returns
    -------
    ndarray of shape (n_units,)
        Values in [0, 1]. Each seed flags ``share * n_units`` units (a real number); units
        tied at a seed's cut-off share its remaining slots equally (fractional, no random
        tie-break), so every seed contributes exactly ``share * n_units`` in total.
    """
    risks = np.asarray(seed_risks, dtype=np.float64)
    if risks.ndim != 2 or risks.shape[0] == 0 or risks.shape[1] == 0:
        raise ConfigError(
            "top_share_by_unit",
            "seed_risks",
            f"needs shape (seeds, units), got {risks.shape}",
            "stack one risk vector per seed",
        )
    if not 0 < share <= 1:
        raise ConfigError(
            "top_share_by_unit",
            "share",
            f"must lie in (0, 1], got {share}",
            "use e.g. 0.05 for the top 5 %",
        )
    n = risks.shape[1]
    slots = share * n
    credit = np.zeros(risks.shape)
    for s, risk in enumerate(risks):
        order = np.sort(risk)[::-1]
        cut = order[min(int(np.ceil(slots)) - 1, n - 1)]
        above = risk > cut
        tied = risk == cut
        credit[s, above] = 1.0
        credit[s, tied] = (slots - above.sum()) / tied.sum()
    return credit.mean(axis=0)


def tie_shared_units(shares, n_seeds: int) -> int:
    """Units with some top share but less than one seed's worth (see
    :func:`top_share_by_unit`): at no seed were they wholly in the top, they only tie at some
    seeds' cut-off and share its last places. A map of the shares colours them faintly.

    Parameters
    ----------
    shares : array-like
        Per-unit top shares (``top5_share_dl``).
    n_seeds : int
        Seeds the shares were taken over.

    Returns
    -------
    int
    """
    values = np.asarray(shares, dtype=float)
    if n_seeds < 1:
        return 0
    return int(((values > 0) & (values < 1.0 / n_seeds - 1e-9)).sum())


def summarize_seeds(
    seed_selected, seed_coef, seed_risks, names, sets, *, share: float = 0.05
) -> StabilitySummary:
    """Selection table and per-unit top-share in one result (see the two functions).

    Parameters
    ----------
    seed_selected : list of dict
        One dict per seed: set name -> selected variable name or None.
    seed_coef : array-like of shape (K, n_vars)
        Set coefficients per seed, columns as ``names`` (see :func:`selection_table`).
    seed_risks : array-like of shape (K, n_units)
        Predicted risk per seed and unit, as in :func:`top_share_by_unit`.
    names, sets : sequence of str
        Variable names and their sets, one per column of ``seed_coef``.
    share : float, default 0.05
        Top share of units (by count), in (0, 1].

    Returns
    -------
    StabilitySummary
        ``n_seeds`` is ``len(seed_selected)``.

    Raises
    ------
    ConfigError
        Shapes that do not match, no seeds, a selection outside its set, or ``share``
        outside (0, 1].
    """
    selection = selection_table(seed_selected, seed_coef, names, sets)
    top = top_share_by_unit(seed_risks, share)
    return StabilitySummary(
        selection=selection, top_share=top, share=float(share), n_seeds=len(seed_selected)
    )
