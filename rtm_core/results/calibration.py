"""Are the expected counts right in size? Observed against expected crimes, and warnings when a
forecast is out of line with what was ever observed.

``calibration.csv`` (:func:`calibration_table`) holds, per model (and per baseline that gives
expected counts) and period, the totals (group ``all``) and the ten deciles of predicted risk
(``decile 1`` … ``decile 10``, 10 the riskiest units): how many units, crimes observed and
crimes expected. In sample (period ``train``) every model is calibrated in the large (see
:mod:`rtm_core.models.classical` and :mod:`rtm_core.models.dl`); out of sample (``test``) the
totals say how far the period moved.

:func:`forecast_warnings` flags a forecast whose total departs by more than 20 % from the last
observed period, or whose highest unit exceeds the highest count ever observed in any unit
(history windows included). Pure numpy/pandas, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import sentence_name

__all__ = [
    "CALIBRATION_COLUMNS",
    "DEPARTURE",
    "calibration_table",
    "calibration_sentence",
    "deciles",
    "fit_sentence",
    "forecast_warnings",
    "highest_count",
    "run_forecast_warnings",
]

#: columns of calibration.csv
CALIBRATION_COLUMNS = ["model", "period", "group", "units", "observed", "expected"]
#: a forecast total further than this from the last observed period's is flagged
DEPARTURE = 0.20
N_DECILES = 10


def deciles(expected) -> np.ndarray:
    """Decile of predicted risk per unit, 1 (lowest) … 10 (highest), by rank.

    Units are ordered by expected count (ties in unit order) and cut into ten groups of
    equal size (sizes differ by at most one), so every decile holds units even when many
    share one value.

    Parameters
    ----------
    expected : array-like of shape (n_units,)

    Returns
    -------
    ndarray of int, shape (n_units,)
    """
    expected = np.asarray(expected, dtype=np.float64).ravel()
    order = np.argsort(expected, kind="stable")
    out = np.empty(expected.size, dtype=np.int64)
    for k, part in enumerate(np.array_split(order, N_DECILES), start=1):
        out[part] = k
    return out


def _rows(model: str, period: str, observed: np.ndarray, expected: np.ndarray) -> list[dict]:
    rows = [
        {
            "model": model,
            "period": period,
            "group": "all",
            "units": int(observed.size),
            "observed": float(observed.sum()),
            "expected": float(expected.sum()),
        }
    ]
    group = deciles(expected)
    units = np.bincount(group, minlength=N_DECILES + 1)
    seen = np.bincount(group, weights=observed, minlength=N_DECILES + 1)
    exp = np.bincount(group, weights=expected, minlength=N_DECILES + 1)
    for k in range(1, N_DECILES + 1):
        if units[k]:
            rows.append(
                {
                    "model": model,
                    "period": period,
                    "group": f"decile {k}",
                    "units": int(units[k]),
                    "observed": float(seen[k]),
                    "expected": float(exp[k]),
                }
            )
    return rows


def calibration_table(
    expected: Mapping[str, Mapping[str, np.ndarray]], observed: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    """Observed against expected crimes, in total and by decile of predicted risk.

    Parameters
    ----------
    expected : mapping
        Model (or baseline) key -> ``{"train": expected counts, "test": expected counts}``
        (a period may be missing).
    observed : mapping
        ``{"train": counts, "test": counts}`` per unit.

    Returns
    -------
    DataFrame
        Columns :data:`CALIBRATION_COLUMNS`; per model and period the ``all`` row, then
        ``decile 1`` … ``decile 10``.
    """
    rows = []
    for model, periods in expected.items():
        for period in ("train", "test"):
            if period in periods and period in observed:
                seen = np.asarray(observed[period], dtype=np.float64).ravel()
                exp = np.asarray(periods[period], dtype=np.float64).ravel()
                rows += _rows(model, period, seen, exp)
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def _total(table: pd.DataFrame, model: str, period: str) -> tuple[float, float] | None:
    rows = table[
        (table["model"] == model) & (table["period"] == period) & (table["group"] == "all")
    ]
    if rows.empty:
        return None
    return float(rows["observed"].iloc[0]), float(rows["expected"].iloc[0])


def calibration_sentence(table: pd.DataFrame | None, model: str) -> str:
    """Observed against expected totals of one model, in and out of sample, in words.

    Parameters
    ----------
    table : DataFrame or None
        ``calibration.csv``.
    model : str

    Returns
    -------
    str
        E.g. "The deep-learning RTM expects 634.0 crimes in the training period against 634
        observed (+0.0 %), and 612.3 in the test period against 593 (+3.3 %)."; "" without
        rows.
    """
    if table is None or table.empty:
        return ""
    parts = []
    for period, words in (("train", "in the training period"), ("test", "in the test period")):
        found = _total(table, model, period)
        if found is None:
            continue
        seen, exp = found
        gap = f" ({round((exp / seen - 1) * 100, 1) + 0.0:+.1f} %)" if seen > 0 else ""
        parts.append(f"{exp:,.1f} {words} against {seen:,.0f} observed{gap}")
    if not parts:
        return ""
    return f"The {sentence_name(model)} expects " + ", and ".join(parts) + "."


def highest_count(*counts) -> int:
    """The highest crime count of any unit in any of the given periods.

    Parameters
    ----------
    *counts : array-like
        Counts per unit (1-D), or per unit and window (2-D, the history's lag counts).

    Returns
    -------
    int
        0 when nothing is given.
    """
    tops = [np.max(c) for c in (np.asarray(c, dtype=np.float64) for c in counts) if c.size]
    return int(round(max(tops))) if tops else 0


def forecast_warnings(
    forecasts: Mapping[str, np.ndarray], last_total: float | None, highest: float | None
) -> dict[str, list[str]]:
    """Warnings on forecasts out of line with the data.

    Parameters
    ----------
    forecasts : mapping
        Model key -> forecast (expected crimes per unit) of the period after the data.
    last_total : float or None
        Crimes of the last observed period (the test period).
    highest : float or None
        The highest count observed in any unit in any period (history included).

    Returns
    -------
    dict
        Model key -> its warnings (an empty list when none), e.g. "The deep-learning RTM's
        forecast totals 846 crimes, 43 % more than the 593 of the last observed period." and
        "One unit is forecast 13.5 crimes, more than any unit ever had (5)."
    """
    out = {}
    for model, forecast in forecasts.items():
        values = np.asarray(forecast, dtype=np.float64).ravel()
        name = sentence_name(model)
        found = []
        total = float(values.sum())
        if last_total and abs(total / last_total - 1) > DEPARTURE:
            change = total / last_total - 1
            more = "more" if change > 0 else "fewer"
            found.append(
                f"The {name}'s forecast totals {total:,.0f} crimes, {abs(change) * 100:.0f} % "
                f"{more} than the {last_total:,.0f} of the last observed period."
            )
        top = float(values.max()) if values.size else 0.0
        if highest is not None and top > highest:
            found.append(
                f"The {name} forecasts {top:.1f} crimes in one unit, more than any unit ever "
                f"had ({highest:,.0f})."
            )
        out[model] = found
    return out


def run_forecast_warnings(run) -> dict[str, list[str]]:
    """:func:`forecast_warnings` of a loaded run (its ``forecast_<model>`` columns).

    The last observed period is the test period (``manifest["crimes"]["test"]``); the
    highest count is the manifest's ``forecast.highest_count`` (history windows included),
    or, for a run written before it was kept, the highest of the training and test periods.

    Parameters
    ----------
    run : RunFiles

    Returns
    -------
    dict
        Model key -> its warnings; models without a forecast column are left out.
    """
    units, record = run.units, run.record
    forecasts = {
        m: units[f"forecast_{m}"].to_numpy(dtype=np.float64)
        for m in record.models or MODEL_KINDS
        if f"forecast_{m}" in units.columns
    }
    if not forecasts:
        return {}
    crimes = record.crimes or {}
    last = crimes.get("test")
    highest = (record.forecast or {}).get("highest_count")
    if highest is None:
        seen = [units[c] for c in ("y_train", "y_test") if c in units.columns]
        highest = highest_count(*seen) if seen else None
    return forecast_warnings(forecasts, float(last) if last else None, highest)


def fit_sentence(run, model: str) -> str:
    """How a model's counts were modelled: family, dispersion and calibration, in words.

    Parameters
    ----------
    run : RunFiles
    model : str

    Returns
    -------
    str
        E.g. "Counts modelled as negative binomial (NB2, dispersion 2.31), kept by BIC over
        Poisson; expected counts are Poisson quasi-likelihood means (calibrated in the large),
        with robust intervals." ("" when the manifest does not say).
    """
    fit = dict(run.record.model_fits.get(model) or {})
    if not fit:
        return ""
    negbin = fit.get("family") == "negbin"
    family = "negative binomial (NB2" if negbin else "Poisson"
    if negbin and fit.get("dispersion") is not None:
        family += f", dispersion {float(fit['dispersion']):.2f}"
    family += ")" if negbin else ""
    method = str(fit.get("calibration") or "")
    if method == "poisson quasi-likelihood":
        kept = "kept by BIC over Poisson" if negbin else "kept by BIC over negative binomial"
        how = "Poisson quasi-likelihood means (calibrated in the large)"
        how += ", with robust intervals" if negbin else ""
        return f"Counts modelled as {family}, {kept}; expected counts are {how}."
    text = f"Counts modelled as {family}"
    if method:
        text += f"; expected counts calibrated in the large by {method}"
    return text + "."
