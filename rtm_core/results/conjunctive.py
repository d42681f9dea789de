"""Conjunctive analysis and top places: which combinations of risk factors carry the risk.

Pure numpy/pandas; no I/O. Dominant profiles follow CACC (Hart and Miethe): a profile is
dominant when it holds at least 5 units where there are fewer than 1,000 units, else 10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rtm_core.errors import ConfigError

__all__ = ["conjunctive_table", "top_places", "dominant_threshold", "ties_with_next"]


def dominant_threshold(n_units: int) -> int:
    """CACC rule: a profile is dominant with >= 5 units when there are < 1,000 units, else 10."""
    return 5 if n_units < 1000 else 10


def _check_dummies(dummies: pd.DataFrame, n: int, source: str) -> np.ndarray:
    values = dummies.to_numpy(dtype=np.float64)
    if values.shape[0] != n:
        raise ConfigError(
            source, "dummies", f"has {values.shape[0]} rows for {n} units", "pass one row per unit"
        )
    if not np.isin(values, (0.0, 1.0)).all():
        raise ConfigError(
            source,
            "dummies",
            "holds values other than 0 and 1",
            "pass the selected 0/1 risk factors",
        )
    return values.astype(np.int64)


def conjunctive_table(
    dummies: pd.DataFrame, expected, y_train, y_test, *, labels: dict | None = None
) -> pd.DataFrame:
    """Conjunctive analysis: units grouped by their combination of selected risk factors.

    Parameters
    ----------
    dummies : DataFrame of shape (n_units, n_selected)
        The selected 0/1 variables (one column each).
    expected : array-like of shape (n_units,)
        Model expected crimes per unit (mu).
    y_train, y_test : array-like of shape (n_units,)
        Observed counts of periods t and t+1.
    labels : dict, optional
        Variable name -> readable label for the profile string (default: the name).

    Returns
    -------
    DataFrame
        One row per observed combination, sorted by ``expected_rate`` (then ``units``)
        descending. Columns: ``profile`` (labels joined by " + ", "(none)" for no factor),
        one 0/1 column per variable, ``n_factors, units, expected, observed_train,
        observed_test, expected_rate, train_rate, test_rate`` (rates per unit), ``dominant``
        (CACC: units >= :func:`dominant_threshold` of the total number of units).

    Raises
    ------
    ConfigError
        ``dummies`` without one row per unit, or with values other than 0 and 1.
    """
    expected = np.asarray(expected, dtype=np.float64).ravel()
    n = expected.shape[0]
    values = _check_dummies(dummies, n, "conjunctive_table")
    names = [str(c) for c in dummies.columns]
    labels = labels or {}
    frame = pd.DataFrame(values, columns=names)
    frame["expected"] = expected
    frame["observed_train"] = np.asarray(y_train, dtype=np.float64).ravel()
    frame["observed_test"] = np.asarray(y_test, dtype=np.float64).ravel()
    frame["units"] = 1
    sums = ["units", "expected", "observed_train", "observed_test"]
    if names:
        table = frame.groupby(names, sort=False, as_index=False)[sums].sum()
    else:
        table = frame[sums].sum().to_frame().T
    table["units"] = table["units"].astype(np.int64)
    present = table[names].to_numpy(dtype=bool) if names else np.zeros((len(table), 0), bool)
    table.insert(
        0,
        "profile",
        [
            " + ".join(labels.get(v, v) for v, on in zip(names, row, strict=True) if on) or "(none)"
            for row in present
        ],
    )
    table.insert(1 + len(names), "n_factors", present.sum(axis=1).astype(np.int64))
    table["expected_rate"] = table["expected"] / table["units"]
    table["train_rate"] = table["observed_train"] / table["units"]
    table["test_rate"] = table["observed_test"] / table["units"]
    table["dominant"] = table["units"] >= dominant_threshold(n)
    table = table.sort_values(
        ["expected_rate", "units", "profile"], ascending=[False, False, True], kind="stable"
    )
    return table.reset_index(drop=True)


def ties_with_next(score, top: np.ndarray) -> tuple[np.ndarray, int]:
    """Which listed units tie with the first unit left out of the list, and how many tie.

    Parameters
    ----------
    score : array-like of shape (n_units,)
    top : ndarray of int
        The listed units (positions), highest score first.

    Returns
    -------
    tied : ndarray of bool
        Per listed unit: its score equals (to 1e-9, relative) the score of the best unit
        outside the list, so which of the tied units made the list is arbitrary. All False
        when every unit is listed.
    outside : int
        How many units outside the list share that score (0 when none is tied).
    """
    score = np.asarray(score, dtype=np.float64).ravel()
    left = np.ones(score.shape[0], dtype=bool)
    left[top] = False
    if not left.any() or top.size == 0:
        return np.zeros(top.size, dtype=bool), 0
    first_out = score[left].max()
    tied = np.isclose(score[top], first_out, rtol=1e-9, atol=0.0)
    if not tied.any():
        return tied, 0
    return tied, int(np.isclose(score[left], first_out, rtol=1e-9, atol=0.0).sum())


def top_places(
    unit_ids,
    score,
    dummies: pd.DataFrame,
    k: int = 20,
    *,
    labels: dict | None = None,
    places=None,
    lonlat=None,
) -> pd.DataFrame:
    """The ``k`` riskiest units with the risk factors present at each.

    Parameters
    ----------
    unit_ids : array-like of shape (n_units,)
    score : array-like of shape (n_units,)
        Risk score (e.g. :func:`rtm_core.results.evaluate.relative_risk_score`); ties keep the
        input order.
    dummies : DataFrame of shape (n_units, n_selected)
        Selected 0/1 variables.
    k : int, default 20
    labels : dict, optional
        Variable name -> readable label (e.g. ``"liquor within 200 m"``); default the name.
    places : array-like of str, shape (n_units,), optional
        Each unit's place name ("" where none; default: none).
    lonlat : ndarray of shape (n_units, 2), optional
        WGS84 longitude and latitude of each unit's representative point.

    Returns
    -------
    DataFrame
        Columns ``rank`` (1..k), ``unit_id``, ``score``, ``factors`` (labels joined by ", ",
        empty when none), ``n_factors``, ``place``, ``lat``, ``lon`` (NaN without
        ``lonlat``) and ``tied`` (the unit's score ties with the first unit outside the
        list, :func:`ties_with_next`); at most ``k`` rows.

    Raises
    ------
    ConfigError
        ``unit_ids``, ``score``, ``places`` or ``lonlat`` of different lengths, ``k`` not a
        positive integer, or ``dummies`` without one row per unit or with values other than
        0 and 1.
    """
    score = np.asarray(score, dtype=np.float64).ravel()
    n = score.shape[0]
    unit_ids = np.asarray(unit_ids).ravel()
    places = np.full(n, "", dtype=object) if places is None else np.asarray(places, dtype=object)
    lonlat = np.full((n, 2), np.nan) if lonlat is None else np.asarray(lonlat, dtype=float)
    for name, size in (("unit_ids", unit_ids.shape[0]), ("places", places.shape[0])):
        if size != n:
            raise ConfigError(
                "top_places", name, f"has {size} values for {n} scores", "pass one per unit"
            )
    if lonlat.shape != (n, 2):
        raise ConfigError(
            "top_places", "lonlat", f"has shape {lonlat.shape} for {n} scores", "pass (n, 2)"
        )
    if not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(
            "top_places", "k", f"must be a positive integer, got {k!r}", "use e.g. k=20"
        )
    values = _check_dummies(dummies, n, "top_places")
    labels = labels or {}
    names = [labels.get(str(c), str(c)) for c in dummies.columns]
    top = np.argsort(-score, kind="stable")[:k]
    factors = [[nm for nm, on in zip(names, values[i], strict=True) if on] for i in top]
    tied, _ = ties_with_next(score, top)
    return pd.DataFrame(
        {
            "rank": np.arange(1, top.size + 1),
            "unit_id": unit_ids[top],
            "score": score[top],
            "factors": [", ".join(f) for f in factors],
            "n_factors": [len(f) for f in factors],
            "place": places[top],
            "lat": np.round(lonlat[top, 1], 6),
            "lon": np.round(lonlat[top, 0], 6),
            "tied": tied,
        }
    )
