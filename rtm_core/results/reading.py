"""How to read a run's models honestly: which factors are reliable, which risk factors a model
kept, what a model that kept none is, and how sure we are that its map beats the best baseline.

Pure pandas, no I/O. The brief, the report and the Results page say the same words from here:

- an IRR is *reliable* when its 95 % interval excludes 1 (``irr_low > 1`` or
  ``irr_high < 1``); only reliable factors are named as drivers, the others read
  "no reliable effect";
- a model that kept no risk factor is named so ("kept no risk factor: its map is crime history
  alone" when crime history is among its fixed covariates, "... its map is flat" otherwise) and
  is never called an RTM win;
- certainty 1-3 comes from ``comparison.csv`` (each model against the best baseline at 1, 5
  and 10 % of the area, a paired-bootstrap verdict ``beats | level | below``).
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = [
    "reliable",
    "risk_factors_kept",
    "model_character",
    "certainty",
    "NO_FACTOR_HISTORY",
    "NO_FACTOR_FLAT",
    "CERTAINTY_WORDS",
]

#: crime-history covariates (``hist{j}_unit``, ``hist{j}_{bw}m``), as the pipeline names them
_HISTORY = re.compile(r"^hist\d+_(unit|\d+m)$")
NO_FACTOR_HISTORY = "kept no risk factor: its map is crime history alone"
NO_FACTOR_FLAT = "kept no risk factor: its map is flat"
#: the areas a certainty of 3 needs (``comparison.csv``'s ``area`` strings)
_AREAS = ("0.01", "0.05", "0.10")
CERTAINTY_WORDS = {
    3: "beats the best baseline at 1, 5 and 10 % of the area",
    2: "beats the best baseline at some shares of the area and is below it at none",
    1: "not shown to beat the best baseline",
}


def _rows(coefficients: pd.DataFrame, model: str) -> pd.DataFrame:
    if coefficients is None or coefficients.empty or "model" not in coefficients.columns:
        return pd.DataFrame(columns=["variable", "set"])
    return coefficients[coefficients["model"].astype(str) == model]


def _has_set(rows: pd.DataFrame) -> pd.Series:
    sets = rows["set"] if "set" in rows.columns else pd.Series("", index=rows.index)
    return sets.fillna("").astype(str).str.strip() != ""


def reliable(coefficients: pd.DataFrame) -> pd.Series:
    """Per row: the 95 % IRR interval excludes 1 (``irr_low > 1`` or ``irr_high < 1``).

    A missing interval (NaN, or a table without the columns) is not reliable.

    Parameters
    ----------
    coefficients : DataFrame
        ``coefficients.csv`` (or any rows of it) with ``irr_low`` and ``irr_high``.

    Returns
    -------
    Series of bool
        Aligned with ``coefficients``'s index.
    """
    if not {"irr_low", "irr_high"} <= set(coefficients.columns):
        return pd.Series(False, index=coefficients.index, dtype=bool)
    low = pd.to_numeric(coefficients["irr_low"], errors="coerce")
    high = pd.to_numeric(coefficients["irr_high"], errors="coerce")
    return ((low > 1) | (high < 1)).fillna(False).astype(bool)


def risk_factors_kept(coefficients: pd.DataFrame, model: str) -> list[str]:
    """Selected set variables (rows with a non-empty set) of one model, in table order.

    Parameters
    ----------
    coefficients : DataFrame
        ``coefficients.csv``.
    model : str
        Model key ("dl", "classical").

    Returns
    -------
    list of str
        Variable names; empty for a model that kept no risk factor (or is not in the table).
    """
    rows = _rows(coefficients, model)
    if rows.empty:
        return []
    return rows.loc[_has_set(rows), "variable"].astype(str).tolist()


def model_character(coefficients: pd.DataFrame, model: str) -> str:
    """What a model is when it kept no risk factor ("" when it kept one).

    Parameters
    ----------
    coefficients : DataFrame
        ``coefficients.csv``.
    model : str

    Returns
    -------
    str
        "" for a model that kept a risk factor; else :data:`NO_FACTOR_HISTORY` ("kept no risk
        factor: its map is crime history alone") when crime history is among its fixed
        covariates, or :data:`NO_FACTOR_FLAT` ("kept no risk factor: its map is flat").
    """
    if risk_factors_kept(coefficients, model):
        return ""
    rows = _rows(coefficients, model)
    history = rows["variable"].astype(str).str.match(_HISTORY) if not rows.empty else []
    return NO_FACTOR_HISTORY if len(rows) and bool(history.any()) else NO_FACTOR_FLAT


def certainty(comparison: pd.DataFrame | None, model: str) -> tuple[int, str]:
    """How sure we are that the model's map beats the best baseline, 1-3, and the words.

    Read from the rows of ``comparison.csv`` with ``baseline == "best"`` and ``measure ==
    "pai"``: 3 when the verdict is ``beats`` at 1, 5 and 10 % of the area; 2 when it is
    ``beats`` at some share and ``below`` at none; 1 otherwise (level, below, mixed), and 1
    with "no comparison in this run" when the run has no ``comparison.csv`` (a run written
    before it existed) or no row for the model.

    Parameters
    ----------
    comparison : DataFrame or None
        ``comparison.csv`` (:attr:`~rtm_core.record.manifest.RunFiles.comparison`).
    model : str

    Returns
    -------
    level : int
        1, 2 or 3.
    words : str
        What the level means, for a sentence ("beats the best baseline at 1, 5 and 10 % of
        the area").
    """
    needed = {"model", "baseline", "area", "verdict"}
    if comparison is None or comparison.empty or not needed <= set(comparison.columns):
        return 1, "no comparison in this run"
    rows = comparison[
        (comparison["model"].astype(str) == model) & (comparison["baseline"].astype(str) == "best")
    ]
    if "measure" in rows.columns:
        rows = rows[rows["measure"].astype(str) == "pai"]
    if rows.empty:
        return 1, "no comparison in this run"
    verdicts = dict(zip(rows["area"].map(_area_key), rows["verdict"].astype(str), strict=True))
    if all(verdicts.get(area) == "beats" for area in _AREAS):
        return 3, CERTAINTY_WORDS[3]
    found = set(verdicts.values())
    if "beats" in found and "below" not in found:
        return 2, CERTAINTY_WORDS[2]
    if found == {"level"}:
        return 1, "level with the best baseline"
    if found == {"below"}:
        return 1, "below the best baseline"
    return 1, CERTAINTY_WORDS[1]


def _area_key(value) -> str:
    """``comparison.csv``'s area as the metrics' key: 0.1 read back from CSV is "0.10"."""
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return str(value)
