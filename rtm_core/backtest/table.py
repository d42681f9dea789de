"""``backtest.csv``: the long table of out-of-sample accuracy over a backtest's origins, and
its summaries (mean and range per model, PAI by origin).

``backtest.csv`` has one row per origin, model (or baseline), measure and area:
``origin, model, measure, area, value`` (``origin`` the test period's first day, ISO;
``measure`` ``pai|pei|hit_rate``; ``area`` the strings ``"0.01"``, ``"0.05"``, ``"0.10"``;
out-of-sample values, i.e. on each origin's test period).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rtm_core.config import MODEL_KINDS

__all__ = [
    "AREAS",
    "COLUMNS",
    "MEASURES",
    "RTM_MODELS",
    "collect_metrics",
    "pai_by_origin",
    "read_csv",
    "summary_table",
]

COLUMNS = ["origin", "model", "measure", "area", "value"]
MEASURES = ("pai", "pei", "hit_rate")
AREAS = ("0.01", "0.05", "0.10")
RTM_MODELS = MODEL_KINDS


def collect_metrics(metrics_by_origin: dict[str, dict]) -> pd.DataFrame:
    """The long table of out-of-sample accuracy over origins.

    Parameters
    ----------
    metrics_by_origin : dict
        Origin (ISO date) → the run's ``metrics.json`` content.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, sorted by origin (oldest first), then models in the
        run's order; ``area`` as strings; ``value`` NaN where a measure is undefined.
    """
    rows = []
    for origin in sorted(metrics_by_origin):
        for model, periods in metrics_by_origin[origin].items():
            test = periods.get("test", {}) if isinstance(periods, dict) else {}
            for measure in MEASURES:
                values = test.get(measure, {})
                for area in AREAS:
                    value = values.get(area)
                    rows.append((origin, model, measure, area, np.nan if value is None else value))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["value"] = table["value"].astype(float)
    return table


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read ``backtest.csv`` keeping ``origin`` and ``area`` as strings."""
    return pd.read_csv(path, dtype={"origin": str, "model": str, "measure": str, "area": str})


def summary_table(table: pd.DataFrame, measure: str = "pai") -> pd.DataFrame:
    """Mean and range (min–max) over origins per model, at 1 / 5 / 10 %.

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    measure : {"pai", "pei", "hit_rate"}

    Returns
    -------
    DataFrame
        One row per model (in the table's order): ``model``, then ``mean <area>``,
        ``min <area>``, ``max <area>`` for each area, and ``origins`` (how many had a value).
    """
    part = table[table["measure"] == measure]
    order = list(dict.fromkeys(part["model"]))
    rows = []
    for model in order:
        values = part[part["model"] == model]
        row: dict = {"model": model}
        for area in AREAS:
            v = values.loc[values["area"] == area, "value"].dropna()
            row[f"mean {area}"] = v.mean() if len(v) else np.nan
            row[f"min {area}"] = v.min() if len(v) else np.nan
            row[f"max {area}"] = v.max() if len(v) else np.nan
        row["origins"] = int(values.loc[values["area"] == "0.05", "value"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


def pai_by_origin(table: pd.DataFrame, area: str = "0.05") -> pd.DataFrame:
    """PAI at one area per origin (rows) and model (columns), models in the table's order.

    Parameters
    ----------
    table : DataFrame
        ``backtest.csv``.
    area : str
        The read-out ("0.01", "0.05" or "0.10").

    Returns
    -------
    DataFrame
        Indexed by origin (oldest first), one column per model key.
    """
    part = table[(table["measure"] == "pai") & (table["area"] == area)]
    wide = part.pivot_table(index="origin", columns="model", values="value", aggfunc="first")
    return wide[[m for m in dict.fromkeys(part["model"]) if m in wide.columns]].sort_index()
