"""Accuracy of risk rankings: hit rate, PAI, PEI, PEI*, RRI curves and read-outs.

Pure numpy/pandas; no I/O.

Conventions
-----------
Units are ranked by predicted risk, highest first, and flagged until a share ``s`` of the
total measure ``A`` (area, street length, or 1 per unit) is covered.

*Ties and partial units are handled fractionally, not at random*: units of equal risk form
one block, and the cumulative crimes are interpolated linearly across the block (and across
the unit at the area boundary). This is the expected value of a random tie-break for
equal-measure units, and it is deterministic. At ``s = 0`` the metrics take their limit
(the values of an infinitesimal slice of the top block); the hit rate is 0.

With ``n`` crimes of ``N`` in the flagged area ``a`` of ``A``:

- ``hit_rate = n / N``;
- ``pai = (n / N) / (a / A)``;
- ``pei`` (as in Wheeler's ptools, Hunt 2016): PAI divided by the PAI of the oracle ranking
  (units sorted by observed count per measure, same period) after the *same number of units*
  (fractional) as the model flagged;
- ``pei_star = n / n*`` with ``n*`` the most crimes any selection of measure ``a`` could hold:
  units taken greedily by observed count per measure, the boundary unit fractionally
  (exact for fractional units, the fractional-knapsack optimum; with whole units it is an
  upper bound). For equal-measure units ``pei == pei_star`` (``n*`` = sum of the top-k counts);
- ``rri`` (ptools definition): *predicted / observed* crimes in the flagged units, predicted
  = the model's expected counts; 1 is calibrated, > 1 over-predicts; undefined (NaN) when
  no crime fell in the flagged units.

Every metric is undefined (NaN in curves, None in read-outs) when ``N = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtm_core.errors import ConfigError

__all__ = [
    "METRICS",
    "Evaluation",
    "accuracy_curve",
    "readouts",
    "flag_z2",
    "evaluate_models",
    "relative_risk_score",
]

METRICS = ("hit_rate", "pai", "pei", "pei_star")
DEFAULT_SHARES = (0.01, 0.05, 0.10)


@dataclass(frozen=True)
class _Cumulative:
    """Cumulative totals at the block boundaries of one ranking (leading zeros)."""

    area: np.ndarray
    crimes: np.ndarray
    units: np.ndarray
    expected: np.ndarray | None


def _ranking(key, observed, measure, expected=None) -> _Cumulative:
    order = np.argsort(-key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key) != 0) + 1]

    def cum(values):
        return np.r_[0.0, np.cumsum(np.add.reduceat(values[order], starts))]

    return _Cumulative(
        area=cum(measure),
        crimes=cum(observed),
        units=cum(np.ones_like(measure)),
        expected=None if expected is None else cum(expected),
    )


def _as_inputs(risk, observed, measure, expected=None):
    risk = np.asarray(risk, dtype=np.float64).ravel()
    observed = np.asarray(observed, dtype=np.float64).ravel()
    n = risk.shape[0]
    measure = np.ones(n) if measure is None else np.asarray(measure, np.float64).ravel()
    arrays = {"observed": observed, "measure": measure}
    if expected is not None:
        arrays["expected"] = expected = np.asarray(expected, dtype=np.float64).ravel()
    for name, arr in arrays.items():
        if arr.shape[0] != n:
            raise ConfigError(
                "evaluate",
                name,
                f"has {arr.shape[0]} values for {n} units",
                "pass one value per unit, in the same order as the risk",
            )
    if n == 0:
        raise ConfigError("evaluate", "risk", "no units", "evaluate at least one unit")
    if not np.isfinite(risk).all():
        raise ConfigError(
            "evaluate",
            "risk",
            "holds NaN or infinite values",
            "score every unit with a finite risk",
        )
    if not np.isfinite(observed).all() or (observed < 0).any():
        raise ConfigError(
            "evaluate",
            "observed",
            "holds negative or missing counts",
            "pass non-negative crime counts",
        )
    if not np.isfinite(measure).all() or (measure <= 0).any():
        raise ConfigError(
            "evaluate",
            "measure",
            "holds zero, negative or missing values",
            "pass a positive area or length per unit (or None for unit counts)",
        )
    return risk, observed, measure, expected


def _metrics_at(shares, model: _Cumulative, oracle: _Cumulative) -> dict[str, np.ndarray]:
    shares = np.asarray(shares, dtype=np.float64)
    total_area, total_crimes = model.area[-1], model.crimes[-1]
    eps = 1e-9 * min(model.area[1], oracle.area[1])
    a = np.maximum(shares * total_area, eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.interp(a, model.area, model.crimes)
        hit = n / total_crimes
        pai = hit / (a / total_area)
        k = np.interp(a, model.area, model.units)
        n_k = np.interp(k, oracle.units, oracle.crimes)
        a_k = np.interp(k, oracle.units, oracle.area)
        pei = pai / ((n_k / total_crimes) / (a_k / total_area))
        pei_star = n / np.interp(a, oracle.area, oracle.crimes)
        out = {
            "hit_rate": np.where(shares == 0, 0.0, hit),
            "pai": pai,
            "pei": pei,
            "pei_star": pei_star,
        }
        if model.expected is not None:
            rri = np.interp(a, model.area, model.expected) / n
            out["rri"] = np.where(n > 0, rri, np.nan)
    if total_crimes <= 0:
        out = {key: np.full(shares.shape, np.nan) for key in out}
    return out


def _check_shares(shares) -> np.ndarray:
    shares = np.atleast_1d(np.asarray(shares, dtype=np.float64))
    if not np.isfinite(shares).all() or (shares < 0).any() or (shares > 1).any():
        raise ConfigError(
            "evaluate",
            "shares",
            "area shares must lie in [0, 1]",
            "pass fractions such as 0.01, 0.05, 0.10",
        )
    return shares


def accuracy_curve(risk, observed, measure=None, *, shares=None, expected=None) -> pd.DataFrame:
    """Hit rate, PAI, PEI and PEI* (and RRI) over flagged area shares.

    Parameters
    ----------
    risk : array-like of shape (n_units,)
        Predicted risk (higher = riskier); only its order matters.
    observed : array-like of shape (n_units,)
        Observed crime counts of the period being scored.
    measure : array-like of shape (n_units,) or None
        Area or length per unit (> 0); None counts units equally.
    shares : array-like or None
        Area shares in [0, 1]; default ``np.linspace(0, 1, 101)``.
    expected : array-like of shape (n_units,) or None
        Model expected counts; when given, an ``rri`` column is added.

    Returns
    -------
    DataFrame
        Columns ``share, hit_rate, pai, pei, pei_star`` (+ ``rri``), one row per share.
        See the module docstring for definitions, tie handling and the ``s = 0`` limit.

    Raises
    ------
    ConfigError
        Arrays of different lengths, no units, non-finite risk, negative or missing counts,
        a measure that is not positive, or shares outside [0, 1].
    """
    shares = _check_shares(np.linspace(0.0, 1.0, 101) if shares is None else shares)
    risk, observed, measure, expected = _as_inputs(risk, observed, measure, expected)
    model = _ranking(risk, observed, measure, expected)
    oracle = _ranking(observed / measure, observed, measure)
    return pd.DataFrame({"share": shares, **_metrics_at(shares, model, oracle)})


def flag_z2(risk) -> np.ndarray:
    """The seed's rule: units whose risk has a z-score above 2 (population std).

    Returns
    -------
    ndarray of bool, shape (n_units,)
        All False when the risk is constant.
    """
    risk = np.asarray(risk, dtype=np.float64).ravel()
    sd = risk.std()
    if not sd > 0:
        return np.zeros(risk.shape, dtype=bool)
    return (risk - risk.mean()) / sd > 2.0


def _share_key(share: float) -> str:
    return f"{share:.2f}"


def readouts(
    risk, observed, measure=None, *, shares=DEFAULT_SHARES, z_rule=True, expected=None
) -> dict[str, dict[str, float | None]]:
    """Metric read-outs at fixed area shares and at the z > 2 rule.

    Parameters
    ----------
    risk, observed, measure, expected
        As in :func:`accuracy_curve`.
    shares : sequence of float, default (0.01, 0.05, 0.10)
        Keys are written with two decimals: ``"0.01"``, ``"0.05"``, ``"0.10"``.
    z_rule : bool, default True
        Add key ``"z2"``: the units flagged by :func:`flag_z2` (whole units; their area
        share is whatever they cover).

    Returns
    -------
    dict
        ``{"hit_rate"|"pai"|"pei"|"pei_star" (|"rri"): {"0.01": v, "0.05": v, "0.10": v,
        "z2": v}}`` with plain floats, None where undefined (no crimes, nothing flagged), so
        the dict serialises to strict JSON.

    Raises
    ------
    ConfigError
        As :func:`accuracy_curve`.
    """
    shares = _check_shares(shares)
    risk, observed, measure, expected = _as_inputs(risk, observed, measure, expected)
    model = _ranking(risk, observed, measure, expected)
    oracle = _ranking(observed / measure, observed, measure)
    return _readouts(shares, risk, measure, model, oracle, z_rule)


def _readouts(shares, risk, measure, model: _Cumulative, oracle: _Cumulative, z_rule: bool):
    """:func:`readouts` of checked inputs and their rankings."""
    keys = [_share_key(s) for s in shares]
    points = list(shares)
    z_share = None
    if z_rule:
        flagged = flag_z2(risk)
        if flagged.any():
            z_share = min(1.0, measure[flagged].sum() / measure.sum())
            points.append(z_share)
        keys.append("z2")
    values = _metrics_at(np.asarray(points), model, oracle)
    out: dict[str, dict[str, float | None]] = {}
    for metric, arr in values.items():
        row = [None if not np.isfinite(v) else float(v) for v in arr]
        if z_rule and z_share is None:
            row.append(None)
        out[metric] = dict(zip(keys, row, strict=True))
    return out


@dataclass(frozen=True)
class Evaluation:
    """Scores of several models on the training and test periods.

    Attributes
    ----------
    metrics : dict
        ``{model: {"train"|"test": readouts(...)}}``, the content of ``metrics.json``.
    curves : DataFrame
        Long format, one row per (model, period, share): columns ``model, period, share,
        hit_rate, pai, pei, pei_star`` (+ ``rri`` where expected counts were given).
    """

    metrics: dict
    curves: pd.DataFrame


def evaluate_models(
    risks: dict,
    y_train,
    y_test,
    measure=None,
    *,
    shares=None,
    readout_shares=DEFAULT_SHARES,
    expected: dict | None = None,
    risks_test: dict | None = None,
    expected_test: dict | None = None,
) -> Evaluation:
    """Score every model and baseline in-sample (period t) and out-of-sample (period t+1).

    Parameters
    ----------
    risks : dict of str -> array-like of shape (n_units,)
        Predicted risk per model or baseline, all fitted on period t.
    y_train, y_test : array-like of shape (n_units,)
        Observed counts of periods t and t+1.
    measure : array-like of shape (n_units,) or None
        Area or length per unit (> 0); None counts units equally.
    shares : array-like or None
        Curve shares (default 0 to 1 by 0.01).
    readout_shares : sequence of float, default (0.01, 0.05, 0.10)
        Read-out shares for ``metrics``.
    expected : dict of str -> array-like, optional
        Expected counts of the models that have them (adds RRI).
    risks_test : dict of str -> array-like, optional
        Out-of-sample risk where it differs from the in-sample one (e.g. models with crime
        history, applied to the history before the test period); scored against ``y_test``
        instead of ``risks[name]``.
    expected_test : dict of str -> array-like, optional
        Expected test-period counts (RRI of the test period) where they differ.

    Returns
    -------
    Evaluation
        ``metrics[name]["train"|"test"]`` from :func:`readouts`; ``curves`` from
        :func:`accuracy_curve`, models in the order of ``risks``, train before test.

    Raises
    ------
    ConfigError
        As :func:`accuracy_curve`.
    """
    expected, expected_test = expected or {}, expected_test or {}
    risks_test = risks_test or {}
    metrics, frames, oracles = {}, [], {}
    for name, in_sample in risks.items():
        metrics[name] = {}
        for period, observed in (("train", y_train), ("test", y_test)):
            risk = risks_test.get(name, in_sample) if period == "test" else in_sample
            exp = expected.get(name)
            if period == "test":
                exp = expected_test.get(name, exp)
            # as readouts() and accuracy_curve(), with each ranking sorted once: the model's
            # per period, the oracle's (observed counts) per period for every model
            points = _check_shares(readout_shares)
            risk, seen, area, exp = _as_inputs(risk, observed, measure, exp)
            model = _ranking(risk, seen, area, exp)
            if period not in oracles:
                oracles[period] = _ranking(seen / area, seen, area)
            oracle = oracles[period]
            metrics[name][period] = _readouts(points, risk, area, model, oracle, z_rule=True)
            curve_shares = _check_shares(np.linspace(0.0, 1.0, 101) if shares is None else shares)
            curve = pd.DataFrame(
                {"share": curve_shares, **_metrics_at(curve_shares, model, oracle)}
            )
            curve.insert(0, "period", period)
            curve.insert(0, "model", name)
            frames.append(curve)
    curves = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["model", "period", "share", *METRICS])
    )
    return Evaluation(metrics=metrics, curves=curves)


def relative_risk_score(set_linear_predictor) -> np.ndarray:
    """Relative risk score: exp of the set part of the linear predictor over its minimum.

    Parameters
    ----------
    set_linear_predictor : array-like of shape (n_units,)
        Sum of the selected set terms per unit (no intercept, no fixed covariates).

    Returns
    -------
    ndarray of shape (n_units,)
        ``exp(eta - min(eta))``: the lowest unit scores exactly 1, a unit scoring 3 carries
        three times the risk of the least risky place.

    Raises
    ------
    ConfigError
        NaN or infinite values.
    """
    eta = np.asarray(set_linear_predictor, dtype=np.float64).ravel()
    if eta.size == 0:
        return eta
    if not np.isfinite(eta).all():
        raise ConfigError(
            "relative_risk_score",
            "set_linear_predictor",
            "holds NaN or infinite values",
            "pass finite linear predictors",
        )
    return np.exp(eta - eta.min())
