"""Crime history as fixed covariates: counts of past crimes in and around every unit, per lag.

For a target period ``[s, s+L)`` and ``k`` lags, lag ``j`` is the window
``[s - j*L, s - (j-1)*L)`` (:func:`rtm_core.periods.lag_windows`). Per lag the history factors
are the crimes of the window *in the unit* (counted as :func:`rtm_core.study.units.count_crimes`
counts the outcome: grid cells and polygons contain, points and lines snap) and the crimes
*within each bandwidth* of the unit's point, as ``log(1 + count)`` by default. Columns are
named ``hist{j}_unit`` and ``hist{j}_{bw}m`` (``hist1_unit``, ``hist1_150m``, ...).

A crime of the target period never enters its own history: every window ends at or before the
target's start (tested with Hypothesis in ``tests/properties/test_history_properties.py``).

The windows themselves (dated, or one file per lag) come from the study's
:class:`~rtm_core.study.crime_history.CrimeHistory`, which keeps the ``lags`` setting;
:mod:`rtm_core.factors.designs` joins these factors to the covariates of each period's design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from rtm_core.config import HistoryConfig
from rtm_core.periods import Period
from rtm_core.study.crime_history import TARGETS, CrimeHistory
from rtm_core.study.units import Units, count_crimes

__all__ = [
    "HistoryTables",
    "history_factors",
    "lag_factors",
    "lag_counts",
    "build_history",
]


def lag_counts(units: Units, lag_points: list[np.ndarray], *, snap_distance: float = 50.0):
    """Crimes per unit in each lag window, shape (n_units, lags), int64.

    Parameters
    ----------
    units : Units
    lag_points : list of ndarray of shape (m_j, 2)
        Crimes of lag window j (working CRS), lag 1 first.
    snap_distance : float
        Metres; for point and line units, as in :func:`rtm_core.study.units.count_crimes`.

    Returns
    -------
    ndarray of int64, shape (n_units, len(lag_points))
        Column j - 1 counts the crimes of window j in each unit (no columns when
        ``lag_points`` is empty).
    """
    cols = [count_crimes(units, pts, snap_distance=snap_distance)[0] for pts in lag_points]
    return np.column_stack(cols) if cols else np.zeros((len(units), 0), dtype=np.int64)


def _within(points: np.ndarray, crimes: np.ndarray, radius: float, chunk: int) -> np.ndarray:
    """Crimes within ``radius`` of each point (cKDTree, chunks of points)."""
    out = np.zeros(len(points), dtype=np.int64)
    if len(crimes) == 0 or len(points) == 0:
        return out
    tree = cKDTree(crimes)
    for start in range(0, len(points), chunk):
        part = points[start : start + chunk]
        out[start : start + len(part)] = tree.query_ball_point(part, radius, return_length=True)
    return out


def lag_factors(
    units: Units,
    lag_points: list[np.ndarray],
    cfg: HistoryConfig,
    *,
    snap_distance: float = 50.0,
    chunk_size: int = 50_000,
    in_unit: np.ndarray | None = None,
) -> pd.DataFrame:
    """History factors from the crime points of each lag window (lag 1 first).

    Parameters
    ----------
    units : Units
    lag_points : list of ndarray of shape (m_j, 2)
        Crimes of lag window j (working CRS).
    cfg : HistoryConfig
        Bandwidths (metres) and transform (``"log1p"`` or ``"count"``).
    snap_distance : float
        Metres; for point and line units, as in :func:`rtm_core.study.units.count_crimes`.
    chunk_size : int
        Units per neighbour query.
    in_unit : ndarray of shape (n_units, lags), optional
        :func:`lag_counts` of the same points, when the caller already has them.

    Returns
    -------
    DataFrame
        ``hist{j}_unit`` and ``hist{j}_{bw}m`` per lag, one row per unit, float64.
    """
    columns: dict[str, np.ndarray] = {}
    points = np.asarray(units.points, dtype=float)
    if in_unit is None:
        in_unit = lag_counts(units, lag_points, snap_distance=snap_distance)
    for j, crimes in enumerate(lag_points, start=1):
        crimes = np.asarray(crimes, dtype=float).reshape(-1, 2)
        columns[f"hist{j}_unit"] = in_unit[:, j - 1]
        for bw in cfg.bandwidths:
            columns[f"hist{j}_{bw}m"] = _within(points, crimes, float(bw), chunk_size)
    table = pd.DataFrame(columns, index=range(len(units)), dtype=np.float64)
    return np.log1p(table) if cfg.transform == "log1p" else table


def history_factors(
    units: Units,
    crime_xy: np.ndarray,
    crime_times,
    windows: list[Period],
    cfg: HistoryConfig,
    *,
    snap_distance: float = 50.0,
    chunk_size: int = 50_000,
) -> pd.DataFrame:
    """History factors of one target period from dated crimes.

    Parameters
    ----------
    units : Units
    crime_xy : ndarray of shape (m, 2)
        Dated crimes (working CRS).
    crime_times : array-like of datetime64, length m
    windows : list of Period
        Lag windows, lag 1 first (:func:`rtm_core.periods.lag_windows`).
    cfg : HistoryConfig
    snap_distance, chunk_size
        As in :func:`lag_factors`.

    Returns
    -------
    DataFrame
        ``hist{j}_unit``, ``hist{j}_{bw}m`` for j = 1 .. len(windows).
    """
    xy = np.asarray(crime_xy, dtype=float).reshape(-1, 2)
    times = pd.to_datetime(np.asarray(crime_times))
    points = [xy[np.asarray(w.contains(times), dtype=bool)] for w in windows]
    return lag_factors(units, points, cfg, snap_distance=snap_distance, chunk_size=chunk_size)


@dataclass(frozen=True)
class HistoryTables:
    """History factors and raw unit counts of the training, test and forecast periods.

    Attributes
    ----------
    factors : dict
        ``"train"|"test"|"forecast"`` -> DataFrame of history factors.
    counts : dict
        Same keys -> ndarray (n_units, lags) of crimes in the unit per lag window.
    windows : dict
        Same keys -> list of ``[start, end]`` inclusive ISO dates (file names without dates).
    """

    factors: dict
    counts: dict
    windows: dict

    @property
    def columns(self) -> list[str]:
        """History factors that vary over units in the training period (the model's columns;
        a constant one would only duplicate the intercept)."""
        train = self.factors["train"]
        return [c for c in train.columns if train[c].nunique() > 1]


def build_history(
    units: Units,
    history: CrimeHistory,
    cfg: HistoryConfig,
    *,
    snap_distance: float = 50.0,
    chunk_size: int = 50_000,
) -> HistoryTables:
    """History factors of every target (train, test, forecast) of a study.

    Parameters
    ----------
    units : Units
    history : CrimeHistory
        The study's crimes, with the number of lag windows (``[history] lags``).
    cfg : HistoryConfig
        Bandwidths (metres) and transform.
    snap_distance, chunk_size
        As in :func:`lag_factors`.

    Returns
    -------
    HistoryTables
        Factors, in-unit counts and windows for ``"train"``, ``"test"`` and ``"forecast"``.
    """
    factors, counts, windows = {}, {}, {}
    for name in TARGETS:
        points = history.lag_points(name)
        counts[name] = lag_counts(units, points, snap_distance=snap_distance)
        factors[name] = lag_factors(
            units,
            points,
            cfg,
            snap_distance=snap_distance,
            chunk_size=chunk_size,
            in_unit=counts[name],
        )
        windows[name] = [
            list(w.as_config()) if isinstance(w, Period) else w for w in history.windows(name)
        ]
    return HistoryTables(factors, counts, windows)
