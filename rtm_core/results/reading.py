"""How to read a model: which factors are reliable, what the model kept, what its map is, and
how sure we are that it beats the maps a planner already has.

Shared by the Results page, the report, the brief and the verdicts, so that a model that kept
no risk factor is named so everywhere and an IRR whose interval includes 1 reads "no reliable
effect" everywhere. Pure pandas, no I/O.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rtm_core.record.manifest import AREA_KEYS, READOUT_TEXT

__all__ = [
    "NO_RELIABLE_EFFECT",
    "certainty",
    "coefficient_reading",
    "map_subject",
    "model_character",
    "reliable",
    "risk_factors_kept",
]

#: what an IRR whose 95 % interval includes 1 reads
NO_RELIABLE_EFFECT = "no reliable effect"
_HISTORY = re.compile(r"^hist\d+_(unit|\d+m)$")
_NO_FACTOR = "kept no risk factor: its map is "


def reliable(coefficients: pd.DataFrame) -> pd.Series:
    """Per row: the 95 % IRR interval excludes 1 (``irr_low > 1`` or ``irr_high < 1``).

    Parameters
    ----------
    coefficients : DataFrame
        A coefficient table (``irr_low``, ``irr_high``).

    Returns
    -------
    Series of bool
        Same index; False where either end of the interval is missing (NaN).
    """
    if coefficients.empty or not {"irr_low", "irr_high"} <= set(coefficients.columns):
        return pd.Series(False, index=coefficients.index, dtype=bool)
    low = pd.to_numeric(coefficients["irr_low"], errors="coerce")
    high = pd.to_numeric(coefficients["irr_high"], errors="coerce")
    known = low.notna() & high.notna()
    return (known & ((low > 1) | (high < 1))).astype(bool)


def _rows(coefficients: pd.DataFrame, model: str) -> pd.DataFrame:
    if coefficients.empty or "variable" not in coefficients.columns:
        return coefficients.iloc[0:0]
    if "model" in coefficients.columns:
        return coefficients[coefficients["model"] == model]
    return coefficients


def _sets(rows: pd.DataFrame) -> pd.Series:
    return rows.get("set", pd.Series("", index=rows.index)).fillna("").astype(str)


def risk_factors_kept(coefficients: pd.DataFrame, model: str) -> list[str]:
    """Selected set variables (rows with a non-empty set) of one model, in table order.

    Parameters
    ----------
    coefficients : DataFrame
        The run's ``coefficients.csv``.
    model : str
        Model key.

    Returns
    -------
    list of str
    """
    rows = _rows(coefficients, model)
    return rows.loc[_sets(rows) != "", "variable"].astype(str).tolist()


def model_character(coefficients: pd.DataFrame, model: str) -> str:
    """What a model's map is when it kept no risk factor ("" when it kept one).

    Parameters
    ----------
    coefficients : DataFrame
        The run's ``coefficients.csv``.
    model : str
        Model key.

    Returns
    -------
    str
        "" for a model that kept a risk factor (or has no rows in the table); else
        "kept no risk factor: its map is crime history alone" (it has crime-history
        covariates), "kept no risk factor: its map is its fixed covariates alone" (other
        fixed covariates), or "kept no risk factor: its map is flat".
    """
    rows = _rows(coefficients, model)
    if rows.empty or risk_factors_kept(coefficients, model):
        return ""
    fixed = rows.loc[_sets(rows) == "", "variable"].astype(str)
    fixed = fixed[fixed != "intercept"]
    if fixed.str.match(_HISTORY).any():
        return _NO_FACTOR + "crime history alone"
    if len(fixed):
        return _NO_FACTOR + "its fixed covariates alone"
    return _NO_FACTOR + "flat"


def map_subject(character: str) -> str:
    """The words naming what a no-risk-factor model's map is, inside a sentence.

    Parameters
    ----------
    character : str
        From :func:`model_character` (non-empty).

    Returns
    -------
    str
        "crime history alone", "its fixed covariates alone" or "its flat map".
    """
    what = character.removeprefix(_NO_FACTOR)
    return "its flat map" if what == "flat" else what


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def certainty(
    comparison: pd.DataFrame | None, model: str, coefficients: pd.DataFrame | None = None
) -> tuple[int, str]:
    """How sure we are that the model's map beats the best baseline, 1-3, and the words.

    Parameters
    ----------
    comparison : DataFrame or None
        The run's ``comparison.csv`` (None for a run without it).
    model : str
        Model key.
    coefficients : DataFrame, optional
        The run's ``coefficients.csv``: a model that kept no risk factor is then 1.

    Returns
    -------
    (int, str)
        3, "beats the best baseline at 1, 5 and 10 % of the area"; 2 where it beats it at
        some share and is below it at none ("beats the best baseline at 5 and 10 % of the
        area, level at 1 %"); 1 otherwise ("level with the best baseline at every share",
        "below the best baseline at 1 %", "kept no risk factor", "no comparison in this
        run").
    """
    if coefficients is not None and model_character(coefficients, model):
        return 1, "kept no risk factor"
    if comparison is None or comparison.empty:
        return 1, "no comparison in this run"
    rows = comparison[(comparison["model"] == model) & (comparison["baseline"] == "best")]
    verdicts = {str(r["area"]): str(r["verdict"]) for _, r in rows.iterrows()}
    areas = [a for a in AREA_KEYS if a in verdicts]
    if not areas:
        return 1, "no comparison in this run"

    def shares(word: str) -> list[str]:
        found = [READOUT_TEXT[a].removesuffix(" %") for a in areas if verdicts[a] == word]
        return [*found[:-1], f"{found[-1]} %"] if found else []

    beats, below, level = shares("beats"), shares("below"), shares("level")
    if len(beats) == len(AREA_KEYS):
        return 3, f"beats the best baseline at {_join(beats)} of the area"
    if beats and not below:
        return 2, f"beats the best baseline at {_join(beats)} of the area, level at {_join(level)}"
    if below:
        return 1, f"below the best baseline at {_join(below)} of the area"
    return 1, "level with the best baseline at every share of the area"


def coefficient_reading(rows: pd.DataFrame) -> pd.DataFrame:
    """A coefficient table with a ``reading`` column: "no reliable effect" where the 95 % IRR
    interval includes 1 (blank for the intercept and reliable rows).

    Parameters
    ----------
    rows : DataFrame
        Rows of ``coefficients.csv``.

    Returns
    -------
    DataFrame
        A copy with ``reading`` added last.
    """
    out = rows.copy()
    flags = reliable(rows)
    intercept = rows.get("variable", pd.Series("", index=rows.index)) == "intercept"
    out["reading"] = np.where(flags | intercept, "", NO_RELIABLE_EFFECT)
    return out
