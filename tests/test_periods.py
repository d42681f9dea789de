"""Study periods: config round trips, calendar-month lengths, lag windows (Hypothesis)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rtm_core.periods import (
    Period,
    PeriodLength,
    following_period,
    lag_windows,
    period_length,
    same_length,
    shift_period,
)
from tests.hypothesis_profiles import examples

SETTINGS = settings(max_examples=examples(60), deadline=None)
DAYS = st.dates(
    min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2040-12-31").date()
)


def test_config_dates_are_inclusive_and_round_trip():
    p = Period.from_config(("2018-01-01", "2018-12-31"))
    assert p.start == pd.Timestamp("2018-01-01") and p.end == pd.Timestamp("2019-01-01")
    assert p.label() == "2018-01-01 – 2018-12-31"
    assert p.as_config() == ("2018-01-01", "2018-12-31")
    timed = Period.from_config(("2018-01-01", "2018-06-30 12:00"))
    assert timed.end == pd.Timestamp("2018-06-30 12:00")
    assert Period.from_config(timed.as_config()) == timed


def test_years_are_twelve_months_even_in_leap_years():
    y2016 = Period.from_config(("2016-01-01", "2016-12-31"))
    y2017 = Period.from_config(("2017-01-01", "2017-12-31"))
    assert period_length(y2016) == period_length(y2017) == PeriodLength(months=12)
    assert same_length(y2016, y2017)
    assert not same_length(y2016, Period.from_config(("2017-01-01", "2017-06-30")))
    assert period_length(Period.from_config(("2018-01-05", "2018-02-04"))) == PeriodLength(days=31)
    assert PeriodLength(months=12).describe() == "12 months"
    assert PeriodLength(days=1).describe() == "1 day"


def test_lag_windows_of_a_year_are_the_calendar_years_before():
    target = Period.from_config(("2018-01-01", "2018-12-31"))
    windows = lag_windows(target, 2, period_length(target))
    assert [w.as_config() for w in windows] == [
        ("2017-01-01", "2017-12-31"),
        ("2016-01-01", "2016-12-31"),
    ]
    assert following_period(target, period_length(target)).as_config() == (
        "2019-01-01",
        "2019-12-31",
    )
    assert shift_period(target, period_length(target), -2).as_config() == (
        "2016-01-01",
        "2016-12-31",
    )
    assert lag_windows(target, 0, period_length(target)) == []


def test_a_period_must_end_after_it_starts():
    with pytest.raises(ValueError, match="before it starts"):
        Period.from_config(("2018-02-01", "2018-01-01"))


@st.composite
def periods(draw):
    start = pd.Timestamp(draw(DAYS))
    if draw(st.booleans()):  # calendar months
        start = start.replace(day=1)
        length = PeriodLength(months=draw(st.integers(1, 24)))
    else:
        length = PeriodLength(days=draw(st.integers(1, 400)))
    end = length.shift(start, 1)
    if not length.months and start.day == 1 and end.day == 1:
        # whole calendar months, however drawn: such a period is measured in months
        length = PeriodLength(months=(end.year - start.year) * 12 + end.month - start.month)
    return Period(start, end), length


@SETTINGS
@given(periods(), st.integers(1, 6))
@example(  # found by Hypothesis: 152 days from 1 January end on 1 June, i.e. 5 months
    (
        Period(pd.Timestamp("2000-01-01"), pd.Timestamp("2000-06-01")),
        PeriodLength(months=5),
    ),
    1,
)
def test_lag_windows_tile_the_time_before_the_target(case, lags):
    target, length = case
    assert period_length(target) == length
    windows = lag_windows(target, lags, length)
    assert len(windows) == lags
    assert windows[0].end == target.start  # lag 1 ends where the target starts
    for later, earlier in zip(windows, windows[1:], strict=False):
        assert earlier.end == later.start  # contiguous, no gap, no overlap
    for w in windows:
        assert w.end <= target.start
        assert same_length(w, target)  # months stay months, days stay days
    after = following_period(target, length)
    assert after.start == target.end and same_length(after, target)


@SETTINGS
@given(periods(), st.integers(-5, 5))
def test_shifting_keeps_the_length_and_undoes(case, n):
    target, length = case
    moved = shift_period(target, length, n)
    assert same_length(moved, target)
    assert shift_period(moved, length, -n) == target
    assert Period.from_config(target.as_config()) == target
    if n > 0:
        assert moved.start >= target.end
    elif n < 0:
        assert moved.end <= target.start
