"""The Risk factors page's History control: crime history as fixed covariates (no streamlit).

History needs crimes before the training period, so it is offered only when the crimes are
one file with a date column (training and test periods of one length); the control is then
turned into a :class:`~rtm_core.config.HistoryConfig` for the run's config.
"""

from __future__ import annotations

from rtm_app.dataset import DataSet, parse_bandwidths
from rtm_core.config import HistoryConfig, validate
from rtm_core.errors import InputError
from rtm_core.periods import Period, period_length

__all__ = ["MAX_LAGS", "TRANSFORMS", "unavailable_reason", "history_settings"]

#: most lags the control offers (each lag is one more period of crimes before the target)
MAX_LAGS = 5
TRANSFORMS = {"log1p": "log(1 + count)", "count": "count"}


def unavailable_reason(data: DataSet) -> str:
    """Why the History control is off for this data set ("" when it can be used)."""
    crimes = data.crimes
    if crimes is None or (crimes.source is None and crimes.train_source is None):
        return "Crime history needs crimes: add them on the Data page."
    if not data.dated_crimes:
        return (
            "Crime history needs one crimes file with a date column (the crimes were loaded as "
            "one file per period, so there are no earlier periods to count)."
        )
    return ""


def history_settings(data: DataSet, lags: int, bandwidths: str, transform: str) -> HistoryConfig:
    """The History control's values as a :class:`HistoryConfig`, checked.

    Parameters
    ----------
    data : DataSet
        The current data set (its crimes decide whether history can be used).
    lags : int
        Number of periods before each target period (0 = no history), at most :data:`MAX_LAGS`.
    bandwidths : str
        Distances in metres as typed ("150, 300 600").
    transform : {"log1p", "count"}

    Returns
    -------
    HistoryConfig
        ``HistoryConfig()`` (off) when ``lags`` is 0.

    Raises
    ------
    InputError
        Lags out of range, bad bandwidths, crimes without a date column, or training and test
        periods of different lengths (one line each, with the fix).
    """
    fix = "choose 0 (off) or the number of periods before each target period"
    lags = validate.integer(lags, "crime history", "lags", minimum=0, maximum=MAX_LAGS, fix=fix)
    fix = "choose log(1 + count) or count"
    validate.choice(transform, tuple(TRANSFORMS), "crime history", "transform", fix=fix)
    distances = parse_bandwidths(bandwidths, "crime history", repeats="refuse")
    if not distances:
        raise InputError(
            "crime history", "bandwidths", "none given", "type metres, e.g. 150, 300, 600"
        )
    if lags == 0:
        return HistoryConfig(bandwidths=distances, transform=transform)
    reason = unavailable_reason(data)
    if reason:
        raise InputError("crime history", "lags", reason.rstrip("."), "set lags to 0")
    crimes = data.crimes
    try:
        train, test = Period.from_config(crimes.train), Period.from_config(crimes.test)
    except (TypeError, ValueError):
        train = test = None  # unreadable periods are reported by the Data page's check
    if train is not None and period_length(train) != period_length(test):
        raise InputError(
            crimes.source.label,
            "periods",
            f"with history the periods must be equally long: training {train.label()} lasts "
            f"{period_length(train).describe()}, test {test.label()} lasts "
            f"{period_length(test).describe()}",
            "give the training and test periods the same length on the Data page",
        )
    return HistoryConfig(lags=int(lags), bandwidths=distances, transform=transform)
