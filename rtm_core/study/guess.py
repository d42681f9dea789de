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
from rtm_core.io.delimited import coordinate_roles, name_words

__all__ = [
    "CoordinateCandidate",
    "CoordinateGuess",
    "StudyExtent",
    "PeriodPreset",
    "guess_coordinates",
    "guess_date_column",
    "period_presets",
]

#: words of a column name that hint at a date (a tie-break between columns that parse as dates)
_DATE_WORDS = (
    "date",
    "datetime",
    "time",
    "timestamp",
    "dt",
    "day",
    "occur",
    "occurred",
    "reported",
    "when",
    "fecha",
    "hora",
    "dia",
    "datum",
    "data",
    "jour",
    "heure",
)
#: values needed to judge a column; more are not parsed (speed on large tables)
_SAMPLE = 2000
#: share of a column's values that must lie in the study area's range for the column to fit
_FIT_SHARE = 0.8


@dataclass(frozen=True)
class StudyExtent:
    """Where the study area lies, to judge coordinate columns by their values.

    Attributes
    ----------
    lonlat : tuple of float
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    bounds : tuple of float or None
        ``(xmin, ymin, xmax, ymax)`` in the boundary's own CRS when that CRS is projected
        (x/y columns in it fit these); None for a boundary in degrees.
    """

    lonlat: tuple[float, float, float, float]
    bounds: tuple[float, float, float, float] | None = None

    @classmethod
    def of(cls, frame) -> StudyExtent | None:
        """The extent of a boundary or units layer as read (None without features or CRS).

        Parameters
        ----------
        frame : GeoDataFrame
            The layer in its own CRS.

        Returns
        -------
        StudyExtent or None
        """
        if frame is None or frame.crs is None or frame.empty:
            return None
        lonlat = tuple(float(v) for v in frame.to_crs("EPSG:4326").total_bounds)
        own = tuple(float(v) for v in frame.total_bounds)
        if not all(np.isfinite(lonlat)):
            return None
        return cls(lonlat, own if frame.crs.is_projected else None)


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
    """A column as floats (NaN where not a number); dates and flags are never numbers."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return np.full(len(column), np.nan)
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return np.full(len(column), np.nan)
    values = pd.to_numeric(column, errors="coerce")
    return values.to_numpy(dtype=float, na_value=np.nan)


@dataclass(frozen=True)
class _Column:
    """One numeric column: what its name says and where its values lie."""

    name: str
    position: int
    values: np.ndarray
    roles: frozenset  # "lon", "lat", "x", "y" from the name
    fits: frozenset  # the same roles, from the values and the study extent

    @property
    def n_finite(self) -> int:
        return int(np.isfinite(self.values).sum())


def _fits(values: np.ndarray, low: float, high: float, *, degrees: bool) -> bool:
    """Whether most values lie in the range ``low``-``high`` grown by its width (degrees:
    never whole numbers, which counts and codes are)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or (degrees and np.all(finite == np.round(finite))):
        return False
    grow = max(high - low, 1e-3 if degrees else 1.0)
    inside = (finite >= low - grow) & (finite <= high + grow)
    return bool(inside.mean() >= _FIT_SHARE)


def _column(frame: pd.DataFrame, position: int, extent: StudyExtent | None) -> _Column | None:
    """The numeric column at ``position`` (None when most of its filled values are not
    numbers, or it is the geometry)."""
    name = frame.columns[position]
    if name == getattr(frame, "_geometry_column_name", None):
        return None
    values = _numbers(frame.iloc[:, position])
    filled = int(frame.iloc[:, position].notna().sum())
    if filled == 0 or np.isfinite(values).sum() < 0.5 * filled:
        return None
    fits = set()
    if extent is not None:
        west, south, east, north = extent.lonlat
        fits |= {"lon"} if _fits(values, west, east, degrees=True) else set()
        fits |= {"lat"} if _fits(values, south, north, degrees=True) else set()
        if extent.bounds is not None:
            x0, y0, x1, y1 = extent.bounds
            fits |= {"x"} if _fits(values, x0, x1, degrees=False) else set()
            fits |= {"y"} if _fits(values, y0, y1, degrees=False) else set()
    roles = frozenset(coordinate_roles(name))
    return _Column(str(name), position, values, roles, frozenset(fits))


def _best(columns: list[_Column], role: str, allowed) -> list[_Column]:
    """Columns that may play ``role`` (named so, or fitting the study area), best first:
    fitting before only named, then named, then the most numbers, then table order."""
    able = [c for c in columns if (role in c.roles or role in c.fits) and allowed(c)]
    return sorted(
        able, key=lambda c: (role not in c.fits, role not in c.roles, -c.n_finite, c.position)
    )


def _degrees(values: np.ndarray, limit: float) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool((np.abs(finite) <= limit).all())


def _pair_for(columns: list[_Column], x_role: str, y_role: str):
    """The best (x, y) pair of two different columns for two roles, or None."""
    if x_role == "lon":
        xs = _best(columns, "lon", lambda c: _degrees(c.values, 180))
        ys = _best(columns, "lat", lambda c: _degrees(c.values, 180))  # swapped ones too
    else:
        xs, ys = _best(columns, x_role, bool), _best(columns, y_role, bool)
    pairs = [(x, y) for x in xs[:3] for y in ys[:3] if x.name != y.name]
    if not pairs:
        return None
    x, y = min(pairs, key=lambda p: (xs.index(p[0]) + ys.index(p[1]), xs.index(p[0])))
    if x_role == "lon" and not _degrees(y.values, 90):
        # a column beyond +-90 can only be the longitude
        if not _degrees(x.values, 90):
            return None
        x, y = y, x
    return x, y


def guess_coordinates(frame: pd.DataFrame, extent: StudyExtent | None = None) -> CoordinateGuess:
    """Find lon/lat and projected x/y column pairs and pick the one that keeps most rows.

    Columns are judged by their names, in any of the languages of
    :data:`rtm_core.io.delimited.COORDINATE_WORDS` ("longitud", "latitud", "lat", "lng",
    "X Coordinate", "coord_x" ...), and by their values: with a study ``extent`` (the
    boundary), a column whose values fall in the area's longitudes is a longitude, in its
    latitudes a latitude, in its projected x or y range an x or y, whatever its name. A
    column that is not numeric (dates, names) is never a coordinate, and a longitude is
    never taken as y. Pairs whose values fit the study area come first; then the pair
    with the most rows with both coordinates; projected x/y win ties (no reprojection from
    rounded degrees). x/y columns holding degrees count as lon/lat.

    Parameters
    ----------
    frame : DataFrame
        The table as read (see :func:`rtm_core.io.read_table`).
    extent : StudyExtent, optional
        Where the study area lies (:meth:`StudyExtent.of` the boundary).

    Returns
    -------
    CoordinateGuess
    """
    columns = [c for i in range(frame.shape[1]) if (c := _column(frame, i, extent)) is not None]
    found, seen = [], set()
    for x_role, y_role in (("x", "y"), ("lon", "lat")):
        pair = _pair_for(columns, x_role, y_role)
        if pair is None or (pair[0].name, pair[1].name) in seen:
            continue
        x_col, y_col = pair
        seen.add((x_col.name, y_col.name))
        ok = np.isfinite(x_col.values) & np.isfinite(y_col.values)
        if not ok.any():
            continue
        degrees = _degrees(x_col.values[ok], 180) and _degrees(y_col.values[ok], 90)
        kind = "lonlat" if degrees else "projected"
        roles = ("lon", "lat") if degrees else ("x", "y")
        evidence = sum(role in c.fits for c, role in zip(pair, roles, strict=True))
        candidate = CoordinateCandidate(x_col.name, y_col.name, kind, int(ok.sum()), len(frame))
        found.append((evidence, candidate))
    found.sort(key=lambda e: (-e[0], -e[1].n_complete, e[1].kind != "projected"))
    candidates = tuple(c for _, c in found)
    return CoordinateGuess(candidates[0] if candidates else None, candidates)


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
    never by position; integer columns (ids) are never dates. Ties go to names with a word
    such as "date", "occurred", "time", "fecha", "datum", "data", "dt".
    """
    best, best_score = None, (0.5, False)
    for col in frame.columns:
        if col == getattr(frame, "_geometry_column_name", None):
            continue
        share = _date_share(frame[col])
        hinted = any(w.startswith(_DATE_WORDS) for w in name_words(col))
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
