"""A study's crime history: every dated crime (or one point set per period), the target
periods (training, test and the forecast period after the test period) and the ``k`` lag
windows before each of them.

For a target period ``[s, s+L)`` and ``k`` lags, lag ``j`` is the window
``[s - j*L, s - (j-1)*L)`` (:func:`rtm_core.periods.lag_windows`); without a date column the
history comes from one file per lag before the training period, and the test period's lag 1 is
the training file, the forecast's lag 1 the test file. The ``[history] lags`` setting lives here,
with the crimes it reaches back to; :mod:`rtm_core.factors.history` turns the windows into the
history factors of each target's design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.errors import InputError
from rtm_core.periods import Period, following_period, lag_windows, period_length

__all__ = ["CrimeHistory", "TARGETS", "check_reaches_back", "forecast_record"]

#: the target periods of a study, in time order
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
    lags : int
        The ``[history] lags`` setting: lag windows before each target period (0: no
        history factors).
    """

    xy: np.ndarray
    times: np.ndarray | None
    train: Period | None
    test: Period | None
    source: str
    blocks: tuple[np.ndarray, ...] = ()
    block_names: tuple[str, ...] = ()
    lags: int = 0

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

    def windows(self, name: str, lags: int | None = None) -> list:
        """Lag windows of a target: Periods with dates, file names without (lag 1 first).

        Parameters
        ----------
        name : {"train", "test", "forecast"}
            The target period.
        lags : int, optional
            Number of windows; default :attr:`lags`.

        Returns
        -------
        list of Period or list of str
            With dates, :func:`rtm_core.periods.lag_windows` of the target, each as
            long as the training period; without dates, the names of the ``lags`` files just
            before the target's own file in :attr:`block_names`.
        """
        lags = self.lags if lags is None else lags
        if self.dated:
            target = self.target(name)
            return lag_windows(target, lags, period_length(self.train))
        end = len(self.blocks) - 2 + TARGETS.index(name)  # position of the target
        return [self.block_names[end - j] for j in range(1, lags + 1)]

    def lag_points(self, name: str, lags: int | None = None) -> list[np.ndarray]:
        """Crime points of each lag window of a target (lag 1 first).

        Parameters
        ----------
        name : {"train", "test", "forecast"}
            The target period.
        lags : int, optional
            Number of windows; default :attr:`lags`.

        Returns
        -------
        list of ndarray of shape (m_j, 2)
            Crimes (working CRS) dated inside window j, or, without dates, the points of
            the j-th file before the target's own.
        """
        lags = self.lags if lags is None else lags
        if self.dated:
            return [
                self.xy[np.asarray(w.contains(self.times), dtype=bool)]
                for w in self.windows(name, lags)
            ]
        end = len(self.blocks) - 2 + TARGETS.index(name)
        return [self.blocks[end - j] for j in range(1, lags + 1)]


def check_reaches_back(history: CrimeHistory, lags: int | None = None) -> None:
    """Refuse dated data that does not reach back to the start of the oldest lag window.

    The earliest crime must fall on the first day of the oldest training window or before.
    Does nothing without dates or with ``lags <= 0``.

    Parameters
    ----------
    history : CrimeHistory
        The study's crimes.
    lags : int, optional
        Number of lag windows before the training period; default the history's own
        (the ``[history] lags`` setting).

    Raises
    ------
    InputError
        Naming the earliest date in the file and the date needed.
    """
    lags = history.lags if lags is None else lags
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
