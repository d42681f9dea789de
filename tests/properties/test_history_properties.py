"""No leakage (Hypothesis): a target period's crimes never enter its own history factors, for any
period length and lag count, and a crime of lag window j moves only the lag-j columns."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from rtm_core.config import HistoryConfig
from rtm_core.factors.history import history_factors
from rtm_core.periods import Period, PeriodLength, lag_windows
from rtm_core.study.units import grid_units
from tests.hypothesis_profiles import examples

SETTINGS = settings(max_examples=examples(40), deadline=None)
UNITS = grid_units(gpd.GeoDataFrame(geometry=[box(0, 0, 500, 300)], crs="EPSG:32616"), 100.0)
CFG = HistoryConfig(lags=1, bandwidths=(120, 250), transform="log1p")


@st.composite
def studies(draw):
    start = pd.Timestamp(draw(st.dates(date(2000, 1, 1), date(2100, 12, 31))))
    if draw(st.booleans()):
        start = start.replace(day=1)
        length = PeriodLength(months=draw(st.integers(1, 18)))
    else:
        length = PeriodLength(days=draw(st.integers(1, 120)))
    target = Period(start, length.shift(start, 1))
    lags = draw(st.integers(1, 4))
    n = draw(st.integers(0, 40))
    # crimes from before the oldest window to after the target, anywhere (some outside)
    lo = length.shift(start, -lags - 1).value
    hi = length.shift(start, 2).value
    times = pd.to_datetime(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)))
    xy = np.array(
        draw(
            st.lists(st.tuples(st.floats(-100, 600), st.floats(-100, 400)), min_size=n, max_size=n)
        )
    ).reshape(-1, 2)
    return target, length, lags, xy, times


def _factors(xy, times, windows, lags):
    cfg = HistoryConfig(lags=lags, bandwidths=CFG.bandwidths, transform=CFG.transform)
    return history_factors(UNITS, xy, times, windows, cfg, chunk_size=7)


@SETTINGS
@given(studies(), st.data())
def test_the_target_periods_crimes_never_enter_its_history(study, data):
    target, length, lags, xy, times = study
    windows = lag_windows(target, lags, length)
    before = _factors(xy, times, windows, lags)
    own = np.asarray(target.contains(times), dtype=bool)
    # move every crime of the target period somewhere else, and delete some
    moved = xy.copy()
    moved[own] = data.draw(
        st.tuples(st.floats(-100, 600), st.floats(-100, 400)).map(np.array), label="to"
    )
    drop = data.draw(st.lists(st.booleans(), min_size=len(xy), max_size=len(xy)), label="drop")
    keep = ~own | ~np.array(drop, dtype=bool)
    after = _factors(moved[keep], times[keep], windows, lags)
    pd.testing.assert_frame_equal(before, after)


@SETTINGS
@given(studies(), st.data())
def test_a_crime_of_lag_window_j_changes_only_lag_j(study, data):
    target, length, lags, xy, times = study
    windows = lag_windows(target, lags, length)
    j = data.draw(st.integers(1, lags), label="lag")
    window = windows[j - 1]
    when = pd.Timestamp(data.draw(st.integers(window.start.value, window.end.value - 1)))
    where = np.array([[data.draw(st.floats(0, 499)), data.draw(st.floats(0, 299))]])
    before = _factors(xy, times, windows, lags)
    after = _factors(np.vstack([xy, where]), times.append(pd.DatetimeIndex([when])), windows, lags)
    changed = [c for c in before.columns if not np.allclose(before[c], after[c])]
    assert changed, "the new crime must show in its own lag"
    assert all(c.startswith(f"hist{j}_") for c in changed)
    assert f"hist{j}_unit" in changed  # it lies inside a cell of the grid
