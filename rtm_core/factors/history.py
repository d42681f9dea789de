"""Crime history as fixed covariates: counts of past crimes in and around every unit, per lag.

For a target period ``[s, s+L)`` and ``k`` lags, lag ``j`` is the window
``[s - j*L, s - (j-1)*L)`` (:func:`rtm_core.study.periods.lag_windows`). Per lag the history factors
are the crimes of the window *in the unit* (counted as :func:`rtm_core.study.units.count_crimes`
counts the outcome: grid cells and polygons contain, points and lines snap) and the crimes
*within each bandwidth* of the unit's point, as ``log(1 + count)`` by default. Columns are
named ``hist{j}_unit`` and ``hist{j}_{bw}m`` (``hist1_unit``, ``hist1_150m``, ...).

A crime of the target period never enters its own history: every window ends at or before the
target's start (tested with Hypothesis in ``tests/properties/test_history_properties.py``).

Without a date column (separate training and test files) the history comes from one file per
lag before the training period; the test period's lag 1 is then the training file, and the
forecast's lag 1 the test file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from rtm_core.config import HistoryConfig
from rtm_core.errors import InputError
from rtm_core.study.periods import Period, following_period, lag_windows, period_length
from rtm_core.study.units import Units, count_crimes

__all__ = [
    "CrimeHistory",
    "HistoryTables",
    "history_factors",
    "lag_factors",
    "lag_counts",
    "build_history",
    "check_reaches_back",
    "forecast_record",
    "TARGETS",
]

TARGETS = ("train", "test", "forecast")


@dataclass(frozen=True)
class CrimeHistory:
    """All dated crime points of a study (or, without dates, one point set per period).

    Attributes
    ----------
    xy : ndarray of shape (m, 2)
        Every crime with a readable date (working CRS), whatever its period.
    times : ndarray of datetime64[ns] or None
        Their dates; None without a date column.
    train, test : Period or None
        The study's periods (None without dates).
    source : str
        The crimes file, for messages.
    blocks : tuple of ndarray
        Without dates: crime points per period, oldest first: history files lag k .. lag 1,
        then the training and the test file.
    block_names : tuple of str
        File names of ``blocks``.
    """

    xy: np.ndarray
    times: np.ndarray | None
    train: Period | None
    test: Period | None
    source: str
    blocks: tuple[np.ndarray, ...] = ()
    block_names: tuple[str, ...] = ()

    @property
    def dated(self) -> bool:
        """Whether the crimes carry dates (one crimes file with a date column)."""
        return self.times is not None

    @property
    def forecast(self) -> Period | None:
        """The period after the test period, as long as it (None without dates)."""
        if self.test is None:
            return None
        return following_period(self.test, period_length(self.test))

    def target(self, name: str) -> Period | None:
        """The period of ``"train"``, ``"test"`` or ``"forecast"``."""
        return {"train": self.train, "test": self.test, "forecast": self.forecast}[name]

    def windows(self, name: str, lags: int) -> list:
        """Lag windows of a target: Periods with dates, file names without (lag 1 first).

        Parameters
        ----------
        name : {"train", "test", "forecast"}
            The target period.
        lags : int
            Number of windows.

        Returns
        -------
        list of Period or list of str
            With dates, :func:`rtm_core.study.periods.lag_windows` of the target, each as
            long as the training period; without dates, the names of the ``lags`` files just
            before the target's own file in :attr:`block_names`.
        """
        if self.dated:
            target = self.target(name)
            return lag_windows(target, lags, period_length(self.train))
        end = len(self.blocks) - 2 + TARGETS.index(name)  # position of the target
        return [self.block_names[end - j] for j in range(1, lags + 1)]

    def lag_points(self, name: str, lags: int) -> list[np.ndarray]:
        """Crime points of each lag window of a target (lag 1 first).

        Parameters
        ----------
        name : {"train", "test", "forecast"}
            The target period.
        lags : int
            Number of windows.

        Returns
        -------
        list of ndarray of shape (m_j, 2)
            Crimes (working CRS) dated inside window j, or, without dates, the points of
            the j-th file before the target's own.
        """
        if self.dated:
            return [
                self.xy[np.asarray(w.contains(self.times), dtype=bool)]
                for w in self.windows(name, lags)
            ]
        end = len(self.blocks) - 2 + TARGETS.index(name)
        return [self.blocks[end - j] for j in range(1, lags + 1)]


def check_reaches_back(history: CrimeHistory, lags: int) -> None:
    """Refuse dated data that does not reach back to the start of the oldest lag window.

    The earliest crime must fall on the first day of the oldest training window or before.
    Does nothing without dates or with ``lags <= 0``.

    Parameters
    ----------
    history : CrimeHistory
        The study's crimes.
    lags : int
        Number of lag windows before the training period (the ``[history] lags`` setting).

    Raises
    ------
    InputError
        Naming the earliest date in the file and the date needed.
    """
    if not history.dated or lags <= 0:
        return
    needed = history.windows("train", lags)[-1].start
    if len(history.times) == 0:
        earliest = None
    else:
        earliest = pd.Timestamp(history.times.min())
    if earliest is None or earliest.normalize() > needed:
        first = "no dated crime" if earliest is None else f"the earliest date is {earliest.date()}"
        raise InputError(
            history.source,
            "history.lags",
            f"{lags} lag(s) before the training period need crimes from {needed.date()}, "
            f"but {first} in the file",
            f"lower history.lags, move the periods later, or use a file that reaches back to "
            f"{needed.date()}",
        )


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
        Lag windows, lag 1 first (:func:`rtm_core.study.periods.lag_windows`).
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

    def fixed(self, base: pd.DataFrame, target: str) -> pd.DataFrame:
        """``base`` fixed covariates plus the history factors of ``target`` (model columns).

        Parameters
        ----------
        base : DataFrame
            Fixed covariates, one row per unit in unit order (its index is dropped).
        target : {"train", "test", "forecast"}

        Returns
        -------
        DataFrame
            ``base``'s columns, then the history factors in :attr:`columns`.
        """
        return pd.concat([base.reset_index(drop=True), self.factors[target][self.columns]], axis=1)


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
        The study's crimes.
    cfg : HistoryConfig
        Lags, bandwidths (metres) and transform.
    snap_distance, chunk_size
        As in :func:`lag_factors`.

    Returns
    -------
    HistoryTables
        Factors, in-unit counts and windows for ``"train"``, ``"test"`` and ``"forecast"``.
    """
    factors, counts, windows = {}, {}, {}
    for name in TARGETS:
        points = history.lag_points(name, cfg.lags)
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
            list(w.as_config()) if isinstance(w, Period) else w
            for w in history.windows(name, cfg.lags)
        ]
    return HistoryTables(factors, counts, windows)


def forecast_record(history: CrimeHistory | None, with_history: bool) -> dict:
    """The manifest's ``forecast``: the period after the test period and how it was made.

    Parameters
    ----------
    history : CrimeHistory or None
        The study's crimes (:attr:`rtm_core.study.load.Study.history`); None without dates
        and without history files.
    with_history : bool
        Whether history factors were built for the run.

    Returns
    -------
    dict
        ``start`` and inclusive ``end`` (ISO dates; None without dates) and ``method``:
        ``"applied with shifted history"`` (models fitted on the training period applied to the
        history before the forecast period, not refitted) or ``"environment only"``.
    """
    period = history.forecast if history is not None else None
    start, end = period.as_config() if period is not None else (None, None)
    method = "applied with shifted history" if with_history else "environment only"
    return {"start": start, "end": end, "method": method}
