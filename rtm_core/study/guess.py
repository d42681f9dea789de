"""Good first guesses for a table the analyst uploads: coordinate columns, the date column,
and training/test period presets with their crime counts.

The app pre-fills its choices from these; the analyst can change every one. Nothing here
reads files: the functions take the table (see :func:`rtm_core.io.read_table`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.io import parse_dates

__all__ = [
    "CoordinateCandidate",
    "CoordinateGuess",
    "PeriodPreset",
    "guess_coordinates",
    "guess_date_column",
    "period_presets",
]

_LON = {"lon", "long", "lng", "longitude", "xlon", "lonwgs84", "longitudewgs84"}
_LAT = {"lat", "latitude", "ylat", "latwgs84", "latitudewgs84"}
_X = {"x", "pointx", "xcoord", "xcoordinate", "xcoordinates", "easting", "east", "coordx", "xm"}
_Y = {"y", "pointy", "ycoord", "ycoordinate", "ycoordinates", "northing", "north", "coordy", "ym"}
_DATE_HINTS = ("date", "time", "occur", "reported", "when", "datetime", "timestamp")
#: values needed to judge a column; more are not parsed (speed on large tables)
_SAMPLE = 2000


@dataclass(frozen=True)
class CoordinateCandidate:
    """A pair of coordinate columns.

    Attributes
    ----------
    x, y : str
        Column names.
    kind : {"projected", "lonlat"}
        Projected x/y (metres or feet; a CRS is needed) or lon/lat degrees (EPSG:4326).
    n_complete : int
        Rows where both columns hold a finite number.
    n_rows : int
        Rows in the table.
    """

    x: str
    y: str
    kind: str
    n_complete: int
    n_rows: int

    @property
    def n_missing(self) -> int:
        """Rows this pair would lose."""
        return self.n_rows - self.n_complete


@dataclass(frozen=True)
class CoordinateGuess:
    """The coordinate columns found, and the best pair.

    Attributes
    ----------
    best : CoordinateCandidate or None
        The pair with the most complete rows; projected x/y win ties.
    candidates : tuple of CoordinateCandidate
        Every pair found, best first.
    """

    best: CoordinateCandidate | None
    candidates: tuple[CoordinateCandidate, ...]

    @property
    def ask(self) -> bool:
        """Whether there is a choice to show (more than one pair, with their counts)."""
        return len(self.candidates) > 1


@dataclass(frozen=True)
class PeriodPreset:
    """A training period (t) and the test period (t+1) that follows it.

    Attributes
    ----------
    name : str
        E.g. "last full year (2023) after 2022".
    train, test : tuple of str
        Inclusive ``(start, end)`` dates, ``YYYY-MM-DD`` (as ``crimes.train``/``crimes.test``).
    n_train, n_test : int
        Crimes dated in each period.
    """

    name: str
    train: tuple[str, str]
    test: tuple[str, str]
    n_train: int
    n_test: int


def _key(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _numbers(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column):
        return np.full(len(column), np.nan)
    values = pd.to_numeric(column, errors="coerce")
    return values.to_numpy(dtype=float, na_value=np.nan)


def _pair(frame: pd.DataFrame, xs: set, ys: set) -> tuple[str, str] | None:
    x = next((c for c in frame.columns if _key(c) in xs), None)
    y = next((c for c in frame.columns if _key(c) in ys), None)
    return (str(x), str(y)) if x is not None and y is not None and x != y else None


def guess_coordinates(frame: pd.DataFrame) -> CoordinateGuess:
    """Find lon/lat and projected x/y column pairs and pick the one that keeps most rows.

    A pair is judged by its values, not only its names: x/y columns holding degrees count as
    lon/lat. The best pair has the most rows with both coordinates; projected x/y win ties
    (no reprojection from rounded degrees).

    Parameters
    ----------
    frame : DataFrame
        The table as read (see :func:`rtm_core.io.read_table`).

    Returns
    -------
    CoordinateGuess
    """
    found = []
    for xs, ys in ((_X, _Y), (_LON, _LAT)):
        pair = _pair(frame, xs, ys)
        if pair is None or any(pair[:2] == (c.x, c.y) for c in found):
            continue
        x, y = _numbers(frame[pair[0]]), _numbers(frame[pair[1]])
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            continue
        degrees = bool((np.abs(x[ok]) <= 180).all() and (np.abs(y[ok]) <= 90).all())
        kind = "lonlat" if degrees else "projected"
        found.append(CoordinateCandidate(pair[0], pair[1], kind, int(ok.sum()), len(frame)))
    found.sort(key=lambda c: (-c.n_complete, c.kind != "projected"))
    return CoordinateGuess(found[0] if found else None, tuple(found))


def _date_share(column: pd.Series) -> float:
    """Share of the filled values that read as dates between 1900 and 2100."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return 0.0  # ids, counts, coordinates: never dates
    filled = column.dropna()
    if len(filled) == 0:
        return 0.0
    sample = filled.iloc[:: max(1, len(filled) // _SAMPLE)].iloc[:_SAMPLE]
    if not pd.api.types.is_datetime64_any_dtype(sample):
        text = sample.astype("string").str.strip()
        if text.str.fullmatch(r"[+-]?\d+(?:[.,]\d+)?").mean() > 0.5:
            return 0.0  # numbers stored as text (ids, years): not dates
    when = parse_dates(sample)
    inside = (when >= pd.Timestamp("1900-01-01")) & (when < pd.Timestamp("2101-01-01"))
    return float(inside.mean())


def guess_date_column(frame: pd.DataFrame) -> str | None:
    """The column whose values read as dates (1900-2100) most often; None when none does.

    Columns are judged by parsing (at least half their filled values must read as dates),
    never by position; integer columns (ids) are never dates. Ties go to names such as
    "date", "occurred", "time".
    """
    best, best_score = None, (0.5, False)
    for col in frame.columns:
        if col == getattr(frame, "_geometry_column_name", None):
            continue
        share = _date_share(frame[col])
        hinted = any(h in str(col).lower() for h in _DATE_HINTS)
        if share >= 0.5 and (share, hinted) > best_score:
            best, best_score = str(col), (share, hinted)
    return best


def _day(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def _count(when: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Crimes from ``start`` to ``end`` inclusive (whole days), as the periods count them."""
    return int(((when >= start) & (when < end + pd.Timedelta(days=1))).sum())


def _covered(period: pd.Period, first: pd.Timestamp, last: pd.Timestamp) -> bool:
    """Whether the data covers ``period``: its first and last crimes (exact instants, times of
    day included) fall within 1/30 of the period's length of the period's first and last day
    (a year's data whose last crime falls on 28 December is full; a quarter from 1 January
    whose first crime falls on 4 January at 05:00 is not: 3.2 days > 90/30 days).
    """
    start, end = period.start_time.normalize(), period.end_time.normalize()
    slack = (end - start) / 30
    return first <= start + slack and last >= end - slack


def period_presets(dates: pd.Series) -> list[PeriodPreset]:
    """Training/test presets the data covers fully, with crimes per period.

    - the last full calendar year as test, the year before as training;
    - the last two full quarters;
    - the last two full months.

    A period is full when the data reaches (within 1/30 of the period's length, measured to
    the first and last crimes' exact times) from its first to its last day. Presets the data
    does not cover are left out.

    Parameters
    ----------
    dates : Series
        The date column (strings or datetimes; unreadable values are ignored).

    Returns
    -------
    list of PeriodPreset
    """
    when = parse_dates(dates).dropna()
    if when.empty:
        return []
    first, last = when.min(), when.max()
    presets = []
    for freq, label in (("Y", "year"), ("Q", "quarter"), ("M", "month")):
        periods = pd.period_range(first, last, freq=freq)
        full = [p for p in periods if _covered(p, first, last)]
        if len(full) < 2:
            continue
        train, test = full[-2], full[-1]
        spans = []
        for p in (train, test):
            start, end = p.start_time.normalize(), p.end_time.normalize()
            spans.append((start, end))
        (s0, e0), (s1, e1) = spans
        presets.append(
            PeriodPreset(
                name=f"last full {label} ({test}) after {train}",
                train=(_day(s0), _day(e0)),
                test=(_day(s1), _day(e1)),
                n_train=_count(when, s0, e0),
                n_test=_count(when, s1, e1),
            )
        )
    return presets
