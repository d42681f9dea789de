"""What a run says in words and short tables, for the Results page and the report: the
forecast period and how the forecast was made, the forecast's top places, whether crime
history is in the models, and the verdict table (each model beside the best baseline).
Pure pandas, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from rtm_core.models.registry import display_name, sentence_name
from rtm_core.results.verdict import AREA_TEXT

__all__ = [
    "forecast_period",
    "forecast_sentence",
    "forecast_places",
    "has_history",
    "split_history",
    "verdict_table",
]

_HISTORY = re.compile(r"^hist\d+_(unit|\d+m)$")
#: columns of the verdict table
VERDICT_COLUMNS = [
    "model",
    "area",
    "model PAI",
    "best baseline",
    "baseline PAI",
    "difference",
    "90 % low",
    "90 % high",
    "result",
]


def _entry(manifest, key: str):
    """One entry of a manifest, typed (:class:`~rtm_core.record.manifest.Manifest`) or JSON."""
    return manifest.get(key) if isinstance(manifest, Mapping) else getattr(manifest, key, None)


def forecast_period(manifest) -> dict | None:
    """The run's forecast period ``{"start", "end", "method"}``, or None without a forecast.

    ``manifest`` is a :class:`~rtm_core.record.manifest.Manifest` or the ``manifest.json``
    object.
    """
    forecast = _entry(manifest, "forecast")
    if not isinstance(forecast, Mapping) or not forecast.get("start"):
        return None
    return dict(forecast)


_METHODS = {
    "applied with shifted history": "the models fitted on the training period, applied "
    "without refitting to the crime history of the windows just before the forecast period "
    "(the latest data)",
    "environment only": "the models' expected counts from the environment alone (no crime "
    "history in the model, so the forecast equals the fitted risk)",
}


def forecast_sentence(forecast: dict) -> str:
    """One sentence saying what the forecast is and how it was made."""
    method = str(forecast.get("method") or "").strip().rstrip(".")
    how = _METHODS.get(method, method)
    text = (
        f"Expected crimes per unit for {forecast.get('start')} – {forecast.get('end')}, "
        "the period after the data"
    )
    return text + (f": {how}." if how else ".")


def has_history(manifest, coefficients: pd.DataFrame) -> bool:
    """Whether crime history is in the run's models (history rows or ``manifest["history"]``).

    Parameters
    ----------
    manifest : Manifest or dict
    coefficients : DataFrame
        The run's ``coefficients.csv``.

    Returns
    -------
    bool
    """
    if not split_history(coefficients)[1].empty:
        return True
    history = _entry(manifest, "history")
    return isinstance(history, Mapping) and bool(history.get("lags"))


def forecast_places(units, model: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` units with the highest forecast of ``model``, and the factors present there.

    Parameters
    ----------
    units : DataFrame
        The run's units (``unit_id``, ``forecast_<model>``, ``factors_<model>``).
    model : str
    n : int

    Returns
    -------
    DataFrame
        Columns ``rank, unit_id, forecast, factors present``; empty without the column.
    """
    column = f"forecast_{model}"
    if column not in units.columns:
        return pd.DataFrame(columns=["rank", "unit_id", "forecast", "factors present"])
    factors = units.get(f"factors_{model}", pd.Series("", index=units.index))
    frame = pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "forecast": units[column].to_numpy(dtype=float),
            "factors present": factors.fillna("").astype(str).replace("", "none").to_numpy(),
        }
    )
    frame = frame.sort_values("forecast", ascending=False, kind="stable").head(n)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def split_history(coefficients: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coefficient rows of the environment and of crime history (``hist{j}_unit``,
    ``hist{j}_{bw}m``: fixed covariates without a set).

    Returns
    -------
    environment, history : DataFrame
    """
    if coefficients.empty or "variable" not in coefficients.columns:
        return coefficients, coefficients.iloc[0:0]
    sets = coefficients.get("set", pd.Series("", index=coefficients.index))
    fixed = sets.fillna("").astype(str) == ""
    history = fixed & coefficients["variable"].astype(str).str.match(_HISTORY)
    return coefficients[~history], coefficients[history]


def verdict_table(verdicts) -> pd.DataFrame:
    """Each model beside the best baseline at 1, 5 and 10 % of the area (out of sample).

    The one table of :mod:`rtm_core.results.verdict`'s comparisons, shown by the Results page
    and the report.

    Parameters
    ----------
    verdicts : list of Verdict

    Returns
    -------
    DataFrame
        Columns ``model, area, model PAI, best baseline, baseline PAI, difference, 90 % low,
        90 % high, result`` (result: beats, level or below); a model that kept no risk
        factor is named "<model> (kept no risk factor)".
    """
    rows = [
        {
            "model": display_name(verdict.model)
            + (" (kept no risk factor)" if verdict.character else ""),
            "area": AREA_TEXT.get(c.area, c.area),
            "model PAI": c.model_value,
            "best baseline": sentence_name(c.baseline),
            "baseline PAI": c.baseline_value,
            "difference": c.difference,
            "90 % low": c.low,
            "90 % high": c.high,
            "result": c.verdict,
        }
        for verdict in verdicts
        for c in verdict.comparisons
    ]
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)
