"""Did the intervention work? Two runs of the same study (before and after) compared: each
factor's change in IRR, and each model's change in out-of-sample PAI, with intervals.

**IRR ratio.** For a variable in both runs' models, ``ratio = IRR_B / IRR_A = exp(b_B - b_A)``
with the standard error ``sqrt(se_A^2 + se_B^2)`` of the two fits (the runs' periods hold
different crimes, so the fits are taken as independent), a 90 % Wald interval and the
two-sided p-value of "no change". The change reads **higher in B** when the interval lies
above 1, **lower in B** when under 1, and **level** otherwise.

**PAI change.** Each run's test crimes are resampled on their own (:mod:`rtm_core.results.
bootstrap`); the difference ``PAI_B - PAI_A`` of each model gets the 5th-95th percentile
interval of the draws, in the verdict's words: run B **beats** run A, **is level with** it or
**is below** it. The test periods differ, so a change in PAI may come from the city as much as
from the intervention; the words only say whether it is more than the luck of the crimes.

Pure numpy/pandas, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from rtm_core.config import MODEL_KINDS
from rtm_core.models.registry import sentence_name
from rtm_core.record.manifest import AREA_KEYS, READOUT_TEXT, RunFiles
from rtm_core.results.bootstrap import INTERVAL, N_RESAMPLES, bootstrap_rng, verdict_of
from rtm_core.results.comparison import run_scored_crimes

__all__ = [
    "IRR_CHANGE_COLUMNS",
    "PAI_CHANGE_COLUMNS",
    "PaiChange",
    "irr_changes",
    "pai_changes",
]

IRR_CHANGE_COLUMNS = [
    "model",
    "variable",
    "set",
    "irr_a",
    "irr_b",
    "ratio",
    "low",
    "high",
    "p_value",
    "change",
]
PAI_CHANGE_COLUMNS = ["model", "area", "pai_a", "pai_b", "difference", "low", "high", "verdict"]
_CHANGE = {"beats": "higher in B", "below": "lower in B", "level": "level"}


def irr_changes(coef_a: pd.DataFrame, coef_b: pd.DataFrame) -> pd.DataFrame:
    """Each variable in both runs' models: its IRR ratio B / A with a 90 % interval and p.

    Parameters
    ----------
    coef_a, coef_b : DataFrame
        The two runs' ``coefficients.csv`` (``model, variable, set, coef, se, irr``).

    Returns
    -------
    DataFrame
        Columns :data:`IRR_CHANGE_COLUMNS`, one row per (model, variable) in both runs (the
        intercept left out), in run B's order; ``change`` "higher in B", "lower in B",
        "level", or "" where a standard error is missing.
    """
    keep = ["model", "variable", "set", "coef", "se", "irr"]
    if any(f.empty or not set(keep) <= set(f.columns) for f in (coef_a, coef_b)):
        return pd.DataFrame(columns=IRR_CHANGE_COLUMNS)
    a = coef_a[keep].rename(columns={"coef": "coef_a", "se": "se_a", "irr": "irr_a"})
    b = coef_b[keep].rename(columns={"coef": "coef_b", "se": "se_b", "irr": "irr_b"})
    both = b.merge(a.drop(columns="set"), on=["model", "variable"], how="inner")
    both = both[both["variable"] != "intercept"].reset_index(drop=True)
    log_ratio = both["coef_b"].astype(float) - both["coef_a"].astype(float)
    se = np.sqrt(both["se_a"].astype(float) ** 2 + both["se_b"].astype(float) ** 2)
    z = norm.ppf((1 + INTERVAL) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * norm.sf(np.abs(log_ratio / se))
    low, high = np.exp(log_ratio - z * se), np.exp(log_ratio + z * se)
    known = np.isfinite(se) & (se > 0)
    words = [
        _CHANGE[verdict_of(lo - 1, hi - 1)] if ok else ""
        for lo, hi, ok in zip(low, high, known, strict=True)
    ]
    out = pd.DataFrame(
        {
            "model": both["model"],
            "variable": both["variable"],
            "set": both["set"].fillna("").astype(str),
            "irr_a": both["irr_a"].astype(float),
            "irr_b": both["irr_b"].astype(float),
            "ratio": np.exp(log_ratio),
            "low": low,
            "high": high,
            "p_value": p,
            "change": words,
        }
    )
    return out[IRR_CHANGE_COLUMNS]


@dataclass(frozen=True)
class PaiChange:
    """Each model's out-of-sample PAI in run B against run A, and what to say about it.

    Attributes
    ----------
    table : DataFrame
        Columns :data:`PAI_CHANGE_COLUMNS` (empty when not available).
    sentences : tuple of str
        One per model, in the verdict's words.
    note : str
        Why the change is not available, or "".
    """

    table: pd.DataFrame
    sentences: tuple[str, ...] = ()
    note: str = ""


def _sentence(model: str, rows: pd.DataFrame) -> str:
    clauses = []
    for _, r in rows.iterrows():
        verb = {"beats": "beats", "level": "is level with", "below": "is below"}[r["verdict"]]
        clauses.append(
            f"at {READOUT_TEXT[r['area']]} run B {verb} run A: PAI {r['pai_b']:.2f} vs "
            f"{r['pai_a']:.2f}, difference {r['difference']:+.2f}, {INTERVAL * 100:.0f} % "
            f"interval {r['low']:+.2f} to {r['high']:+.2f}"
        )
    return f"The {sentence_name(model)}, out of sample: " + "; ".join(clauses) + "."


def pai_changes(
    run_a: RunFiles, run_b: RunFiles, *, n_resamples: int = N_RESAMPLES, random_state=None
) -> PaiChange:
    """Each model's test PAI in run B against run A, with a bootstrap interval.

    Parameters
    ----------
    run_a, run_b : RunFiles
        Before and after (each is resampled over its own test crimes).
    n_resamples : int
        Bootstrap draws of each run's test crimes.
    random_state : int, optional
        Seeds the draws; default run B's ``random_state``.

    Returns
    -------
    PaiChange
        Not available (with the reason) when a run keeps no test rankings of its models or
        the runs share no model.
    """
    crimes = [run_scored_crimes(run) for run in (run_a, run_b)]
    if any(c is None or c.total == 0 for c in crimes):
        return PaiChange(
            pd.DataFrame(columns=PAI_CHANGE_COLUMNS),
            note="The change in PAI is not available: a run has no test crimes or was "
            "written before runs kept the test period's rankings of the models with crime "
            "history. Fix: run it again (Run again, above).",
        )
    models = [m for m in MODEL_KINDS if all(m in c.maps for c in crimes)]
    if not models:
        return PaiChange(pd.DataFrame(columns=PAI_CHANGE_COLUMNS), note="The runs share no model.")
    seed = run_b.record.seed_root if random_state is None else random_state
    rng = bootstrap_rng(seed or 0)
    observed, draws = [], []
    for c in crimes:
        index = [c.maps.index(m) for m in models]
        observed.append(c.pai()[index])
        draws.append(c.resample(rng, n_resamples)[:, index])
    change = draws[1] - draws[0]
    low, high = np.quantile(change, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], axis=0)
    rows = []
    for i, model in enumerate(models):
        for k, area in enumerate(crimes[0].areas):
            rows.append(
                [
                    model,
                    area,
                    observed[0][i, k],
                    observed[1][i, k],
                    observed[1][i, k] - observed[0][i, k],
                    low[i, k],
                    high[i, k],
                    verdict_of(low[i, k], high[i, k]),
                ]
            )
    table = pd.DataFrame(rows, columns=PAI_CHANGE_COLUMNS)
    table = table[table["area"].isin(AREA_KEYS)].reset_index(drop=True)
    sentences = tuple(_sentence(m, table[table["model"] == m]) for m in models)
    return PaiChange(table, sentences)
