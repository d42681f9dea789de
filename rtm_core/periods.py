"""Study periods: half-open date ranges, their length, and the windows before and after them.

A configuration names a period by two *inclusive* dates (``["2018-01-01", "2018-12-31"]``);
inside rtm_core a :class:`Period` is the half-open range ``[start, end)`` of tz-naive pandas
Timestamps (``2018-01-01 00:00`` to ``2019-01-01 00:00``). An end given with a time of day is
kept as is (it is already an instant, not a day).

The length of a period is a whole number of calendar months when it starts on the 1st of a month
and ends (exclusive) on the 1st of a month, else a number of days (and seconds, for periods
given with times of day). So 2016 (366 days) and 2017 (365 days) both last 12 months, and the
lag windows of a yearly study are the calendar years before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = [
    "Period",
    "PeriodLength",
    "period_length",
    "same_length",
    "shift_period",
    "lag_windows",
    "following_period",
]

_DAY = pd.Timedelta(days=1)


def _timestamp(value) -> pd.Timestamp:
    when = pd.Timestamp(value)
    if when.tzinfo is not None:
        when = when.tz_convert(None)
    return when


def _is_midnight(when: pd.Timestamp) -> bool:
    return when == when.normalize()


def _iso(when: pd.Timestamp) -> str:
    return when.date().isoformat() if _is_midnight(when) else when.isoformat()


@dataclass(frozen=True, order=True)
class Period:
    """A half-open range ``[start, end)`` of tz-naive :class:`pandas.Timestamp`.

    Parameters
    ----------
    start, end : pandas.Timestamp
        First instant in the period and first instant after it.
    """

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self):
        object.__setattr__(self, "start", _timestamp(self.start))
        object.__setattr__(self, "end", _timestamp(self.end))
        if self.end <= self.start:
            raise ValueError(f"a period must end after it starts ({self.start} .. {self.end})")

    @classmethod
    def from_config(cls, bounds: tuple[str, str]) -> Period:
        """Build a period from two inclusive config dates.

        Parameters
        ----------
        bounds : (str, str)
            First and last day, e.g. ``("2018-01-01", "2018-12-31")``. A last value with a time
            of day is taken as the exclusive end instant.

        Returns
        -------
        Period
            ``[start, end + 1 day)``, or ``[start, end)`` when ``end`` has a time of day.

        Raises
        ------
        ValueError
            Unreadable dates or an end before the start.
        """
        start, end = _timestamp(bounds[0]), _timestamp(bounds[1])
        if end < start:
            raise ValueError(f"ends ({bounds[1]}) before it starts ({bounds[0]})")
        return cls(start, end + _DAY if _is_midnight(end) else end)

    def label(self) -> str:
        """Dates for people: ``"2018-01-01 – 2018-12-31"`` (the end date is inclusive)."""
        first, last = self.as_config()
        return f"{first} – {last}"

    def as_config(self) -> tuple[str, str]:
        """Inclusive ISO dates, as a config writes them (inverse of :meth:`from_config`)."""
        last = self.end - _DAY if _is_midnight(self.end) else self.end
        return _iso(self.start), _iso(last)

    def contains(self, when) -> pd.Series | bool:
        """Whether ``when`` (a Timestamp or a datetime Series/array) lies in ``[start, end)``."""
        return (when >= self.start) & (when < self.end)


@dataclass(frozen=True)
class PeriodLength:
    """A period length: calendar ``months`` or ``days`` (plus ``seconds`` for timed periods).

    Parameters
    ----------
    months : int
        Calendar months (used when the period runs from a 1st of a month to a 1st of a month).
    days, seconds : int
        Otherwise, the exact length.
    """

    months: int = 0
    days: int = 0
    seconds: int = 0

    def shift(self, when: pd.Timestamp, n: int) -> pd.Timestamp:
        """``when + n * length`` (``n`` may be negative).

        Parameters
        ----------
        when : pandas.Timestamp or str
            The instant to move (a tz-aware one is converted to tz-naive UTC).
        n : int
            How many lengths to move by.

        Returns
        -------
        pandas.Timestamp
            Moved by ``n * months`` calendar months, then by ``n * days`` days and
            ``n * seconds`` seconds.
        """
        when = _timestamp(when)
        if self.months:
            when = when + pd.DateOffset(months=n * self.months)
        return when + pd.Timedelta(days=n * self.days, seconds=n * self.seconds)

    def describe(self) -> str:
        """The length in words, e.g. ``"12 months"`` or ``"90 days"``."""
        parts = []
        if self.months:
            parts.append(f"{self.months} month" + ("s" if self.months != 1 else ""))
        if self.days or not (self.months or self.seconds):
            parts.append(f"{self.days} day" + ("s" if self.days != 1 else ""))
        if self.seconds:
            parts.append(f"{self.seconds} s")
        return " ".join(parts)


def period_length(period: Period) -> PeriodLength:
    """The length of ``period``: whole calendar months from a 1st to a 1st, else days.

    Parameters
    ----------
    period : Period

    Returns
    -------
    PeriodLength
    """
    start, end = period.start, period.end
    if start.day == 1 and end.day == 1 and _is_midnight(start) and _is_midnight(end):
        return PeriodLength(months=(end.year - start.year) * 12 + end.month - start.month)
    gap = end - start
    return PeriodLength(days=gap.days, seconds=int(gap.seconds))


def same_length(a: Period, b: Period) -> bool:
    """Whether two periods have the same :func:`period_length`.

    Parameters
    ----------
    a, b : Period

    Returns
    -------
    bool
        True when both last the same number of calendar months, or the same days and
        seconds (so 2016 and 2017 have the same length).
    """
    return period_length(a) == period_length(b)


def shift_period(period: Period, length: PeriodLength, n: int) -> Period:
    """``period`` moved by ``n`` lengths (both ends; ``n`` may be negative).

    Parameters
    ----------
    period : Period
    length : PeriodLength
        The step, usually the study's :func:`period_length`.
    n : int
        How many steps.

    Returns
    -------
    Period
        ``[start + n*length, end + n*length)``.
    """
    return Period(length.shift(period.start, n), length.shift(period.end, n))


def lag_windows(target: Period, lags: int, length: PeriodLength) -> list[Period]:
    """The ``lags`` windows before ``target``: lag j = ``[s - j*L, s - (j-1)*L)``, j = 1..lags.

    Parameters
    ----------
    target : Period
        The period whose history is wanted (its own crimes never fall in a window).
    lags : int
        Number of windows (0 gives an empty list).
    length : PeriodLength
        Window length (the study's period length).

    Returns
    -------
    list of Period
        Lag 1 (the window just before ``target``) first.
    """
    s = target.start
    return [Period(length.shift(s, -j), length.shift(s, -(j - 1))) for j in range(1, lags + 1)]


def following_period(period: Period, length: PeriodLength) -> Period:
    """The period of ``length`` that starts where ``period`` ends (the forecast period).

    Parameters
    ----------
    period : Period
        Usually the test period.
    length : PeriodLength
        Length of the new period.

    Returns
    -------
    Period
        ``[period.end, period.end + length)``.
    """
    return Period(period.end, length.shift(period.end, 1))
