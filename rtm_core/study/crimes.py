"""Crimes of a study: read, brought into the working CRS and split into the two periods.

A dated file is split by its date column (both period ends inclusive); without dates, one
file per period (and, for crime history, one per lag). The crime history keeps every dated
crime so history windows and the forecast period can be cut from it later.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from rtm_core.config import CrimesConfig, HistoryConfig, LayerSource
from rtm_core.errors import InputError
from rtm_core.io import Layer, ReadReport, parse_dates, read_layer, to_working_crs
from rtm_core.periods import Period
from rtm_core.study.crime_history import CrimeHistory

__all__ = ["load_crimes", "read_source", "split_periods"]


def split_periods(
    frame: gpd.GeoDataFrame,
    date: str,
    train: tuple[str, str],
    test: tuple[str, str],
    *,
    source: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, int]:
    """Split one crime layer into training and test periods by its date column.

    Parameters
    ----------
    frame : GeoDataFrame
        The crimes as read.
    date : str
        Name of the date column (ISO datetimes with a UTC offset are taken at local time).
    train, test : (str, str)
        First and last day of each period, inclusive (a last value with a time of day is the
        exclusive end instant).
    source : str
        The crimes file, for messages.

    Returns
    -------
    train, test : GeoDataFrame
    n_undated : int
        Rows whose date could not be read (dropped, reported).

    Raises
    ------
    InputError
        No ``date`` column, no readable date in it, unreadable or reversed period dates, or a
        test period that starts before the training period ends.
    """
    train_rows, test_rows, undated, _ = _split(frame, date, train, test, source=source)
    return train_rows, test_rows, undated


def _split(frame, date, train, test, *, source):
    """:func:`split_periods`, plus the parsed dates of every row (NaT where unreadable)."""
    if date not in frame.columns:
        cols = ", ".join(map(str, [c for c in frame.columns if c != "geometry"][:12]))
        raise InputError(
            source,
            date,
            f"date column not found (columns: {cols})",
            "set crimes.date to the date column",
        )
    when = parse_dates(frame[date])  # ISO datetimes with UTC offsets: local wall time
    if len(when) and when.isna().all():
        sample = frame[date].dropna().astype(str)
        example = f" (e.g. {sample.iloc[0][:40]!r})" if len(sample) else ""
        raise InputError(
            source,
            date,
            f"no date in the column could be read{example}",
            "use dates like 2021-03-01 (YYYY-MM-DD), or set crimes.date to the date column",
        )
    bounds = {}
    for key, period in (("train", train), ("test", test)):
        try:
            start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
        except (ValueError, TypeError):
            raise InputError(
                source, f"crimes.{key}", f"cannot read dates {list(period)}", "write YYYY-MM-DD"
            ) from None
        if end < start:
            raise InputError(
                source,
                f"crimes.{key}",
                f"ends ({period[1]}) before it starts ({period[0]})",
                "swap the dates",
            )
        bounds[key] = (start, end + pd.Timedelta(days=1) if end == end.normalize() else end)
    if bounds["test"][0] < bounds["train"][1]:
        raise InputError(
            source,
            "crimes.test",
            "the test period starts before the training period ends",
            "make the test period (t+1) follow the training period (t)",
        )
    in_train = (when >= bounds["train"][0]) & (when < bounds["train"][1])
    in_test = (when >= bounds["test"][0]) & (when < bounds["test"][1])
    undated = int(when.isna().sum())
    return frame[in_train.to_numpy()], frame[in_test.to_numpy()], undated, when


def read_source(source: LayerSource, reads: list) -> Layer:
    """Read one layer and append its read report to ``reads``.

    Parameters
    ----------
    source : LayerSource
        Where the layer is and how to read it.
    reads : list of ReadReport
        The study's read reports, in reading order; this layer's report is appended.

    Returns
    -------
    Layer
        The layer as read (its own CRS).
    """
    layer = read_layer(source)
    reads.append(layer.report)
    return layer


def _crime_points(layer: Layer, frame: gpd.GeoDataFrame) -> np.ndarray:
    family = layer.geom_type
    if family != "point":
        raise InputError(
            layer.report.source,
            "geometry",
            f"crimes must be points, got {family}s",
            "upload crime points",
        )
    return shapely.get_coordinates(frame.geometry.values)


def load_crimes(
    cfg: CrimesConfig, crs: CRS, reads: list, history: HistoryConfig | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[tuple[Layer, LayerSource], ...], CrimeHistory | None]:
    """Crime points of both periods, the layers they came from (for later checks), and the
    crime history (every dated crime; or, without dates, the history files' crimes).

    Parameters
    ----------
    cfg : CrimesConfig
        One dated file split into the two periods, or one file per period.
    crs : pyproj.CRS
        Working CRS the points are brought into.
    reads : list of ReadReport
        The study's read reports; one is appended per file read (notes on undated rows and
        rows outside both periods are added to the dated file's report).
    history : HistoryConfig, optional
        Crime-history settings; its ``files`` are read when the crimes have no dates.

    Returns
    -------
    train_xy, test_xy : ndarray of shape (m, 2)
        Crime coordinates of the training and test periods (working CRS).
    layers : tuple of (Layer, LayerSource)
        Every crime layer read, for the reach and swap checks.
    history : CrimeHistory or None
        Every dated crime, or the history files' crimes per period; None without either.
    """
    history = history or HistoryConfig()
    if cfg.source is not None:
        return _dated_crimes(cfg, crs, reads, history)
    return _crimes_per_file(cfg, crs, reads, history)


def _dated_crimes(cfg: CrimesConfig, crs: CRS, reads: list, history: HistoryConfig):
    """One dated file split into the periods; its history is every dated crime."""
    layer = read_source(cfg.source, reads)
    frame = to_working_crs(layer, crs)
    train, test, undated, when = _split(
        frame, cfg.date, cfg.train, cfg.test, source=layer.report.source
    )
    dated = when.notna().to_numpy()
    crime_history = CrimeHistory(
        xy=_crime_points(layer, frame[dated]),
        times=when[dated].to_numpy(dtype="datetime64[ns]"),
        train=Period.from_config(cfg.train),
        test=Period.from_config(cfg.test),
        source=layer.report.source,
        lags=history.lags if history.enabled else 0,
    )
    # rows with a date outside both periods are not used: say so, do not drop silently
    unused = len(frame) - len(train) - len(test) - undated
    notes = [reads[-1].note] if reads[-1].note else []
    if undated:
        notes.append(f"{undated} rows without a readable date dropped")
    if unused:
        what = "used as history only" if history.enabled else "not used"
        notes.append(f"{unused} rows dated outside both periods {what}")
    if undated or unused:
        report = reads[-1]
        reads[-1] = ReadReport(
            report.source,
            report.n_read,
            report.n_dropped + undated,
            report.n_kept - undated,
            report.crs,
            "; ".join(notes),
        )
    points = _crime_points(layer, train), _crime_points(layer, test)
    return points[0], points[1], ((layer, cfg.source),), crime_history


def _crimes_per_file(cfg: CrimesConfig, crs: CRS, reads: list, history: HistoryConfig):
    """One file per period (and, for history, one per lag before the training period)."""
    train_layer = read_source(cfg.train_source, reads)
    test_layer = read_source(cfg.test_source, reads)
    train_xy = _crime_points(train_layer, to_working_crs(train_layer, crs))
    test_xy = _crime_points(test_layer, to_working_crs(test_layer, crs))
    layers = [(train_layer, cfg.train_source), (test_layer, cfg.test_source)]
    crime_history = None
    if history.enabled and history.files:
        blocks, names = [], []
        for source in reversed(history.files):  # oldest (lag k) first
            hist_layer = read_source(source, reads)
            blocks.append(_crime_points(hist_layer, to_working_crs(hist_layer, crs)))
            names.append(hist_layer.report.source)
            layers.append((hist_layer, source))
        crime_history = CrimeHistory(
            xy=np.zeros((0, 2)),
            times=None,
            train=None,
            test=None,
            source=names[-1],
            blocks=(*blocks, train_xy, test_xy),
            block_names=(*names, train_layer.report.source, test_layer.report.source),
            lags=history.lags,
        )
    return train_xy, test_xy, tuple(layers), crime_history
